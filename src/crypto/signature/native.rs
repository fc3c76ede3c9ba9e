//! The pure-Rust verifiers: what native tests and tools run. The Worker never links them; its
//! [`SignatureVerifier`](crate::usecase::SignatureVerifier) is WebCrypto.

use sha2::Sha256;

use super::{SignatureCheck, VerifyingKey};

/// Whether `key` is a usable public key: a P-256 point on the curve, an Ed25519 point that
/// decompresses, an RSA modulus and exponent the `rsa` crate accepts (what WebCrypto's
/// `importKey` checks in the Worker).
pub fn key_is_valid_natively(key: &VerifyingKey) -> bool {
    match key {
        VerifyingKey::P256 { point } => p256::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok(),
        VerifyingKey::Ed25519 { key } => ed25519_dalek::VerifyingKey::from_bytes(key).is_ok(),
        VerifyingKey::Rsa { n, e } => rsa_key(n, e).is_some(),
    }
}

fn rsa_key(n: &[u8], e: &[u8]) -> Option<rsa::RsaPublicKey> {
    rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    )
    .ok()
}

/// Verifies with the pure-Rust implementations (p256, rsa, ed25519-dalek).
pub fn verify_natively(check: &SignatureCheck) -> bool {
    use p256::ecdsa::signature::Verifier;
    let message = check.message.as_slice();
    match &check.key {
        VerifyingKey::P256 { point } => {
            let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
                return false;
            };
            p256::ecdsa::Signature::from_slice(&check.signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
        VerifyingKey::Ed25519 { key } => {
            let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
                return false;
            };
            ed25519_dalek::Signature::from_slice(&check.signature)
                .is_ok_and(|sig| key.verify_strict(message, &sig).is_ok())
        }
        VerifyingKey::Rsa { n, e } => {
            let Some(key) = rsa_key(n, e) else {
                return false;
            };
            let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key);
            rsa::pkcs1v15::Signature::try_from(check.signature.as_slice())
                .is_ok_and(|sig| verifier.verify(message, &sig).is_ok())
        }
    }
}
