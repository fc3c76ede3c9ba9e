//! APIs (resource servers): what a tenant registers so that clients can get access tokens for
//! them (RFC 8707 resource indicators, RFC 9068 JWT access tokens), and the permissions
//! (scopes) each API defines and clients are granted.
//!
//! An API's identifier is the `aud` of its tokens and the `resource` value clients send. It
//! must be an absolute `https` URI without a fragment (RFC 8707 §2): a resource server checks
//! `aud` by plain string comparison, so the identifier is stored exactly as registered.

use serde::{Deserialize, Serialize};

use super::scope::Scope;
use crate::validation::{field_error, plain_text, FieldError};

/// Bounds that keep a token's `scope` claim and the admin console readable.
pub const MAX_PERMISSIONS: usize = 100;
const MAX_PERMISSION_LEN: usize = 100;
const MAX_DESCRIPTION_LEN: usize = 200;
const MAX_IDENTIFIER_LEN: usize = 500;

/// One permission an API defines: the scope value and what it allows, in words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub value: String,
    #[serde(default)]
    pub description: String,
}

/// What an admin submits to register or update an API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiInput {
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// Whether `value` is an RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`.
fn is_scope_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// An API identifier as RFC 8707 §2 allows it: absolute, no fragment; and `https`, since the
/// tokens it names are bearer tokens for a network API.
pub fn validate_identifier(identifier: &str) -> Result<(), FieldError> {
    plain_text("identifier", identifier)?;
    let parsed = url::Url::parse(identifier)
        .map_err(|_| field_error("identifier", "must be an absolute https URI"))?;
    if parsed.scheme() != "https" || parsed.host_str().is_none_or(str::is_empty) {
        return Err(field_error("identifier", "must be an absolute https URI"));
    }
    if parsed.fragment().is_some() || identifier.contains('#') {
        return Err(field_error("identifier", "must not contain a #fragment"));
    }
    if identifier.len() > MAX_IDENTIFIER_LEN {
        return Err(field_error(
            "identifier",
            format!("at most {MAX_IDENTIFIER_LEN} characters"),
        ));
    }
    Ok(())
}

/// A permission value: a scope-token that is not one of the OpenID Connect scopes (those
/// release user claims; an API permission that shared a name would be granted by consenting
/// to the other).
pub fn validate_permission_value(value: &str) -> Result<(), FieldError> {
    if !is_scope_token(value) || value.len() > MAX_PERMISSION_LEN {
        return Err(field_error(
            "permissions",
            format!(
                "{value:?}: a permission is 1 to {MAX_PERMISSION_LEN} printable ASCII characters without spaces, quotes or backslashes"
            ),
        ));
    }
    if Scope::parse(value).is_some() {
        return Err(field_error(
            "permissions",
            format!("{value} is an OpenID Connect scope, not an API permission"),
        ));
    }
    Ok(())
}

impl ApiInput {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_identifier(&self.identifier)?;
        let name = self.name.trim();
        plain_text("name", name)?;
        if name.is_empty() || name.chars().count() > 100 {
            return Err(field_error(
                "name",
                "a name of 1 to 100 characters is required",
            ));
        }
        if self.permissions.len() > MAX_PERMISSIONS {
            return Err(field_error(
                "permissions",
                format!("at most {MAX_PERMISSIONS} permissions"),
            ));
        }
        for (i, p) in self.permissions.iter().enumerate() {
            validate_permission_value(&p.value)?;
            plain_text("permissions", &p.description)?;
            if p.description.chars().count() > MAX_DESCRIPTION_LEN {
                return Err(field_error(
                    "permissions",
                    format!("descriptions are at most {MAX_DESCRIPTION_LEN} characters"),
                ));
            }
            if self.permissions[..i].iter().any(|q| q.value == p.value) {
                return Err(field_error(
                    "permissions",
                    format!("{} is listed twice", p.value),
                ));
            }
        }
        Ok(())
    }
}

/// A client's grant at one API: the permission values it may ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiGrantInput {
    /// The API, by identifier (the audience) or id.
    pub api: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// What an admin submits to set every API permission of a client at once.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientApiGrants {
    pub grants: Vec<ApiGrantInput>,
}

impl ClientApiGrants {
    /// Well-formed values, no API twice. Whether each value is one the API defines is checked
    /// against the stored API (`usecase::apis`).
    pub fn validate(&self) -> Result<(), FieldError> {
        for (i, g) in self.grants.iter().enumerate() {
            if self.grants[..i].iter().any(|h| h.api == g.api) {
                return Err(field_error("grants", format!("{} is listed twice", g.api)));
            }
            if g.permissions.len() > MAX_PERMISSIONS {
                return Err(field_error(
                    "grants",
                    format!("at most {MAX_PERMISSIONS} permissions per API"),
                ));
            }
            for value in &g.permissions {
                validate_permission_value(value).map_err(|e| field_error("grants", e.message))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(identifier: &str, perms: &[&str]) -> ApiInput {
        ApiInput {
            identifier: identifier.into(),
            name: "Orders".into(),
            permissions: perms
                .iter()
                .map(|v| Permission {
                    value: v.to_string(),
                    description: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn identifiers_are_absolute_https_uris_without_fragments() {
        assert!(input("https://api.example.com/orders", &[])
            .validate()
            .is_ok());
        assert!(input("https://api.example.com", &[]).validate().is_ok());
        for bad in [
            "http://api.example.com",
            "api.example.com",
            "https://api.example.com/#x",
            "https://api.example.com/#",
            "urn:example:api",
            "https://",
            "https://api.example.com/\u{202E}x",
        ] {
            assert_eq!(
                input(bad, &[]).validate().unwrap_err().field,
                "identifier",
                "{bad}"
            );
        }
    }

    #[test]
    fn permissions_are_scope_tokens_distinct_from_oidc_scopes() {
        assert!(input("https://a.example", &["read:orders", "write:orders"])
            .validate()
            .is_ok());
        for bad in ["", "two words", "quo\"te", "back\\slash", "openid", "email"] {
            assert_eq!(
                input("https://a.example", &[bad])
                    .validate()
                    .unwrap_err()
                    .field,
                "permissions",
                "{bad:?}"
            );
        }
        let twice = input("https://a.example", &["read", "read"]);
        assert!(twice.validate().unwrap_err().message.contains("twice"));
    }

    #[test]
    fn client_grants_name_each_api_once() {
        let grants = ClientApiGrants {
            grants: vec![
                ApiGrantInput {
                    api: "https://a.example".into(),
                    permissions: vec!["read".into()],
                },
                ApiGrantInput {
                    api: "https://a.example".into(),
                    permissions: vec![],
                },
            ],
        };
        assert!(grants.validate().is_err());
        let bad_value = ClientApiGrants {
            grants: vec![ApiGrantInput {
                api: "https://a.example".into(),
                permissions: vec!["has space".into()],
            }],
        };
        assert_eq!(bad_value.validate().unwrap_err().field, "grants");
    }
}
