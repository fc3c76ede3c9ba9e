//! The scheduled work (cron triggers, `[triggers] crons` in wrangler.toml):
//!
//! the hourly cleanup with the "API key expires soon" notices, and the hourly key promotion
//! (`crate::usecase::maintenance`). The key promotion has its own trigger so neither job waits
//! for or fails with the other; the notices go even when the cleanup failed, and vice versa.

use crate::error::Result;
use crate::http::app::App;
use crate::platform::clock;
use crate::tenancy::keys;
use crate::usecase::maintenance;

/// Runs the job of the trigger `cron`, which fired for `scheduled_ms` (unix milliseconds).
pub async fn run(app: &App, cron: &str, scheduled_ms: f64) -> Result<()> {
    let db = app.db()?;
    if cron == keys::PROMOTION_CRON {
        // The trigger's own time, not the clock: it is the moment the platform runs this for,
        // and lets a local test ask "what happens at time T" through wrangler dev's
        // /cdn-cgi/local/scheduled?cron=...&time=T.
        let now = (scheduled_ms / 1000.0) as i64;
        let report = maintenance::promote_keys(db, &app.kv()?, &app.base_domain, now).await?;
        for (tenant, e) in report.failed {
            worker::console_error!("key promotion for tenant {tenant} failed: {e}");
        }
        Ok(())
    } else {
        let cleaned = maintenance::clean_up(db, clock::now()).await;
        if let Err(e) = &cleaned {
            worker::console_error!("cleanup failed: {e}");
        }
        // The trigger's time too, for the same reason as above.
        let now = (scheduled_ms / 1000.0) as i64;
        let report =
            maintenance::send_key_expiry_notices(db, &app.post()?, &app.base_domain, now).await?;
        for (key, e) in report.failed {
            worker::console_error!("expiry notice for API key {key} failed: {e}");
        }
        cleaned
    }
}
