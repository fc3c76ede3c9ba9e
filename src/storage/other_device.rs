//! Sign in with another device (`usecase::other_device`): the waiting browser's request, the
//! signed-in person's decision on it, and the one use that starts the waiting browser's
//! session (`sessions::create` with `Proof::OtherDevice`).

use super::audit::{self, Origin, When};
use super::db::{changes, rows, Db, Param, Statement};
use super::device::{entry, lock_statements_where, CodeEntry, PersonCode, NOT_LOCKED};
use crate::error::Result;
use crate::params;

/// A request about to be stored.
pub struct NewRequest<'a> {
    pub tenant_id: &'a str,
    pub request_hash: &'a str,
    pub user_code_hash: &'a str,
    pub browser_hash: &'a str,
    pub origin: &'a Origin,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores the request; false when its user code collides with a live one (try another).
pub async fn start(db: &Db, n: &NewRequest<'_>) -> Result<bool> {
    let results = db
        .batch(vec![db.statement(
            "INSERT INTO other_device_sign_ins (request_hash, tenant_id, user_code_hash, browser_hash, \
             ip, user_agent, country, city, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (tenant_id, user_code_hash) DO NOTHING",
            params![
                n.request_hash,
                n.tenant_id,
                n.user_code_hash,
                n.browser_hash,
                n.origin.ip.clone(),
                n.origin.user_agent.clone(),
                n.origin.country.clone(),
                n.origin.city.clone(),
                n.now,
                n.expires_at
            ],
        )?])
        .await?;
    Ok(changes(&results[0]) == 1)
}

crate::from_row! {
    /// Where a waiting request comes from, for the person deciding on it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Requester {
        pub ip: Option<String>,
        pub user_agent: Option<String>,
        pub country: Option<String>,
        pub city: Option<String>,
        pub created_at: i64,
    }
}

/// The pending, unexpired request the user code names (over [`PersonCode::params`]).
const LIVE: &str =
    "o.tenant_id = ?1 AND o.user_code_hash = ?2 AND o.status = 'pending' AND o.expires_at > ?4";

fn lock(db: &Db, c: &PersonCode<'_>) -> Result<[Statement; 2]> {
    lock_statements_where(
        db,
        c,
        &format!("EXISTS (SELECT 1 FROM other_device_sign_ins o WHERE {LIVE})"),
    )
}

/// The live request a person's user code names, in one batch that also counts a wrong code
/// (the same counter as device user codes).
pub async fn find_for_person(db: &Db, c: &PersonCode<'_>) -> Result<CodeEntry<Requester>> {
    let [locked, count] = lock(db, c)?;
    let results = db
        .batch(vec![
            locked,
            db.statement(
                &format!(
                    "SELECT o.ip, o.user_agent, o.country, o.city, o.created_at \
                     FROM other_device_sign_ins o WHERE {LIVE} AND {NOT_LOCKED}"
                ),
                c.params(),
            )?,
            count,
        ])
        .await?;
    let found = rows::<Requester>(&results[1])?.into_iter().next();
    Ok(entry(!results[0].rows.is_empty(), found))
}

/// A signed-in person's decision on a request.
pub struct Decision<'a> {
    pub code: PersonCode<'a>,
    pub approve: bool,
    pub session_id_hash: &'a str,
    pub origin: &'a Origin,
}

/// Records the decision in one batch, only while the request is live, the person is not locked
/// out and their session is live. `Found(true)` when recorded, `Unknown` when the code named
/// nothing live.
pub async fn decide(db: &Db, d: &Decision<'_>) -> Result<CodeEntry<bool>> {
    let c = &d.code;
    let [locked, count] = lock(db, c)?;
    let mut p: Vec<Param> = c.params();
    p.extend(params![
        if d.approve { "approved" } else { "denied" },
        d.session_id_hash
    ]);
    let event = if d.approve {
        "other_device_approved"
    } else {
        "other_device_denied"
    };
    let results = db
        .batch(vec![
            locked,
            db.statement(
                &format!(
                    "UPDATE other_device_sign_ins SET status = ?7, user_id = ?3 \
                     WHERE request_hash IN (SELECT o.request_hash FROM other_device_sign_ins o WHERE {LIVE}) \
                     AND {NOT_LOCKED} AND EXISTS (SELECT 1 FROM sessions s \
                     WHERE s.id_hash = ?8 AND s.tenant_id = ?1 AND s.user_id = ?3 AND s.expires_at > ?4)"
                ),
                p,
            )?,
            audit::insert_when_statement(
                db,
                c.tenant_id,
                event,
                Some(c.user_id),
                None,
                d.origin,
                &serde_json::json!({}),
                c.now,
                When::PreviousChanged,
            )?,
            count,
        ])
        .await?;
    // A code that names nothing live (wrong, expired, decided meanwhile) is Unknown.
    Ok(entry(
        !results[0].rows.is_empty(),
        (changes(&results[1]) == 1).then_some(true),
    ))
}

/// What the waiting browser's request is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestState {
    /// Unknown, expired, used, or asked from another browser.
    Gone,
    Pending,
    Denied,
    /// Approved by this user: the waiting browser may start their session.
    Approved {
        user_id: String,
    },
}

crate::from_row! {
    struct StateRow {
        status: String,
        user_id: Option<String>,
    }
}

/// The state of the request `request_hash`, as the browser `browser_hash` sees it.
pub async fn state(
    db: &Db,
    tenant_id: &str,
    request_hash: &str,
    browser_hash: &str,
    now: i64,
) -> Result<RequestState> {
    let row: Option<StateRow> = db
        .first(
            "SELECT status, user_id FROM other_device_sign_ins WHERE request_hash = ?1 \
             AND tenant_id = ?2 AND browser_hash = ?3 AND expires_at > ?4",
            params![request_hash, tenant_id, browser_hash, now],
        )
        .await?;
    Ok(match row {
        None => RequestState::Gone,
        Some(r) => match (r.status.as_str(), r.user_id) {
            ("pending", _) => RequestState::Pending,
            ("denied", _) => RequestState::Denied,
            ("approved", Some(user_id)) => RequestState::Approved { user_id },
            _ => RequestState::Gone,
        },
    })
}

/// An approved request about to start the waiting browser's session.
#[derive(Debug, Clone, Copy)]
pub struct OtherDeviceUse<'a> {
    pub request_hash: &'a str,
    pub browser_hash: &'a str,
}

/// Marks the approved request used by the session, only while it is approved for this user,
/// unexpired and asked from this browser; the session's insert then requires the mark.
pub(super) fn use_statement(
    db: &Db,
    tenant_id: &str,
    used: OtherDeviceUse<'_>,
    user_id: &str,
    session_id_hash: &str,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "UPDATE other_device_sign_ins SET status = 'used', used_by_session = ?5 \
         WHERE request_hash = ?1 AND tenant_id = ?2 AND user_id = ?3 AND browser_hash = ?6 \
         AND status = 'approved' AND expires_at > ?4",
        params![
            used.request_hash,
            tenant_id,
            user_id,
            now,
            session_id_hash,
            used.browser_hash
        ],
    )
}

/// The condition a session insert adds for a sign-in with another device (?1 the session's id
/// hash, ?2 the tenant, ?3 the user, `?{request}` the request hash).
pub(super) fn used_by_session_condition(request: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM other_device_sign_ins WHERE request_hash = ?{request} \
         AND tenant_id = ?2 AND user_id = ?3 AND used_by_session = ?1)"
    )
}
