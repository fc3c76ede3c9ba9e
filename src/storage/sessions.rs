//! Browser sessions, stored server-side so they can be listed and revoked. The cookie holds a
//! random 256-bit id; D1 holds only its hash.

use serde::Deserialize;

use super::db::{rows, Db, Statement};
use super::users::{UserRow, USER_COLUMNS};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

// Mirrors the table's columns; some are read only by the OIDC claims (issue 4).
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    pub id_hash: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub user: UserRow,
}

#[derive(Deserialize)]
struct Row {
    id_hash: String,
    auth_time: i64,
    expires_at: i64,
}

#[allow(clippy::too_many_arguments)]
pub fn insert_statement(
    db: &Db,
    tenant_id: &str,
    session_id: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO sessions (id_hash, tenant_id, user_id, auth_time, created_at, expires_at, last_seen_at, ip, user_agent) \
         SELECT ?1, ?2, ?3, ?4, ?4, ?5, ?4, ?6, ?7 \
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 AND tenant_id = ?2 AND disabled = 0)",
        params![secret_hash(session_id), tenant_id, user_id, now, expires_at, ip, user_agent],
    )
}

/// The two statements that read a live session and its (enabled) user; they join other
/// statements in one batch (see [`from_results`]).
pub fn find_statements(
    db: &Db,
    tenant_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Vec<Statement>> {
    let live = "FROM sessions WHERE id_hash = ?1 AND tenant_id = ?2 AND expires_at > ?3";
    Ok(vec![
        db.statement(
            &format!("SELECT id_hash, auth_time, expires_at {live}"),
            params![secret_hash(session_id), tenant_id, now],
        )?,
        db.statement(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?2 AND disabled = 0 \
                 AND id = (SELECT user_id {live})"
            ),
            params![secret_hash(session_id), tenant_id, now],
        )?,
    ])
}

/// Reads the results of [`find_statements`].
pub fn from_results(results: &[super::db::QueryResult]) -> Result<Option<SessionWithUser>> {
    let session = rows::<Row>(&results[0])?.into_iter().next();
    let user = rows::<UserRow>(&results[1])?.into_iter().next();
    Ok(match (session, user) {
        (Some(s), Some(user)) => Some(SessionWithUser {
            id_hash: s.id_hash,
            auth_time: s.auth_time,
            expires_at: s.expires_at,
            user,
        }),
        _ => None,
    })
}

/// The live session a cookie value names, with its (enabled) user, in one round trip.
pub async fn find(
    db: &Db,
    tenant_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<SessionWithUser>> {
    let results = db
        .batch(find_statements(db, tenant_id, session_id, now)?)
        .await?;
    from_results(&results)
}

pub fn delete_statement(db: &Db, tenant_id: &str, id_hash: &str) -> Result<Statement> {
    db.statement(
        "DELETE FROM sessions WHERE id_hash = ?1 AND tenant_id = ?2",
        params![id_hash, tenant_id],
    )
}

pub async fn delete(db: &Db, tenant_id: &str, id_hash: &str) -> Result<()> {
    db.batch(vec![delete_statement(db, tenant_id, id_hash)?])
        .await?;
    Ok(())
}
