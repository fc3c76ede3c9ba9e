//! `id_token_hint`: an id_token this provider issued, presented back by a client (at
//! `/authorize` and at the end-session endpoint). Its signature must verify against the
//! tenant's published keys and its issuer must be the tenant; its expiry does not matter
//! (OIDC Core §3.1.2.1).
//!
//! Reading the hint is pure ([`read`]); its signature is verified by the caller (WebCrypto in
//! the Worker) and the answer given to [`PendingHint::conclude`].

use super::logout::Hint;
use crate::crypto::jwk::Jwks;
use crate::crypto::jws;
use crate::crypto::signature::SignatureCheck;

/// A hint whose claims name this issuer, a subject and a client: valid if one of its signature
/// checks verifies.
#[derive(Debug, Clone)]
pub struct PendingHint {
    pub checks: Vec<SignatureCheck>,
    sub: String,
    client_id: String,
}

impl PendingHint {
    pub fn conclude(self, signature_verified: bool) -> Hint {
        if signature_verified {
            Hint::Valid {
                sub: self.sub,
                client_id: self.client_id,
            }
        } else {
            Hint::Invalid
        }
    }
}

/// Everything about a hint but its signature: `Err` is the decided hint (absent, or invalid
/// without spending a verification).
pub fn read(token: Option<&str>, jwks: &Jwks, issuer: &str) -> Result<PendingHint, Hint> {
    let Some(token) = token else {
        return Err(Hint::Absent);
    };
    let Ok(unverified) = jws::read(token, jwks) else {
        return Err(Hint::Invalid);
    };
    let claims = &unverified.claims;
    if claims.get("iss").and_then(|v| v.as_str()) != Some(issuer) {
        return Err(Hint::Invalid);
    }
    let sub = claims.get("sub").and_then(|v| v.as_str());
    let client_id = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => Some(a.as_str()),
        Some(serde_json::Value::Array(list)) => list.first().and_then(|a| a.as_str()),
        _ => None,
    };
    match (sub, client_id) {
        (Some(sub), Some(client_id)) => Ok(PendingHint {
            sub: sub.to_string(),
            client_id: client_id.to_string(),
            checks: unverified.checks,
        }),
        _ => Err(Hint::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jws::tests::{es256_key, sign_es256};
    use crate::crypto::signature::verify_natively;

    /// The whole hint, verified natively.
    fn verify(token: Option<&str>, jwks: &Jwks, issuer: &str) -> Hint {
        match read(token, jwks, issuer) {
            Ok(pending) => {
                let ok = pending.checks.iter().any(verify_natively);
                pending.conclude(ok)
            }
            Err(decided) => decided,
        }
    }

    #[test]
    fn absent_and_garbage() {
        let jwks = Jwks { keys: vec![] };
        assert_eq!(verify(None, &jwks, "https://a"), Hint::Absent);
        assert_eq!(verify(Some("x.y.z"), &jwks, "https://a"), Hint::Invalid);
        // alg:none is refused before any key lookup.
        let none = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2EiLCJzdWIiOiJ1IiwiYXVkIjoiYyJ9.";
        assert_eq!(verify(Some(none), &jwks, "https://a"), Hint::Invalid);
    }

    #[test]
    fn valid_only_when_signed_by_the_tenant_for_its_issuer() {
        let (sk, jwk) = es256_key();
        let jwks = Jwks {
            keys: vec![jwk.clone()],
        };
        let claims = serde_json::json!({"iss": "https://a", "sub": "u1", "aud": ["c1"]});
        let token = sign_es256(&sk, &jwk, &claims);
        assert_eq!(
            verify(Some(&token), &jwks, "https://a"),
            Hint::Valid {
                sub: "u1".into(),
                client_id: "c1".into()
            }
        );
        assert_eq!(verify(Some(&token), &jwks, "https://b"), Hint::Invalid);
        // The same claims with a signature of other bytes.
        let mut forged = token.clone();
        let tail = forged.pop().unwrap();
        forged.push(if tail == 'A' { 'B' } else { 'A' });
        assert_eq!(verify(Some(&forged), &jwks, "https://a"), Hint::Invalid);
        let pending = read(Some(&token), &jwks, "https://a").unwrap();
        assert_eq!(pending.clone().conclude(false), Hint::Invalid);
    }
}
