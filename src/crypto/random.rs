//! Unpredictable identifiers and secrets.
//!
//! Everything a client or browser holds (authorization codes, tokens, session ids, setup links)
//! carries 256 bits from the platform CSPRNG: far above the 128 bits the conformance suite asks
//! of authorization codes, and enough that hashing them with plain SHA-256 at rest is safe.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Fills a fresh buffer from the platform CSPRNG (`crypto.getRandomValues` on Workers).
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // A CSPRNG failure leaves us unable to mint anything secret; there is no safe fallback.
    getrandom::getrandom(&mut buf).expect("the platform CSPRNG is unavailable");
    buf
}

/// A 256-bit secret rendered as unpadded base64url (43 characters).
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<32>())
}

/// A 128-bit identifier for database rows (22 characters, base64url).
pub fn id() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<16>())
}

/// An alphanumeric secret of `len` characters.
///
/// Client secrets are alphanumeric because Cloudflare Access puts them into HTTP Basic auth
/// without form-urlencoding them first: characters like `+`, `/` or `%` would be decoded
/// differently by a strict server. Rejection sampling keeps the distribution uniform.
pub fn alphanumeric(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in bytes::<64>() {
            // 62 * 4 = 248: bytes >= 248 would bias the first symbols, so they are skipped.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = token();
        let b = token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(id().len(), 22);
    }

    #[test]
    fn alphanumeric_secrets_use_only_letters_and_digits() {
        let s = alphanumeric(48);
        assert_eq!(s.len(), 48);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
        assert_ne!(s, alphanumeric(48));
    }
}
