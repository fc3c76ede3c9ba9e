//! Authorization codes: issued at `/authorize`, redeemed once at the token endpoint.
//!
//! Redeeming a code is ONE batch, which D1 runs as a single transaction:
//! 1. if the code was already redeemed, revoke the grant it created (RFC 6749 §4.1.2);
//! 2. mark the code redeemed, only if it is not yet (`WHERE redeemed_at IS NULL`), recording
//!    the new grant id: of any number of concurrent redemptions exactly one changes the row;
//! 3. create the grant, the access token and the refresh token from THAT row only;
//! 4. read the user and their groups for the claims.
//!
//! Client authentication guards steps 1 and 2, so a request without valid client credentials
//! can neither redeem nor burn a code. It is not a second rule written in SQL: the condition is
//! generated from `ClientCredentials::accepted_states` (the one rule, in `oidc::client`), as
//! plain equality of the stored client's `is_public` and `secret_hash` with one of the states
//! the rule lists, and the caller applies the same rule to the client row the batch returns.

use serde::Deserialize;

use super::apis::{access_from, ACCESS_COLUMNS};
use super::audit::{self, Origin, When};
use super::db::QueryResult;
use super::db::{changes, first_row, Db, Param, Statement};
use super::grants::{
    audit_for_grant, client_from, client_statement, default_lifetimes, expiry_sql,
    mint_token_statement, subject_from, subject_statements, Lifetime, TokenKind,
};
use super::interactions;
use super::spent::{self, Spend};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::oidc::claims::UserClaims;
use crate::oidc::client::{Client, ClientCredentials, StoredAuth};
use crate::oidc::resource::ApiAccess;
use crate::params;

/// Who a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSubject<'a> {
    /// This user, signed in at `auth_time` (the session must be theirs).
    User { id: &'a str, auth_time: i64 },
    /// Whoever the session names, signed in when it says: for a request that needs nothing but
    /// a live session, decided in the same batch that reads the session.
    SessionHolder,
}

/// A code about to be issued, with what its batch also does.
pub struct NewCode<'a> {
    pub tenant_id: &'a str,
    pub code: &'a str,
    pub client_id: &'a str,
    /// Where the code goes: it must still be one of the client's redirect URIs.
    pub redirect_uri: &'a str,
    pub subject: CodeSubject<'a>,
    pub session_id_hash: &'a str,
    /// The validated authorization request (JSON), replayed at redemption.
    pub request_json: String,
    pub scope: String,
    pub expires_at: i64,
    pub now: i64,
    pub origin: &'a Origin,
    /// The parked request this code concludes: spent with the issue, and no code if it was
    /// spent already.
    pub interaction: Option<Spend<'a>>,
    /// The user consented to `scope` during this interaction: remember it.
    pub consented: bool,
}

/// The statements that issue a code: the code itself, only if at that point of the batch the
/// client still has the redirect URI, the session is live (for the subject, when one is
/// named) with an enabled user who may use the client (its groups) and the parked request (if
/// any) is unspent; then, only if the code was issued, its `authorize` audit entry, the
/// spending of the parked request and the consent given in it. The caller decided all this
/// from what it read; the conditions make the primary confirm it in the same transaction, so a
/// decision made on a read replica, or just before a concurrent change, cannot issue a code
/// the current state would refuse.
pub(super) fn issue_statements(db: &Db, c: &NewCode<'_>) -> Result<Vec<Statement>> {
    let code_hash = secret_hash(c.code);
    let (user_id, auth_time) = match c.subject {
        CodeSubject::User { id, auth_time } => (Some(id), Some(auth_time)),
        CodeSubject::SessionHolder => (None, None),
    };
    let mut statements = vec![
        db.statement(
            "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, user_id, session_id, request, auth_time, expires_at, amr) \
             SELECT ?1, ?2, ?3, s.user_id, ?5, ?6, COALESCE(?7, s.auth_time), ?8, s.amr \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = ?5 AND s.tenant_id = ?2 AND s.expires_at > ?9 AND u.disabled = 0 \
             AND (?4 IS NULL OR s.user_id = ?4) \
             AND (NOT EXISTS (SELECT 1 FROM oidc_client_groups WHERE client_id = ?3) \
                  OR EXISTS (SELECT 1 FROM oidc_client_groups cg JOIN user_group_members m ON m.group_id = cg.group_id \
                             WHERE cg.client_id = ?3 AND m.user_id = s.user_id)) \
             AND (?10 IS NULL OR NOT EXISTS (SELECT 1 FROM spent_tokens WHERE id = ?10)) \
             AND EXISTS (SELECT 1 FROM oidc_clients c, json_each(c.redirect_uris) r \
                         WHERE c.id = ?3 AND c.tenant_id = ?2 AND r.value = ?11)",
            params![
                code_hash.as_str(),
                c.tenant_id,
                c.client_id,
                user_id,
                c.session_id_hash,
                c.request_json.as_str(),
                auth_time,
                c.expires_at,
                c.now,
                c.interaction.map(|i| i.id),
                c.redirect_uri
            ],
        )?,
        audit::insert_when_statement(
            db,
            c.tenant_id,
            "authorize",
            user_id,
            Some(c.client_id),
            c.origin,
            &serde_json::json!({ "scope": c.scope }),
            c.now,
            When::CodeIssued(&code_hash),
        )?,
    ];
    if let Some(spend) = c.interaction {
        statements.push(spent::statement_if_code(
            db,
            c.tenant_id,
            spend,
            &code_hash,
        )?);
    }
    if c.consented {
        statements.push(interactions::save_consent_statement(
            db,
            c.tenant_id,
            &c.scope,
            c.now,
            &code_hash,
        )?);
    }
    Ok(statements)
}

/// Issues a code in one batch ([`issue_statements`]); false when the primary refused it.
pub async fn issue_code(db: &Db, c: &NewCode<'_>) -> Result<bool> {
    let results = db.batch(issue_statements(db, c)?).await?;
    Ok(issued(&results[0]))
}

/// Whether the first of [`issue_statements`] issued the code.
pub(super) fn issued(result: &QueryResult) -> bool {
    changes(result) == 1
}

/// The first parameter number of the client-authentication condition in a redemption; the
/// redemption's own parameters are ?1-?9.
const AUTH_FIRST_PARAM: usize = 10;

/// The condition "the presented credentials authenticate client ?3 of tenant ?1", generated
/// from the one rule: the stored state must equal one of `accepted` (each state binds two
/// parameters from `?first` on; `IS` so that a NULL secret hash compares equal). Shared by
/// every batch that must not act for unauthenticated credentials (code redemption, refresh).
pub(super) fn client_authenticated(accepted: &[StoredAuth], first: usize) -> (String, Vec<Param>) {
    let mut alternatives = Vec::new();
    let mut params = Vec::new();
    for (i, state) in accepted.iter().enumerate() {
        let n = first + 2 * i;
        alternatives.push(format!(
            "((ac.is_public <> 0) = ?{n} AND ac.secret_hash IS ?{})",
            n + 1
        ));
        params.push(Param::from(state.is_public));
        params.push(Param::from(state.secret_hash.clone()));
    }
    // An empty rule authenticates nothing (the rule never yields one; this keeps it total).
    let any = if alternatives.is_empty() {
        "0".to_string()
    } else {
        alternatives.join(" OR ")
    };
    (
        format!(
            "EXISTS (SELECT 1 FROM oidc_clients ac WHERE ac.id = ?3 AND ac.tenant_id = ?1 AND ({any}))"
        ),
        params,
    )
}

/// What a token request redeems a code with.
pub struct Redemption<'a> {
    pub tenant_id: &'a str,
    pub code_hash: String,
    pub credentials: &'a ClientCredentials,
    pub now: i64,
    pub grant_id: String,
    /// The tokens expire after the client's lifetimes (`grants::expiry_sql`).
    pub access_token_hash: String,
    pub refresh_token_hash: String,
    pub origin: &'a Origin,
}

#[derive(Debug, Deserialize)]
pub struct RedeemedCode {
    pub request: String,
    pub auth_time: i64,
    /// The stored key of the session the code was issued in (for `sid`).
    pub session_id: Option<String>,
    /// How that session was started (RFC 8176 values, JSON).
    pub amr: Option<String>,
}

pub struct RedeemOutcome {
    /// The client the credentials name, as stored when the batch ran.
    pub client: Option<Client>,
    /// `Some` only for the one request that redeemed the code.
    pub code: Option<RedeemedCode>,
    /// The grant's user, when the grant was created and the user is enabled.
    pub user: Option<UserClaims>,
    /// The API the request named (`resource`), with the client's grant there.
    pub api: Option<ApiAccess>,
}

pub async fn redeem_code(db: &Db, r: &Redemption<'_>) -> Result<RedeemOutcome> {
    let (authenticated, auth_params) =
        client_authenticated(&r.credentials.accepted_states(), AUTH_FIRST_PARAM);
    let (access_default, refresh_default) = default_lifetimes();
    let p = || {
        let mut p = params![
            r.tenant_id,
            &r.code_hash,
            r.credentials.client_id.as_str(),
            r.now,
            &r.grant_id,
            r.access_token_hash.as_str(),
            access_default,
            r.refresh_token_hash.as_str(),
            refresh_default
        ];
        p.extend(auth_params.iter().cloned());
        p
    };
    let grant = "FROM grants g WHERE g.id = ?5 AND g.tenant_id = ?1";
    let grant_expiry = expiry_sql("?4", Lifetime::Refresh, "a.client_id", "?9");
    let access_expiry = expiry_sql("?4", Lifetime::Access, "g.client_id", "?7");
    let refresh_expiry = expiry_sql("?4", Lifetime::Refresh, "g.client_id", "?9");
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
                "UPDATE grants SET revoked_at = ?4 WHERE tenant_id = ?1 AND revoked_at IS NULL AND id = \
                 (SELECT grant_id FROM authorization_codes WHERE code_hash = ?2 AND tenant_id = ?1 \
                  AND client_id = ?3 AND redeemed_at IS NOT NULL) AND {authenticated}"
            ),
            p(),
        )?,
        db.statement(
            &format!(
                "UPDATE authorization_codes SET redeemed_at = ?4, grant_id = ?5 \
                 WHERE code_hash = ?2 AND tenant_id = ?1 AND client_id = ?3 AND redeemed_at IS NULL \
                 AND expires_at > ?4 AND {authenticated} RETURNING request, auth_time, session_id, amr"
            ),
            p(),
        )?,
        db.statement(
            &format!(
                "INSERT INTO grants (id, tenant_id, client_id, user_id, scope, auth_time, session_id, created_at, expires_at, resource, amr) \
                 SELECT ?5, a.tenant_id, a.client_id, a.user_id, json_extract(a.request, '$.scope') \
                 || COALESCE((SELECT ' ' || group_concat(s.value, ' ') FROM json_each(a.request, '$.api_scope') s), ''), \
                 a.auth_time, a.session_id, ?4, {grant_expiry}, \
                 json_extract(a.request, '$.resource'), a.amr \
                 FROM authorization_codes a JOIN users u ON u.id = a.user_id AND u.tenant_id = a.tenant_id AND u.disabled = 0 \
                 WHERE a.code_hash = ?2 AND a.tenant_id = ?1 AND a.grant_id = ?5"
            ),
            p(),
        )?,
        mint_token_statement(
            db,
            TokenKind::Access,
            ["?6", "g.scope", "?4", &access_expiry],
            grant,
            p(),
        )?,
        mint_token_statement(
            db,
            TokenKind::Refresh,
            ["?8", "g.scope", "?4", &refresh_expiry],
            grant,
            p(),
        )?,
        user,
        groups,
        audit_for_grant(db, r.tenant_id, &r.grant_id, "token_issued", r.origin, r.now)?,
        // The API the request named, with the client's grant there (for the one redemption).
        db.statement(
            &format!(
                "SELECT {ACCESS_COLUMNS} FROM authorization_codes ac \
                 JOIN apis a ON a.tenant_id = ac.tenant_id AND a.identifier = json_extract(ac.request, '$.resource') \
                 LEFT JOIN client_api_permissions p ON p.api_id = a.id AND p.client_id = ac.client_id AND p.tenant_id = ac.tenant_id \
                 WHERE ac.code_hash = ?2 AND ac.tenant_id = ?1 AND ac.grant_id = ?5"
            ),
            p(),
        )?,
    ];
    let results = db.batch(statements).await?;
    Ok(RedeemOutcome {
        client: client_from(&results[0])?,
        code: first_row(&results[2])?,
        user: subject_from(&results[6..8])?,
        api: access_from(&results[9])?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::random;
    use crate::testing::{self, run, tenant, user, NOW};

    /// A fresh code for the client, issued through the storage operation.
    pub(in crate::storage) async fn fresh_code(
        db: &Db,
        tenant_id: &str,
        client_id: &str,
        user_id: &str,
    ) -> String {
        let code = random::token();
        let session = secret_hash(&crate::testing::session(db, tenant_id, user_id, NOW).await);
        let client = super::super::clients::find_client(db, tenant_id, client_id)
            .await
            .unwrap()
            .expect("the client exists");
        let issued = issue_code(
            db,
            &NewCode {
                tenant_id,
                code: &code,
                client_id,
                redirect_uri: &client.redirect_uris[0],
                subject: CodeSubject::User {
                    id: user_id,
                    auth_time: NOW,
                },
                session_id_hash: &session,
                request_json: "{\"scope\":\"openid\"}".into(),
                scope: "openid".into(),
                expires_at: NOW + 60,
                now: NOW,
                origin: &Origin::default(),
                interaction: None,
                consented: false,
            },
        )
        .await
        .expect("code issued");
        assert!(issued, "the primary confirms the code's conditions");
        code
    }

    async fn redeem(
        db: &Db,
        tenant_id: &str,
        code: &str,
        creds: &ClientCredentials,
    ) -> RedeemOutcome {
        redeem_code(
            db,
            &Redemption {
                tenant_id,
                code_hash: secret_hash(code),
                credentials: creds,
                now: NOW,
                grant_id: random::id(),
                access_token_hash: secret_hash(&random::token()),
                refresh_token_hash: secret_hash(&random::token()),
                origin: &Origin::default(),
            },
        )
        .await
        .expect("the batch runs")
    }

    /// The SQL of the redemption and the Rust rule decide client authentication alike, for
    /// every stored client state (including two storage never writes) and every way of
    /// presenting credentials: the redemption happens exactly when `authenticate` accepts.
    #[test]
    fn the_redemption_sql_and_the_rust_rule_agree_on_client_authentication() {
        let db = testing::db();
        run(async {
            let t = tenant(&db, "acme").await;
            let alice = user(&db, &t.id, "alice", false).await;
            let stored: [(&str, bool, Option<&str>); 4] = [
                ("confidential", false, Some("right")),
                ("public", true, None),
                ("public-with-secret", true, Some("right")),
                ("confidential-without-secret", false, None),
            ];
            let basic = |id: &str, secret: &str| {
                use base64::Engine;
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
                )
            };
            let mut checked = 0;
            for (name, is_public, secret) in stored {
                let client =
                    testing::client(&db, &t.id, &testing::client_input(name), secret).await;
                // Force the exact stored state (two of them no operation writes).
                db.run(
                    "UPDATE oidc_clients SET is_public = ?2, secret_hash = ?3 WHERE id = ?1",
                    crate::params![client.id.as_str(), is_public, secret.map(secret_hash)],
                )
                .await
                .unwrap();
                let presented = [
                    ClientCredentials::from_request(None, Some(&client.id), None),
                    ClientCredentials::from_request(None, Some(&client.id), Some("right")),
                    ClientCredentials::from_request(None, Some(&client.id), Some("wrong")),
                    // Two candidates from Basic: "r%69ght" as sent, and "right" form-decoded.
                    ClientCredentials::from_request(
                        Some(&basic(&client.id, "r%69ght")),
                        None,
                        None,
                    ),
                    ClientCredentials::from_request(
                        Some(&basic(&client.id, "wr%6fng")),
                        None,
                        None,
                    ),
                ];
                for creds in presented {
                    let creds = creds.unwrap();
                    let code = fresh_code(&db, &t.id, &client.id, &alice).await;
                    let outcome = redeem(&db, &t.id, &code, &creds).await;
                    let returned = outcome.client.expect("the batch returns the client");
                    assert_eq!(
                        (returned.is_public, returned.secret_hash.is_some()),
                        (is_public, secret.is_some())
                    );
                    let rust = creds.authenticate(&returned).is_ok();
                    assert_eq!(outcome.code.is_some(), rust, "{name}: {:?}", creds.secrets);
                    checked += usize::from(rust);
                }
            }
            assert_eq!(checked, 3, "right secret (post and Basic) for the confidential client, none for the public one");
        });
    }

    #[test]
    fn the_primary_issues_a_code_only_under_its_conditions() {
        let db = testing::db();
        run(async {
            let t = tenant(&db, "acme").await;
            let alice = user(&db, &t.id, "alice", false).await;
            let bob = user(&db, &t.id, "bob", false).await;
            let app = testing::client(&db, &t.id, &testing::client_input("app"), None).await;
            let alices = secret_hash(&testing::session(&db, &t.id, &alice, NOW).await);
            let origin = Origin::default();
            let spend = testing::spend(NOW);
            let code = |subject, session: &'static str, redirect_uri: &'static str| NewCode {
                tenant_id: Box::leak(t.id.clone().into_boxed_str()),
                code: Box::leak(random::token().into_boxed_str()),
                client_id: Box::leak(app.id.clone().into_boxed_str()),
                redirect_uri,
                subject,
                session_id_hash: session,
                request_json: "{}".into(),
                scope: "openid".into(),
                expires_at: NOW + 60,
                now: NOW,
                origin: &origin,
                interaction: Some(spend),
                consented: false,
            };
            let alices: &'static str = Box::leak(alices.into_boxed_str());
            let callback: &'static str = Box::leak(app.redirect_uris[0].clone().into_boxed_str());
            let as_bob = CodeSubject::User {
                id: Box::leak(bob.clone().into_boxed_str()),
                auth_time: NOW,
            };
            let as_alice = CodeSubject::User {
                id: Box::leak(alice.clone().into_boxed_str()),
                auth_time: NOW,
            };
            for (why, refused) in [
                ("another user's session", code(as_bob, alices, callback)),
                (
                    "no such session",
                    code(CodeSubject::SessionHolder, "nope", callback),
                ),
                (
                    "an unregistered redirect URI",
                    code(as_alice, alices, "https://evil.example/cb"),
                ),
            ] {
                assert!(!issue_code(&db, &refused).await.unwrap(), "{why}");
            }
            assert!(
                issue_code(&db, &code(CodeSubject::SessionHolder, alices, callback))
                    .await
                    .unwrap()
            );
            assert!(
                !issue_code(&db, &code(as_alice, alices, callback))
                    .await
                    .unwrap(),
                "the parked request was concluded by the first code"
            );
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.id).await,
                1
            );
        });
    }

    #[test]
    fn a_code_is_redeemed_once_and_a_repeat_revokes_its_grant() {
        let db = testing::db();
        run(async {
            let t = tenant(&db, "acme").await;
            let alice = user(&db, &t.id, "alice", false).await;
            let client =
                testing::client(&db, &t.id, &testing::client_input("app"), Some("s")).await;
            let creds = ClientCredentials::from_request(None, Some(&client.id), Some("s")).unwrap();
            let code = fresh_code(&db, &t.id, &client.id, &alice).await;
            let first = redeem(&db, &t.id, &code, &creds).await;
            assert_eq!(first.code.unwrap().auth_time, NOW);
            assert_eq!(first.user.unwrap().sub, alice);
            assert_eq!(testing::grants(&db, &t.id).await[0].revoked_at, None);
            let again = redeem(&db, &t.id, &code, &creds).await;
            assert!(again.code.is_none() && again.user.is_none());
            assert_eq!(testing::grants(&db, &t.id).await[0].revoked_at, Some(NOW));
        });
    }

    #[test]
    fn a_disabled_users_code_creates_no_grant() {
        let db = testing::db();
        run(async {
            let t = tenant(&db, "acme").await;
            let alice = user(&db, &t.id, "alice", false).await;
            let client =
                testing::client(&db, &t.id, &testing::client_input("app"), Some("s")).await;
            let creds = ClientCredentials::from_request(None, Some(&client.id), Some("s")).unwrap();
            let code = fresh_code(&db, &t.id, &client.id, &alice).await;
            // Disabled behind the code's back (the admin path also deletes pending codes).
            testing::set_disabled(&db, &alice, true).await;
            let outcome = redeem(&db, &t.id, &code, &creds).await;
            assert!(outcome.code.is_some(), "the code is spent");
            assert!(outcome.user.is_none());
            assert!(testing::grants(&db, &t.id).await.is_empty());
        });
    }
}
