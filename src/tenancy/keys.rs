//! The signing-key lifecycle, decided here and only here:
//!
//! `next` (published in the JWKS, not signing) → `current` (signs new tokens; one per
//! algorithm) → `retired` (published until its `expires_at`, so tokens it signed keep
//! verifying) → gone (deleted).
//!
//! Why a `next` state: relying parties cache the JWKS for as long as its `Cache-Control`
//! allows, and some (go-oidc v2) do not re-fetch when a token names a kid they have not seen.
//! A key that signs the moment it is created is rejected by them until their cache expires. So
//! a rotation publishes the new key first and the hourly promotion trigger makes it current
//! only once every cache that could still hold a JWKS without it has expired
//! ([`PROMOTION_DELAY_SECS`]). An emergency rotation (a leaked key) skips the wait and accepts
//! that some clients fail until they re-fetch.
//!
//! Storage applies the [`KeyChange`]s these functions return; the hot path asks
//! [`signing_key`] and [`is_published`] through the tenant snapshot.

use crate::crypto::jwk::SigningAlg;

use super::cache::SNAPSHOT_MAX_STALENESS_SECS;
use super::model::{KeyStatus, SigningKeyRecord};

/// `max-age` of the JWKS response.
pub const JWKS_MAX_AGE_SECS: i64 = 300;
/// `stale-while-revalidate` of the JWKS response: a cache may keep serving the old JWKS this
/// long after `max-age` while it re-fetches.
pub const JWKS_STALE_WHILE_REVALIDATE_SECS: i64 = 3600;

/// The JWKS `Cache-Control` header, built from the constants the promotion delay is built from,
/// so the two cannot drift apart.
pub fn jwks_cache_control() -> String {
    format!(
        "public, max-age={JWKS_MAX_AGE_SECS}, stale-while-revalidate={JWKS_STALE_WHILE_REVALIDATE_SECS}"
    )
}

/// How long a `next` key is published before it may sign. A JWKS fetched just before the key
/// was stored can be served by our own snapshot caches for up to
/// [`SNAPSHOT_MAX_STALENESS_SECS`] more, and a client or shared cache may then keep that copy
/// for `max-age` + `stale-while-revalidate`. After the sum, no cache honouring our headers still
/// holds a JWKS without the new key. (71.5 minutes; with the hourly trigger a rotation takes
/// effect 71.5 to 131.5 minutes after it was asked for.)
pub const PROMOTION_DELAY_SECS: i64 =
    SNAPSHOT_MAX_STALENESS_SECS + JWKS_MAX_AGE_SECS + JWKS_STALE_WHILE_REVALIDATE_SECS;

// Whatever the constants become, a key never signs before a client's cached JWKS may expire.
const _: () = assert!(PROMOTION_DELAY_SECS >= JWKS_MAX_AGE_SECS + JWKS_STALE_WHILE_REVALIDATE_SECS);

/// The cron trigger that promotes keys (`[triggers] crons` in wrangler.toml; a test checks it
/// is there). Hourly, so a rotation signs at most an hour after [`PROMOTION_DELAY_SECS`].
pub const PROMOTION_CRON: &str = "47 * * * *";

/// How long a replaced key stays published after it stops signing, unless the rotation says
/// otherwise: longer than any token it signed lives.
pub const DEFAULT_OVERLAP_SECS: i64 = 7 * 86_400;

/// A change to a tenant's key set, applied by storage in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Drop the pending `next` key of `alg`, if any: a newer rotation supersedes it. It never
    /// signed anything, so unpublishing it breaks no token.
    DropNext { alg: SigningAlg },
    /// Every `current` key of `alg` stops signing and stays published until `until`.
    RetireCurrent { alg: SigningAlg, until: i64 },
    /// Store a new key, `next` or (emergency) `current`.
    Insert(Box<SigningKeyRecord>),
    /// `kid`, the `next` key of `alg`, becomes current; the current key of `alg` retires and
    /// stays published until `retire_until`. Storage applies both only while `kid` is still
    /// `next`, so a rotation racing the trigger never leaves `alg` without a current key.
    Promote {
        kid: String,
        alg: SigningAlg,
        retire_until: i64,
    },
    /// A retired key whose publication has ended leaves the key set.
    Remove { kid: String },
}

/// The key that signs new tokens for `alg`.
pub fn signing_key(keys: &[SigningKeyRecord], alg: SigningAlg) -> Option<&SigningKeyRecord> {
    keys.iter()
        .filter(|k| k.alg == alg && k.status == KeyStatus::Current)
        .max_by_key(|k| k.created_at)
}

/// Whether the key belongs in the JWKS at `now`.
pub fn is_published(key: &SigningKeyRecord, now: i64) -> bool {
    match key.status {
        KeyStatus::Next | KeyStatus::Current => true,
        KeyStatus::Retired => key.expires_at.is_none_or(|t| t > now),
    }
}

/// When a `next` key may start signing (none for other states).
pub fn signs_from(key: &SigningKeyRecord) -> Option<i64> {
    (key.status == KeyStatus::Next).then_some(key.created_at + PROMOTION_DELAY_SECS)
}

/// A rotation of `new_key.alg` to `new_key` (freshly generated, `created_at` = now).
///
/// Normally the key becomes `next`, to be promoted by [`due_changes`] once published long
/// enough, and carries `overlap_secs` for the key it will replace. `immediate` (an emergency)
/// makes it current at once and retires the current key now. Without a current key for the
/// algorithm there is nothing to keep signing meanwhile, so the new key is current at once too.
pub fn rotation(
    keys: &[SigningKeyRecord],
    new_key: SigningKeyRecord,
    overlap_secs: i64,
    immediate: bool,
) -> Vec<KeyChange> {
    let alg = new_key.alg;
    let now = new_key.created_at;
    let mut changes = vec![KeyChange::DropNext { alg }];
    if immediate || signing_key(keys, alg).is_none() {
        changes.push(KeyChange::RetireCurrent {
            alg,
            until: now + overlap_secs,
        });
        changes.push(KeyChange::Insert(Box::new(SigningKeyRecord {
            status: KeyStatus::Current,
            expires_at: None,
            overlap_secs: None,
            ..new_key
        })));
    } else {
        changes.push(KeyChange::Insert(Box::new(SigningKeyRecord {
            status: KeyStatus::Next,
            expires_at: None,
            overlap_secs: Some(overlap_secs),
            ..new_key
        })));
    }
    changes
}

/// What the promotion trigger does to one tenant's keys at `now`: promote each `next` key that
/// has been published for [`PROMOTION_DELAY_SECS`], and remove retired keys whose publication
/// has ended.
pub fn due_changes(keys: &[SigningKeyRecord], now: i64) -> Vec<KeyChange> {
    let mut changes = Vec::new();
    for alg in SigningAlg::ALL {
        let newest_next = keys
            .iter()
            .filter(|k| k.alg == alg && k.status == KeyStatus::Next)
            .max_by_key(|k| k.created_at);
        if let Some(next) = newest_next {
            if signs_from(next).is_some_and(|t| t <= now) {
                changes.push(KeyChange::Promote {
                    kid: next.kid.clone(),
                    alg,
                    retire_until: now + next.overlap_secs.unwrap_or(DEFAULT_OVERLAP_SECS),
                });
            }
        }
    }
    changes.extend(
        keys.iter()
            .filter(|k| k.status == KeyStatus::Retired && !is_published(k, now))
            .map(|k| KeyChange::Remove { kid: k.kid.clone() }),
    );
    changes
}

/// Shared with storage's tests, which check that `storage::tenants::apply_key_changes` does in
/// SQL exactly what [`tests::apply`] models here.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::jwk::PublicJwk;

    const T0: i64 = 1_800_000_000;

    pub(crate) fn key(
        kid: &str,
        alg: SigningAlg,
        status: KeyStatus,
        created_at: i64,
    ) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: kid.into(),
            alg,
            public_jwk: PublicJwk {
                kty: "EC".into(),
                kid: kid.into(),
                key_use: Some("sig".into()),
                alg: Some(alg.as_str().into()),
                n: None,
                e: None,
                crv: Some("P-256".into()),
                x: Some("x".into()),
                y: Some("y".into()),
            },
            sealed_private_key: "v1.x".into(),
            status,
            created_at,
            expires_at: None,
            overlap_secs: None,
        }
    }

    /// Applies changes the way storage does, so the tests follow keys through their states.
    pub(crate) fn apply(keys: &mut Vec<SigningKeyRecord>, changes: Vec<KeyChange>) {
        for change in changes {
            match change {
                KeyChange::DropNext { alg } => {
                    keys.retain(|k| !(k.alg == alg && k.status == KeyStatus::Next))
                }
                KeyChange::RetireCurrent { alg, until } => {
                    for k in keys.iter_mut() {
                        if k.alg == alg && k.status == KeyStatus::Current {
                            k.status = KeyStatus::Retired;
                            k.expires_at = Some(until);
                        }
                    }
                }
                KeyChange::Insert(k) => keys.push(*k),
                KeyChange::Promote {
                    kid,
                    alg,
                    retire_until,
                } => {
                    if keys
                        .iter()
                        .any(|k| k.kid == kid && k.status == KeyStatus::Next)
                    {
                        apply(
                            keys,
                            vec![KeyChange::RetireCurrent {
                                alg,
                                until: retire_until,
                            }],
                        );
                        let k = keys.iter_mut().find(|k| k.kid == kid).unwrap();
                        k.status = KeyStatus::Current;
                        // Only a waiting key has an overlap; storage clears it on promotion.
                        k.overlap_secs = None;
                    }
                }
                KeyChange::Remove { kid } => keys.retain(|k| k.kid != kid),
            }
        }
    }

    /// The promotion trigger running at `now`.
    fn trigger(keys: &mut Vec<SigningKeyRecord>, now: i64) {
        let changes = due_changes(keys, now);
        apply(keys, changes);
    }

    fn rotate(
        keys: &mut Vec<SigningKeyRecord>,
        new: SigningKeyRecord,
        overlap: i64,
        immediate: bool,
    ) {
        let changes = rotation(keys, new, overlap, immediate);
        apply(keys, changes);
    }

    fn published(keys: &[SigningKeyRecord], now: i64) -> Vec<&str> {
        let mut kids: Vec<&str> = keys
            .iter()
            .filter(|k| is_published(k, now))
            .map(|k| k.kid.as_str())
            .collect();
        kids.sort_unstable();
        kids
    }

    fn signer(keys: &[SigningKeyRecord]) -> &str {
        &signing_key(keys, SigningAlg::RS256).unwrap().kid
    }

    fn initial() -> Vec<SigningKeyRecord> {
        vec![
            key("old", SigningAlg::RS256, KeyStatus::Current, T0 - 86_400),
            key("ec", SigningAlg::ES256, KeyStatus::Current, T0 - 86_400),
        ]
    }

    #[test]
    fn the_promotion_waits_out_every_jwks_cache_lifetime() {
        // A client may hold a JWKS fetched just before publication for max-age +
        // stale-while-revalidate; our own caches may serve one that old a little longer.
        assert_eq!(PROMOTION_DELAY_SECS, 390 + 300 + 3600);
        assert_eq!(
            jwks_cache_control(),
            "public, max-age=300, stale-while-revalidate=3600"
        );
    }

    #[test]
    fn the_promotion_trigger_is_configured() {
        let config = include_str!("../../wrangler.toml");
        let crons = config
            .lines()
            .find(|l| l.trim_start().starts_with("crons"))
            .expect("wrangler.toml has [triggers] crons");
        assert!(crons.contains(&format!("\"{PROMOTION_CRON}\"")), "{crons}");
    }

    #[test]
    fn a_rotation_publishes_first_and_signs_only_after_the_delay() {
        let mut keys = initial();
        let overlap = 7 * 86_400;
        let new = key("new", SigningAlg::RS256, KeyStatus::Current, T0);
        rotate(&mut keys, new, overlap, false);
        // Published at once, but the old key keeps signing.
        assert_eq!(published(&keys, T0), vec!["ec", "new", "old"]);
        assert_eq!(signer(&keys), "old");
        let due = T0 + PROMOTION_DELAY_SECS;
        assert_eq!(signs_from(&keys[2]), Some(due));

        // The trigger before the delay has passed changes nothing.
        assert!(due_changes(&keys, due - 1).is_empty());
        trigger(&mut keys, due - 1);
        assert_eq!(signer(&keys), "old");

        // A late trigger (an hour later) promotes; the old key stays published for the
        // overlap counted from the moment it stopped signing.
        let ran = due + 3600;
        trigger(&mut keys, ran);
        assert_eq!(signer(&keys), "new");
        assert_eq!(signing_key(&keys, SigningAlg::ES256).unwrap().kid, "ec");
        assert_eq!(
            published(&keys, ran + overlap - 1),
            vec!["ec", "new", "old"]
        );
        assert_eq!(published(&keys, ran + overlap), vec!["ec", "new"]);
        // Promotion happens once.
        assert!(due_changes(&keys, ran + 60).is_empty());
        // After the overlap the retired key is deleted.
        assert_eq!(
            due_changes(&keys, ran + overlap),
            vec![KeyChange::Remove { kid: "old".into() }]
        );
        trigger(&mut keys, ran + overlap);
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn an_emergency_rotation_signs_at_once_and_drops_a_pending_key() {
        let mut keys = initial();
        let pending = key("pending", SigningAlg::RS256, KeyStatus::Current, T0);
        rotate(&mut keys, pending, 86_400, false);
        let urgent = key("urgent", SigningAlg::RS256, KeyStatus::Next, T0 + 60);
        rotate(&mut keys, urgent, 0, true);
        assert_eq!(signer(&keys), "urgent");
        // Overlap 0: the old key left the JWKS the moment it was replaced; the pending key,
        // which never signed, is gone and will not be promoted over the emergency key.
        assert_eq!(published(&keys, T0 + 60), vec!["ec", "urgent"]);
        assert!(due_changes(&keys, T0 + 60 + 10 * PROMOTION_DELAY_SECS)
            .iter()
            .all(|c| matches!(c, KeyChange::Remove { .. })));
    }

    #[test]
    fn a_second_rotation_replaces_the_pending_key_and_restarts_the_wait() {
        let mut keys = initial();
        let first = key("first", SigningAlg::RS256, KeyStatus::Next, T0);
        rotate(&mut keys, first, 86_400, false);
        let second = key("second", SigningAlg::RS256, KeyStatus::Next, T0 + 600);
        rotate(&mut keys, second, 86_400, false);
        assert_eq!(published(&keys, T0 + 600), vec!["ec", "old", "second"]);
        assert!(due_changes(&keys, T0 + PROMOTION_DELAY_SECS).is_empty());
        trigger(&mut keys, T0 + 600 + PROMOTION_DELAY_SECS);
        assert_eq!(signer(&keys), "second");
    }

    #[test]
    fn without_a_current_key_the_new_key_signs_at_once() {
        let mut keys = vec![key("ec", SigningAlg::ES256, KeyStatus::Current, T0)];
        let new = key("rsa", SigningAlg::RS256, KeyStatus::Next, T0);
        rotate(&mut keys, new, 86_400, false);
        assert_eq!(signer(&keys), "rsa");
    }

    #[test]
    fn promotion_counts_from_publication_not_from_the_trigger() {
        let mut keys = initial();
        keys.push(SigningKeyRecord {
            overlap_secs: Some(3600),
            ..key("next", SigningAlg::RS256, KeyStatus::Next, T0)
        });
        assert!(due_changes(&keys, T0 + JWKS_MAX_AGE_SECS).is_empty());
        assert!(due_changes(&keys, T0 + PROMOTION_DELAY_SECS - 1).is_empty());
        assert_eq!(
            due_changes(&keys, T0 + PROMOTION_DELAY_SECS),
            vec![KeyChange::Promote {
                kid: "next".into(),
                alg: SigningAlg::RS256,
                retire_until: T0 + PROMOTION_DELAY_SECS + 3600,
            }]
        );
    }
}
