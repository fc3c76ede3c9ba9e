//! Registered passkeys (WebAuthn credentials) in D1. Keyed by (tenant, credential id): the same
//! authenticator credential can never be looked up under another tenant.

use super::db::{Db, Statement};
use crate::error::Result;
use crate::params;

crate::from_row! {
    /// A stored passkey (booleans read from SQLite's 0/1).
    #[derive(Debug, Clone)]
    pub struct PasskeyRow {
        pub credential_id: String,
        pub user_id: String,
        pub name: String,
        pub public_key: String,
        pub sign_count: i64,
        pub backup_eligible: bool,
        pub backup_state: bool,
        pub created_at: i64,
        pub last_used_at: Option<i64>,
    }
}

const COLUMNS: &str = "credential_id, user_id, name, public_key, sign_count, backup_eligible, \
    backup_state, created_at, last_used_at";

pub async fn list_for_user(db: &Db, tenant_id: &str, user_id: &str) -> Result<Vec<PasskeyRow>> {
    db.all(
        &format!(
            "SELECT {COLUMNS} FROM passkeys WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY created_at"
        ),
        params![tenant_id, user_id],
    )
    .await
}

/// The tenant's passkey with this credential id.
pub async fn find(db: &Db, tenant_id: &str, credential_id: &str) -> Result<Option<PasskeyRow>> {
    db.first(
        &format!("SELECT {COLUMNS} FROM passkeys WHERE tenant_id = ?1 AND credential_id = ?2"),
        params![tenant_id, credential_id],
    )
    .await
}

/// What a verified registration stores.
pub struct NewPasskey<'a> {
    pub credential_id: &'a str,
    pub name: &'a str,
    pub public_key: &'a str,
    pub algorithm: i64,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub transports: &'a str,
    pub aaguid: &'a str,
}

/// Inserts a passkey only if the user exists in this tenant (so it can ride in a batch right
/// after the user's own conditional insert).
pub fn insert_statement(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    p: &NewPasskey<'_>,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO passkeys (credential_id, tenant_id, user_id, name, public_key, algorithm, \
         sign_count, backup_eligible, backup_state, transports, aaguid, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 \
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?3 AND tenant_id = ?2)",
        params![
            p.credential_id,
            tenant_id,
            user_id,
            p.name,
            p.public_key,
            p.algorithm,
            p.sign_count,
            p.backup_eligible,
            p.backup_state,
            p.transports,
            p.aaguid,
            now
        ],
    )
}

/// Adds a passkey to an existing account of the tenant, with `audit` (written only if the
/// passkey was: `audit::When::PreviousChanged`) in the same transaction. A credential already
/// registered in the tenant is a UNIQUE violation.
pub async fn add(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    passkey: &NewPasskey<'_>,
    now: i64,
    audit: Statement,
    challenge: super::spent::Spend<'_>,
) -> Result<()> {
    db.batch(vec![
        // First, so a replay fails as one before the passkey's own uniqueness.
        super::spent::statement(db, tenant_id, challenge)?,
        insert_statement(db, tenant_id, user_id, passkey, now)?,
        audit,
    ])
    .await?;
    Ok(())
}

/// Records a use of the passkey (counter, backup state, last use), only if the sign-in it was
/// used for created the session with `session_id_hash` earlier in the same batch: a refused
/// sign-in (a disabled account) changes nothing.
pub(super) fn touch_statement(
    db: &Db,
    tenant_id: &str,
    used: &super::sessions::PasskeyUse<'_>,
    now: i64,
    session_id_hash: &str,
) -> Result<Statement> {
    db.statement(
        "UPDATE passkeys SET sign_count = ?3, backup_state = ?4, last_used_at = ?5 \
         WHERE tenant_id = ?1 AND credential_id = ?2 \
         AND EXISTS (SELECT 1 FROM sessions WHERE id_hash = ?6)",
        params![
            tenant_id,
            used.credential_id,
            used.sign_count,
            used.backed_up,
            now,
            session_id_hash
        ],
    )
}

/// Why the primary refused a passkey sign-in the use case had verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    AccountDisabled,
    /// Deleted, or replaced, since it was read.
    PasskeyGone,
    /// The counter did not grow: the credential may have been cloned.
    CounterRegression,
    /// Nothing refuses it now: something changed back since (a user re-enabled meanwhile).
    Changed,
}

/// Reads, on the primary, why [`super::sessions::create`] refused the sign-in of `user_id`
/// with this passkey use (only on that rare path: the sign-in batch itself does not say).
pub async fn refusal(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    used: &super::sessions::PasskeyUse<'_>,
) -> Result<Refusal> {
    crate::from_row! {
        struct Row {
            enabled: Option<i64>,
            sign_count: Option<i64>,
        }
    }
    let row: Option<Row> = db
        .first(
            "SELECT (SELECT disabled = 0 FROM users WHERE id = ?2 AND tenant_id = ?1) AS enabled, \
             (SELECT sign_count FROM passkeys WHERE tenant_id = ?1 AND credential_id = ?3 AND user_id = ?2 \
              AND public_key = ?4) AS sign_count",
            params![tenant_id, user_id, used.credential_id, used.public_key],
        )
        .await?;
    let row = row.unwrap_or(Row {
        enabled: None,
        sign_count: None,
    });
    Ok(match (row.enabled, row.sign_count) {
        (Some(1), None) => Refusal::PasskeyGone,
        (Some(1), Some(stored))
            if (stored != 0 || used.sign_count != 0) && used.sign_count <= stored =>
        {
            Refusal::CounterRegression
        }
        (Some(1), Some(_)) => Refusal::Changed,
        _ => Refusal::AccountDisabled,
    })
}

/// Renames one of the user's passkeys; false when the user has no such passkey.
pub async fn rename(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    credential_id: &str,
    name: &str,
) -> Result<bool> {
    Ok(db
        .run(
            "UPDATE passkeys SET name = ?4 WHERE tenant_id = ?1 AND user_id = ?2 AND credential_id = ?3",
            params![tenant_id, user_id, credential_id, name],
        )
        .await?
        > 0)
}

/// What deleting a passkey did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyDeletion {
    Deleted,
    NotFound,
    /// Refused: it is the last passkey of the last enabled admin who can sign in, and without
    /// it nobody could administer the tenant.
    LastAdminPasskey,
    /// Refused: it is the user's only passkey and the removal was not confirmed as such
    /// ([`LastPasskey::Keep`]).
    OnlyPasskey,
}

/// Whether a deletion may remove the user's only passkey (after which they can sign in only
/// with a one-time link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastPasskey {
    /// An admin's removal, or a person who confirmed it: the last-admin rule still applies.
    MayGo,
    /// Refuse it ([`PasskeyDeletion::OnlyPasskey`]).
    Keep,
}

/// Deletes a passkey unless it is the last one of the tenant's last admin who can sign in; the
/// rule is inside the DELETE, so two removals racing cannot both pass it. `audit` (usually
/// `audit::When::PreviousChanged`) is written in the same transaction.
pub async fn delete(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    credential_id: &str,
    audit: Option<Statement>,
) -> Result<PasskeyDeletion> {
    delete_guarded(
        db,
        tenant_id,
        user_id,
        credential_id,
        LastPasskey::MayGo,
        audit,
    )
    .await
}

/// [`delete`], with the user's own only passkey refused unless `last` lets it go; that rule is
/// inside the DELETE too, so two tabs removing the last two passkeys cannot both succeed.
pub async fn delete_guarded(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    credential_id: &str,
    last: LastPasskey,
    audit: Option<Statement>,
) -> Result<PasskeyDeletion> {
    let only_key =
        "(SELECT COUNT(*) FROM passkeys k WHERE k.tenant_id = ?1 AND k.user_id = ?2) = 1";
    let last_admin_key = format!("NOT {} AND {only_key}", super::users::NOT_THE_LAST_ADMIN);
    let keep_last = last == LastPasskey::Keep;
    let mut statements = vec![db.statement(
        &format!(
            "DELETE FROM passkeys WHERE tenant_id = ?1 AND user_id = ?2 AND credential_id = ?3 \
             AND NOT ({last_admin_key}) AND NOT (?4 AND {only_key})"
        ),
        params![tenant_id, user_id, credential_id, keep_last],
    )?];
    // The caller's audit entry, right after the DELETE (`When::PreviousChanged`).
    statements.extend(audit);
    let checked = statements.len();
    // Why nothing was deleted: 2 the last admin's key, 1 the only key, none no such passkey.
    statements.push(db.statement(
        &format!(
            "SELECT CASE WHEN {last_admin_key} THEN 2 WHEN ?4 AND {only_key} THEN 1 ELSE 0 END AS n \
             FROM passkeys WHERE tenant_id = ?1 AND user_id = ?2 AND credential_id = ?3"
        ),
        params![tenant_id, user_id, credential_id, keep_last],
    )?);
    let results = db.batch(statements).await?;
    Ok(if super::db::changes(&results[0]) > 0 {
        PasskeyDeletion::Deleted
    } else {
        match super::db::count(&results[checked])? {
            2 => PasskeyDeletion::LastAdminPasskey,
            1 => PasskeyDeletion::OnlyPasskey,
            _ => PasskeyDeletion::NotFound,
        }
    })
}

impl PasskeyDeletion {
    /// The error a person or admin sees when the deletion did not happen.
    pub fn into_result(self) -> Result<()> {
        match self {
            PasskeyDeletion::Deleted => Ok(()),
            PasskeyDeletion::NotFound => Err(crate::error::Error::NotFound("This passkey".into())),
            PasskeyDeletion::LastAdminPasskey => Err(crate::error::Error::Conflict(
                "This is the last passkey of the only admin who can sign in: add another admin \
                 (or another passkey) first."
                    .into(),
            )),
            PasskeyDeletion::OnlyPasskey => Err(crate::error::Error::Conflict(
                "This is your only passkey: confirm that you want to delete it.".into(),
            )),
        }
    }
}
