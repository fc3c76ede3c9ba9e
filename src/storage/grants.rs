//! Grants and the tokens issued under them.
//!
//! A grant is the family of tokens one authorization code started (`storage::codes` creates
//! it). Tokens are opaque random values stored as hashes and are valid only while their grant
//! is not revoked, so revoking a grant (code replay, refresh token reuse, client deletion,
//! logout) kills every token at once.
//!
//! Two pieces of SQL are shared by every operation that issues tokens or releases claims, and
//! written once here: minting a token row from a grant (`mint_token_statement`) and reading
//! the enabled user behind a token with their groups (`subject_statements`).

use super::apis::ACCESS_COLUMNS;
use super::audit::{self, Origin};
use super::backchannel::LogoutTarget;
use super::clients::{ClientRow, CLIENT_COLUMNS};
use super::db::{first_row, rows, Db, Param, QueryResult, Statement};
use super::users::{GroupClaimsRow, UserRow, USER_COLUMNS};
use crate::crypto::random;
use crate::error::Result;
use crate::oidc::claims::UserClaims;
use crate::oidc::client::{Client, ClientCredentials};
use crate::params;

/// Which of a client's stored token lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lifetime {
    Access,
    Refresh,
}

/// SQL for `now` plus client `client`'s `kind` lifetime (all three SQL expressions of the
/// caller's statement; `default` binds the provider's default): the client's setting within the
/// bounds, or the default, exactly as `TokenSettings::from_stored` reads the same columns. A
/// client gone mid-batch gets the default rather than a NULL expiry that would fail the batch.
pub(super) fn expiry_sql(now: &str, kind: Lifetime, client: &str, default: &str) -> String {
    use crate::oidc::token_settings::{ACCESS_BOUNDS, REFRESH_BOUNDS};
    let (column, (min, max)) = match kind {
        Lifetime::Access => ("access_token_ttl", ACCESS_BOUNDS),
        Lifetime::Refresh => ("refresh_token_ttl", REFRESH_BOUNDS),
    };
    format!(
        "({now} + COALESCE((SELECT MIN(MAX(COALESCE(tc.{column}, {default}), {min}), {max}) \
         FROM oidc_clients tc WHERE tc.id = {client}), {default}))"
    )
}

/// The provider's default lifetimes, bound where [`expiry_sql`] reads them.
pub(super) fn default_lifetimes() -> (i64, i64) {
    let d = crate::oidc::token_settings::TokenSettings::default();
    (d.access_ttl, d.refresh_ttl)
}

/// The two kinds of token rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Access,
    Refresh,
}

/// Inserts a token row for every grant the `source` clause selects (aliased `g`, joined to
/// whatever else the caller needs). The other arguments are SQL expressions of the caller's
/// statement (parameters such as `?6`, or columns): the token's hash, scope, creation time and
/// expiry. A refresh successor is inserted `OR IGNORE`: concurrent rotations within the grace
/// period compute the same successor and keep one row.
pub(super) fn mint_token_statement(
    db: &Db,
    kind: TokenKind,
    [hash, scope, created_at, expires_at]: [&str; 4],
    source: &str,
    params: Vec<Param>,
) -> Result<Statement> {
    let (insert, table) = match kind {
        TokenKind::Access => ("INSERT", "access_tokens"),
        TokenKind::Refresh => ("INSERT OR IGNORE", "refresh_tokens"),
    };
    db.statement(
        &format!(
            "{insert} INTO {table} (token_hash, grant_id, tenant_id, client_id, user_id, scope, created_at, expires_at) \
             SELECT {hash}, g.id, g.tenant_id, g.client_id, g.user_id, {scope}, {created_at}, {expires_at} {source}"
        ),
        params,
    )
}

/// The two statements reading the subject of a token: the enabled user `user` (a SQL
/// expression, usually a subquery) of the tenant bound at `tenant` (`?N`), and their groups
/// with the groups' custom claims. Read them back with [`subject_from`].
pub(super) fn subject_statements(
    db: &Db,
    tenant: &str,
    user: &str,
    params: Vec<Param>,
) -> Result<[Statement; 2]> {
    Ok([
        db.statement(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = {tenant} AND disabled = 0 AND id = {user}"
            ),
            params.clone(),
        )?,
        db.statement(
            &format!(
                "SELECT ug.name, ug.custom_claims FROM user_groups ug \
                 JOIN user_group_members ugm ON ugm.group_id = ug.id \
                 WHERE ug.tenant_id = {tenant} AND ugm.user_id = {user} ORDER BY ug.name"
            ),
            params,
        )?,
    ])
}

/// The user's claims from the results of `subject_statements`; `None` when the user does not
/// exist or is disabled.
pub(super) fn subject_from(results: &[QueryResult]) -> Result<Option<UserClaims>> {
    let user: Option<UserRow> = first_row(&results[0])?;
    let groups: Vec<GroupClaimsRow> = rows(&results[1])?;
    Ok(user.map(|u| u.claims(&groups)))
}

/// An audit entry for a grant, written only if the grant exists (inside a batch that may or
/// may not have created it).
pub(super) fn audit_for_grant(
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

/// The client row statement that joins a batch (`c.id = ?{client}` of tenant `?{tenant}`).
pub(super) fn client_statement(
    db: &Db,
    tenant: &str,
    client: &str,
    params: Vec<Param>,
) -> Result<Statement> {
    db.statement(
        &format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients c WHERE c.tenant_id = {tenant} AND c.id = {client}"
        ),
        params,
    )
}

/// The protocol's view of the client row a [`client_statement`] returned.
pub(super) fn client_from(result: &QueryResult) -> Result<Option<Client>> {
    Ok(first_row::<ClientRow>(result)?.map(|row| row.to_client()))
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
pub(super) fn user_may_use_client(user: &str, client: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM users u WHERE u.id = {user} AND u.disabled = 0) \
         AND (NOT EXISTS (SELECT 1 FROM oidc_client_groups cg WHERE cg.client_id = {client}) \
              OR EXISTS (SELECT 1 FROM oidc_client_groups cg JOIN user_group_members m ON m.group_id = cg.group_id \
                         WHERE cg.client_id = {client} AND m.user_id = {user}))"
    )
}

crate::from_row! {
    /// A refresh token with its grant.
    #[derive(Debug)]
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
        /// The stored key of the session the grant began in (for `sid`).
        pub session_id: Option<String>,
        /// How that session was started (RFC 8176 values, JSON).
        pub amr: Option<String>,
        /// The API the grant's access tokens are for.
        pub resource: Option<String>,
    }
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
    pub client: Option<Client>,
    pub token: Option<RefreshRow>,
}

/// The presented refresh token as stored, selected by `?2` (its hash) and `?1` (the tenant).
const REFRESH_ROW: &str = "SELECT r.grant_id, r.client_id, r.scope, r.expires_at, r.used_at, r.replaced_by, \
     (SELECT s.used_at FROM refresh_tokens s WHERE s.token_hash = r.replaced_by) AS successor_used_at, \
     g.revoked_at, g.auth_time, g.session_id, g.amr, g.resource \
     FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
     WHERE r.token_hash = ?2 AND r.tenant_id = ?1";

/// The client a refresh request names and the presented refresh token, in one round trip
/// (needed first only when the request narrows the scope: see [`rotate_refresh`]).
pub async fn find_refresh(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    token_hash: &str,
) -> Result<RefreshLookup> {
    let results = db
        .batch(vec![
            client_statement(db, "?1", "?3", params![tenant_id, token_hash, client_id])?,
            db.statement(REFRESH_ROW, params![tenant_id, token_hash])?,
        ])
        .await?;
    Ok(RefreshLookup {
        client: client_from(&results[0])?,
        token: first_row(&results[1])?,
    })
}

pub struct Rotation<'a> {
    pub tenant_id: &'a str,
    /// The credentials the request presented: nothing changes unless they authenticate.
    pub credentials: &'a ClientCredentials,
    pub old_hash: &'a str,
    /// The successor's scope; `None` keeps the presented token's.
    pub scope: Option<&'a str>,
    pub now: i64,
    /// Seconds after rotation during which the old token still yields its successor.
    pub grace_secs: u32,
    pub access_token_hash: String,
    /// The successor's hash (see `oidc::refresh::successor`). Both expire after the client's
    /// lifetimes (`expiry_sql`).
    pub refresh_token_hash: String,
}

/// What a rotation batch saw and did.
pub struct RotationOutcome {
    /// The client the credentials name, as stored when the batch ran.
    pub client: Option<Client>,
    /// The presented token as it was BEFORE this batch (to judge the request by).
    pub token: Option<RefreshRow>,
    /// The user the new tokens were issued for; `None` when nothing was issued.
    pub issued: Option<Box<UserClaims>>,
    /// Whether the token's user may (still) use its client.
    pub may_use: bool,
    /// The API the grant's access tokens are for, with the client's grant there.
    pub api: Option<crate::oidc::resource::ApiAccess>,
}

/// The first parameter number of the client-authentication condition in a rotation.
const ROTATION_AUTH_FIRST_PARAM: usize = 11;

/// Rotates a refresh token in ONE batch (one round trip): reads the client and the presented
/// token as they are, then, only if the credentials authenticate the token's own client, the
/// token is live, its grant unrevoked and its user may use the client, marks it used (first use
/// only) and mints a new access token and the successor refresh token. The mints are selected
/// through `replaced_by`, so they happen for the request that rotated the token and, within the
/// grace period, for repeats that computed the same successor (`INSERT OR IGNORE` keeps one
/// successor row). The caller judges the request from what was read before the change (the
/// same rules, in Rust: `client_auth::judge`, `oidc::refresh::classify`), which the SQL
/// conditions mirror, so what it decides and what the batch did agree.
pub async fn rotate_refresh(db: &Db, r: &Rotation<'_>) -> Result<RotationOutcome> {
    let (authenticated, auth_params) = super::codes::client_authenticated(
        &r.credentials.accepted_states(),
        r.now,
        ROTATION_AUTH_FIRST_PARAM,
    );
    let (access_default, refresh_default) = default_lifetimes();
    let p = || {
        let mut p = params![
            r.tenant_id,
            r.old_hash,
            r.credentials.client_id.as_str(),
            r.now,
            r.access_token_hash.as_str(),
            access_default,
            r.refresh_token_hash.as_str(),
            refresh_default,
            r.scope,
            i64::from(r.grace_secs)
        ];
        p.extend(auth_params.iter().cloned());
        p
    };
    let grant = "(SELECT grant_id FROM refresh_tokens WHERE token_hash = ?2 AND tenant_id = ?1)";
    let grant_user = format!("(SELECT user_id FROM grants WHERE id = {grant} AND tenant_id = ?1)");
    let grant_client =
        format!("(SELECT client_id FROM grants WHERE id = {grant} AND tenant_id = ?1)");
    let may_use = user_may_use_client(&grant_user, &grant_client);
    let issues = format!(
        "FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id AND g.revoked_at IS NULL \
         WHERE r.token_hash = ?2 AND r.tenant_id = ?1 AND r.client_id = ?3 AND r.expires_at > ?4 \
         AND r.replaced_by = ?7 AND r.used_at >= ?4 - ?10 \
         AND NOT EXISTS (SELECT 1 FROM refresh_tokens s WHERE s.token_hash = ?7 AND s.used_at IS NOT NULL) \
         AND {may_use} AND {authenticated}"
    );
    let [user, groups] = subject_statements(db, "?1", &grant_user, p())?;
    let results = db
        .batch(vec![
            client_statement(db, "?1", "?3", p())?,
            db.statement(REFRESH_ROW, p())?,
            db.statement(
                &format!(
                    "UPDATE refresh_tokens SET used_at = ?4, replaced_by = ?7 \
                     WHERE token_hash = ?2 AND tenant_id = ?1 AND used_at IS NULL \
                     AND client_id = ?3 AND expires_at > ?4 \
                     AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id AND g.revoked_at IS NULL) \
                     AND {may_use} AND {authenticated}"
                ),
                p(),
            )?,
            mint_token_statement(
                db,
                TokenKind::Access,
                [
                    "?5",
                    "COALESCE(?9, r.scope)",
                    "?4",
                    &expiry_sql("?4", Lifetime::Access, "r.client_id", "?6"),
                ],
                &issues,
                p(),
            )?,
            mint_token_statement(
                db,
                TokenKind::Refresh,
                [
                    "?7",
                    "COALESCE(?9, r.scope)",
                    "?4",
                    &expiry_sql("?4", Lifetime::Refresh, "r.client_id", "?8"),
                ],
                &issues,
                p(),
            )?,
            user,
            groups,
            db.statement(&format!("SELECT {may_use} AS n"), p())?,
            db.statement(
                &format!(
                    "SELECT {ACCESS_COLUMNS} FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
                     JOIN apis a ON a.tenant_id = g.tenant_id AND a.identifier = g.resource \
                     LEFT JOIN client_api_permissions p ON p.api_id = a.id AND p.client_id = g.client_id AND p.tenant_id = g.tenant_id \
                     WHERE r.token_hash = ?2 AND r.tenant_id = ?1"
                ),
                p(),
            )?,
        ]
        .into_iter()
        .chain(super::codes::spend_assertion(db, r.tenant_id, r.credentials)?)
        .collect())
        .await?;
    let minted = super::db::changes(&results[3]) > 0;
    Ok(RotationOutcome {
        client: client_from(&results[0])?,
        token: first_row(&results[1])?,
        issued: if minted {
            subject_from(&results[5..7])?.map(Box::new)
        } else {
            None
        },
        may_use: super::db::count(&results[7])? > 0,
        api: super::apis::access_from(&results[8])?,
    })
}

crate::from_row! {
    /// A live access or refresh token, for userinfo and introspection.
    #[derive(Debug)]
    pub struct TokenRow {
        pub client_id: String,
        pub user_id: String,
        pub scope: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub auth_time: i64,
    }
}

pub struct AccessLookup {
    pub token: Option<TokenRow>,
    /// The token's user, when enabled.
    pub user: Option<UserClaims>,
}

/// Finds a live (unexpired, grant not revoked) access token and its enabled user's claims.
pub async fn find_access_token(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<AccessLookup> {
    let live = "FROM access_tokens t JOIN grants g ON g.id = t.grant_id AND g.revoked_at IS NULL \
                WHERE t.token_hash = ?1 AND t.tenant_id = ?2 AND t.expires_at > ?3";
    let [user, groups] = subject_statements(
        db,
        "?2",
        &format!("(SELECT t.user_id {live})"),
        params![token_hash, tenant_id, now],
    )?;
    let results = db
        .batch(vec![
            db.statement(
                &format!("SELECT t.client_id, t.user_id, t.scope, t.created_at, t.expires_at, g.auth_time {live}"),
                params![token_hash, tenant_id, now],
            )?,
            user,
            groups,
        ])
        .await?;
    Ok(AccessLookup {
        token: first_row(&results[0])?,
        user: subject_from(&results[1..3])?,
    })
}

/// A live refresh token (unexpired, not yet rotated, grant not revoked), for introspection.
pub async fn find_live_refresh(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<TokenRow>> {
    db.first(
        "SELECT r.client_id, r.user_id, r.scope, r.created_at, r.expires_at, g.auth_time \
         FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id AND g.revoked_at IS NULL \
         WHERE r.token_hash = ?1 AND r.tenant_id = ?2 AND r.expires_at > ?3 AND r.used_at IS NULL",
        params![token_hash, tenant_id, now],
    )
    .await
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

/// A browser session ending at the end-session endpoint (RP-initiated logout).
pub struct SessionEnd<'a> {
    pub tenant_id: &'a str,
    pub session_id_hash: &'a str,
    pub user_id: &'a str,
    pub origin: &'a Origin,
    pub now: i64,
}

/// Ends a session in one batch: revokes every grant issued through it, deletes it and records
/// the logout. Returns the clients to send back-channel logout tokens to, read in the same
/// batch before the grants were revoked.
pub async fn end_session(db: &Db, e: &SessionEnd<'_>) -> Result<Vec<LogoutTarget>> {
    let results = db
        .batch(vec![
        super::backchannel::targets_statement(
            db,
            e.tenant_id,
            super::backchannel::Ending::Session {
                session_id_hash: e.session_id_hash,
            },
            e.now,
        )?,
        db.statement(
            "UPDATE grants SET revoked_at = ?3 WHERE tenant_id = ?1 AND session_id = ?2 AND revoked_at IS NULL",
            params![e.tenant_id, e.session_id_hash, e.now],
        )?,
        super::sessions::delete_statement(db, e.tenant_id, e.session_id_hash)?,
        audit::insert_statement(
            db,
            e.tenant_id,
            "logout",
            Some(e.user_id),
            None,
            e.origin,
            &serde_json::json!({ "via": "end_session" }),
            e.now,
        )?,
    ])
    .await?;
    super::backchannel::targets_from(&results[0])
}

#[cfg(test)]
crate::from_row! {
    /// A grant as stored (tests read what a request left behind; no endpoint lists grants).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GrantState {
        pub id: String,
        pub client_id: String,
        pub revoked_at: Option<i64>,
    }
}

/// Every grant of the tenant, oldest first.
#[cfg(test)]
pub async fn states_of_tenant(db: &Db, tenant_id: &str) -> Result<Vec<GrantState>> {
    db.all(
        "SELECT id, client_id, revoked_at FROM grants WHERE tenant_id = ?1 ORDER BY created_at, id",
        params![tenant_id],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hash::secret_hash;
    use crate::oidc::client::ClientCredentials;
    use crate::storage::codes::{self, tests::fresh_code, Redemption};
    use crate::testing::{self, run, NOW};

    /// A rotation of `old` by `app` (secret "s") to a fresh successor at `now`.
    fn rotation<'a>(
        tenant_id: &'a str,
        credentials: &'a ClientCredentials,
        old_hash: &'a str,
        now: i64,
    ) -> Rotation<'a> {
        Rotation {
            tenant_id,
            credentials,
            old_hash,
            scope: None,
            now,
            grace_secs: 10,
            access_token_hash: secret_hash(&random::token()),
            refresh_token_hash: secret_hash(&random::token()),
        }
    }

    /// A tenant whose user alice holds a grant of the client "app": (tenant id, client id,
    /// hash of the grant's refresh token, grant id).
    async fn granted(db: &Db) -> (String, String, String, String) {
        let t = testing::tenant(db, "acme").await;
        let alice = testing::user(db, &t.id, "alice", false).await;
        let app = testing::client(db, &t.id, &testing::client_input("app"), Some("s")).await;
        let code = fresh_code(db, &t.id, &app.id, &alice).await;
        let creds = ClientCredentials::from_request(None, Some(&app.id), Some("s")).unwrap();
        let refresh = secret_hash(&random::token());
        let redemption = Redemption {
            tenant_id: &t.id,
            code_hash: secret_hash(&code),
            credentials: &creds,
            now: NOW,
            grant_id: random::id(),
            access_token_hash: secret_hash(&random::token()),
            refresh_token_hash: refresh.clone(),
            origin: &Origin::default(),
        };
        codes::redeem_code(db, &redemption).await.unwrap();
        let grant = testing::grants(db, &t.id).await[0].id.clone();
        (t.id, app.id, refresh, grant)
    }

    fn creds(app: &str, secret: &str) -> ClientCredentials {
        ClientCredentials::from_request(None, Some(app), Some(secret)).unwrap()
    }

    /// The presented token's state, read on its own.
    async fn token(db: &Db, tid: &str, app: &str, hash: &str) -> RefreshRow {
        find_refresh(db, tid, app, hash)
            .await
            .unwrap()
            .token
            .unwrap()
    }

    #[test]
    fn a_rotation_for_a_disabled_user_changes_nothing() {
        let db = testing::db();
        run(async {
            let (tid, app, old, _) = granted(&db).await;
            let tid = tid.as_str();
            testing::set_disabled(&db, "user-alice", true).await;
            let creds = creds(&app, "s");
            let r = rotation(tid, &creds, &old, NOW + 1);
            let out = rotate_refresh(&db, &r).await.unwrap();
            assert!(out.issued.is_none());
            assert!(!out.may_use);
            assert_eq!(
                token(&db, tid, &app, &old).await.used_at,
                None,
                "not burned"
            );
            assert!(find_live_refresh(&db, tid, &r.refresh_token_hash, NOW)
                .await
                .unwrap()
                .is_none());
        });
    }

    #[test]
    fn credentials_that_do_not_authenticate_the_tokens_client_change_nothing() {
        let db = testing::db();
        run(async {
            let (tid, app, old, _) = granted(&db).await;
            let tid = tid.as_str();
            let other = testing::client(&db, tid, &testing::client_input("other"), Some("o")).await;
            for (client, secret) in [(app.as_str(), "wrong"), (other.id.as_str(), "o")] {
                let creds = creds(client, secret);
                let r = rotation(tid, &creds, &old, NOW + 1);
                let out = rotate_refresh(&db, &r).await.unwrap();
                assert!(out.issued.is_none(), "{client}/{secret}");
                assert_eq!(
                    token(&db, tid, &app, &old).await.used_at,
                    None,
                    "not burned"
                );
            }
            // The right ones rotate it, in the same one batch.
            let creds = creds(&app, "s");
            let r = rotation(tid, &creds, &old, NOW + 1);
            let trips = db.round_trips();
            let out = rotate_refresh(&db, &r).await.unwrap();
            assert_eq!(db.round_trips() - trips, 1);
            assert_eq!(out.token.unwrap().used_at, None, "read as it was before");
            assert_eq!(out.issued.unwrap().sub, "user-alice");
            assert_eq!(token(&db, tid, &app, &old).await.used_at, Some(NOW + 1));
        });
    }

    #[test]
    fn an_expired_or_revoked_token_mints_nothing() {
        let db = testing::db();
        run(async {
            let (tid, app, old, grant) = granted(&db).await;
            let tid = tid.as_str();
            let creds = creds(&app, "s");
            // The client keeps the default lifetime.
            let expiry = NOW + crate::oidc::token::REFRESH_TOKEN_TTL;
            let late = rotation(tid, &creds, &old, expiry);
            assert!(rotate_refresh(&db, &late).await.unwrap().issued.is_none());
            revoke_grant(&db, tid, &grant, NOW + 2).await.unwrap();
            let revoked = rotation(tid, &creds, &old, NOW + 3);
            assert!(rotate_refresh(&db, &revoked)
                .await
                .unwrap()
                .issued
                .is_none());
            assert_eq!(token(&db, tid, &app, &old).await.used_at, None);
        });
    }

    #[test]
    fn a_second_rotation_to_another_successor_mints_nothing() {
        let db = testing::db();
        run(async {
            let (tid, app, old, grant) = granted(&db).await;
            let tid = tid.as_str();
            assert_eq!(token(&db, tid, &app, &old).await.grant_id, grant);
            let creds = creds(&app, "s");
            let first = rotation(tid, &creds, &old, NOW + 1);
            let out = rotate_refresh(&db, &first).await.unwrap();
            assert!(matches!(out.issued, Some(u) if u.sub == "user-alice"));
            let second = rotation(tid, &creds, &old, NOW + 2);
            let out = rotate_refresh(&db, &second).await.unwrap();
            assert!(out.issued.is_none());
            assert!(out.may_use);
            assert_eq!(out.token.unwrap().used_at, Some(NOW + 1));
            assert!(
                find_live_refresh(&db, tid, &first.refresh_token_hash, NOW + 2)
                    .await
                    .unwrap()
                    .is_some()
            );
            assert!(
                find_live_refresh(&db, tid, &second.refresh_token_hash, NOW + 2)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                find_access_token(&db, tid, &second.access_token_hash, NOW + 2)
                    .await
                    .unwrap()
                    .token
                    .is_none()
            );
        });
    }
}
