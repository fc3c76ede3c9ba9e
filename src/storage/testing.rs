//! Fixtures for native tests of storage operations and use cases: a fresh SQLite database
//! loaded with `schema.sql`, and the rows most tests start from, written through the storage
//! operations themselves (no fixture SQL that could drift from the real writes).

use std::future::Future;

use super::audit::Origin;
use super::backend::sqlite::Sqlite;
use super::db::Db;
use crate::account::NewProfile;
use crate::admin::user::AdminFlags;
use crate::oidc::client::ClientInput;
use crate::tenancy::{Tenant, TenantSettings, TenantStatus};

/// A fixed "now" for tests (2026-01-01T00:00:00Z), so expiry arithmetic is reproducible.
pub const NOW: i64 = 1_767_225_600;

/// A fresh, private database with the schema loaded.
pub fn db() -> Db {
    Db::new(Sqlite::in_memory().expect("schema.sql loads into SQLite"))
}

/// Runs a future to completion on this thread (storage futures are not `Send`).
pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}

/// An active tenant `slug` with default settings and no signing keys (keys are WebCrypto's,
/// and no storage operation needs one).
pub async fn tenant(db: &Db, slug: &str) -> Tenant {
    let tenant = Tenant {
        id: format!("tenant-{slug}"),
        slug: slug.to_string(),
        display_name: format!("{slug} Inc."),
        status: TenantStatus::Active,
        settings: TenantSettings::default(),
        created_at: NOW,
    };
    super::tenants::create(db, &tenant, &[], &format!("setup-{slug}"), NOW + 3600)
        .await
        .expect("tenant created");
    tenant
}

/// A user `username` of the tenant (`username@example.com`); returns the user's id.
pub async fn user(db: &Db, tenant_id: &str, username: &str, is_admin: bool) -> String {
    let id = format!("user-{username}");
    let profile = NewProfile {
        username: username.to_string(),
        email: format!("{username}@example.com"),
        first_name: username.to_string(),
        last_name: None,
    };
    let flags = AdminFlags {
        is_admin: Some(is_admin),
        ..AdminFlags::default()
    };
    let audit = super::audit::insert_statement(
        db,
        tenant_id,
        "user_created",
        Some(&id),
        None,
        &Origin::default(),
        &serde_json::json!({}),
        NOW,
    )
    .expect("audit statement");
    super::users::create(db, tenant_id, &id, &profile, &flags, NOW, audit)
        .await
        .expect("user created");
    id
}

/// A client input with one callback URL, as a form would send it.
pub fn client_input(name: &str) -> ClientInput {
    ClientInput {
        name: name.to_string(),
        callback_urls: vec![format!("https://{name}.example.com/callback")],
        ..ClientInput::default()
    }
}

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
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
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
    #[derive(serde::Deserialize)]
    struct Row {
        event: String,
        user_id: Option<String>,
        details: String,
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
    #[derive(serde::Deserialize)]
    struct Row {
        sign_count: i64,
        backup_state: i64,
        last_used_at: Option<i64>,
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
