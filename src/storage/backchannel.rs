//! OIDC Back-Channel Logout: which clients to tell that a session ended, and what a delivery
//! needs to sign and send the logout token.
//!
//! The clients to tell are read by a statement that rides in the batch ending the session or
//! the user's access (before the statements revoking the grants), so a logout costs no extra
//! round trip and names exactly the grants it revoked: live grants (not revoked, not expired)
//! of a client that registered a `backchannel_logout_uri`.

use super::db::{rows, Db, Param, QueryResult, Statement};
use crate::error::Result;
use crate::oidc::client::Client;
use crate::params;
use crate::tenancy::TenantSnapshot;

/// The most clients (times sessions) one logout notifies; more live grants than this for one
/// user are beyond any real deployment, and the cap keeps a batch's result bounded.
const MAX_TARGETS: i64 = 200;

crate::from_row! {
    /// A client that holds a live grant of the ended session (or user), with the session the grant
    /// began in.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct LogoutTarget {
        pub client_id: String,
        pub user_id: String,
        /// The stored key of the session the grant began in (`amr::sid` makes the `sid`); `None`
        /// for a grant issued outside a browser session.
        pub session_id: Option<String>,
        pub session_required: bool,
    }
}

/// Whose grants end.
#[derive(Debug, Clone, Copy)]
pub enum Ending<'a> {
    /// The browser session with this stored key (end-session).
    Session { session_id_hash: &'a str },
    /// Every grant of user `?2` of tenant `?1`, when `condition` (SQL over those parameters,
    /// evaluated where the statement stands in its batch) holds: sign out everywhere, a
    /// disabled or deleted user.
    User {
        user_id: &'a str,
        condition: &'a str,
    },
}

/// The statement reading the clients to notify, to put in a batch BEFORE the statements
/// revoking or deleting the grants; read it back with [`targets_from`].
pub(super) fn targets_statement(
    db: &Db,
    tenant_id: &str,
    ending: Ending<'_>,
    now: i64,
) -> Result<Statement> {
    let (filter, key, condition) = match ending {
        Ending::Session { session_id_hash } => ("g.session_id = ?2", session_id_hash, "1"),
        Ending::User { user_id, condition } => ("g.user_id = ?2", user_id, condition),
    };
    db.statement(
        &format!(
            "SELECT DISTINCT g.client_id, g.user_id, g.session_id, \
             c.backchannel_logout_session_required AS session_required \
             FROM grants g JOIN oidc_clients c ON c.id = g.client_id AND c.tenant_id = g.tenant_id \
             WHERE g.tenant_id = ?1 AND {filter} AND g.revoked_at IS NULL AND g.expires_at > ?3 \
             AND c.backchannel_logout_uri IS NOT NULL AND {condition} \
             ORDER BY g.client_id, g.session_id LIMIT {MAX_TARGETS}"
        ),
        params![tenant_id, key, now],
    )
}

pub(super) fn targets_from(result: &QueryResult) -> Result<Vec<LogoutTarget>> {
    rows(result)
}

/// The clients to notify if the session `session_id_hash` ended now (tests; the operations
/// that end sessions read them in their own batch).
#[cfg(test)]
pub async fn targets_of_session(
    db: &Db,
    tenant_id: &str,
    session_id_hash: &str,
    now: i64,
) -> Result<Vec<LogoutTarget>> {
    let results = db
        .batch(vec![targets_statement(
            db,
            tenant_id,
            Ending::Session { session_id_hash },
            now,
        )?])
        .await?;
    targets_from(&results[0])
}

/// What a delivery of a logout token needs: the tenant with its signing keys and the client as
/// they are now (a client may have dropped its URI, a tenant may be suspended or gone).
pub struct DeliveryFacts {
    pub tenant: Option<TenantSnapshot>,
    pub client: Option<Client>,
}

/// The tenant and the client of a delivery, in one round trip.
pub async fn delivery_facts(db: &Db, tenant_id: &str, client_id: &str) -> Result<DeliveryFacts> {
    let [tenant, keys] = super::tenants::snapshot_statements(db, "id = ?1", tenant_id)?;
    let client = super::grants::client_statement(
        db,
        "?1",
        "?2",
        vec![Param::from(tenant_id), Param::from(client_id)],
    )?;
    let results = db.batch(vec![tenant, keys, client]).await?;
    Ok(DeliveryFacts {
        tenant: super::tenants::snapshot_from(&results[0..2])?,
        client: super::grants::client_from(&results[2])?,
    })
}
