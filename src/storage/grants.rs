//! Authorization codes, grants and the tokens issued under them.
//!
//! A grant is the family of tokens one authorization code started. Tokens are opaque random
//! values stored as hashes and are valid only while their grant is not revoked, so revoking a
//! grant (code replay, refresh token reuse, client deletion, logout) kills every token at once.
//!
//! Redeeming a code is ONE D1 batch, which D1 runs as a single transaction:
//! 1. if the code was already redeemed, revoke the grant it created (RFC 6749 §4.1.2);
//! 2. mark the code redeemed, only if it is not yet (`WHERE redeemed_at IS NULL`), recording
//!    the new grant id: of any number of concurrent redemptions exactly one changes the row;
//! 3. create the grant, the access token and the refresh token from THAT row only;
//! 4. read the user and their groups for the claims.
//!
//! Client authentication is part of the same statements (the secret's hash is compared in SQL),
//! so a request without valid client credentials can neither redeem nor burn a code.

use serde::Deserialize;

use super::audit::Origin;
use super::clients::{ClientRow, CLIENT_COLUMNS};
use super::db::{first_row, rows, Db, Param, Statement};
use super::users::{GroupClaimsRow, UserRow, USER_COLUMNS};
use crate::crypto::random;
use crate::error::Result;
use crate::params;

/// The condition "the presented credentials authenticate client ?3 of tenant ?1"; parameters
/// ?20/?21 are candidate secret hashes ('' when absent), ?22 is 1 when no secret was sent.
const CLIENT_AUTHENTICATED: &str = "EXISTS (SELECT 1 FROM oidc_clients ac WHERE ac.id = ?3 AND ac.tenant_id = ?1 \
     AND ((ac.secret_hash IS NOT NULL AND ac.secret_hash IN (?20, ?21)) OR (ac.is_public = 1 AND ?22 = 1)))";

/// Parameters ?20-?22 for [`CLIENT_AUTHENTICATED`].
fn auth_params(secret_hashes: &[String]) -> [Param; 3] {
    let h = |i: usize| Param::from(secret_hashes.get(i).cloned().unwrap_or_default());
    [h(0), h(1), Param::from(secret_hashes.is_empty())]
}

/// Pads a parameter list to ?19 and appends the client-auth parameters as ?20-?22.
fn with_auth(mut p: Vec<Param>, secret_hashes: &[String]) -> Vec<Param> {
    p.resize(19, Param::Null);
    p.extend(auth_params(secret_hashes));
    p
}

/// A code about to be issued.
pub struct NewCode<'a> {
    pub tenant_id: &'a str,
    pub code: &'a str,
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub session_id_hash: &'a str,
    pub request_json: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

pub fn insert_code_statement(db: &Db, c: &NewCode<'_>) -> Result<Statement> {
    db.statement(
        "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, user_id, session_id, request, auth_time, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            crate::crypto::hash::secret_hash(c.code),
            c.tenant_id,
            c.client_id,
            c.user_id,
            c.session_id_hash,
            c.request_json.as_str(),
            c.auth_time,
            c.expires_at
        ],
    )
}

/// What a token request redeems a code with.
pub struct Redemption<'a> {
    pub tenant_id: &'a str,
    pub code_hash: String,
    pub client_id: &'a str,
    pub secret_hashes: Vec<String>,
    pub now: i64,
    pub grant_id: String,
    pub access_token_hash: String,
    pub access_expires_at: i64,
    pub refresh_token_hash: String,
    pub refresh_expires_at: i64,
    pub origin: &'a Origin,
}

#[derive(Debug, Deserialize)]
pub struct RedeemedCode {
    pub request: String,
    pub auth_time: i64,
}

pub struct RedeemOutcome {
    pub client: Option<ClientRow>,
    /// `Some` only for the one request that redeemed the code.
    pub code: Option<RedeemedCode>,
    pub user: Option<UserRow>,
    pub groups: Vec<GroupClaimsRow>,
}

pub async fn redeem_code(db: &Db, r: &Redemption<'_>) -> Result<RedeemOutcome> {
    let base = || {
        params![
            r.tenant_id,
            &r.code_hash,
            r.client_id,
            r.now,
            &r.grant_id,
            r.access_token_hash.as_str(),
            r.access_expires_at,
            r.refresh_token_hash.as_str(),
            r.refresh_expires_at
        ]
    };
    let p = || with_auth(base(), &r.secret_hashes);
    let grant_user = "(SELECT user_id FROM grants WHERE id = ?5 AND tenant_id = ?1)";
    let statements = vec![
        db.statement(
            &format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients c WHERE c.tenant_id = ?1 AND c.id = ?3"),
            p(),
        )?,
        db.statement(
            &format!(
                "UPDATE grants SET revoked_at = ?4 WHERE tenant_id = ?1 AND revoked_at IS NULL AND id = \
                 (SELECT grant_id FROM authorization_codes WHERE code_hash = ?2 AND tenant_id = ?1 \
                  AND client_id = ?3 AND redeemed_at IS NOT NULL) AND {CLIENT_AUTHENTICATED}"
            ),
            p(),
        )?,
        db.statement(
            &format!(
                "UPDATE authorization_codes SET redeemed_at = ?4, grant_id = ?5 \
                 WHERE code_hash = ?2 AND tenant_id = ?1 AND client_id = ?3 AND redeemed_at IS NULL \
                 AND expires_at > ?4 AND {CLIENT_AUTHENTICATED} RETURNING request, auth_time"
            ),
            p(),
        )?,
        db.statement(
            "INSERT INTO grants (id, tenant_id, client_id, user_id, scope, auth_time, session_id, created_at, expires_at) \
             SELECT ?5, a.tenant_id, a.client_id, a.user_id, json_extract(a.request, '$.scope'), a.auth_time, a.session_id, ?4, ?9 \
             FROM authorization_codes a JOIN users u ON u.id = a.user_id AND u.tenant_id = a.tenant_id AND u.disabled = 0 \
             WHERE a.code_hash = ?2 AND a.tenant_id = ?1 AND a.grant_id = ?5",
            p(),
        )?,
        db.statement(
            "INSERT INTO access_tokens (token_hash, grant_id, tenant_id, client_id, user_id, scope, created_at, expires_at) \
             SELECT ?6, id, tenant_id, client_id, user_id, scope, ?4, ?7 FROM grants WHERE id = ?5 AND tenant_id = ?1",
            p(),
        )?,
        db.statement(
            "INSERT INTO refresh_tokens (token_hash, grant_id, tenant_id, client_id, user_id, scope, created_at, expires_at) \
             SELECT ?8, id, tenant_id, client_id, user_id, scope, ?4, ?9 FROM grants WHERE id = ?5 AND tenant_id = ?1",
            p(),
        )?,
        db.statement(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND disabled = 0 AND id = {grant_user}"),
            p(),
        )?,
        db.statement(
            &format!(
                "SELECT g.name, g.custom_claims FROM user_groups g JOIN user_group_members m ON m.group_id = g.id \
                 WHERE g.tenant_id = ?1 AND m.user_id = {grant_user} ORDER BY g.name"
            ),
            p(),
        )?,
        audit_for_grant(db, r.tenant_id, &r.grant_id, "token_issued", r.origin, r.now)?,
    ];
    let results = db.batch(statements).await?;
    Ok(RedeemOutcome {
        client: first_row(&results[0])?,
        code: first_row(&results[2])?,
        user: first_row(&results[6])?,
        groups: rows(&results[7])?,
    })
}

/// An audit entry for a grant, written only if the grant exists (inside a batch that may or
/// may not have created it).
fn audit_for_grant(
    db: &Db,
    tenant_id: &str,
    grant_id: &str,
    event: &str,
    o: &Origin,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO audit_logs (id, tenant_id, event, user_id, client_id, ip, user_agent, country, city, asn, details, created_at) \
         SELECT ?1, tenant_id, ?3, user_id, client_id, ?4, ?5, ?6, ?7, ?8, json_object('scope', scope), ?9 \
         FROM grants WHERE id = ?10 AND tenant_id = ?2",
        params![
            random::id(),
            tenant_id,
            event,
            o.ip.clone(),
            o.user_agent.clone(),
            o.country.clone(),
            o.city.clone(),
            o.asn,
            now,
            grant_id
        ],
    )
}

pub async fn revoke_grant(db: &Db, tenant_id: &str, grant_id: &str, now: i64) -> Result<()> {
    db.run(
        "UPDATE grants SET revoked_at = ?3 WHERE id = ?2 AND tenant_id = ?1 AND revoked_at IS NULL",
        params![tenant_id, grant_id, now],
    )
    .await?;
    Ok(())
}

/// The condition "user `{user}` is enabled and may use client `{client}`" (a client with no
/// allowed groups is open to every user), checked again at every refresh so that disabling a
/// user or removing them from the client's groups ends their access at the next refresh.
fn user_may_use_client(user: &str, client: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM users u WHERE u.id = {user} AND u.disabled = 0) \
         AND (NOT EXISTS (SELECT 1 FROM oidc_client_groups cg WHERE cg.client_id = {client}) \
              OR EXISTS (SELECT 1 FROM oidc_client_groups cg JOIN user_group_members m ON m.group_id = cg.group_id \
                         WHERE cg.client_id = {client} AND m.user_id = {user}))"
    )
}

/// A refresh token with its grant.
#[derive(Debug, Deserialize)]
pub struct RefreshRow {
    pub grant_id: String,
    pub client_id: String,
    pub scope: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub replaced_by: Option<String>,
    pub successor_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub auth_time: i64,
}

impl RefreshRow {
    pub fn stored(&self) -> crate::oidc::refresh::StoredRefresh {
        crate::oidc::refresh::StoredRefresh {
            expires_at: self.expires_at,
            revoked: self.revoked_at.is_some(),
            used_at: self.used_at,
            replaced_by: self.replaced_by.clone(),
            successor_used: self.successor_used_at.is_some(),
        }
    }
}

pub struct RefreshLookup {
    pub client: Option<ClientRow>,
    pub token: Option<RefreshRow>,
}

pub async fn find_refresh(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    token_hash: &str,
) -> Result<RefreshLookup> {
    let results = db
        .batch(vec![
            db.statement(
                &format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients c WHERE c.tenant_id = ?1 AND c.id = ?2"),
                params![tenant_id, client_id],
            )?,
            db.statement(
                "SELECT r.grant_id, r.client_id, r.scope, r.expires_at, r.used_at, r.replaced_by, \
                 (SELECT s.used_at FROM refresh_tokens s WHERE s.token_hash = r.replaced_by) AS successor_used_at, \
                 g.revoked_at, g.auth_time \
                 FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
                 WHERE r.token_hash = ?1 AND r.tenant_id = ?2",
                params![token_hash, tenant_id],
            )?,
        ])
        .await?;
    Ok(RefreshLookup {
        client: first_row(&results[0])?,
        token: first_row(&results[1])?,
    })
}

pub struct Rotation<'a> {
    pub tenant_id: &'a str,
    pub old_hash: &'a str,
    pub grant_id: &'a str,
    pub scope: &'a str,
    pub now: i64,
    /// Seconds after rotation during which the old token still yields its successor.
    pub grace_secs: u32,
    pub access_token_hash: String,
    pub access_expires_at: i64,
    /// The successor's hash (see `oidc::refresh::successor`).
    pub refresh_token_hash: String,
    pub refresh_expires_at: i64,
}

pub enum RotationOutcome {
    /// Tokens were issued (by the rotation, or as a grace-period repeat of it).
    Issued {
        user: Box<UserRow>,
        groups: Vec<GroupClaimsRow>,
    },
    /// The user is disabled or no longer allowed to use the client: nothing changed.
    NoAccess,
    /// Another request rotated the token and this one may not share its successor.
    Lost,
}

/// Rotates a refresh token in one batch: marks it used (first use only) and mints a new access
/// token and the successor refresh token. The mints are selected through `replaced_by`, so they
/// happen for the request that rotated the token and, within the grace period, for repeats
/// that computed the same successor (`INSERT OR IGNORE` keeps one successor row); nothing
/// happens when the user lost access to the client.
pub async fn rotate_refresh(db: &Db, r: &Rotation<'_>) -> Result<RotationOutcome> {
    let p = || {
        params![
            r.tenant_id,
            r.old_hash,
            r.grant_id,
            r.now,
            r.access_token_hash.as_str(),
            r.access_expires_at,
            r.refresh_token_hash.as_str(),
            r.refresh_expires_at,
            r.scope,
            i64::from(r.grace_secs)
        ]
    };
    let grant_user = "(SELECT user_id FROM grants WHERE id = ?3 AND tenant_id = ?1)";
    let grant_client = "(SELECT client_id FROM grants WHERE id = ?3 AND tenant_id = ?1)";
    let may_use = user_may_use_client(grant_user, grant_client);
    let issues = format!(
        "FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id AND g.revoked_at IS NULL \
         WHERE r.token_hash = ?2 AND r.tenant_id = ?1 AND r.replaced_by = ?7 AND r.used_at >= ?4 - ?10 \
         AND NOT EXISTS (SELECT 1 FROM refresh_tokens s WHERE s.token_hash = ?7 AND s.used_at IS NOT NULL) \
         AND {may_use}"
    );
    let results = db
        .batch(vec![
            db.statement(
                &format!(
                    "UPDATE refresh_tokens SET used_at = ?4, replaced_by = ?7 \
                     WHERE token_hash = ?2 AND tenant_id = ?1 AND used_at IS NULL AND {may_use}"
                ),
                p(),
            )?,
            db.statement(
                &format!(
                    "INSERT INTO access_tokens (token_hash, grant_id, tenant_id, client_id, user_id, scope, created_at, expires_at) \
                     SELECT ?5, r.grant_id, r.tenant_id, r.client_id, r.user_id, ?9, ?4, ?6 {issues}"
                ),
                p(),
            )?,
            db.statement(
                &format!(
                    "INSERT OR IGNORE INTO refresh_tokens (token_hash, grant_id, tenant_id, client_id, user_id, scope, created_at, expires_at) \
                     SELECT ?7, r.grant_id, r.tenant_id, r.client_id, r.user_id, ?9, ?4, ?8 {issues}"
                ),
                p(),
            )?,
            db.statement(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND disabled = 0 AND id = {grant_user}"),
                p(),
            )?,
            db.statement(
                &format!(
                    "SELECT g.name, g.custom_claims FROM user_groups g JOIN user_group_members m ON m.group_id = g.id \
                     WHERE g.tenant_id = ?1 AND m.user_id = {grant_user} ORDER BY g.name"
                ),
                p(),
            )?,
            db.statement(&format!("SELECT {may_use} AS n"), p())?,
        ])
        .await?;
    if super::db::changes(&results[1]) > 0 {
        if let Some(user) = first_row(&results[3])? {
            return Ok(RotationOutcome::Issued {
                user: Box::new(user),
                groups: rows(&results[4])?,
            });
        }
    }
    Ok(if super::db::count(&results[5])? == 0 {
        RotationOutcome::NoAccess
    } else {
        RotationOutcome::Lost
    })
}

/// A live access token with its user, for userinfo and introspection.
#[derive(Debug, Deserialize)]
pub struct AccessTokenRow {
    pub client_id: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub auth_time: i64,
}

pub struct AccessLookup {
    pub token: Option<AccessTokenRow>,
    pub user: Option<UserRow>,
    pub groups: Vec<GroupClaimsRow>,
}

/// Finds a live (unexpired, grant not revoked) access token, its user and their groups.
pub async fn find_access_token(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<AccessLookup> {
    let live = "FROM access_tokens t JOIN grants g ON g.id = t.grant_id AND g.revoked_at IS NULL \
                WHERE t.token_hash = ?1 AND t.tenant_id = ?2 AND t.expires_at > ?3";
    let user = format!("(SELECT t.user_id {live})");
    let results = db
        .batch(vec![
            db.statement(
                &format!("SELECT t.client_id, t.scope, t.created_at, t.expires_at, g.auth_time {live}"),
                params![token_hash, tenant_id, now],
            )?,
            db.statement(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?2 AND disabled = 0 AND id = {user}"),
                params![token_hash, tenant_id, now],
            )?,
            db.statement(
                &format!(
                    "SELECT g2.name, g2.custom_claims FROM user_groups g2 JOIN user_group_members m ON m.group_id = g2.id \
                     WHERE g2.tenant_id = ?2 AND m.user_id = {user} ORDER BY g2.name"
                ),
                params![token_hash, tenant_id, now],
            )?,
        ])
        .await?;
    Ok(AccessLookup {
        token: first_row(&results[0])?,
        user: first_row(&results[1])?,
        groups: rows(&results[2])?,
    })
}

/// A live refresh token, for introspection.
pub async fn find_live_refresh(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<(AccessTokenRow, String)>> {
    #[derive(Deserialize)]
    struct Row {
        client_id: String,
        scope: String,
        created_at: i64,
        expires_at: i64,
        auth_time: i64,
        user_id: String,
    }
    let row: Option<Row> = db
        .first(
            "SELECT r.client_id, r.scope, r.created_at, r.expires_at, g.auth_time, r.user_id \
             FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id AND g.revoked_at IS NULL \
             WHERE r.token_hash = ?1 AND r.tenant_id = ?2 AND r.expires_at > ?3 AND r.used_at IS NULL",
            params![token_hash, tenant_id, now],
        )
        .await?;
    Ok(row.map(|r| {
        (
            AccessTokenRow {
                client_id: r.client_id,
                scope: r.scope,
                created_at: r.created_at,
                expires_at: r.expires_at,
                auth_time: r.auth_time,
            },
            r.user_id,
        )
    }))
}

/// Revokes (RFC 7009) the grant behind an access or refresh token, if it belongs to the client.
/// Revoking either kind ends the whole grant: a client that revokes wants the user's session
/// with it gone.
pub async fn revoke_token(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<()> {
    db.run(
        "UPDATE grants SET revoked_at = ?4 WHERE tenant_id = ?1 AND client_id = ?2 AND revoked_at IS NULL AND id IN \
         (SELECT grant_id FROM access_tokens WHERE token_hash = ?3 AND tenant_id = ?1 \
          UNION SELECT grant_id FROM refresh_tokens WHERE token_hash = ?3 AND tenant_id = ?1)",
        params![tenant_id, client_id, token_hash, now],
    )
    .await?;
    Ok(())
}

/// Ends every grant issued through a browser session (RP-initiated logout).
pub fn revoke_session_grants_statement(
    db: &Db,
    tenant_id: &str,
    session_id_hash: &str,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "UPDATE grants SET revoked_at = ?3 WHERE tenant_id = ?1 AND session_id = ?2 AND revoked_at IS NULL",
        params![tenant_id, session_id_hash, now],
    )
}
