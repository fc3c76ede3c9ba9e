//! Hashing of bearer secrets before they touch storage.
//!
//! Codes, tokens, session ids and API keys are 256-bit random values, so a single SHA-256 is
//! enough to make a database leak useless (no dictionary to try) while costing microseconds on
//! the hot path. Lookups go by hash, so the secret itself is never stored or compared.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// SHA-256 of `secret`, base64url without padding: the storage key for a bearer secret.
pub fn secret_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// SHA-256 of arbitrary bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Compares two secrets without leaking where they differ or how long they are: both sides are
/// hashed first so the comparison always runs over 32 bytes.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    sha256(a.as_bytes()).ct_eq(&sha256(b.as_bytes())).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_url_safe() {
        let h = secret_hash("abc");
        assert_eq!(h, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_eq!(h, secret_hash("abc"));
        assert_ne!(h, secret_hash("abd"));
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("s3cret", "s3cret"));
        assert!(!secrets_equal("s3cret", "s3cret "));
        assert!(!secrets_equal("", "x"));
    }
}
