//! The tenant snapshot cache: isolate memory first, then KV, then D1.
//!
//! Discovery, JWKS and token signing need the tenant and its keys on every request; reading them
//! from D1 each time would put a database round trip on the hot path. Snapshots are cached per
//! host in the isolate (for `MEMORY_TTL_MS`) and in KV (for `KV_TTL_SECS`). Writes through the
//! operator or admin API invalidate both for the tenant's hosts; other isolates converge within
//! the memory TTL plus KV's propagation delay, which bounds how long a suspension takes to reach
//! every location (documented in docs/deploy.md).

use std::cell::RefCell;
use std::collections::HashMap;

use worker::kv::KvStore;

use super::db::Db;
use super::tenants;
use crate::error::{Error, Result};
use crate::platform::clock;
use crate::tenancy::{HostKind, TenantSnapshot};

const MEMORY_TTL_MS: f64 = 30_000.0;
/// Unknown hosts are remembered briefly so random subdomains cannot each cost a D1 query.
const NEGATIVE_TTL_MS: f64 = 5_000.0;
const KV_TTL_SECS: u64 = 300;

struct Entry {
    snapshot: Option<TenantSnapshot>,
    fetched_at_ms: f64,
}

thread_local! {
    static MEMORY: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
}

fn kv_key(host: &str) -> String {
    format!("tenant:v1:{host}")
}

/// The snapshot for the tenant served at `host` (`kind` is its classification).
pub async fn snapshot_for(
    db: &Db,
    kv: &KvStore,
    host: &str,
    kind: &HostKind,
) -> Result<Option<TenantSnapshot>> {
    let now = clock::now_ms();
    let cached = MEMORY.with(|m| {
        m.borrow().get(host).and_then(|e| {
            let ttl = if e.snapshot.is_some() {
                MEMORY_TTL_MS
            } else {
                NEGATIVE_TTL_MS
            };
            (now - e.fetched_at_ms < ttl).then(|| e.snapshot.clone())
        })
    });
    if let Some(snapshot) = cached {
        return Ok(snapshot);
    }

    let from_kv = kv
        .get(&kv_key(host))
        .json::<TenantSnapshot>()
        .await
        .ok()
        .flatten();
    let snapshot = match from_kv {
        Some(s) => Some(s),
        None => {
            let loaded = tenants::load_snapshot(db, kind).await?;
            if let Some(s) = &loaded {
                // A failed cache write only costs a later D1 read; never fail the request on it.
                if let Ok(put) = kv.put(&kv_key(host), s) {
                    let _ = put.expiration_ttl(KV_TTL_SECS).execute().await;
                }
            }
            loaded
        }
    };
    MEMORY.with(|m| {
        m.borrow_mut().insert(
            host.to_string(),
            Entry {
                snapshot: snapshot.clone(),
                fetched_at_ms: now,
            },
        )
    });
    Ok(snapshot)
}

/// Forgets every cached snapshot of a tenant, by the hosts it is served on.
pub async fn invalidate(kv: &KvStore, hosts: &[String]) -> Result<()> {
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        for host in hosts {
            m.remove(host);
        }
    });
    for host in hosts {
        kv.delete(&kv_key(host))
            .await
            .map_err(|e| Error::Internal(format!("KV: {e}")))?;
    }
    Ok(())
}
