//! Provider metadata: OpenID Connect Discovery 1.0 and RFC 8414.
//!
//! The documents advertise only what the provider serves today, so a relying party never
//! tries a feature that is not there. The authorization, token and userinfo endpoints join
//! the document with the OIDC flow (issue 4); until then the metadata describes the issuer,
//! its keys and the algorithms and claims tokens will carry.

use serde_json::{json, Value};

/// Signing algorithms tenant keys exist for. RS256 first: it is the default and the one the
/// conformance suite requires; no OKP (EdDSA) because Cloudflare Access rejects such a JWKS.
pub const ID_TOKEN_SIGNING_ALGS: [&str; 2] = ["RS256", "ES256"];

fn common(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "scopes_supported": ["openid", "profile", "email", "groups"],

    })
}

/// `/.well-known/openid-configuration`.
pub fn openid_configuration(issuer: &str) -> Value {
    let mut doc = common(issuer);
    let extra = json!({
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ID_TOKEN_SIGNING_ALGS,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "name", "given_name", "family_name", "preferred_username", "picture",
            "email", "email_verified", "groups"
        ],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "claims_parameter_supported": false,
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    doc
}

/// `/.well-known/oauth-authorization-server` (RFC 8414).
pub fn oauth_authorization_server(issuer: &str) -> Value {
    common(issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_is_consistent_with_the_issuer() {
        let d = openid_configuration("https://acme.id.example.com");
        assert_eq!(d["issuer"], "https://acme.id.example.com");
        assert_eq!(
            d["jwks_uri"],
            "https://acme.id.example.com/.well-known/jwks.json"
        );
        assert_eq!(d["id_token_signing_alg_values_supported"][0], "RS256");
        assert!(d["request_parameter_supported"].is_boolean());
        assert!(d["claims_parameter_supported"].is_boolean());
        assert!(d["subject_types_supported"].is_array());
    }

    #[test]
    fn no_endpoint_is_advertised_before_it_exists() {
        let d = openid_configuration("https://acme.id.example.com");
        for key in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
        ] {
            assert!(d.get(key).is_none(), "{key} advertised but not served yet");
        }
        let m = oauth_authorization_server("https://x");
        assert_eq!(m["issuer"], "https://x");
    }
}
