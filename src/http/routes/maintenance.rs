//! The scheduled work (cron triggers, `[triggers] crons` in wrangler.toml):
//!
//! - the hourly cleanup: expired one-time state, sessions, parked authorization requests,
//!   codes, tokens and grants, and audit entries past each tenant's retention. The SQL is
//!   `storage::retention::CLEANUP`, tested natively against the schema.
//! - the hourly key promotion (`tenancy::keys::PROMOTION_CRON`): `next` keys that have been
//!   published long enough start signing, retired keys past their publication are deleted.
//!   It has its own trigger so neither job waits for or fails with the other.

use crate::error::Result;
use crate::http::app::App;
use crate::platform::clock;
use crate::storage::retention::CLEANUP;
use crate::storage::{tenant_cache, tenants};
use crate::tenancy::keys::{self, KeyChange};

/// Tenants whose keys one promotion run changes at most: each costs up to two D1 queries and
/// an invocation may make 50 on the free plan. The rest wait for the next run.
const MAX_TENANTS_PER_RUN: usize = 20;

/// Runs the job of the trigger `cron`, which fired for `scheduled_ms` (unix milliseconds).
pub async fn run(app: &App, cron: &str, scheduled_ms: f64) -> Result<()> {
    if cron == keys::PROMOTION_CRON {
        // The trigger's own time, not the clock: it is the moment the platform runs this for,
        // and lets a local test ask "what happens at time T" through wrangler dev's
        // /cdn-cgi/local/scheduled?cron=...&time=T.
        promote_keys(app, (scheduled_ms / 1000.0) as i64).await
    } else {
        cleanup(app).await
    }
}

async fn cleanup(app: &App) -> Result<()> {
    let db = app.db()?;
    let now = clock::now();
    let statements = CLEANUP
        .iter()
        .map(|sql| db.statement(sql, crate::params![now]))
        .collect::<Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

async fn promote_keys(app: &App, now: i64) -> Result<()> {
    let db = app.db()?;
    let work = tenants::key_work(db, now).await?;
    let mut changed = 0;
    for tenant in work {
        let changes = keys::due_changes(&tenant.keys, now);
        if changes.is_empty() {
            continue;
        }
        if changed == MAX_TENANTS_PER_RUN {
            break;
        }
        changed += 1;
        // One tenant's failure must not hold back the others.
        if let Err(e) = apply(app, &tenant, &changes).await {
            worker::console_error!("key promotion for tenant {} failed: {e}", tenant.tenant_id);
        }
    }
    Ok(())
}

async fn apply(app: &App, tenant: &tenants::KeyWork, changes: &[KeyChange]) -> Result<()> {
    let db = app.db()?;
    tenants::apply_key_changes(db, &tenant.tenant_id, changes).await?;
    // Which key signs changed: forget the cached snapshots (after the commit). Deleting a
    // retired key changes nothing served: the JWKS already left it out by its expiry.
    if changes
        .iter()
        .any(|c| matches!(c, KeyChange::Promote { .. }))
    {
        let mut hosts = vec![format!("{}.{}", tenant.slug, app.base_domain)];
        hosts.extend(tenants::domains(db, &tenant.tenant_id).await?);
        tenant_cache::invalidate(&app.kv()?, &hosts).await?;
    }
    Ok(())
}
