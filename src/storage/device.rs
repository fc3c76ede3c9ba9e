//! Device authorizations (RFC 8628): started by a device at `/api/oidc/device/authorize`,
//! approved or denied by a signed-in person at `/device`, redeemed once by the device's poll.
//!
//! Each step is ONE batch (one D1 transaction):
//! * [`start`]: the client row and the new authorization, created only if the presented
//!   credentials authenticate the client (the condition generated from the one rule, as code
//!   redemption does: `codes::client_authenticated`);
//! * [`find_for_person`] / [`decide`]: the person's wrong-code lock, the authorization their
//!   user code names (or the decision on it), and one more wrong code counted when the code
//!   names no live authorization;
//! * [`poll`]: the authorization as it was, then either the pending poll recorded (the interval
//!   grows when polled too fast) or, for an approved one, `status = 'redeemed'` set only if it
//!   is still `approved` (so of any number of concurrent polls exactly one changes the row) and
//!   the grant and tokens created from THAT change only.

use super::audit::{self, Origin, When};
use super::codes::client_authenticated;
use super::db::{changes, first_row, Db, Param, Statement};
use super::grants::{
    audit_for_grant, client_from, client_statement, mint_token_statement, subject_from,
    subject_statements, user_may_use_client, TokenKind,
};
use crate::error::Result;
use crate::oidc::claims::UserClaims;
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::device::{PolledState, Status};
use crate::params;

/// A device authorization about to be created.
pub struct NewDeviceAuthorization<'a> {
    pub tenant_id: &'a str,
    pub credentials: &'a ClientCredentials,
    pub device_code_hash: String,
    pub user_code_hash: String,
    pub scope: String,
    pub interval_secs: i64,
    pub now: i64,
    pub expires_at: i64,
    pub origin: &'a Origin,
}

pub struct Started {
    /// The client the credentials name, as stored when the batch ran.
    pub client: Option<Client>,
    /// Whether the authorization was created (the credentials authenticated the client).
    pub created: bool,
}

/// The first parameter number of the client-authentication condition in [`start`].
const START_AUTH_FIRST_PARAM: usize = 9;

/// Creates a device authorization for an authenticated client, in one batch. A user code
/// that collides with a stored one fails the batch with a UNIQUE violation (the caller draws
/// another).
pub async fn start(db: &Db, n: &NewDeviceAuthorization<'_>) -> Result<Started> {
    let (authenticated, auth_params) = client_authenticated(
        &n.credentials.accepted_states(),
        n.now,
        START_AUTH_FIRST_PARAM,
    );
    let mut p = params![
        n.tenant_id,
        n.device_code_hash.as_str(),
        n.credentials.client_id.as_str(),
        n.now,
        n.user_code_hash.as_str(),
        n.scope.as_str(),
        n.interval_secs,
        n.expires_at
    ];
    p.extend(auth_params);
    let results = db
        .batch(vec![
            client_statement(db, "?1", "?3", p.clone())?,
            db.statement(
                &format!(
                    "INSERT INTO device_authorizations (device_code_hash, tenant_id, client_id, user_code_hash, scope, \
                     status, interval_secs, created_at, expires_at) \
                     SELECT ?2, ?1, ?3, ?5, ?6, 'pending', ?7, ?4, ?8 WHERE {authenticated}"
                ),
                p,
            )?,
            audit::insert_when_statement(
                db,
                n.tenant_id,
                "device_authorization",
                None,
                Some(&n.credentials.client_id),
                n.origin,
                &serde_json::json!({ "scope": n.scope }),
                n.now,
                When::PreviousChanged,
            )?,
        ]
        .into_iter()
        .chain(super::codes::spend_assertion(db, n.tenant_id, n.credentials)?)
        .collect())
        .await?;
    Ok(Started {
        client: client_from(&results[0])?,
        created: changes(&results[1]) == 1,
    })
}

/// A signed-in person entering a user code at `/device`.
pub struct PersonCode<'a> {
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub user_code_hash: &'a str,
    pub now: i64,
    /// Wrong codes allowed per window, and the window's length.
    pub max_wrong: i64,
    pub window_secs: i64,
}

impl PersonCode<'_> {
    /// ?1 tenant, ?2 user code hash, ?3 user, ?4 now, ?5 max wrong codes, ?6 a new window's end.
    pub(super) fn params(&self) -> Vec<Param> {
        params![
            self.tenant_id,
            self.user_code_hash,
            self.user_id,
            self.now,
            self.max_wrong,
            self.now + self.window_secs
        ]
    }
}

/// The person is not locked out of entering codes (see [`PersonCode::params`]).
pub(super) const NOT_LOCKED: &str =
    "NOT EXISTS (SELECT 1 FROM device_code_failures f WHERE f.tenant_id = ?1 \
     AND f.user_id = ?3 AND f.window_ends_at > ?4 AND f.failures >= ?5)";

/// The live (pending, unexpired) authorization the user code names.
const LIVE: &str =
    "d.tenant_id = ?1 AND d.user_code_hash = ?2 AND d.status = 'pending' AND d.expires_at > ?4";

/// The statements every code entry starts and ends with: the lock as it was, and one more
/// wrong code counted (in the window, or a fresh window) when the code names no live
/// authorization.
fn lock_statements(db: &Db, c: &PersonCode<'_>) -> Result<[Statement; 2]> {
    lock_statements_where(
        db,
        c,
        &format!("EXISTS (SELECT 1 FROM device_authorizations d WHERE {LIVE})"),
    )
}

/// [`lock_statements`] for any kind of user code: `live` (over [`PersonCode::params`]) says
/// whether the code names something live. Every user code a person types (a device's, another
/// browser's sign-in) counts against the one wrong-code window, so switching pages does not
/// buy more guesses.
pub(super) fn lock_statements_where(
    db: &Db,
    c: &PersonCode<'_>,
    live: &str,
) -> Result<[Statement; 2]> {
    Ok([
        db.statement(
            "SELECT failures FROM device_code_failures WHERE tenant_id = ?1 AND user_id = ?3 \
             AND window_ends_at > ?4 AND failures >= ?5",
            c.params(),
        )?,
        db.statement(
            &format!(
                "INSERT INTO device_code_failures (tenant_id, user_id, failures, window_ends_at) \
                 SELECT ?1, ?3, 1, ?6 WHERE NOT {live} \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
                 failures = CASE WHEN window_ends_at <= ?4 THEN 1 ELSE failures + 1 END, \
                 window_ends_at = CASE WHEN window_ends_at <= ?4 THEN ?6 ELSE window_ends_at END"
            ),
            c.params(),
        )?,
    ])
}

crate::from_row! {
    /// What the person's code names, for the confirmation page.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PendingDevice {
        pub client_id: String,
        pub client_name: String,
        pub logo_url: Option<String>,
        pub scope: String,
        pub has_access: bool,
    }
}

/// What a code entry found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeEntry<T> {
    /// The person entered too many wrong codes lately: nothing was looked at.
    Locked,
    /// The code names no live authorization (counted as a wrong code).
    Unknown,
    Found(T),
}

pub(super) fn entry<T>(locked: bool, found: Option<T>) -> CodeEntry<T> {
    match (locked, found) {
        (true, _) => CodeEntry::Locked,
        (false, None) => CodeEntry::Unknown,
        (false, Some(t)) => CodeEntry::Found(t),
    }
}

/// The live authorization a person's user code names, with its client and whether the person
/// may use it, in one batch that also counts a wrong code.
pub async fn find_for_person(db: &Db, c: &PersonCode<'_>) -> Result<CodeEntry<PendingDevice>> {
    let may_use = user_may_use_client("?3", "d.client_id");
    let [lock, count] = lock_statements(db, c)?;
    let results = db
        .batch(vec![
            lock,
            db.statement(
                &format!(
                    "SELECT d.client_id, c.name AS client_name, c.logo_url, d.scope, ({may_use}) AS has_access \
                     FROM device_authorizations d JOIN oidc_clients c ON c.id = d.client_id AND c.tenant_id = d.tenant_id \
                     WHERE {LIVE} AND {NOT_LOCKED}"
                ),
                c.params(),
            )?,
            count,
        ])
        .await?;
    Ok(entry(!results[0].rows.is_empty(), first_row(&results[1])?))
}

/// A person's decision on the authorization their user code names.
pub struct DeviceDecision<'a> {
    pub code: PersonCode<'a>,
    /// The client the confirmation page showed: the decision applies only to it.
    pub client_id: &'a str,
    pub approve: bool,
    pub session_id_hash: &'a str,
    pub auth_time: i64,
    pub origin: &'a Origin,
}

/// Records the decision in one batch, only while the authorization is live, the person is not
/// locked out, their session is live and, to approve, they may use the client (its groups).
/// `Found(true)` when it was recorded; `Found(false)` when the code is right but a condition
/// failed (the client changed, the person lost access or signed out meanwhile).
pub async fn decide(db: &Db, d: &DeviceDecision<'_>) -> Result<CodeEntry<bool>> {
    let c = &d.code;
    let status = if d.approve {
        Status::Approved
    } else {
        Status::Denied
    };
    let may_use = user_may_use_client("?3", "device_authorizations.client_id");
    let mut p = c.params();
    p.extend(params![
        status.as_str(),
        d.auth_time,
        d.session_id_hash,
        d.client_id,
        d.approve
    ]);
    let event = if d.approve {
        "device_approved"
    } else {
        "device_denied"
    };
    let [lock, count] = lock_statements(db, c)?;
    // The wrong code is counted before the update: after it, a recorded decision no longer
    // names a live authorization.
    let results = db
        .batch(vec![
            lock,
            count,
            db.statement(
                &format!(
                    "UPDATE device_authorizations SET status = ?7, user_id = ?3, auth_time = ?8 \
                     WHERE tenant_id = ?1 AND user_code_hash = ?2 AND status = 'pending' AND expires_at > ?4 \
                     AND client_id = ?10 AND {NOT_LOCKED} \
                     AND EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = ?9 AND s.tenant_id = ?1 \
                                 AND s.user_id = ?3 AND s.expires_at > ?4) \
                     AND (?11 = 0 OR ({may_use}))"
                ),
                p.clone(),
            )?,
            audit::insert_when_statement(
                db,
                c.tenant_id,
                event,
                Some(c.user_id),
                Some(d.client_id),
                d.origin,
                &serde_json::json!({}),
                c.now,
                When::PreviousChanged,
            )?,
            db.statement(
                &format!("SELECT 1 AS n FROM device_authorizations d WHERE {LIVE} OR (d.tenant_id = ?1 AND d.user_code_hash = ?2 AND d.user_id = ?3 AND d.status = ?7)"),
                p,
            )?,
        ])
        .await?;
    let recorded = changes(&results[2]) == 1;
    let named = recorded || !results[4].rows.is_empty();
    Ok(entry(
        !results[0].rows.is_empty(),
        named.then_some(recorded),
    ))
}

/// A device's poll at the token endpoint.
pub struct Poll<'a> {
    pub tenant_id: &'a str,
    pub device_code_hash: String,
    /// The credentials the poll presented: nothing changes unless they authenticate.
    pub credentials: &'a ClientCredentials,
    pub now: i64,
    /// What the interval grows by when polled too fast.
    pub slow_down_step: i64,
    pub grant_id: String,
    pub access_token_hash: String,
    pub access_expires_at: i64,
    pub refresh_token_hash: String,
    pub refresh_expires_at: i64,
    pub origin: &'a Origin,
}

crate::from_row! {
    #[derive(Debug)]
    struct PolledRow {
        status: String,
        interval_secs: i64,
        last_polled_at: Option<i64>,
        expires_at: i64,
    }
}

crate::from_row! {
    /// The device authorization redeemed by this poll.
    #[derive(Debug)]
    pub struct RedeemedDevice {
        pub scope: String,
        pub auth_time: i64,
    }
}

pub struct PollOutcome {
    /// The client the credentials name, as stored when the batch ran.
    pub client: Option<Client>,
    /// The authorization as it was BEFORE this poll (to judge the poll by).
    pub state: Option<PolledState>,
    /// `Some` only for the one poll that redeemed the approved authorization.
    pub redeemed: Option<RedeemedDevice>,
    /// The grant's user, when the grant was created (the user is enabled and may use the
    /// client).
    pub user: Option<UserClaims>,
}

/// The first parameter number of the client-authentication condition in [`poll`].
const POLL_AUTH_FIRST_PARAM: usize = 11;

/// One poll, in one batch (see the module's documentation).
pub async fn poll(db: &Db, r: &Poll<'_>) -> Result<PollOutcome> {
    let (authenticated, auth_params) = client_authenticated(
        &r.credentials.accepted_states(),
        r.now,
        POLL_AUTH_FIRST_PARAM,
    );
    let p = || {
        let mut p = params![
            r.tenant_id,
            r.device_code_hash.as_str(),
            r.credentials.client_id.as_str(),
            r.now,
            r.grant_id.as_str(),
            r.access_token_hash.as_str(),
            r.access_expires_at,
            r.refresh_token_hash.as_str(),
            r.refresh_expires_at,
            r.slow_down_step
        ];
        p.extend(auth_params.iter().cloned());
        p
    };
    let this = "device_code_hash = ?2 AND tenant_id = ?1 AND client_id = ?3";
    let may_use = user_may_use_client("d.user_id", "d.client_id");
    let grant = "FROM grants g WHERE g.id = ?5 AND g.tenant_id = ?1";
    let [user, groups] = subject_statements(
        db,
        "?1",
        "(SELECT user_id FROM grants WHERE id = ?5 AND tenant_id = ?1)",
        p(),
    )?;
    let statements = vec![
        client_statement(db, "?1", "?3", p())?,
        db.statement(
            &format!(
                "SELECT status, interval_secs, last_polled_at, expires_at FROM device_authorizations WHERE {this}"
            ),
            p(),
        )?,
        // A pending poll: remembered, and too early (the same rule as `PolledState::too_fast`)
        // makes the interval grow (RFC 8628 §3.5 slow_down).
        db.statement(
            &format!(
                "UPDATE device_authorizations SET last_polled_at = ?4, interval_secs = interval_secs + \
                 CASE WHEN last_polled_at IS NOT NULL AND ?4 - last_polled_at < interval_secs THEN ?10 ELSE 0 END \
                 WHERE {this} AND status = 'pending' AND expires_at > ?4 AND {authenticated}"
            ),
            p(),
        )?,
        db.statement(
            &format!(
                "UPDATE device_authorizations SET status = 'redeemed', grant_id = ?5, last_polled_at = ?4 \
                 WHERE {this} AND status = 'approved' AND expires_at > ?4 AND {authenticated} \
                 RETURNING scope, auth_time"
            ),
            p(),
        )?,
        // The grant is not tied to the approving browser's session: signing out on the phone
        // does not sign the TV out.
        db.statement(
            &format!(
                "INSERT INTO grants (id, tenant_id, client_id, user_id, scope, auth_time, session_id, created_at, expires_at) \
                 SELECT ?5, d.tenant_id, d.client_id, d.user_id, d.scope, d.auth_time, NULL, ?4, ?9 \
                 FROM device_authorizations d JOIN users u ON u.id = d.user_id AND u.tenant_id = d.tenant_id AND u.disabled = 0 \
                 WHERE d.device_code_hash = ?2 AND d.tenant_id = ?1 AND d.grant_id = ?5 AND {may_use}"
            ),
            p(),
        )?,
        mint_token_statement(db, TokenKind::Access, ["?6", "g.scope", "?4", "?7"], grant, p())?,
        mint_token_statement(db, TokenKind::Refresh, ["?8", "g.scope", "?4", "?9"], grant, p())?,
        user,
        groups,
        audit_for_grant(db, r.tenant_id, &r.grant_id, "token_issued", r.origin, r.now)?,
    ];
    let mut statements = statements;
    statements.extend(super::codes::spend_assertion(
        db,
        r.tenant_id,
        r.credentials,
    )?);
    let results = db.batch(statements).await?;
    let state = first_row::<PolledRow>(&results[1])?
        .map(|row| -> Result<PolledState> {
            Ok(PolledState {
                status: Status::parse(&row.status).ok_or_else(|| {
                    crate::error::Error::Internal(format!("device status {}", row.status))
                })?,
                interval_secs: row.interval_secs,
                last_polled_at: row.last_polled_at,
                expires_at: row.expires_at,
            })
        })
        .transpose()?;
    Ok(PollOutcome {
        client: client_from(&results[0])?,
        state,
        redeemed: first_row(&results[3])?,
        user: subject_from(&results[7..9])?,
    })
}
