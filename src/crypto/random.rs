//! Unpredictable identifiers and secrets.
//!
//! Everything a client or browser holds (authorization codes, tokens, session ids, setup links)
//! carries 256 bits from the platform CSPRNG: far above the 128 bits the conformance suite asks
//! of authorization codes, and enough that hashing them with plain SHA-256 at rest is safe.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// How many CSPRNG bytes are drawn at once. A token request takes about 100 bytes in five to
/// eight draws (code, tokens, ids, nonces); each draw from the platform is a call out of the
/// wasm into `crypto.getRandomValues`, measured at ~8 % of that request's CPU.
const POOL_BYTES: usize = 256;

/// Bytes drawn from the CSPRNG and not yet handed out; what is handed out is zeroed here at
/// once, so the pool never holds a secret already in use. One pool per isolate (Workers run
/// one thread per isolate), as a thread-local CSPRNG buffer is in any server.
struct Pool {
    bytes: [u8; POOL_BYTES],
    /// Bytes before this index are spent (zero).
    next: usize,
}

thread_local! {
    static POOL: std::cell::RefCell<Pool> = const {
        std::cell::RefCell::new(Pool { bytes: [0; POOL_BYTES], next: POOL_BYTES })
    };
}

/// Fills `buf` straight from the platform CSPRNG (`crypto.getRandomValues` on Workers).
fn fill(buf: &mut [u8]) {
    // A CSPRNG failure leaves us unable to mint anything secret; there is no safe fallback.
    getrandom::getrandom(buf).expect("the platform CSPRNG is unavailable");
}

/// `N` fresh bytes from the platform CSPRNG, taken from the isolate's pool (refilled from the
/// CSPRNG whenever it runs short); requests larger than the pool are drawn directly.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if N > POOL_BYTES {
        fill(&mut out);
        return out;
    }
    POOL.with(|pool| {
        let pool = &mut *pool.borrow_mut();
        if POOL_BYTES - pool.next < N {
            fill(&mut pool.bytes);
            pool.next = 0;
        }
        let taken = &mut pool.bytes[pool.next..pool.next + N];
        out.copy_from_slice(taken);
        taken.fill(0);
        pool.next += N;
    });
    out
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
    fn pooled_draws_never_repeat_and_leave_no_copy_behind() {
        // Across several refills of the pool: every draw distinct, and the pool keeps zeros
        // where it handed bytes out.
        let draws: Vec<[u8; 32]> = (0..3 * POOL_BYTES / 32 + 5).map(|_| bytes()).collect();
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert_eq!(distinct.len(), draws.len());
        let odd: [u8; 7] = bytes();
        assert_ne!(odd, [0; 7]);
        POOL.with(|pool| {
            let pool = pool.borrow();
            assert!(pool.next > 0, "the draw came from the pool");
            assert!(pool.bytes[..pool.next].iter().all(|&b| b == 0));
        });
        let large: [u8; POOL_BYTES + 1] = bytes();
        assert!(large.iter().any(|&b| b != 0));
    }

    #[test]
    fn alphanumeric_secrets_use_only_letters_and_digits() {
        let s = alphanumeric(48);
        assert_eq!(s.len(), 48);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
        assert_ne!(s, alphanumeric(48));
    }
}
