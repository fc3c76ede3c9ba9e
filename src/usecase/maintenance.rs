//! The scheduled work (cron triggers): the hourly cleanup of expired state, and the hourly key
//! promotion (`tenancy::keys::PROMOTION_CRON`), in which `next` keys that have been published
//! long enough start signing and retired keys past their publication leave the key set.

use crate::error::{Error, Result};
use crate::storage::backend::Cache;
use crate::storage::db::Db;
use crate::storage::{retention, tenant_cache, tenants};
use crate::tenancy::keys::{self, KeyChange};

/// Tenants whose keys one promotion run changes at most: each costs up to two D1 queries and
/// an invocation may make 50 on the free plan. The rest wait for the next run.
pub const MAX_TENANTS_PER_RUN: usize = 20;

/// Deletes expired one-time state, sessions, parked requests, codes, tokens, grants, and audit
/// entries past each tenant's retention.
pub async fn clean_up(db: &Db, now: i64) -> Result<()> {
    retention::clean_up(db, now).await
}

/// What a promotion run did.
#[derive(Debug, Default)]
pub struct PromotionReport {
    /// Tenants whose keys changed.
    pub changed: Vec<String>,
    /// Tenants whose change failed (the others went ahead), with the cause, for the log.
    pub failed: Vec<(String, Error)>,
}

/// Applies the key changes due at `now`, for at most [`MAX_TENANTS_PER_RUN`] tenants.
pub async fn promote_keys(
    db: &Db,
    cache: &dyn Cache,
    base_domain: &str,
    now: i64,
) -> Result<PromotionReport> {
    let mut report = PromotionReport::default();
    for tenant in tenants::key_work(db, now).await? {
        let changes = keys::due_changes(&tenant.keys, now);
        if changes.is_empty() {
            continue;
        }
        if report.changed.len() + report.failed.len() == MAX_TENANTS_PER_RUN {
            break;
        }
        // One tenant's failure must not hold back the others.
        match apply(db, cache, base_domain, &tenant, &changes).await {
            Ok(()) => report.changed.push(tenant.tenant_id),
            Err(e) => report.failed.push((tenant.tenant_id, e)),
        }
    }
    Ok(report)
}

async fn apply(
    db: &Db,
    cache: &dyn Cache,
    base_domain: &str,
    tenant: &tenants::KeyWork,
    changes: &[KeyChange],
) -> Result<()> {
    tenants::apply_key_changes(db, &tenant.tenant_id, changes).await?;
    // Which key signs changed: forget the cached snapshots (after the commit). Deleting a
    // retired key changes nothing served: the JWKS already left it out by its expiry.
    if changes
        .iter()
        .any(|c| matches!(c, KeyChange::Promote { .. }))
    {
        let mut hosts = vec![format!("{}.{base_domain}", tenant.slug)];
        hosts.extend(tenants::domains(db, &tenant.tenant_id).await?);
        tenant_cache::invalidate(cache, &hosts).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jwk::SigningAlg;
    use crate::storage::backend::memory_cache::MemoryCache;
    use crate::tenancy::keys::PROMOTION_DELAY_SECS;
    use crate::tenancy::operator::Rotation;
    use crate::tenancy::{HostKind, KeyStatus};
    use crate::testing::{db, run, TestKeyMaker, NOW};
    use crate::usecase::tenants::{self as tenant_admin, OperatorCtx};

    /// `n` tenants, each with a `next` ES256 key waiting to sign.
    async fn tenants_with_waiting_keys(db: &Db, cache: &MemoryCache, n: usize) {
        let ctx = OperatorCtx {
            db,
            cache,
            base_domain: "id.test",
            now: NOW,
        };
        let maker = TestKeyMaker::default();
        let rotation = Rotation {
            algs: vec![SigningAlg::ES256],
            overlap_secs: 3600,
            immediate: false,
        };
        for i in 0..n {
            let slug = format!("tenant-{i}");
            tenant_admin::create(&ctx, &maker, &slug, "T")
                .await
                .unwrap();
            tenant_admin::rotate(&ctx, &maker, &slug, &rotation)
                .await
                .unwrap();
        }
    }

    #[test]
    fn waiting_keys_start_signing_when_due_and_the_tenant_is_served_fresh() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            tenants_with_waiting_keys(&db, &cache, 1).await;
            let kind = HostKind::TenantSlug("tenant-0".into());
            tenant_cache::snapshot_for(&db, &cache, "tenant-0.id.test", &kind)
                .await
                .unwrap();
            let early = promote_keys(&db, &cache, "id.test", NOW + 1).await.unwrap();
            assert!(early.changed.is_empty(), "nothing is due yet");
            assert_eq!(cache.len(), 1);
            let due = NOW + PROMOTION_DELAY_SECS + 1;
            let report = promote_keys(&db, &cache, "id.test", due).await.unwrap();
            assert_eq!(report.changed.len(), 1);
            assert!(report.failed.is_empty());
            assert!(
                cache.is_empty(),
                "the promoted tenant's snapshot is forgotten"
            );
            let snapshot = tenants::load_snapshot(&db, &kind).await.unwrap().unwrap();
            let es256: Vec<KeyStatus> = snapshot
                .keys
                .iter()
                .filter(|k| k.alg == SigningAlg::ES256)
                .map(|k| k.status)
                .collect();
            assert!(es256.contains(&KeyStatus::Current) && es256.contains(&KeyStatus::Retired));
            assert!(!es256.contains(&KeyStatus::Next));
        });
    }

    #[test]
    fn one_run_changes_at_most_its_share_of_tenants_and_the_next_run_takes_the_rest() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            tenants_with_waiting_keys(&db, &cache, MAX_TENANTS_PER_RUN + 1).await;
            let due = NOW + PROMOTION_DELAY_SECS + 1;
            let first = promote_keys(&db, &cache, "id.test", due).await.unwrap();
            assert_eq!(first.changed.len(), MAX_TENANTS_PER_RUN);
            let second = promote_keys(&db, &cache, "id.test", due).await.unwrap();
            assert_eq!(second.changed.len(), 1);
            assert!(!first.changed.contains(&second.changed[0]));
            clean_up(&db, due).await.unwrap();
        });
    }
}
