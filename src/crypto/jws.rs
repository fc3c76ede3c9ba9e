//! Compact JWS (RFC 7515) assembly and verification for tokens this provider issues.
//!
//! Signing is split in two so the expensive part can run in WebCrypto: [`signing_input`] builds
//! `BASE64URL(header).BASE64URL(claims)`, the Worker signs those bytes with `crypto.subtle`
//! (RSASSA-PKCS1-v1_5 / ECDSA P-256, whose raw `r||s` output is already the JWS format), and
//! [`compact`] appends the signature. Verification is split the same way: [`read`] gives the
//! signature checks (WebCrypto verifies them in the Worker), [`verify`] runs them in pure Rust.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::jwk::{Jwks, SigningAlg};
use super::signature::SignatureCheck;

/// `BASE64URL(UTF8(header)) || '.' || BASE64URL(claims)` for the given key and token type.
pub fn signing_input(alg: SigningAlg, kid: &str, typ: &str, claims: &Value) -> String {
    let header = serde_json::json!({ "alg": alg.as_str(), "kid": kid, "typ": typ });
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Appends the signature to a signing input, giving the compact serialization.
pub fn compact(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("algorithm {0} is not accepted")]
    AlgorithmNotAccepted(String),
    #[error("no published key matches")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
}

/// A JWS whose header names an accepted algorithm and a published key, with its claims read
/// but not yet trusted: one of [`checks`](Self::checks) must verify first.
#[derive(Debug, Clone)]
pub struct UnverifiedJws {
    /// One signature check per published key the token may be signed by (usually one: its kid).
    pub checks: Vec<SignatureCheck>,
    pub claims: Map<String, Value>,
}

/// Reads a compact JWS and the signature checks that decide it. Only RS256 and ES256 are
/// accepted: `none` and HMAC algorithms are refused outright (the classic JWT
/// algorithm-confusion attacks). Expiry is NOT checked here: an `id_token_hint` may legitimately
/// be expired (OIDC Core §3.1.2.1).
pub fn read(token: &str, jwks: &Jwks) -> Result<UnverifiedJws, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed)
    };
    let header: Map<String, Value> =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::Malformed)?;
    let alg = SigningAlg::parse(alg_name)
        .ok_or_else(|| JwtError::AlgorithmNotAccepted(alg_name.to_string()))?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(JwtError::Malformed),
    };
    let claims = serde_json::from_slice(&decode(payload)?).map_err(|_| JwtError::Malformed)?;
    let signature = decode(signature)?;
    // The signed bytes are the first two segments exactly as sent.
    let signing_input = &token[..token.len() - signature_len(token)];
    let checks: Vec<SignatureCheck> = jwks
        .keys
        .iter()
        .filter(|k| k.alg.as_deref() == Some(alg.as_str()))
        .filter(|k| kid.is_none_or(|kid| k.kid == kid))
        .filter_map(|k| k.verifying_key(alg))
        .map(|key| SignatureCheck {
            key,
            message: signing_input.as_bytes().to_vec(),
            signature: signature.clone(),
        })
        .collect();
    if checks.is_empty() {
        return Err(JwtError::UnknownKey);
    }
    Ok(UnverifiedJws { checks, claims })
}

/// The length of `.signature` at the end of a compact JWS.
fn signature_len(token: &str) -> usize {
    token.rfind('.').map_or(0, |dot| token.len() - dot)
}

/// Verifies a JWS against a key set with the pure-Rust verifiers and returns its claims (native
/// callers and tests; the Worker verifies [`read`]'s checks with WebCrypto).
#[cfg(not(target_arch = "wasm32"))]
pub fn verify(token: &str, jwks: &Jwks) -> Result<Map<String, Value>, JwtError> {
    let unverified = read(token, jwks)?;
    if unverified
        .checks
        .iter()
        .any(super::signature::verify_natively)
    {
        Ok(unverified.claims)
    } else {
        Err(JwtError::BadSignature)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::jwk::PublicJwk;
    use p256::ecdsa::signature::Signer;
    use rsa::pkcs1v15::SigningKey;
    use rsa::traits::PublicKeyParts;

    /// A native stand-in for the WebCrypto signer, producing the same bytes WebCrypto does.
    pub(crate) fn es256_key() -> (p256::ecdsa::SigningKey, PublicJwk) {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let point = sk.verifying_key().to_encoded_point(false);
        let jwk = PublicJwk {
            kty: "EC".into(),
            kid: String::new(),
            key_use: None,
            alg: None,
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(point.x().unwrap())),
            y: Some(URL_SAFE_NO_PAD.encode(point.y().unwrap())),
        }
        .published(SigningAlg::ES256)
        .unwrap();
        (sk, jwk)
    }

    pub(crate) fn rsa_key() -> (rsa::RsaPrivateKey, PublicJwk) {
        let mut rng = rand_core_compat::Rng;
        let sk = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let jwk = PublicJwk {
            kty: "RSA".into(),
            kid: String::new(),
            key_use: None,
            alg: None,
            n: Some(URL_SAFE_NO_PAD.encode(sk.n().to_bytes_be())),
            e: Some(URL_SAFE_NO_PAD.encode(sk.e().to_bytes_be())),
            crv: None,
            x: None,
            y: None,
        }
        .published(SigningAlg::RS256)
        .unwrap();
        (sk, jwk)
    }

    mod rand_core_compat {
        //! rsa 0.9 wants a rand_core 0.6 RNG; getrandom backs it here as it does in the Worker.
        pub struct Rng;
        impl rsa::rand_core::RngCore for Rng {
            fn next_u32(&mut self) -> u32 {
                u32::from_le_bytes(crate::crypto::random::bytes::<4>())
            }
            fn next_u64(&mut self) -> u64 {
                u64::from_le_bytes(crate::crypto::random::bytes::<8>())
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                getrandom::getrandom(dest).unwrap()
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
                getrandom::getrandom(dest).map_err(|e| rsa::rand_core::Error::from(e.code()))
            }
        }
        impl rsa::rand_core::CryptoRng for Rng {}
    }

    pub(crate) fn sign_es256(
        sk: &p256::ecdsa::SigningKey,
        jwk: &PublicJwk,
        claims: &Value,
    ) -> String {
        let input = signing_input(SigningAlg::ES256, &jwk.kid, "JWT", claims);
        let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
        compact(&input, &sig.to_bytes())
    }

    #[test]
    fn es256_round_trip_and_tamper() {
        let (sk, jwk) = es256_key();
        let jwks = Jwks {
            keys: vec![jwk.clone()],
        };
        let claims = serde_json::json!({"sub": "u1", "aud": "c1"});
        let token = sign_es256(&sk, &jwk, &claims);
        let verified = verify(&token, &jwks).unwrap();
        assert_eq!(verified["sub"], "u1");

        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"admin","aud":"c1"}"#);
        parts[1] = &forged;
        assert_eq!(verify(&parts.join("."), &jwks), Err(JwtError::BadSignature));
    }

    #[test]
    fn rs256_round_trip_and_wrong_key() {
        let (sk, jwk) = rsa_key();
        let claims = serde_json::json!({"sub": "u2"});
        let input = signing_input(SigningAlg::RS256, &jwk.kid, "JWT", &claims);
        let sig = SigningKey::<sha2::Sha256>::new(sk).sign(input.as_bytes());
        let token = compact(&input, &rsa::signature::SignatureEncoding::to_vec(&sig));
        let jwks = Jwks {
            keys: vec![jwk.clone()],
        };
        assert_eq!(verify(&token, &jwks).unwrap()["sub"], "u2");

        let (_, other) = es256_key();
        assert_eq!(
            verify(&token, &Jwks { keys: vec![other] }),
            Err(JwtError::UnknownKey)
        );
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let (_, jwk) = es256_key();
        let jwks = Jwks { keys: vec![jwk] };
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
        );
        assert!(matches!(
            verify(&none, &jwks),
            Err(JwtError::AlgorithmNotAccepted(_)) | Err(JwtError::Malformed)
        ));
        let hs = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
        );
        assert_eq!(
            verify(&hs, &jwks),
            Err(JwtError::AlgorithmNotAccepted("HS256".into()))
        );
        assert_eq!(verify("garbage", &jwks), Err(JwtError::Malformed));
    }
}
