//! The scheduled cleanup (cron trigger): expired one-time state, sessions, parked
//! authorization requests, codes, tokens and grants, and audit entries past each tenant's
//! retention.

use crate::error::Result;
use crate::http::app::App;
use crate::platform::clock;

pub async fn run(app: &App) -> Result<()> {
    let db = app.db()?;
    let now = clock::now();
    let statements = vec![
        db.statement(
            "DELETE FROM webauthn_challenges WHERE expires_at < ?1",
            crate::params![now],
        )?,
        db.statement(
            "DELETE FROM one_time_tokens WHERE expires_at < ?1",
            crate::params![now],
        )?,
        db.statement(
            "DELETE FROM sessions WHERE expires_at < ?1",
            crate::params![now],
        )?,
        db.statement(
            "DELETE FROM authorization_codes WHERE expires_at < ?1",
            crate::params![now - 3600],
        )?,
        db.statement(
            "DELETE FROM access_tokens WHERE expires_at < ?1",
            crate::params![now],
        )?,
        db.statement(
            "DELETE FROM refresh_tokens WHERE expires_at < ?1",
            crate::params![now],
        )?,
        db.statement(
            "DELETE FROM grants WHERE expires_at < ?1",
            crate::params![now],
        )?,
        db.statement(
            "DELETE FROM interactions WHERE expires_at < ?1",
            crate::params![now],
        )?,
        crate::storage::audit::expire_statement(db, now)?,
    ];
    db.batch(statements).await?;
    Ok(())
}
