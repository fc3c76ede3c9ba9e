//! One-time links: first-admin setup, invitations, admin-issued sign-in links.
//!
//! A link is consumed with one atomic statement (`UPDATE ... WHERE used_at IS NULL
//! RETURNING`) on D1's single primary, so it works exactly once even under concurrent use. KV
//! would be wrong here: it is eventually consistent. (Passkey challenges are sealed into the
//! browser instead: `crate::usecase::ceremony`.)

use super::db::{Db, Statement};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

crate::from_row! {
    #[derive(Debug, Clone)]
    pub struct OneTimeTokenRow {
        pub purpose: String,
        pub user_id: Option<String>,
        pub details: String,
        pub expires_at: i64,
    }
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

/// What a one-time link does (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Creates the tenant's first (admin) account.
    FirstAdmin,
    /// Creates an ordinary account (an admin's invitation).
    Invite,
    /// Signs an existing user in once (recovery when passkeys are lost).
    Login,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::FirstAdmin => "first_admin",
            LinkPurpose::Invite => "invite",
            LinkPurpose::Login => "login",
        }
    }
}

/// A one-time link about to be created.
pub struct NewLink<'a> {
    pub purpose: LinkPurpose,
    /// The user a login link signs in (`None` for invitations).
    pub user_id: Option<&'a str>,
    pub created_by: &'a str,
    pub expires_at: i64,
}

/// Creates a one-time link and returns its secret token (only the hash is stored); `audit`
/// joins the same batch.
pub async fn create_link(
    db: &Db,
    tenant_id: &str,
    link: &NewLink<'_>,
    now: i64,
    audit: Statement,
) -> Result<String> {
    let token = crate::crypto::random::token();
    let NewLink {
        purpose,
        user_id,
        created_by,
        expires_at,
    } = *link;
    db.run_recorded(
        "INSERT INTO one_time_tokens (token_hash, tenant_id, purpose, user_id, created_by, created_at, expires_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 \
         WHERE ?4 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?4 AND tenant_id = ?2)",
        params![secret_hash(&token), tenant_id, purpose.as_str(), user_id, created_by, now, expires_at],
        audit,
    )
    .await?;
    Ok(token)
}

/// Consumes a one-time login link; returns the user it signs in (enabled users only).
pub async fn consume_login_link(
    db: &Db,
    tenant_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<String>> {
    crate::from_row! {
        struct Row {
            user_id: String,
        }
    }
    let row: Option<Row> = db
        .first(
            "UPDATE one_time_tokens SET used_at = ?3 WHERE token_hash = ?1 AND tenant_id = ?2 \
             AND purpose = 'login' AND used_at IS NULL AND expires_at > ?3 \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = one_time_tokens.user_id AND u.disabled = 0) \
             RETURNING user_id",
            params![secret_hash(token), tenant_id, now],
        )
        .await?;
    Ok(row.map(|r| r.user_id))
}
