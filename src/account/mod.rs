//! Accounts, free of Workers types: validation of the profile fields people type at sign-up and
//! on the account page, with errors that name the field so the form can point at it.

pub mod next;
pub mod recovery_codes;

use serde::Deserialize;

use crate::validation::field_error as error;
use crate::validation::plain_text;
pub use crate::validation::FieldError;

/// Profile fields as submitted (all optional: forms send only what they show).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

fn clean(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Usernames appear in `preferred_username`, where apps use them as login names: keep them
/// to a conservative, case-folded alphabet.
pub fn username(raw: Option<&str>) -> Result<String, FieldError> {
    let u = clean(raw)
        .map(|u| u.to_ascii_lowercase())
        .ok_or_else(|| error("username", "A username is required."))?;
    plain_text("username", &u)?;
    let ok = (2..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if ok {
        Ok(u)
    } else {
        Err(error(
            "username",
            "A username is 2 to 32 lowercase letters, digits, dots, dashes or underscores.",
        ))
    }
}

pub fn email(raw: Option<&str>) -> Result<String, FieldError> {
    let e = clean(raw)
        .map(|e| e.to_ascii_lowercase())
        .ok_or_else(|| error("email", "An email address is required."))?;
    // Addresses may hold non-ASCII (RFC 6531), but never characters that hide or reorder text.
    plain_text("email", &e)?;
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.contains(char::is_whitespace)
        && e.matches('@').count() == 1;
    if ok {
        Ok(e)
    } else {
        Err(error("email", "That email address does not look right."))
    }
}

fn name(
    field: &'static str,
    raw: Option<&str>,
    required: bool,
) -> Result<Option<String>, FieldError> {
    let v = clean(raw);
    if required && v.is_none() {
        return Err(error(field, "This name is required."));
    }
    if let Some(n) = &v {
        plain_text(field, n)?;
        if n.chars().count() > 64 {
            return Err(error(field, "Names are at most 64 characters."));
        }
    }
    Ok(v)
}

/// A passkey's name, as its owner types it (the account page lists passkeys by name, and admins
/// see them on the user's page).
pub fn passkey_name(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    plain_text("name", n)?;
    if n.is_empty() || n.chars().count() > 64 {
        return Err(error("name", "A passkey name is 1 to 64 characters."));
    }
    Ok(n.to_string())
}

/// A complete new account's profile (sign-up, invite, first admin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProfile {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: Option<String>,
}

impl NewProfile {
    pub fn validate(p: &ProfileInput) -> Result<Self, FieldError> {
        Ok(Self {
            username: username(p.username.as_deref())?,
            email: email(p.email.as_deref())?,
            first_name: name("first_name", p.first_name.as_deref(), true)?.unwrap_or_default(),
            last_name: name("last_name", p.last_name.as_deref(), false)?,
        })
    }

    pub fn display_name(&self) -> String {
        match &self.last_name {
            Some(l) => format!("{} {l}", self.first_name),
            None => self.first_name.clone(),
        }
    }
}

/// A change to an existing profile: only the fields present, each validated, and only those
/// the tenant lets users edit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    pub username: Option<String>,
    pub email: Option<String>,
}

impl ProfileChange {
    pub fn validate(p: &ProfileInput, editable: &[String]) -> Result<Self, FieldError> {
        let allowed = |field: &'static str, present: bool| -> Result<bool, FieldError> {
            if present && !editable.iter().any(|f| f == field) {
                return Err(error(
                    field,
                    "This field can only be changed by an administrator.",
                ));
            }
            Ok(present)
        };
        let mut change = ProfileChange::default();
        if allowed("first_name", p.first_name.is_some())? {
            change.first_name = Some(name("first_name", p.first_name.as_deref(), true)?);
        }
        if allowed("last_name", p.last_name.is_some())? {
            change.last_name = Some(name("last_name", p.last_name.as_deref(), false)?);
        }
        if allowed("display_name", p.display_name.is_some())? {
            change.display_name = Some(name("display_name", p.display_name.as_deref(), false)?);
        }
        if allowed("username", p.username.is_some())? {
            change.username = Some(username(p.username.as_deref())?);
        }
        if allowed("email", p.email.is_some())? {
            change.email = Some(email(p.email.as_deref())?);
        }
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> ProfileInput {
        let v: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(v)).unwrap()
    }

    #[test]
    fn new_profiles_are_normalised_and_checked() {
        let p = NewProfile::validate(&input(&[
            ("username", " Ada "),
            ("email", "Ada@Example.com"),
            ("first_name", "Ada"),
        ]))
        .unwrap();
        assert_eq!(p.username, "ada");
        assert_eq!(p.email, "ada@example.com");
        assert_eq!(p.display_name(), "Ada");
        for (field, bad) in [
            ("username", "a"),
            ("username", "ada lovelace"),
            ("email", "ada@"),
            ("email", "a@b@c.d"),
        ] {
            let mut pairs = vec![
                ("username", "ada"),
                ("email", "ada@example.com"),
                ("first_name", "Ada"),
            ];
            pairs.retain(|(k, _)| *k != field);
            pairs.push((field, bad));
            assert_eq!(
                NewProfile::validate(&input(&pairs)).unwrap_err().field,
                field,
                "{bad}"
            );
        }
        assert_eq!(
            NewProfile::validate(&input(&[("username", "ada"), ("email", "a@b.co")]))
                .unwrap_err()
                .field,
            "first_name"
        );
    }

    #[test]
    fn changes_respect_the_editable_list() {
        let editable = vec!["first_name".to_string(), "last_name".to_string()];
        let c = ProfileChange::validate(
            &input(&[("first_name", "Augusta"), ("last_name", "")]),
            &editable,
        )
        .unwrap();
        assert_eq!(c.first_name, Some(Some("Augusta".into())));
        assert_eq!(c.last_name, Some(None), "an empty optional name clears it");
        let e = ProfileChange::validate(&input(&[("email", "x@y.zz")]), &editable).unwrap_err();
        assert_eq!(e.field, "email");
        let e = ProfileChange::validate(&input(&[("first_name", "")]), &editable).unwrap_err();
        assert_eq!(e.field, "first_name");
    }

    #[test]
    fn spoofing_characters_are_refused_in_every_profile_field() {
        let all: Vec<String> = [
            "first_name",
            "last_name",
            "display_name",
            "username",
            "email",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        for field in [
            "first_name",
            "last_name",
            "display_name",
            "username",
            "email",
        ] {
            let value = if field == "email" {
                "ada\u{202E}moc@example.com"
            } else {
                "ada\u{202E}moc"
            };
            let e = ProfileChange::validate(&input(&[(field, value)]), &all).unwrap_err();
            assert_eq!(e.field, field);
            assert!(e.message.contains("U+202E"), "{}", e.message);
        }
        let e = NewProfile::validate(&input(&[
            ("username", "ada"),
            ("email", "ada@example.com"),
            ("first_name", "Ada\u{200B}"),
        ]))
        .unwrap_err();
        assert_eq!(e.field, "first_name");
    }

    #[test]
    fn passkey_names_are_short_and_visible() {
        assert_eq!(passkey_name(" YubiKey 5 ").unwrap(), "YubiKey 5");
        assert_eq!(passkey_name("").unwrap_err().field, "name");
        assert_eq!(passkey_name(&"x".repeat(65)).unwrap_err().field, "name");
        assert!(passkey_name("Mac\u{202E}")
            .unwrap_err()
            .message
            .contains("U+202E"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<ProfileInput, _> = serde_json::from_str(r#"{"is_admin": true}"#);
        assert!(r.is_err());
    }
}
