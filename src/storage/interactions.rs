//! Authorization requests parked while the user signs in or consents, and stored consents.
//!
//! The browser carries only a random interaction id; the validated request stays here, so it
//! cannot be altered between `/authorize` and the code being issued.

use serde::Deserialize;

use super::clients::{self, ClientRow};
use super::db::{first_row, Db, Statement};
use super::sessions::{self, SessionWithUser};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::oidc::client::Client;
use crate::params;

/// How long a user has to finish signing in.
pub const INTERACTION_TTL: i64 = 15 * 60;

#[derive(Debug, Clone, Deserialize)]
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
fn find_statement(
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
pub(super) fn delete_statement(db: &Db, tenant_id: &str, id: &str) -> Result<Statement> {
    db.statement(
        "DELETE FROM interactions WHERE id_hash = ?1 AND tenant_id = ?2",
        params![secret_hash(id), tenant_id],
    )
}

pub(super) fn save_consent_statement(
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

/// Whether the session's user may use the client, and what they consented to before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    pub has_access: bool,
    pub consented_scope: Option<String>,
}

#[derive(Deserialize)]
struct AccessRow {
    has_access: i64,
    consented_scope: Option<String>,
}

/// What `/authorize` needs beyond the client and the session's user, keyed by the session so
/// it runs in the same round trip as the session lookup.
fn access_facts_statement(
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

/// What an authorization step asks about, all optional: the client, the parked interaction
/// (only for the browser that parked it) and the session cookie.
#[derive(Debug, Clone, Default)]
pub struct FactsQuery<'a> {
    pub client_id: Option<&'a str>,
    /// The interaction id, with this request's browser cookie value if it has one.
    pub interaction: Option<(&'a str, Option<&'a str>)>,
    /// The session cookie value.
    pub session: Option<&'a str>,
}

/// What an authorization step knows: each part is `None` when not asked for or not found.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeFacts {
    pub client: Option<Client>,
    /// The client's logo, for the consent page.
    pub client_logo_url: Option<String>,
    /// The live session and its enabled user.
    pub session: Option<SessionWithUser>,
    /// Present when a session and a client were asked for.
    pub access: Option<AccessFacts>,
    pub interaction: Option<InteractionRow>,
}

/// Reads everything [`FactsQuery`] asks for in one round trip (none when it asks nothing).
pub async fn authorize_facts(
    db: &Db,
    tenant_id: &str,
    q: &FactsQuery<'_>,
    now: i64,
) -> Result<AuthorizeFacts> {
    // Each part's position in the batch, when asked for.
    let mut statements: Vec<Statement> = Vec::new();
    let mut interaction_at = None;
    if let Some((id, browser)) = q.interaction {
        interaction_at = Some(statements.len());
        statements.push(find_statement(db, tenant_id, id, browser, now)?);
    }
    let mut client_at = None;
    if let Some(id) = q.client_id {
        client_at = Some(statements.len());
        statements.push(clients::find_statement(db, tenant_id, id)?);
    }
    let (mut session_at, mut access_at) = (None, None);
    if let Some(cookie) = q.session {
        session_at = Some(statements.len());
        statements.extend(sessions::find_statements(db, tenant_id, cookie, now)?);
        if let Some(client_id) = q.client_id {
            access_at = Some(statements.len());
            statements.push(access_facts_statement(
                db, tenant_id, client_id, cookie, now,
            )?);
        }
    }
    let results = db.batch(statements).await?;
    let client: Option<ClientRow> = match client_at {
        Some(i) => first_row(&results[i])?,
        None => None,
    };
    let access: Option<AccessRow> = match access_at {
        Some(i) => first_row(&results[i])?,
        None => None,
    };
    Ok(AuthorizeFacts {
        client_logo_url: client.as_ref().and_then(|c| c.logo_url.clone()),
        client: client.map(|c| c.to_client()),
        session: match session_at {
            Some(i) => sessions::from_results(&results[i..i + 2])?,
            None => None,
        },
        access: access.map(|a| AccessFacts {
            has_access: a.has_access != 0,
            consented_scope: a.consented_scope,
        }),
        interaction: match interaction_at {
            Some(i) => first_row(&results[i])?,
            None => None,
        },
    })
}

/// Ends a parked interaction (the user denied consent).
pub async fn delete(db: &Db, tenant_id: &str, id: &str) -> Result<()> {
    db.batch(vec![delete_statement(db, tenant_id, id)?]).await?;
    Ok(())
}
