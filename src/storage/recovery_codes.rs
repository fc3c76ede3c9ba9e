//! A person's recovery codes (`account::recovery_codes`): stored as salted hashes, replaced as a
//! set, and used at most once each. The use itself rides in the batch that starts the session
//! (`sessions::create` with a `RecoveryCodeUse`), so a code is only burned by a sign-in that
//! happened.

use super::db::{Db, Statement};
use crate::error::Result;
use crate::params;

/// How many of a person's codes are still unused, and when the set was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeSetStatus {
    pub unused: i64,
    /// `None` when the person never made a set.
    pub created_at: Option<i64>,
}

/// Replaces the person's codes with `hashes` (the old set stops working), with its audit entry,
/// in one batch. Nothing is written for an account that is gone or disabled.
pub async fn replace(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    hashes: &[String],
    now: i64,
    audit: Statement,
) -> Result<()> {
    let mut statements = vec![db.statement(
        "DELETE FROM recovery_codes WHERE tenant_id = ?1 AND user_id = ?2",
        params![tenant_id, user_id],
    )?];
    for hash in hashes {
        statements.push(db.statement(
            "INSERT INTO recovery_codes (code_hash, tenant_id, user_id, created_at) \
             SELECT ?1, ?2, ?3, ?4 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 AND tenant_id = ?2 AND disabled = 0)",
            params![hash.as_str(), tenant_id, user_id, now],
        )?);
    }
    statements.push(audit);
    db.batch(statements).await?;
    Ok(())
}

crate::from_row! {
    struct StatusRow {
        unused: i64,
        created_at: Option<i64>,
    }
}

pub async fn status(db: &Db, tenant_id: &str, user_id: &str) -> Result<CodeSetStatus> {
    let row: Option<StatusRow> = db
        .first(
            "SELECT COALESCE(SUM(used_at IS NULL), 0) AS unused, MAX(created_at) AS created_at \
             FROM recovery_codes WHERE tenant_id = ?1 AND user_id = ?2",
            params![tenant_id, user_id],
        )
        .await?;
    Ok(row
        .map(|r| CodeSetStatus {
            unused: r.unused,
            created_at: r.created_at,
        })
        .unwrap_or_default())
}

crate::from_row! {
    struct OwnerRow {
        user_id: String,
    }
}

/// The enabled person an unused code of the tenant belongs to.
pub async fn owner(db: &Db, tenant_id: &str, code_hash: &str) -> Result<Option<String>> {
    let row: Option<OwnerRow> = db
        .first(
            "SELECT rc.user_id FROM recovery_codes rc JOIN users u ON u.id = rc.user_id \
             WHERE rc.code_hash = ?1 AND rc.tenant_id = ?2 AND rc.used_at IS NULL \
             AND u.tenant_id = ?2 AND u.disabled = 0",
            params![code_hash, tenant_id],
        )
        .await?;
    Ok(row.map(|r| r.user_id))
}

/// A code about to be used to start the session `session_id_hash` (see `sessions::create`).
#[derive(Debug, Clone, Copy)]
pub struct RecoveryCodeUse<'a> {
    pub code_hash: &'a str,
}

/// Marks the code used by the session, only while it is unused and its account enabled; the
/// session's insert then requires the mark, so a second use of the code starts nothing.
pub(super) fn use_statement(
    db: &Db,
    tenant_id: &str,
    used: RecoveryCodeUse<'_>,
    user_id: &str,
    session_id_hash: &str,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "UPDATE recovery_codes SET used_at = ?4, used_by_session = ?5 \
         WHERE code_hash = ?1 AND tenant_id = ?2 AND user_id = ?3 AND used_at IS NULL \
         AND EXISTS (SELECT 1 FROM users WHERE id = ?3 AND tenant_id = ?2 AND disabled = 0)",
        params![used.code_hash, tenant_id, user_id, now, session_id_hash],
    )
}

/// The condition a session insert adds for a recovery-code sign-in (parameters: ?1 the
/// session's id hash, ?2 the tenant, ?3 the user, `?{code}` the code hash).
pub(super) fn used_by_session_condition(code: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM recovery_codes WHERE code_hash = ?{code} AND tenant_id = ?2 \
         AND user_id = ?3 AND used_by_session = ?1)"
    )
}
