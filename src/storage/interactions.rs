//! Authorization requests parked while the user signs in or consents, and stored consents.
//!
//! The browser carries only a random interaction id; the validated request stays here, so it
//! cannot be altered between `/authorize` and the code being issued.

use serde::Deserialize;

use super::db::{Db, Statement};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

/// How long a user has to finish signing in.
pub const INTERACTION_TTL: i64 = 15 * 60;

#[derive(Debug, Deserialize)]
pub struct InteractionRow {
    pub request: String,
    pub created_at: i64,
}

/// Parks a request for the browser holding `browser` (its `eid_browser` cookie value).
pub async fn put(
    db: &Db,
    tenant_id: &str,
    id: &str,
    browser: &str,
    request_json: &str,
    now: i64,
) -> Result<()> {
    db.run(
        "INSERT INTO interactions (id_hash, tenant_id, request, created_at, expires_at, browser_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![secret_hash(id), tenant_id, request_json, now, now + INTERACTION_TTL, secret_hash(browser)],
    )
    .await?;
    Ok(())
}

/// Finds a live parked request, only for the browser that parked it (`browser` is the cookie
/// value this request presented, if any).
pub fn find_statement(
    db: &Db,
    tenant_id: &str,
    id: &str,
    browser: Option<&str>,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "SELECT request, created_at FROM interactions WHERE id_hash = ?1 AND tenant_id = ?2 AND expires_at > ?3 \
         AND browser_hash = ?4",
        params![secret_hash(id), tenant_id, now, browser.map(secret_hash)],
    )
}

/// Ends an interaction; returns a statement so it joins the batch that issues the code.
pub fn delete_statement(db: &Db, tenant_id: &str, id: &str) -> Result<Statement> {
    db.statement(
        "DELETE FROM interactions WHERE id_hash = ?1 AND tenant_id = ?2",
        params![secret_hash(id), tenant_id],
    )
}

pub fn save_consent_statement(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO consents (tenant_id, user_id, client_id, scope, granted_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        params![tenant_id, user_id, client_id, scope, now],
    )
}

/// What `/authorize` needs to know beyond the client and the session: whether the session's
/// user may use the client, and what they consented to before. Keyed by the session so the
/// statements run in the same round trip as the session lookup.
#[derive(Debug, Deserialize)]
pub struct AccessFacts {
    pub has_access: i64,
    pub consented_scope: Option<String>,
}

pub fn access_facts_statement(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Statement> {
    let user =
        "(SELECT user_id FROM sessions WHERE id_hash = ?3 AND tenant_id = ?1 AND expires_at > ?4)";
    db.statement(
        &format!(
            "SELECT (NOT EXISTS (SELECT 1 FROM oidc_client_groups WHERE client_id = ?2) \
               OR EXISTS (SELECT 1 FROM oidc_client_groups cg JOIN user_group_members m ON m.group_id = cg.group_id \
                          WHERE cg.client_id = ?2 AND m.user_id = {user})) AS has_access, \
             (SELECT scope FROM consents WHERE tenant_id = ?1 AND client_id = ?2 AND user_id = {user}) AS consented_scope"
        ),
        params![tenant_id, client_id, secret_hash(session_id), now],
    )
}
