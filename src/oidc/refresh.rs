//! Refresh token rotation with a grace period (RFC 9700 §4.14.2).
//!
//! Every refresh rotates: the presented token is marked used and a successor is issued. Using a
//! rotated token again normally means someone holds a copy, so the whole grant ("family") is
//! revoked. But a client whose request timed out, or that refreshes from two tabs at once, also
//! presents the same token twice; revoking then logs a legitimate user out (Okta and Auth0 call
//! the fix a grace period or leeway). Within the tenant's grace period after rotation:
//!
//! * the rotated token still works and does not count as reuse;
//! * it yields the SAME successor refresh token as the first use (and a fresh access token), so
//!   the family never forks: the successor is derived from the rotated token with a server key
//!   (HMAC), so every concurrent request computes the same one without sharing state, while a
//!   thief holding an old token cannot compute it without the key;
//! * once the successor has been used, or the period is over, a replay revokes the family.
//!
//! A grace period of 0 restores strict rotation: the successor is then random, so of concurrent
//! requests only the one that rotated the token succeeds and the others revoke the family.

use hmac::{Hmac, Mac};

/// Upper bound of the per-tenant grace period: a retry after a timeout, not a second lifetime.
pub const MAX_GRACE_SECS: u32 = 60;
/// Default grace period for new and existing tenants.
pub const DEFAULT_GRACE_SECS: u32 = 10;

/// What the stored state of a presented refresh token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    pub expires_at: i64,
    pub revoked: bool,
    /// When the token was rotated, if it was.
    pub used_at: Option<i64>,
    /// Hash of the token that replaced it.
    pub replaced_by: Option<String>,
    /// Whether that successor has itself been used.
    pub successor_used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// First use: rotate it.
    Rotate,
    /// A repeat within the grace period: hand out the same successor again.
    GraceRepeat,
    /// A rotated token used again outside the grace period: revoke the family.
    Reuse,
    /// Expired, revoked or unknown: refuse without side effects.
    Invalid,
}

/// Decides how a presented refresh token may be used. `successor_hash` is the hash of the
/// successor this request would issue (see [`successor`]).
pub fn classify(t: &StoredRefresh, now: i64, grace_secs: u32, successor_hash: &str) -> RefreshUse {
    if t.revoked || t.expires_at <= now {
        return RefreshUse::Invalid;
    }
    match t.used_at {
        None => RefreshUse::Rotate,
        Some(used_at)
            if grace_secs > 0
                && now - used_at <= i64::from(grace_secs)
                && t.replaced_by.as_deref() == Some(successor_hash)
                && !t.successor_used =>
        {
            RefreshUse::GraceRepeat
        }
        Some(_) => RefreshUse::Reuse,
    }
}

/// The successor of `token`: with a grace period, HMAC-SHA256 of the tenant and the token under
/// `key` (base64url, 43 characters like every other token); without one, `random` (a fresh
/// random token), so concurrent requests cannot share a successor.
pub fn successor(
    key: &[u8; 32],
    tenant_id: &str,
    token: &str,
    grace_secs: u32,
    random: impl FnOnce() -> String,
) -> String {
    if grace_secs == 0 {
        return random();
    }
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(tenant_id.as_bytes());
    mac.update(b"\0");
    mac.update(token.as_bytes());
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        mac.finalize().into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hash::secret_hash as token_hash;

    const KEY: [u8; 32] = [9; 32];

    fn fresh() -> StoredRefresh {
        StoredRefresh {
            expires_at: 10_000,
            revoked: false,
            used_at: None,
            replaced_by: None,
            successor_used: false,
        }
    }

    fn rotated_at(at: i64, successor_hash: &str) -> StoredRefresh {
        StoredRefresh {
            used_at: Some(at),
            replaced_by: Some(successor_hash.into()),
            ..fresh()
        }
    }

    #[test]
    fn first_use_rotates() {
        assert_eq!(classify(&fresh(), 100, 10, "s"), RefreshUse::Rotate);
        assert_eq!(classify(&fresh(), 100, 0, "s"), RefreshUse::Rotate);
    }

    #[test]
    fn repeat_within_grace_gets_the_same_successor() {
        let s = token_hash(&successor(&KEY, "t", "old", 10, || unreachable!()));
        assert_eq!(
            classify(&rotated_at(100, &s), 110, 10, &s),
            RefreshUse::GraceRepeat
        );
        // One second past the grace period it is reuse.
        assert_eq!(
            classify(&rotated_at(100, &s), 111, 10, &s),
            RefreshUse::Reuse
        );
    }

    #[test]
    fn repeat_after_the_successor_was_used_is_reuse() {
        let s = token_hash(&successor(&KEY, "t", "old", 10, || unreachable!()));
        let mut t = rotated_at(100, &s);
        t.successor_used = true;
        assert_eq!(classify(&t, 101, 10, &s), RefreshUse::Reuse);
    }

    #[test]
    fn zero_grace_is_strict() {
        let s = successor(&KEY, "t", "old", 0, || "random".into());
        assert_eq!(s, "random");
        assert_eq!(
            classify(&rotated_at(100, &token_hash(&s)), 100, 0, &token_hash(&s)),
            RefreshUse::Reuse
        );
    }

    #[test]
    fn a_successor_from_another_derivation_is_reuse() {
        // Rotated by a request with another key or tenant: not this token's successor.
        let other = token_hash(&successor(&[1; 32], "t", "old", 10, || unreachable!()));
        let mine = token_hash(&successor(&KEY, "t", "old", 10, || unreachable!()));
        assert_eq!(
            classify(&rotated_at(100, &other), 101, 10, &mine),
            RefreshUse::Reuse
        );
    }

    #[test]
    fn successor_is_keyed_and_per_tenant() {
        let a = successor(&KEY, "t1", "tok", 5, || unreachable!());
        assert_eq!(a, successor(&KEY, "t1", "tok", 5, || unreachable!()));
        assert_ne!(a, successor(&KEY, "t2", "tok", 5, || unreachable!()));
        assert_ne!(a, successor(&[1; 32], "t1", "tok", 5, || unreachable!()));
        assert_ne!(a, successor(&KEY, "t1", "tok2", 5, || unreachable!()));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn expired_or_revoked_is_invalid() {
        let mut t = fresh();
        t.revoked = true;
        assert_eq!(classify(&t, 100, 10, "s"), RefreshUse::Invalid);
        let mut t = fresh();
        t.expires_at = 100;
        assert_eq!(classify(&t, 100, 10, "s"), RefreshUse::Invalid);
    }
}
