//! Invitations (Pocket ID's signup tokens): links that create up to `max_uses` accounts before
//! they expire, optionally for a given email (prefilled) and putting each new account in
//! groups. They are `one_time_tokens` rows of purpose `invite`; a sign-up spends one use in
//! its own batch (`users::sign_up`), so concurrent sign-ups never exceed the uses.

use serde::Deserialize;

use super::db::{Db, Statement};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

/// What an invitation carries besides its limits (the row's `details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct InvitationDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<String>,
}

/// An invitation about to be created.
pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub created_by: &'a str,
    pub expires_at: i64,
    pub max_uses: i64,
    pub details: &'a InvitationDetails,
}

/// Creates the invitation with its audit entry (one batch) and returns its secret token (only
/// the hash is stored).
pub async fn create(
    db: &Db,
    tenant_id: &str,
    n: &NewInvitation<'_>,
    now: i64,
    audit: Statement,
) -> Result<String> {
    let token = crate::crypto::random::token();
    let details = serde_json::to_string(n.details).expect("details serialize");
    db.run_recorded(
        "INSERT INTO one_time_tokens (token_hash, tenant_id, purpose, details, created_by, created_at, \
         expires_at, id, max_uses) VALUES (?1, ?2, 'invite', ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            secret_hash(&token),
            tenant_id,
            details,
            n.created_by,
            now,
            n.expires_at,
            n.id,
            n.max_uses
        ],
        audit,
    )
    .await?;
    Ok(token)
}

crate::from_row! {
    /// A listed invitation.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct InvitationRow {
        pub id: String,
        pub created_by: Option<String>,
        pub created_at: i64,
        pub expires_at: i64,
        pub max_uses: i64,
        pub uses: i64,
        pub details: String,
    }
}

/// The tenant's invitations (those made since invitations have ids), newest first.
pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<InvitationRow>> {
    db.all(
        "SELECT id, created_by, created_at, expires_at, max_uses, uses, details FROM one_time_tokens \
         WHERE tenant_id = ?1 AND purpose = 'invite' AND id IS NOT NULL ORDER BY created_at DESC, id",
        params![tenant_id],
    )
    .await
}

/// Deletes an invitation (its link stops working at once), with its audit entry; false when
/// the tenant has no such invitation.
pub async fn revoke(db: &Db, tenant_id: &str, id: &str, audit: Statement) -> Result<bool> {
    let changed = db
        .run_recorded(
            "DELETE FROM one_time_tokens WHERE id = ?1 AND tenant_id = ?2 AND purpose = 'invite'",
            params![id, tenant_id],
            audit,
        )
        .await?;
    Ok(changed == 1)
}

/// The details of the live sign-up link `token` (for the setup page's prefill).
pub async fn details_of(
    db: &Db,
    tenant_id: &str,
    token: &str,
    now: i64,
) -> Result<InvitationDetails> {
    crate::from_row! {
        struct Row {
            details: String,
        }
    }
    let row: Option<Row> = db
        .first(
            "SELECT details FROM one_time_tokens WHERE token_hash = ?1 AND tenant_id = ?2 \
             AND used_at IS NULL AND expires_at > ?3",
            params![secret_hash(token), tenant_id, now],
        )
        .await?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.details).ok())
        .unwrap_or_default())
}

/// The statement of a sign-up batch that puts the account just inserted (`?1`) in the groups
/// its invitation (`?3`, a token hash, or NULL for open sign-up) names; groups deleted since
/// are skipped.
pub(super) fn join_groups_statement(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    link_hash: Option<&str>,
) -> Result<Statement> {
    db.statement(
        "INSERT OR IGNORE INTO user_group_members (group_id, user_id) \
         SELECT g.id, ?1 FROM user_groups g WHERE g.tenant_id = ?2 AND g.id IN ( \
           SELECT j.value FROM one_time_tokens t, json_each(t.details, '$.group_ids') j \
           WHERE t.token_hash = ?3 AND t.tenant_id = ?2) \
         AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND tenant_id = ?2)",
        params![user_id, tenant_id, link_hash],
    )
}
