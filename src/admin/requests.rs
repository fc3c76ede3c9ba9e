//! The small JSON bodies of the admin API, with their validation. The larger ones live with
//! their subject (`user::AdminUserInput`, `settings::SettingsInput`, `oidc::client::ClientInput`,
//! `usecase::groups::GroupInput`, `usecase::clients::FromPreset`). Each is checked against its
//! OpenAPI schema by `admin::api`'s tests.

use serde::Deserialize;

use crate::validation::{field_error, FieldError};

/// `PUT /api/users/{id}/user-groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupIds {
    pub group_ids: Vec<String>,
}

/// `PUT /api/user-groups/{id}/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserIds {
    pub user_ids: Vec<String>,
}

/// `POST /api/users/{id}/one-time-access-token` and `POST /api/signup-tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// Lifetime of the link; defaults differ per kind (see `usecase::users`).
    #[serde(default)]
    pub expires_in_minutes: Option<i64>,
    /// Also email the link to the user's address (the response says whether it went).
    #[serde(default)]
    pub send_email: bool,
}

/// `POST /api/signup-tokens`: an invitation (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    /// Lifetime of the link: a week by default, thirty days at most.
    #[serde(default)]
    pub expires_in_minutes: Option<i64>,
    /// How many accounts the link creates, 1-100 (1 by default).
    #[serde(default)]
    pub max_uses: Option<i64>,
    /// Prefilled on the sign-up form (the person may change it).
    #[serde(default)]
    pub email: Option<String>,
    /// Groups every account made with the link joins.
    #[serde(default)]
    pub group_ids: Vec<String>,
    /// Also email the link to `email` (the response says whether it went).
    #[serde(default)]
    pub send_email: bool,
}

/// Most accounts one invitation makes (Pocket ID's limit).
pub const MAX_INVITATION_USES: i64 = 100;

impl InvitationInput {
    /// The number of uses and the email, checked.
    pub fn validate(&self) -> Result<(i64, Option<String>), FieldError> {
        let uses = self.max_uses.unwrap_or(1);
        if !(1..=MAX_INVITATION_USES).contains(&uses) {
            return Err(field_error("max_uses", "between 1 and 100"));
        }
        let email = match self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(e) => Some(crate::account::email(Some(e))?),
            None if self.send_email => {
                return Err(field_error("email", "an address to send the invitation to"))
            }
            None => None,
        };
        Ok((uses, email))
    }
}

/// `POST /api/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    pub name: String,
    /// Unix seconds; none means the key does not expire.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

const TEN_YEARS: i64 = 3650 * 86400;

impl ApiKeyInput {
    /// The key's name ([`api_key_name`](crate::validation::api_key_name)) and expiry (in the future, within ten years, or none).
    pub fn validate(&self, now: i64) -> Result<(String, Option<i64>), FieldError> {
        let name = crate::validation::api_key_name(&self.name)?;
        if let Some(at) = self.expires_at {
            if at <= now || at > now + TEN_YEARS {
                return Err(field_error(
                    "expires_at",
                    "a time in the future, within ten years",
                ));
            }
        }
        Ok((name, self.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_names_and_expiry_are_bounded() {
        let input = |name: &str, expires_at| ApiKeyInput {
            name: name.into(),
            expires_at,
        };
        assert_eq!(
            input(" ci ", None).validate(0).unwrap(),
            ("ci".into(), None)
        );
        assert_eq!(input("ci", Some(10)).validate(0).unwrap().1, Some(10));
        for (bad, field) in [
            (input("", None), "name"),
            (input(&"x".repeat(101), None), "name"),
            (input("a\u{202e}b", None), "name"),
            (input("ci", Some(0)), "expires_at"),
            (input("ci", Some(TEN_YEARS + 1)), "expires_at"),
        ] {
            assert_eq!(bad.validate(0).unwrap_err().field, field);
        }
    }
}
