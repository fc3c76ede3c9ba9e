//! The tenant snapshot cache: isolate memory first, then KV, then D1.
//!
//! Discovery, JWKS and token signing need the tenant and its keys on every request; reading them
//! from D1 each time would put a database round trip on the hot path. Snapshots are cached per
//! host in the isolate and in KV; the lifetimes and bounds are in `tenancy::cache`. Writes
//! through the operator or admin API invalidate both for the tenant's hosts AFTER the write has
//! committed; other isolates converge within the memory TTL plus KV's propagation delay, which
//! bounds how long a suspension takes to reach every location (documented in docs/deploy.md).

use std::cell::RefCell;

use super::backend::Cache;
use super::db::Db;
use super::tenants;
use crate::error::{Error, Result};
use crate::platform::clock;
use crate::tenancy::cache::{
    BoundedCache, KNOWN_HOSTS_CAPACITY, SNAPSHOT_KV_TTL_SECS, SNAPSHOT_MEMORY_TTL_MS,
    UNKNOWN_HOSTS_CAPACITY, UNKNOWN_HOST_TTL_MS,
};
use crate::tenancy::{HostKind, TenantSnapshot};

thread_local! {
    /// Hosts that serve a tenant.
    static KNOWN: RefCell<BoundedCache<String, TenantSnapshot>> =
        RefCell::new(BoundedCache::new(KNOWN_HOSTS_CAPACITY, SNAPSHOT_MEMORY_TTL_MS));
    /// Hosts that serve none, kept apart so random hosts cannot evict real tenants.
    static UNKNOWN: RefCell<BoundedCache<String, ()>> =
        RefCell::new(BoundedCache::new(UNKNOWN_HOSTS_CAPACITY, UNKNOWN_HOST_TTL_MS));
}

/// `v2`: snapshots gained the `next` key state; a v1 entry written by the previous version
/// during a deployment must not be read as current.
fn kv_key(host: &str) -> String {
    format!("tenant:v2:{host}")
}

fn now_ms() -> u64 {
    clock::now_ms() as u64
}

/// The snapshot for the tenant served at `host` (`kind` is its classification).
pub async fn snapshot_for(
    db: &Db,
    kv: &dyn Cache,
    host: &str,
    kind: &HostKind,
) -> Result<Option<TenantSnapshot>> {
    let key = host.to_string();
    let now = now_ms();
    if let Some(snapshot) = KNOWN.with(|c| c.borrow().get(&key, now)) {
        return Ok(Some(snapshot));
    }
    if UNKNOWN.with(|c| c.borrow().get(&key, now)).is_some() {
        return Ok(None);
    }

    // Taken before reading KV or D1: if an operator write invalidates this host while we
    // wait, what we read may predate it and must not be cached (here or in KV).
    let tickets = (
        KNOWN.with(|c| c.borrow().ticket()),
        UNKNOWN.with(|c| c.borrow().ticket()),
    );
    let still_valid = || {
        KNOWN.with(|c| c.borrow().ticket()) == tickets.0
            && UNKNOWN.with(|c| c.borrow().ticket()) == tickets.1
    };
    let from_kv = kv
        .get(&kv_key(host))
        .await
        .and_then(|text| serde_json::from_str::<TenantSnapshot>(&text).ok());
    let snapshot = match from_kv {
        Some(s) => Some(s),
        None => {
            let loaded = tenants::load_snapshot(db, kind).await?;
            if let (Some(s), true) = (&loaded, still_valid()) {
                // A failed cache write only costs a later D1 read; never fail the request on it.
                if let Ok(text) = serde_json::to_string(s) {
                    let _ = kv
                        .put(&kv_key(host), text, SNAPSHOT_KV_TTL_SECS as u64)
                        .await;
                }
            }
            loaded
        }
    };
    let now = now_ms();
    match &snapshot {
        Some(s) => KNOWN.with(|c| c.borrow_mut().insert(tickets.0, key, s.clone(), now)),
        None => UNKNOWN.with(|c| c.borrow_mut().insert(tickets.1, key, (), now)),
    };
    Ok(snapshot)
}

/// Forgets every cached snapshot of a tenant, by the hosts it is served on. Call it after the
/// write that made them stale has committed: invalidating first lets a request in between
/// cache the old state again, for the whole TTL.
pub async fn invalidate(kv: &dyn Cache, hosts: &[String]) -> Result<()> {
    // Memory is invalidated on both sides of the KV deletes. Before: a load that read the old
    // state from D1 and has not written KV yet skips its write. After: a load that read KV
    // while the deletes were under way (and may have got the old snapshot) is not cached.
    forget(hosts);
    for host in hosts {
        kv.delete(&kv_key(host))
            .await
            .map_err(|e| Error::Internal(format!("KV: {e}")))?;
    }
    forget(hosts);
    Ok(())
}

fn forget(hosts: &[String]) {
    KNOWN.with(|c| c.borrow_mut().invalidate(hosts));
    UNKNOWN.with(|c| c.borrow_mut().invalidate(hosts));
}
