//! The scheduled cleanup (cron trigger): expired one-time state, sessions, parked
//! authorization requests, codes, tokens and grants, and audit entries past each tenant's
//! retention. The SQL is `storage::retention::CLEANUP`, tested natively against the schema.

use crate::error::Result;
use crate::http::app::App;
use crate::platform::clock;
use crate::storage::retention::CLEANUP;

pub async fn run(app: &App) -> Result<()> {
    let db = app.db()?;
    let now = clock::now();
    let statements = CLEANUP
        .iter()
        .map(|sql| db.statement(sql, crate::params![now]))
        .collect::<Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}
