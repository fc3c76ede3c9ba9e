//! The audit log: who did what, from where (Cloudflare's free `request.cf` geo data).

use super::db::{Db, Statement};
use crate::crypto::random;
use crate::error::Result;
use crate::params;

/// Where a request came from, as Cloudflare reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub asn: Option<i64>,
}

/// When an entry joins a batch whose change may or may not happen, the entry records the
/// outcome: it is written only if the batch did (or did not) create the session with this id
/// hash. D1 runs a batch as one transaction, so the entry exists exactly when what it says
/// happened has committed.
#[derive(Debug, Clone, Copy)]
pub enum When<'a> {
    Always,
    /// The session was created earlier in the batch (sign-in and sign-up succeeded).
    SessionCreated(&'a str),
    /// The session was refused earlier in the batch (for instance, the account is disabled).
    SessionRefused(&'a str),
    /// The statement just before this one in the batch changed a row (SQLite's `changes()`,
    /// which counts the statement's own rows, not those of cascades it triggered).
    PreviousChanged,
    /// The authorization code with this hash was issued earlier in the batch (the entry is then
    /// about the code's user when it names none).
    CodeIssued(&'a str),
    /// The row `id` of `table` (one of our tables, never input) exists in this tenant at this
    /// point of the batch.
    RowExists {
        table: &'static str,
        id: &'a str,
    },
}

#[allow(clippy::too_many_arguments)]
pub fn insert_statement(
    db: &Db,
    tenant_id: &str,
    event: &str,
    user_id: Option<&str>,
    client_id: Option<&str>,
    origin: &Origin,
    details: &serde_json::Value,
    now: i64,
) -> Result<Statement> {
    insert_when_statement(
        db,
        tenant_id,
        event,
        user_id,
        client_id,
        origin,
        details,
        now,
        When::Always,
    )
}

/// [`insert_statement`] written only under `when`.
#[allow(clippy::too_many_arguments)]
pub fn insert_when_statement(
    db: &Db,
    tenant_id: &str,
    event: &str,
    user_id: Option<&str>,
    client_id: Option<&str>,
    origin: &Origin,
    details: &serde_json::Value,
    now: i64,
    when: When<'_>,
) -> Result<Statement> {
    // Entries about an issued code take its user when the caller names none.
    let mut source = "";
    let mut user = "?4";
    let (condition, session) = match when {
        When::Always => ("1".to_string(), None),
        When::SessionCreated(h) => (
            "EXISTS (SELECT 1 FROM sessions WHERE id_hash = ?13)".to_string(),
            Some(h),
        ),
        When::SessionRefused(h) => (
            "NOT EXISTS (SELECT 1 FROM sessions WHERE id_hash = ?13)".to_string(),
            Some(h),
        ),
        When::CodeIssued(h) => {
            source = "FROM authorization_codes a";
            user = "COALESCE(?4, a.user_id)";
            (
                "a.code_hash = ?13 AND a.tenant_id = ?2".to_string(),
                Some(h),
            )
        }
        When::PreviousChanged => ("changes() > 0".to_string(), None),
        When::RowExists { table, id } => (
            format!("EXISTS (SELECT 1 FROM {table} WHERE id = ?13 AND tenant_id = ?2)"),
            Some(id),
        ),
    };
    db.statement(
        &format!(
            "INSERT INTO audit_logs (id, tenant_id, event, user_id, client_id, ip, user_agent, country, city, asn, details, created_at) \
             SELECT ?1, ?2, ?3, {user}, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 {source} WHERE {condition}"
        ),
        params![
            random::id(),
            tenant_id,
            event,
            user_id,
            client_id,
            origin.ip.clone(),
            origin.user_agent.clone(),
            origin.country.clone(),
            origin.city.clone(),
            origin.asn,
            details.to_string(),
            now,
            session
        ],
    )
}

crate::from_row! {
    /// An audit entry as the admin API lists it, with the user's name and the client's name.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct AuditEntry {
        pub id: String,
        pub event: String,
        pub user_id: Option<String>,
        pub username: Option<String>,
        pub client_id: Option<String>,
        pub client_name: Option<String>,
        pub ip: Option<String>,
        pub user_agent: Option<String>,
        pub country: Option<String>,
        pub city: Option<String>,
        pub asn: Option<i64>,
        pub details: String,
        pub created_at: i64,
    }
}

/// What to list: every filter is optional and exact.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
}

/// Writes one entry on its own, for an event that changes nothing else (a refused sign-in).
/// An entry that records a change joins that change's batch instead.
pub async fn record(db: &Db, entry: Statement) -> Result<()> {
    db.batch(vec![entry]).await?;
    Ok(())
}

/// Newest first, one page, with the total count for the filter.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &AuditFilter,
    page: &crate::admin::paging::Page,
) -> Result<(Vec<AuditEntry>, i64)> {
    let condition = "a.tenant_id = ?1 AND (?2 IS NULL OR a.event = ?2) \
        AND (?3 IS NULL OR a.user_id = ?3) AND (?4 IS NULL OR a.client_id = ?4)";
    let filter = params![
        tenant_id,
        filter.event.clone(),
        filter.user_id.clone(),
        filter.client_id.clone()
    ];
    db.page(
        &format!(
            "SELECT a.id, a.event, a.user_id, u.username, a.client_id, c.name AS client_name, \
             a.ip, a.user_agent, a.country, a.city, a.asn, a.details, a.created_at \
             FROM audit_logs a \
             LEFT JOIN users u ON u.id = a.user_id AND u.tenant_id = a.tenant_id \
             LEFT JOIN oidc_clients c ON c.id = a.client_id AND c.tenant_id = a.tenant_id \
             WHERE {condition} ORDER BY a.created_at DESC, a.rowid DESC LIMIT ?5 OFFSET ?6"
        ),
        &format!("SELECT COUNT(*) AS n FROM audit_logs a WHERE {condition}"),
        filter,
        page,
    )
    .await
}
