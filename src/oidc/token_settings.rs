//! Per-client token settings: the format of access tokens and the lifetimes of each token,
//! within bounds a serious provider keeps whatever an admin types.

use super::token::{ACCESS_TOKEN_TTL, ID_TOKEN_TTL, REFRESH_TOKEN_TTL};
use crate::validation::{field_error, FieldError};

/// Lifetime bounds in seconds, `(min, max)`. Access tokens: a minute to a day (a JWT cannot be
/// revoked before `exp`, so a long one is a long-lived bearer credential). id_tokens: a minute
/// to a day. Refresh tokens: five minutes to a year (they rotate and are revocable).
pub const ACCESS_BOUNDS: (i64, i64) = (60, 24 * 3600);
pub const ID_BOUNDS: (i64, i64) = (60, 24 * 3600);
pub const REFRESH_BOUNDS: (i64, i64) = (300, 365 * 24 * 3600);

/// How a client's tokens are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    /// Every access token is an RFC 9068 JWT, also the ones for userinfo (apps migrating
    /// from Pocket ID, which validate access tokens themselves).
    pub jwt_access_tokens: bool,
    pub access_ttl: i64,
    pub id_ttl: i64,
    pub refresh_ttl: i64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            jwt_access_tokens: false,
            access_ttl: ACCESS_TOKEN_TTL,
            id_ttl: ID_TOKEN_TTL,
            refresh_ttl: REFRESH_TOKEN_TTL,
        }
    }
}

/// The stored spelling of the access token format.
pub const FORMAT_OPAQUE: &str = "opaque";
pub const FORMAT_JWT: &str = "jwt";

impl TokenSettings {
    /// From the stored columns (NULL lifetimes take the defaults; a stored value outside the
    /// bounds, which validation never writes, is clamped rather than trusted).
    pub fn from_stored(
        format: &str,
        access: Option<i64>,
        id: Option<i64>,
        refresh: Option<i64>,
    ) -> Self {
        let d = Self::default();
        let clamp = |v: Option<i64>, default: i64, (min, max): (i64, i64)| {
            v.map_or(default, |v| v.clamp(min, max))
        };
        Self {
            jwt_access_tokens: format == FORMAT_JWT,
            access_ttl: clamp(access, d.access_ttl, ACCESS_BOUNDS),
            id_ttl: clamp(id, d.id_ttl, ID_BOUNDS),
            refresh_ttl: clamp(refresh, d.refresh_ttl, REFRESH_BOUNDS),
        }
    }
}

/// Checks an optional lifetime an admin set against its bounds.
pub fn validate_lifetime(
    field: &'static str,
    value: Option<i64>,
    (min, max): (i64, i64),
) -> Result<(), FieldError> {
    match value {
        Some(v) if v < min || v > max => Err(field_error(
            field,
            format!("must be between {min} and {max} seconds"),
        )),
        _ => Ok(()),
    }
}

/// Checks the access token format an admin set.
pub fn validate_format(value: Option<&str>) -> Result<(), FieldError> {
    match value {
        None | Some("") | Some(FORMAT_OPAQUE) | Some(FORMAT_JWT) => Ok(()),
        Some(_) => Err(field_error("access_token_format", "must be opaque or jwt")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_bounded() {
        assert!(validate_lifetime("x", None, ACCESS_BOUNDS).is_ok());
        assert!(validate_lifetime("x", Some(60), ACCESS_BOUNDS).is_ok());
        assert!(validate_lifetime("x", Some(59), ACCESS_BOUNDS).is_err());
        assert!(validate_lifetime("x", Some(24 * 3600 + 1), ACCESS_BOUNDS).is_err());
        assert!(validate_lifetime("x", Some(299), REFRESH_BOUNDS).is_err());
        let s = TokenSettings::from_stored("jwt", Some(10), None, Some(i64::MAX));
        assert!(s.jwt_access_tokens);
        assert_eq!(s.access_ttl, 60, "clamped");
        assert_eq!(s.id_ttl, ID_TOKEN_TTL);
        assert_eq!(s.refresh_ttl, REFRESH_BOUNDS.1);
        assert!(!TokenSettings::from_stored("opaque", None, None, None).jwt_access_tokens);
        assert!(validate_format(Some("jwt")).is_ok());
        assert!(validate_format(Some("JWT")).is_err());
    }
}
