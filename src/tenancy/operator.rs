//! What the operator API accepts, typed and validated. The bodies are parsed by the strict
//! parser in `crate::validation` (a malformed body is a 400, never the defaults) and checked
//! here, so both steps run natively in the tests; `http::routes::operator` only calls them.

use serde::Deserialize;

use crate::crypto::jwk::SigningAlg;
use crate::validation::{field_error, present, FieldError};

use super::keys::DEFAULT_OVERLAP_SECS;

/// `POST /operator/api/tenants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantInput {
    pub slug: String,
    pub display_name: String,
}

/// `POST /operator/api/tenants/{slug}/domains`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainInput {
    pub host: String,
}

/// `POST /operator/api/tenants/{slug}/keys/rotate`; every field is optional, so an empty body
/// is a normal rotation of both keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateInput {
    /// Rotate only this algorithm's key; both when absent.
    #[serde(default, deserialize_with = "present")]
    pub alg: Option<String>,
    /// How long the replaced key stays published after it stops signing (default 7).
    #[serde(default, deserialize_with = "present")]
    pub overlap_days: Option<i64>,
    /// Emergency: the new key signs at once instead of after the JWKS caches have expired.
    #[serde(default)]
    pub immediate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub algs: Vec<SigningAlg>,
    pub overlap_secs: i64,
    pub immediate: bool,
}

impl RotateInput {
    pub fn validate(self) -> Result<Rotation, FieldError> {
        let algs = match self.alg.as_deref() {
            None => SigningAlg::ALL.to_vec(),
            Some(a) => vec![SigningAlg::parse(a)
                .ok_or_else(|| field_error("alg", "RS256 or ES256 (or leave it out for both)"))?],
        };
        let overlap_secs = match self.overlap_days {
            None => DEFAULT_OVERLAP_SECS,
            Some(d) if (0..=365).contains(&d) => d * 86_400,
            Some(_) => return Err(field_error("overlap_days", "0 to 365 days")),
        };
        Ok(Rotation {
            algs,
            overlap_secs,
            immediate: self.immediate,
        })
    }
}

/// `POST /operator/api/tenants/{slug}/api-keys`; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    /// Days until the key expires; absent means it never expires.
    #[serde(default, deserialize_with = "present")]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRequest {
    pub name: String,
    pub expires_in_days: Option<i64>,
}

impl ApiKeyInput {
    pub fn validate(self) -> Result<ApiKeyRequest, FieldError> {
        let name = match self.name {
            None => "operator".to_string(),
            // Listed in the tenant's admin console, like the keys admins make.
            Some(n) => crate::validation::api_key_name(&n)?,
        };
        // Out of range is refused, not clamped: the operator asked for something else.
        if let Some(d) = self.expires_in_days {
            if !(1..=3650).contains(&d) {
                return Err(field_error("expires_in_days", "1 to 3650 days"));
            }
        }
        Ok(ApiKeyRequest {
            name,
            expires_in_days: self.expires_in_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::{parse_json_object, parse_optional_json_object};

    /// Parse then validate, as the route does; the error's field either way.
    fn api_key(body: &str) -> Result<ApiKeyRequest, Option<String>> {
        parse_optional_json_object::<ApiKeyInput>(body.as_bytes())
            .map_err(|e| e.field)?
            .validate()
            .map_err(|e| Some(e.field.to_string()))
    }

    fn rotate(body: &str) -> Result<Rotation, Option<String>> {
        parse_optional_json_object::<RotateInput>(body.as_bytes())
            .map_err(|e| e.field)?
            .validate()
            .map_err(|e| Some(e.field.to_string()))
    }

    const DAYS: Option<&str> = Some("expires_in_days");

    #[test]
    fn api_key_bodies_that_used_to_mint_a_key_that_never_expires_are_refused() {
        let field = |b| api_key(b).unwrap_err();
        assert_eq!(field(r#"{"expires_in_days":"30"}"#).as_deref(), DAYS);
        assert_eq!(field(r#"{"expires_in_days":30.5}"#).as_deref(), DAYS);
        assert_eq!(field(r#"{"expires_in_days":1e30}"#).as_deref(), DAYS);
        assert_eq!(field(r#"{"expires_in_days":null}"#).as_deref(), DAYS);
        assert_eq!(field(r#"{"expires_in_days":0}"#).as_deref(), DAYS);
        assert_eq!(field(r#"{"expires_in_days":99999}"#).as_deref(), DAYS);
        // Not JSON: refused as a whole (no field to name).
        assert_eq!(field(r#"{"expires_in_days":30,}"#), None);
        assert_eq!(
            field(r#"{"expires_days":30}"#).as_deref(),
            Some("expires_days")
        );
        assert_eq!(field(r#"{"name":7}"#).as_deref(), Some("name"));
    }

    #[test]
    fn api_key_bodies_that_are_right_are_taken_as_sent() {
        assert_eq!(
            api_key(r#"{"name":"ci","expires_in_days":30}"#),
            Ok(ApiKeyRequest {
                name: "ci".into(),
                expires_in_days: Some(30)
            })
        );
        // Everything is optional: an empty body is the documented default (no expiry).
        for body in ["", "{}"] {
            assert_eq!(
                api_key(body),
                Ok(ApiKeyRequest {
                    name: "operator".into(),
                    expires_in_days: None
                })
            );
        }
    }

    #[test]
    fn malformed_rotate_bodies_rotate_nothing() {
        assert_eq!(rotate(r#"{"alg":256}"#), Err(Some("alg".into())));
        assert_eq!(rotate(r#"{"alg":["RS256"]}"#), Err(Some("alg".into())));
        assert_eq!(rotate(r#"{"alg":null}"#), Err(Some("alg".into())));
        assert_eq!(rotate(r#"{"alg":"HS256"}"#), Err(Some("alg".into())));
        assert_eq!(rotate(r#"{"alg":"RS256",}"#), Err(None));
        assert_eq!(
            rotate(r#"{"overlap_days":"7"}"#),
            Err(Some("overlap_days".into()))
        );
        assert_eq!(
            rotate(r#"{"overlap_days":400}"#),
            Err(Some("overlap_days".into()))
        );
        assert_eq!(
            rotate(r#"{"immediate":"yes"}"#),
            Err(Some("immediate".into()))
        );
        assert_eq!(
            rotate(r#"{"algorithm":"RS256"}"#),
            Err(Some("algorithm".into()))
        );
        assert_eq!(rotate("[]"), Err(None));
    }

    #[test]
    fn rotate_bodies_that_are_right_are_taken_as_sent() {
        assert_eq!(
            rotate(""),
            Ok(Rotation {
                algs: SigningAlg::ALL.to_vec(),
                overlap_secs: DEFAULT_OVERLAP_SECS,
                immediate: false
            })
        );
        assert_eq!(
            rotate(r#"{"alg":"ES256","overlap_days":0,"immediate":true}"#),
            Ok(Rotation {
                algs: vec![SigningAlg::ES256],
                overlap_secs: 0,
                immediate: true
            })
        );
    }

    #[test]
    fn create_and_domain_bodies_are_required_and_strict() {
        assert!(parse_json_object::<CreateTenantInput>(b"").is_err());
        let e = parse_json_object::<CreateTenantInput>(br#"{"slug":"a"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("display_name"));
        let e = parse_json_object::<DomainInput>(br#"{"host":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("host"));
    }
}
