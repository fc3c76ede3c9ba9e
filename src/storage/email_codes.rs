//! Email sign-in codes in D1 (`email_sign_in_codes`): written when a person asks for a code,
//! spent by the sign-in batch that checks it (`sessions::create` with a [`CodeAttempt`]).
//!
//! The check is one transaction on the primary: the attempt counts, the code is consumed only
//! if it is right, live and under the attempt limit, and the session is created only if this
//! attempt consumed it. No read before it, so a code costs one primary round trip to use.

use super::db::{Db, Statement};
use super::users::{UserRow, USER_COLUMNS};
use crate::error::Result;
use crate::params;

/// A code about to be stored.
#[derive(Debug, Clone)]
pub struct NewEmailCode<'a> {
    pub id: &'a str,
    /// `None` for an address no enabled account has: the row still counts attempts.
    pub user_id: Option<&'a str>,
    pub code_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The enabled user with this (normalised) email address, read on the primary (an account
/// created a moment ago must get its code too), with the number of codes asked for it since
/// `since`: one round trip.
pub async fn find_user_by_email(
    db: &Db,
    tenant_id: &str,
    email: &str,
    since: i64,
) -> Result<Option<(UserRow, i64)>> {
    let results = db
        .batch(vec![
            db.statement(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND email = ?2 AND disabled = 0"
                ),
                params![tenant_id, email],
            )?,
            db.statement(
                "SELECT COUNT(*) AS n FROM email_sign_in_codes WHERE tenant_id = ?1 AND created_at >= ?3 \
                 AND user_id = (SELECT id FROM users WHERE tenant_id = ?1 AND email = ?2)",
                params![tenant_id, email, since],
            )?,
        ])
        .await?;
    let user = super::db::first_row::<UserRow>(&results[0])?;
    let recent = super::db::count(&results[1])?;
    Ok(user.map(|u| (u, recent)))
}

/// Stores the code with its audit entry (one batch).
pub async fn create(
    db: &Db,
    tenant_id: &str,
    code: &NewEmailCode<'_>,
    audit: Statement,
) -> Result<()> {
    db.batch(vec![
        db.statement(
            "INSERT INTO email_sign_in_codes (id, tenant_id, user_id, code_hash, attempts, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
            params![
                code.id,
                tenant_id,
                code.user_id,
                code.code_hash,
                code.created_at,
                code.expires_at
            ],
        )?,
        audit,
    ])
    .await?;
    Ok(())
}

/// One try of a code, to be checked in the sign-in batch.
#[derive(Debug, Clone, Copy)]
pub struct CodeAttempt<'a> {
    pub id: &'a str,
    /// The hash of the code as typed (`usecase::email_code` hashes it with the id).
    pub code_hash: &'a str,
    pub now: i64,
    /// Tries allowed per code, right or wrong.
    pub max_attempts: i64,
}

/// The statements that spend an attempt, before the session's insert: the first consumes the
/// code for this session (`consumed_by` = the session's hash) if the code is right, live,
/// unused and under the limit; the second counts a wrong try. The session insert then
/// requires `consumed_by` to name it, so two concurrent right tries start one session.
pub(super) fn attempt_statements(
    db: &Db,
    tenant_id: &str,
    attempt: &CodeAttempt<'_>,
    user_id: &str,
    session_hash: &str,
) -> Result<Vec<Statement>> {
    let live =
        "id = ?1 AND tenant_id = ?2 AND consumed_by IS NULL AND expires_at > ?3 AND attempts < ?4";
    Ok(vec![
        db.statement(
            &format!(
                "UPDATE email_sign_in_codes SET attempts = attempts + 1, consumed_by = ?5 \
                 WHERE {live} AND code_hash = ?6 AND user_id = ?7"
            ),
            params![
                attempt.id,
                tenant_id,
                attempt.now,
                attempt.max_attempts,
                session_hash,
                attempt.code_hash,
                user_id
            ],
        )?,
        db.statement(
            &format!("UPDATE email_sign_in_codes SET attempts = attempts + 1 WHERE {live}"),
            params![attempt.id, tenant_id, attempt.now, attempt.max_attempts],
        )?,
    ])
}

/// The condition the session's insert adds: this attempt consumed the code (`?9` is the code's
/// id, `?1` the session's hash, `?2` the tenant and `?3` the user, as in the insert).
pub(super) const CONSUMED_FOR_THIS_SESSION: &str = "EXISTS (SELECT 1 FROM email_sign_in_codes \
     WHERE id = ?9 AND tenant_id = ?2 AND user_id = ?3 AND consumed_by = ?1)";

/// Why a code did not sign anyone in, read after the attempt (the refusal's message and audit
/// entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    /// No such code (never asked for, or cleaned up after it expired).
    Missing,
    Used,
    Expired,
    TooManyAttempts,
    /// Still live: the try was wrong.
    Live,
}

impl CodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Missing => "unknown_code",
            CodeState::Used => "code_used",
            CodeState::Expired => "code_expired",
            CodeState::TooManyAttempts => "too_many_attempts",
            CodeState::Live => "wrong_code",
        }
    }
}

/// The state of code `id` at `now`, given `max_attempts`, and the account it is for (none for
/// an address without one).
pub async fn state(
    db: &Db,
    tenant_id: &str,
    id: &str,
    now: i64,
    max_attempts: i64,
) -> Result<(CodeState, Option<String>)> {
    crate::from_row! {
        struct Row {
            user_id: Option<String>,
            attempts: i64,
            consumed_by: Option<String>,
            expires_at: i64,
        }
    }
    let row: Option<Row> = db
        .first(
            "SELECT user_id, attempts, consumed_by, expires_at FROM email_sign_in_codes \
             WHERE id = ?1 AND tenant_id = ?2",
            params![id, tenant_id],
        )
        .await?;
    let user_id = row.as_ref().and_then(|r| r.user_id.clone());
    let state = match row {
        None => CodeState::Missing,
        Some(r) if r.consumed_by.is_some() => CodeState::Used,
        Some(r) if r.expires_at <= now => CodeState::Expired,
        Some(r) if r.attempts >= max_attempts => CodeState::TooManyAttempts,
        Some(_) => CodeState::Live,
    };
    Ok((state, user_id))
}
