//! Test-only reads and pokes at the database that no operation offers (a user disabled
//! without the sign-out an admin's change makes, row counts, a passkey's counters), so tests
//! can check what operations left behind. Compiled only for tests; SQL stays in storage.

use super::db::Db;

/// Disables or re-enables a user directly (no sign-out, unlike the admin update), so tests can
/// see what other operations make of a disabled account's rows.
pub async fn set_disabled(db: &Db, user_id: &str, disabled: bool) {
    db.run(
        "UPDATE users SET disabled = ?2 WHERE id = ?1",
        crate::params![user_id, disabled],
    )
    .await
    .expect("user updated");
}

/// The number of rows of `table` (one of ours) in the tenant.
pub async fn count_rows(db: &Db, table: &str, tenant_id: &str) -> i64 {
    crate::from_row! {
        struct N {
            n: i64,
        }
    }
    db.first::<N>(
        &format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = ?1"),
        crate::params![tenant_id],
    )
    .await
    .expect("count")
    .map_or(0, |r| r.n)
}

/// The tenant's audit entries, oldest first, as (event, user id, details).
pub async fn audit_events(
    db: &Db,
    tenant_id: &str,
) -> Vec<(String, Option<String>, serde_json::Value)> {
    crate::from_row! {
        struct Row {
            event: String,
            user_id: Option<String>,
            details: String,
        }
    }
    db.all::<Row>(
        "SELECT event, user_id, details FROM audit_logs WHERE tenant_id = ?1 ORDER BY rowid",
        crate::params![tenant_id],
    )
    .await
    .expect("audit entries")
    .into_iter()
    .map(|r| {
        let details = serde_json::from_str(&r.details).expect("details are JSON");
        (r.event, r.user_id, details)
    })
    .collect()
}

/// A stored passkey's counter, backup state and last use.
pub async fn passkey_use(db: &Db, credential_id: &str) -> (i64, i64, Option<i64>) {
    crate::from_row! {
        struct Row {
            sign_count: i64,
            backup_state: i64,
            last_used_at: Option<i64>,
        }
    }
    let r = db
        .first::<Row>(
            "SELECT sign_count, backup_state, last_used_at FROM passkeys WHERE credential_id = ?1",
            crate::params![credential_id],
        )
        .await
        .expect("passkey read")
        .expect("the passkey exists");
    (r.sign_count, r.backup_state, r.last_used_at)
}

/// The stored hashes of the tenant's email sign-in codes.
pub async fn email_code_hashes(db: &Db, tenant_id: &str) -> Vec<String> {
    crate::from_row! {
        struct Row {
            code_hash: String,
        }
    }
    db.all::<Row>(
        "SELECT code_hash FROM email_sign_in_codes WHERE tenant_id = ?1",
        crate::params![tenant_id],
    )
    .await
    .expect("codes read")
    .into_iter()
    .map(|r| r.code_hash)
    .collect()
}

/// The `amr` (JSON text) of each of the tenant's sessions.
pub async fn session_amrs(db: &Db, tenant_id: &str) -> Vec<Option<String>> {
    crate::from_row! {
        struct Row {
            amr: Option<String>,
        }
    }
    db.all::<Row>(
        "SELECT amr FROM sessions WHERE tenant_id = ?1",
        crate::params![tenant_id],
    )
    .await
    .expect("sessions read")
    .into_iter()
    .map(|r| r.amr)
    .collect()
}

/// An API key's expiry notice state: when it was sent, and the attempts made.
pub async fn api_key_notice(db: &Db, key_id: &str) -> (Option<i64>, i64) {
    crate::from_row! {
        struct Row {
            expiry_notice_sent_at: Option<i64>,
            expiry_notice_attempts: i64,
        }
    }
    let row = db
        .first::<Row>(
            "SELECT expiry_notice_sent_at, expiry_notice_attempts FROM api_keys WHERE id = ?1",
            crate::params![key_id],
        )
        .await
        .expect("the key's notice state")
        .expect("the key exists");
    (row.expiry_notice_sent_at, row.expiry_notice_attempts)
}

/// Removes a user's email address directly (admins and fixtures always give one).
pub async fn clear_email(db: &Db, user_id: &str) {
    db.run(
        "UPDATE users SET email = NULL WHERE id = ?1",
        crate::params![user_id],
    )
    .await
    .expect("user updated");
}
