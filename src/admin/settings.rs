//! What an admin submits to `PUT /api/application-configuration`, validated into the change
//! to store: the tenant's new display name, if any, and a JSON merge patch (RFC 7396) of only
//! the settings sent. Storage applies the patch to the row in D1 in one UPDATE, so two admins
//! changing different settings at the same moment (or from isolates holding older cached
//! copies of the tenant) never undo each other's change.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::tenancy::SignupMode;
use crate::validation::{field_error, plain_text, FieldError};

/// The JSON body; every field is optional and a field left out keeps its stored value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub accent_color: Option<String>,
    /// `null` (or an empty string) removes the logo; left out, it stays.
    #[serde(default, deserialize_with = "present")]
    pub logo_url: Option<Option<String>>,
    #[serde(default)]
    pub session_lifetime_secs: Option<u64>,
    #[serde(default)]
    pub signup_mode: Option<SignupMode>,
    #[serde(default)]
    pub user_editable_fields: Option<Vec<String>>,
    #[serde(default)]
    pub audit_retention_days: Option<u32>,
    #[serde(default)]
    pub emails_verified: Option<bool>,
    #[serde(default)]
    pub refresh_grace_secs: Option<u32>,
    #[serde(default)]
    pub strict_reads: Option<bool>,
    #[serde(default)]
    pub recovery_codes: Option<bool>,
}

/// A field that is present, even as `null` (`Some(None)`); serde alone reads `null` as absent.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A validated change: `None`/absent keys keep what is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsChange {
    pub display_name: Option<String>,
    /// A merge patch of the settings object: each key sent, with its normalised value. A
    /// `null` value removes the key, so the setting reads as its default (no logo).
    pub patch: Map<String, Value>,
}

/// Profile fields the tenant may let users edit themselves.
const EDITABLE: [&str; 5] = [
    "first_name",
    "last_name",
    "display_name",
    "username",
    "email",
];

impl SettingsInput {
    pub fn validate(self) -> Result<SettingsChange, FieldError> {
        let mut change = SettingsChange::default();
        let patch = &mut change.patch;
        if let Some(n) = self.display_name {
            let n = n.trim().to_string();
            plain_text("display_name", &n)?;
            if n.is_empty() || n.chars().count() > 100 {
                return Err(field_error("display_name", "1 to 100 characters"));
            }
            change.display_name = Some(n);
        }
        if let Some(c) = self.accent_color {
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(field_error("accent_color", "a colour like #4f46e5"));
            }
            patch.insert("accent_color".into(), json!(c.to_ascii_lowercase()));
        }
        if let Some(logo) = self.logo_url {
            let logo = logo.filter(|l| !l.trim().is_empty());
            if let Some(l) = &logo {
                let ok = url::Url::parse(l).is_ok_and(|u| u.scheme() == "https") && l.len() <= 2000;
                if !ok {
                    return Err(field_error("logo_url", "an https URL"));
                }
                plain_text("logo_url", l)?;
            }
            patch.insert("logo_url".into(), json!(logo));
        }
        if let Some(secs) = self.session_lifetime_secs {
            if !(300..=90 * 86400).contains(&secs) {
                return Err(field_error(
                    "session_lifetime_secs",
                    "between 5 minutes and 90 days",
                ));
            }
            patch.insert("session_lifetime_secs".into(), json!(secs));
        }
        if let Some(mode) = self.signup_mode {
            patch.insert("signup_mode".into(), json!(mode));
        }
        if let Some(fields) = self.user_editable_fields {
            if let Some(bad) = fields.iter().find(|f| !EDITABLE.contains(&f.as_str())) {
                return Err(field_error(
                    "user_editable_fields",
                    format!("{bad} is not a profile field"),
                ));
            }
            patch.insert("user_editable_fields".into(), json!(fields));
        }
        if let Some(days) = self.audit_retention_days {
            if !(1..=3650).contains(&days) {
                return Err(field_error("audit_retention_days", "between 1 and 3650"));
            }
            patch.insert("audit_retention_days".into(), json!(days));
        }
        if let Some(on) = self.emails_verified {
            patch.insert("emails_verified".into(), json!(on));
        }
        if let Some(on) = self.strict_reads {
            patch.insert("strict_reads".into(), json!(on));
        }
        if let Some(on) = self.recovery_codes {
            patch.insert("recovery_codes".into(), json!(on));
        }
        if let Some(secs) = self.refresh_grace_secs {
            if secs > crate::oidc::refresh::MAX_GRACE_SECS {
                return Err(field_error(
                    "refresh_grace_secs",
                    "between 0 and 60 seconds",
                ));
            }
            patch.insert("refresh_grace_secs".into(), json!(secs));
        }
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::TenantSettings;

    fn input(v: Value) -> SettingsInput {
        serde_json::from_value(v).unwrap()
    }

    /// What SQLite's `json_patch(stored, patch)` does to a flat object (RFC 7396).
    fn merge(stored: &TenantSettings, patch: &Map<String, Value>) -> TenantSettings {
        let mut v = serde_json::to_value(stored).unwrap();
        let obj = v.as_object_mut().unwrap();
        for (k, val) in patch {
            if val.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), val.clone());
            }
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_the_fields_sent_are_in_the_patch() {
        let c = input(json!({"signup_mode": "open"})).validate().unwrap();
        assert_eq!(c.display_name, None);
        assert_eq!(
            c.patch,
            json!({"signup_mode": "open"}).as_object().unwrap().clone()
        );
        let c = input(json!({"accent_color": "#0A7F3F", "audit_retention_days": 7}))
            .validate()
            .unwrap();
        assert_eq!(
            c.patch,
            json!({"accent_color": "#0a7f3f", "audit_retention_days": 7})
                .as_object()
                .unwrap()
                .clone()
        );
        let c = input(json!({"emails_verified": true})).validate().unwrap();
        assert_eq!(
            c.patch,
            json!({"emails_verified": true})
                .as_object()
                .unwrap()
                .clone()
        );
    }

    #[test]
    fn patches_of_different_fields_compose_in_any_order() {
        let a = input(json!({"signup_mode": "open"})).validate().unwrap();
        let b = input(json!({"audit_retention_days": 7}))
            .validate()
            .unwrap();
        let base = TenantSettings::default();
        let ab = merge(&merge(&base, &a.patch), &b.patch);
        let ba = merge(&merge(&base, &b.patch), &a.patch);
        assert_eq!(ab, ba);
        assert_eq!(ab.signup_mode, SignupMode::Open);
        assert_eq!(ab.audit_retention_days, 7);
    }

    #[test]
    fn a_null_logo_removes_it_and_a_missing_one_keeps_it() {
        assert!(input(json!({})).validate().unwrap().patch.is_empty());
        let with_logo = TenantSettings {
            logo_url: Some("https://x.example/logo.png".into()),
            ..TenantSettings::default()
        };
        for body in [json!({"logo_url": null}), json!({"logo_url": " "})] {
            let c = input(body).validate().unwrap();
            assert_eq!(merge(&with_logo, &c.patch).logo_url, None);
        }
    }

    #[test]
    fn each_field_is_validated_and_named() {
        for (body, field) in [
            (json!({"display_name": " "}), "display_name"),
            (json!({"display_name": "Acme\u{202E}"}), "display_name"),
            (json!({"accent_color": "red"}), "accent_color"),
            (json!({"logo_url": "http://x.example/l.png"}), "logo_url"),
            (
                json!({"session_lifetime_secs": 10}),
                "session_lifetime_secs",
            ),
            (
                json!({"user_editable_fields": ["is_admin"]}),
                "user_editable_fields",
            ),
            (json!({"audit_retention_days": 0}), "audit_retention_days"),
        ] {
            assert_eq!(
                input(body.clone()).validate().unwrap_err().field,
                field,
                "{body}"
            );
        }
        assert!(serde_json::from_value::<SettingsInput>(json!({"nope": 1})).is_err());
    }
}
