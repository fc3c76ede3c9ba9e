//! What an authorization step reads about the person: their session and, for a client,
//! whether they may use it and what they consented to before; and the stored consents.
//!
//! (The parked request itself is not stored: the browser carries it sealed, see
//! `crate::usecase::authorize`.)

use super::codes::NewCode;
use super::db::{first_row, Db, Statement};
use super::sessions::{self, SessionWithUser};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

/// Remembers the consent to `scope` that the code with `code_hash` (issued earlier in the
/// batch) was issued under, for its user and client; nothing when no code was issued.
pub(super) fn save_consent_statement(
    db: &Db,
    tenant_id: &str,
    scope: &str,
    now: i64,
    code_hash: &str,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO consents (tenant_id, user_id, client_id, scope, granted_at) \
         SELECT a.tenant_id, a.user_id, a.client_id, ?2, ?3 FROM authorization_codes a \
         WHERE a.code_hash = ?4 AND a.tenant_id = ?1 \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        params![tenant_id, scope, now, code_hash],
    )
}

/// Whether the session's user may use the client, and what they consented to before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    pub has_access: bool,
    pub consented_scope: Option<String>,
}

crate::from_row! {
    struct AccessRow {
        has_access: i64,
        consented_scope: Option<String>,
    }
}

/// What `/authorize` needs beyond the session's user, keyed by the session so it runs in the
/// same round trip as the session lookup.
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

/// The person behind a session cookie, as an authorization step for one client sees them.
#[derive(Debug, Clone, Default)]
pub struct PersonFacts {
    /// The live session and its enabled user.
    pub session: Option<SessionWithUser>,
    /// Access to the client and stored consent (`None` without a live session).
    pub access: Option<AccessFacts>,
}

/// Reads the session `cookie` names and its user's access to `client_id`, in one round trip;
/// with `code`, the same batch also issues it for whoever the session names (under the
/// conditions of `codes::issue_statements`) and says whether it did.
pub async fn person_facts(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    cookie: &str,
    now: i64,
    code: Option<NewCode<'_>>,
) -> Result<(PersonFacts, bool)> {
    let mut statements = sessions::find_statements(db, tenant_id, cookie, now)?;
    statements.push(access_facts_statement(
        db, tenant_id, client_id, cookie, now,
    )?);
    if let Some(code) = &code {
        statements.extend(super::codes::issue_statements(db, code)?);
    }
    let results = db.batch(statements).await?;
    let session = sessions::from_results(&results[..2])?;
    let access: Option<AccessRow> = first_row(&results[2])?;
    let issued = code.is_some() && super::codes::issued(&results[3]);
    let facts = PersonFacts {
        access: session.as_ref().and(access).map(|a| AccessFacts {
            has_access: a.has_access != 0,
            consented_scope: a.consented_scope,
        }),
        session,
    };
    Ok((facts, issued))
}
