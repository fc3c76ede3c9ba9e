//! JWT access tokens (RFC 9068): what an API verifies offline against the tenant's JWKS.
//!
//! The trade-off against the opaque tokens userinfo gets by default: an opaque token is looked
//! up on every use, so revoking its grant ends it at once; a JWT is valid until `exp` for
//! anyone who checks only the signature. JWT access tokens are therefore short-lived
//! (the client's access token lifetime, an hour by default).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::Jwks;
use crate::crypto::jws;
use crate::crypto::signature::SignatureCheck;

/// The `typ` header RFC 9068 §2.1 requires, so a JWT access token is never mistaken for an
/// id_token (`JWT`) or the other way round.
pub const TYP: &str = "at+jwt";

/// What one JWT access token says.
pub struct AccessTokenClaims<'a> {
    pub issuer: &'a str,
    /// The user, or the client itself when it acts on its own behalf (client_credentials).
    pub subject: &'a str,
    pub audience: &'a str,
    pub client_id: &'a str,
    /// Space-separated permissions (may be empty: the claim is then left out).
    pub scope: &'a str,
    pub jti: &'a str,
    pub now: i64,
    pub lifetime_secs: i64,
    /// When the user signed in; none for a client's own token.
    pub auth_time: Option<i64>,
}

/// The RFC 9068 §2.2 claims.
pub fn claims(c: &AccessTokenClaims<'_>) -> Value {
    let mut claims = json!({
        "iss": c.issuer,
        "sub": c.subject,
        "aud": c.audience,
        "client_id": c.client_id,
        "iat": c.now,
        "exp": c.now + c.lifetime_secs,
        "jti": c.jti,
    });
    if !c.scope.is_empty() {
        claims["scope"] = json!(c.scope);
    }
    if let Some(auth_time) = c.auth_time {
        claims["auth_time"] = json!(auth_time);
    }
    claims
}

/// The `jti` of a JWT access token that stands for a stored (revocable) token: the stored
/// hash of its secret. The secret itself never leaves the provider, so the `jti` an API sees
/// (and may log) is no credential: presented as an opaque token it is hashed again and
/// matches nothing; only the signed JWT leads back to the row.
pub fn jti_of_stored(secret: &str) -> String {
    secret_hash(secret)
}

/// A presented access token (userinfo, introspection, revocation), read but not yet trusted.
#[derive(Debug, Clone)]
pub enum Presented {
    /// An opaque token: looked up by its hash.
    Opaque { hash: String },
    /// A JWT access token with an `at+jwt` header: it stands for the stored row whose hash is
    /// its `jti` (see [`jti_of_stored`]), once one of `checks` verifies against the tenant's
    /// keys. A client_credentials token verifies but no row has its `jti`: userinfo refuses it
    /// (API tokens are not userinfo tokens); introspection reads its `claims`.
    Signed {
        checks: Vec<SignatureCheck>,
        jti: String,
        /// The claims, trusted only once a check verifies.
        claims: Value,
    },
    /// A JWT of another kind, or one that names no key of the tenant: it matches nothing.
    Refused,
}

/// Reads a presented access token (the signature, if any, is the caller's to verify: WebCrypto
/// in the Worker, see `usecase::presented_token`).
pub fn read_presented(token: &str, jwks: &Jwks) -> Presented {
    if token.split('.').count() != 3 {
        return Presented::Opaque {
            hash: secret_hash(token),
        };
    }
    let typ_ok = token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .is_some_and(|h| h.get("typ").and_then(Value::as_str) == Some(TYP));
    if !typ_ok {
        return Presented::Refused;
    }
    let Ok(unverified) = jws::read(token, jwks) else {
        return Presented::Refused;
    };
    match unverified.claims.get("jti").and_then(Value::as_str) {
        Some(jti) => Presented::Signed {
            jti: jti.to_string(),
            checks: unverified.checks,
            claims: Value::Object(unverified.claims),
        },
        None => Presented::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_required_claims_and_only_known_optional_ones() {
        let mut c = AccessTokenClaims {
            issuer: "https://acme.id.example.com",
            subject: "machine",
            audience: "https://api.example.com",
            client_id: "machine",
            scope: "read write",
            jti: "j-1",
            now: 1000,
            lifetime_secs: 300,
            auth_time: None,
        };
        let v = claims(&c);
        for name in [
            "iss",
            "sub",
            "aud",
            "client_id",
            "iat",
            "exp",
            "jti",
            "scope",
        ] {
            assert!(v.get(name).is_some(), "{name}");
        }
        assert_eq!(v["exp"], 1300);
        assert!(v.get("auth_time").is_none());
        c.scope = "";
        c.auth_time = Some(900);
        let v = claims(&c);
        assert!(v.get("scope").is_none());
        assert_eq!(v["auth_time"], 900);
    }
}
