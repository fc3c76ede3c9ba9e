//! What an admin submits about a user: the profile fields (every one editable by an admin) and
//! the things only an admin sets: admin rights, disabled, email verified, custom claims.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::custom_claims::{self, CustomClaimsInput};
use crate::account::{NewProfile, ProfileChange, ProfileInput};
use crate::validation::FieldError;

/// Every profile field; an admin may change all of them.
pub const PROFILE_FIELDS: [&str; 5] = [
    "first_name",
    "last_name",
    "display_name",
    "username",
    "email",
];

/// The JSON body of `POST /api/users` and `PUT /api/users/{id}`. On update, fields left out
/// stay as they are. The profile fields repeat [`ProfileInput`]'s because serde cannot refuse
/// unknown fields through `#[serde(flatten)]`, and a typo'd field must be an error here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUserInput {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub custom_claims: Option<CustomClaimsInput>,
}

/// Flags and claims that only admins set; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminFlags {
    pub email_verified: Option<bool>,
    pub is_admin: Option<bool>,
    pub disabled: Option<bool>,
    pub custom_claims: Option<Map<String, Value>>,
}

impl AdminUserInput {
    fn profile(&self) -> ProfileInput {
        ProfileInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            display_name: self.display_name.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
        }
    }

    fn flags(&self) -> Result<AdminFlags, FieldError> {
        Ok(AdminFlags {
            email_verified: self.email_verified,
            is_admin: self.is_admin,
            disabled: self.disabled,
            custom_claims: self
                .custom_claims
                .clone()
                .map(custom_claims::validate)
                .transpose()?,
        })
    }

    /// A new user: username, email and first name are required, as at sign-up.
    pub fn validate_new(&self) -> Result<(NewProfile, AdminFlags), FieldError> {
        Ok((NewProfile::validate(&self.profile())?, self.flags()?))
    }

    /// A change to an existing user.
    pub fn validate_change(&self) -> Result<(ProfileChange, AdminFlags), FieldError> {
        let all: Vec<String> = PROFILE_FIELDS.iter().map(|f| f.to_string()).collect();
        Ok((
            ProfileChange::validate(&self.profile(), &all)?,
            self.flags()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> AdminUserInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn new_users_need_the_sign_up_fields() {
        let (p, f) = input(json!({
            "username": "Grace", "email": "grace@example.com", "first_name": "Grace",
            "is_admin": true, "custom_claims": {"team": "navy"}
        }))
        .validate_new()
        .unwrap();
        assert_eq!(p.username, "grace");
        assert_eq!(f.is_admin, Some(true));
        assert_eq!(f.custom_claims.unwrap()["team"], "navy");
        let e = input(json!({"username": "grace", "first_name": "G"}))
            .validate_new()
            .unwrap_err();
        assert_eq!(e.field, "email");
    }

    #[test]
    fn changes_touch_only_what_is_sent_and_check_claims() {
        let (p, f) = input(json!({"email": "new@example.com", "disabled": true}))
            .validate_change()
            .unwrap();
        assert_eq!(p.email.as_deref(), Some("new@example.com"));
        assert_eq!(p.username, None);
        assert_eq!(f.disabled, Some(true));
        assert_eq!(f.is_admin, None);
        let e = input(json!({"custom_claims": {"sub": "someone-else"}}))
            .validate_change()
            .unwrap_err();
        assert_eq!(e.field, "custom_claims");
        assert!(serde_json::from_value::<AdminUserInput>(json!({"id": "x"})).is_err());
    }
}
