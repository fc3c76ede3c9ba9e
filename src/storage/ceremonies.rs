//! Single-use WebAuthn challenges and one-time links.
//!
//! Both are consumed with one atomic statement (`DELETE ... RETURNING` / `UPDATE ... WHERE
//! used_at IS NULL RETURNING`) on D1's single primary, so a challenge or link works exactly once
//! even under concurrent use. KV would be wrong here: it is eventually consistent.

use serde::Deserialize;

use super::db::{Db, Statement};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

#[derive(Debug, Clone, Deserialize)]
pub struct ChallengeRow {
    pub purpose: String,
    pub challenge: String,
    pub user_id: Option<String>,
    pub context: String,
}

/// Stores a challenge; the row id is the hash of the challenge itself (the browser echoes the
/// challenge in clientDataJSON, so no extra handle is needed to find it).
pub async fn put_challenge(
    db: &Db,
    tenant_id: &str,
    purpose: &str,
    challenge_b64: &str,
    user_id: Option<&str>,
    context: &str,
    expires_at: i64,
) -> Result<()> {
    db.run(
        "INSERT INTO webauthn_challenges (id, tenant_id, purpose, challenge, user_id, context, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![secret_hash(challenge_b64), tenant_id, purpose, challenge_b64, user_id, context, expires_at],
    )
    .await?;
    Ok(())
}

/// Consumes a challenge (whatever the outcome of the verification that follows).
pub fn take_challenge_statement(
    db: &Db,
    tenant_id: &str,
    challenge_b64: &str,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "DELETE FROM webauthn_challenges WHERE id = ?1 AND tenant_id = ?2 AND expires_at > ?3 \
         RETURNING purpose, challenge, user_id, context",
        params![secret_hash(challenge_b64), tenant_id, now],
    )
}

// Mirrors the table's columns; some are read only by the OIDC claims (issue 4).
#[allow(dead_code)]
#[derive(Debug, Clone, Deserialize)]
pub struct OneTimeTokenRow {
    pub purpose: String,
    pub user_id: Option<String>,
    pub details: String,
    pub expires_at: i64,
}

/// A one-time token that is still valid, without consuming it (to render the page).
pub async fn peek_token(
    db: &Db,
    tenant_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<OneTimeTokenRow>> {
    db.first(
        "SELECT purpose, user_id, details, expires_at FROM one_time_tokens \
         WHERE token_hash = ?1 AND tenant_id = ?2 AND used_at IS NULL AND expires_at > ?3",
        params![secret_hash(token), tenant_id, now],
    )
    .await
}
