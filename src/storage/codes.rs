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
//! generated from `ClientCredentials::accepted_states` (the one rule, in `oidc::client`), state
//! by state (`client_authenticated`), and the caller applies the same rule to the client row
//! (with its secrets) the batch returns.

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
use crate::oidc::client::{Accepted, AuthMethod, Client, ClientCredentials};
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

/// The condition "the presented credentials authenticate client ?3 of tenant ?1 at `now`",
/// generated from the one rule: the stored client must be in one of the `accepted` states,
/// each translated literally from `Accepted::matches` (`now` binds `?first`, each state's
/// values the parameters after it). Shared by every batch that must not act for
/// unauthenticated credentials (code redemption, refresh, client_credentials, device start and
/// poll).
pub(super) fn client_authenticated(
    accepted: &[Accepted],
    now: i64,
    first: usize,
) -> (String, Vec<Param>) {
    let mut alternatives = Vec::new();
    let mut params = vec![Param::from(now)];
    for state in accepted {
        match state {
            Accepted::Public => alternatives.push(format!(
                "(ac.is_public <> 0 AND ac.token_endpoint_auth_method = '{}' \
                 AND NOT EXISTS (SELECT 1 FROM client_secrets cs WHERE cs.client_id = ac.id))",
                AuthMethod::None.as_str()
            )),
            Accepted::KeyJwt => alternatives.push(format!(
                "(ac.is_public = 0 AND ac.token_endpoint_auth_method = '{}')",
                AuthMethod::PrivateKeyJwt.as_str()
            )),
            Accepted::Secret { hash } => {
                let n = first + params.len();
                params.push(Param::from(hash.as_str()));
                alternatives.push(format!(
                    "(ac.is_public = 0 AND {} \
                     AND EXISTS (SELECT 1 FROM client_secrets cs WHERE cs.client_id = ac.id \
                     AND cs.secret_hash = ?{n} AND (cs.expires_at IS NULL OR cs.expires_at > ?{first})))",
                    super::clients::uses_secret_sql("ac.token_endpoint_auth_method")
                ));
            }
        }
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

/// The statement spending the verified client assertion the credentials carry (its `jti`,
/// RFC 7523 §3 item 7), for the batch that acts on the authentication: a replay violates
/// `spent_tokens`' key and fails that whole batch (`spent::replayed`).
pub(super) fn spend_assertion(
    db: &Db,
    tenant_id: &str,
    credentials: &ClientCredentials,
) -> Result<Option<Statement>> {
    credentials
        .assertion
        .as_ref()
        .and_then(|a| a.verified())
        .map(|v| {
            spent::statement(
                db,
                tenant_id,
                Spend {
                    id: &v.spent_id,
                    expires_at: v.spent_until,
                },
            )
        })
        .transpose()
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

crate::from_row! {
    #[derive(Debug)]
    pub struct RedeemedCode {
        pub request: String,
        pub auth_time: i64,
        /// The stored key of the session the code was issued in (for `sid`).
        pub session_id: Option<String>,
        /// How that session was started (RFC 8176 values, JSON).
        pub amr: Option<String>,
    }
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
        client_authenticated(&r.credentials.accepted_states(), r.now, AUTH_FIRST_PARAM);
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
    let mut statements = statements;
    statements.extend(spend_assertion(db, r.tenant_id, r.credentials)?);
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
    /// every stored client state (including two storage never writes, and secrets expiring
    /// around `now`) and every way of presenting credentials: the redemption happens exactly
    /// when `authenticate` accepts.
    #[test]
    fn the_redemption_sql_and_the_rust_rule_agree_on_client_authentication() {
        let db = testing::db();
        run(async {
            let t = tenant(&db, "acme").await;
            let alice = user(&db, &t.id, "alice", false).await;
            type Secrets = &'static [(&'static str, Option<i64>)];
            const BASIC: &str = "client_secret_basic";
            const KEY_JWT: &str = "private_key_jwt";
            let stored: [(&str, bool, &str, Secrets); 13] = [
                ("confidential", false, BASIC, &[("right", None)]),
                ("public", true, "none", &[]),
                ("public-with-secret", true, "none", &[("right", None)]),
                ("confidential-without-secret", false, BASIC, &[]),
                ("expired-at-now", false, BASIC, &[("right", Some(NOW))]),
                (
                    "expiring-after-now",
                    false,
                    BASIC,
                    &[("right", Some(NOW + 1))],
                ),
                (
                    "rotating",
                    false,
                    BASIC,
                    &[("other", None), ("right", Some(NOW + 1))],
                ),
                (
                    "rotated",
                    false,
                    BASIC,
                    &[("right", Some(NOW - 10)), ("other", None)],
                ),
                ("post", false, "client_secret_post", &[("right", None)]),
                ("key-jwt", false, KEY_JWT, &[]),
                (
                    "key-jwt-holding-a-secret",
                    false,
                    KEY_JWT,
                    &[("right", None)],
                ),
                ("public-key-jwt", true, KEY_JWT, &[]),
                ("confidential-none", false, "none", &[("right", None)]),
            ];
            // An assertion naming the client (its signature is never looked at here: the
            // rule only sees whether it was verified).
            let assertion = |client_id: &str, verified: Option<usize>| {
                use base64::Engine;
                let b64 = |v: serde_json::Value| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
                };
                let jwt = format!(
                    "{}.{}.c2ln",
                    b64(serde_json::json!({ "alg": "ES256" })),
                    b64(serde_json::json!({ "sub": client_id }))
                );
                let creds = ClientCredentials::from_form(
                    None,
                    None,
                    None,
                    Some(crate::oidc::client_assertion::JWT_BEARER),
                    Some(&jwt),
                );
                creds.map(|c| match verified {
                    Some(n) => c.with_verified_assertion(
                        crate::oidc::client_assertion::VerifiedAssertion {
                            spent_id: format!("assertion:{client_id}:{n}"),
                            spent_until: NOW + 60,
                        },
                    ),
                    None => c,
                })
            };
            let basic = |id: &str, secret: &str| {
                use base64::Engine;
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
                )
            };
            let mut checked = 0;
            for (n, (name, is_public, method, secrets)) in stored.into_iter().enumerate() {
                let client =
                    testing::client(&db, &t.id, &testing::client_input(name), Some("x")).await;
                // Force the exact stored state (several no operation writes).
                db.run(
                    "UPDATE oidc_clients SET is_public = ?2, token_endpoint_auth_method = ?3 WHERE id = ?1",
                    crate::params![client.id.as_str(), is_public, method],
                )
                .await
                .unwrap();
                db.run(
                    "DELETE FROM client_secrets WHERE client_id = ?1",
                    crate::params![client.id.as_str()],
                )
                .await
                .unwrap();
                for (i, (secret, expires_at)) in secrets.iter().enumerate() {
                    db.run(
                        "INSERT INTO client_secrets (id, tenant_id, client_id, secret_hash, created_at, expires_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        crate::params![
                            format!("{name}-{i}"),
                            t.id.as_str(),
                            client.id.as_str(),
                            secret_hash(secret),
                            NOW - 100,
                            *expires_at
                        ],
                    )
                    .await
                    .unwrap();
                }
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
                    assertion(&client.id, None),
                    assertion(&client.id, Some(n)),
                ];
                for creds in presented {
                    let creds = creds.unwrap();
                    let code = fresh_code(&db, &t.id, &client.id, &alice).await;
                    let outcome = redeem(&db, &t.id, &code, &creds).await;
                    let returned = outcome.client.expect("the batch returns the client");
                    assert_eq!(
                        (
                            returned.is_public,
                            returned.auth_method.as_str(),
                            returned.secrets.len()
                        ),
                        (is_public, method, secrets.len())
                    );
                    let rust = creds.authenticate(&returned, NOW).is_ok();
                    assert_eq!(
                        outcome.code.is_some(),
                        rust,
                        "{name}: {:?} {:?}",
                        creds.secrets,
                        creds.assertion
                    );
                    checked += usize::from(rust);
                }
            }
            assert_eq!(
                checked, 11,
                "right secret (post and Basic) for the four secret clients where it is live, none \
                 for the public one, a verified assertion for the two private_key_jwt ones"
            );
        });
    }

    /// A verified assertion is spent in the redemption's batch: presented again, the whole
    /// batch fails as a replay and the second code stays unredeemed.
    #[test]
    fn a_replayed_assertion_fails_the_redemption_batch_and_redeems_nothing() {
        let db = testing::db();
        run(async {
            let t = tenant(&db, "acme").await;
            let alice = user(&db, &t.id, "alice", false).await;
            let client =
                testing::client(&db, &t.id, &testing::client_input("app"), Some("x")).await;
            db.run(
                "UPDATE oidc_clients SET token_endpoint_auth_method = 'private_key_jwt' WHERE id = ?1",
                crate::params![client.id.as_str()],
            )
            .await
            .unwrap();
            use base64::Engine;
            let b64 = |v: serde_json::Value| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
            };
            let jwt = format!(
                "{}.{}.c2ln",
                b64(serde_json::json!({ "alg": "ES256" })),
                b64(serde_json::json!({ "sub": client.id }))
            );
            let creds = ClientCredentials::from_form(
                None,
                None,
                None,
                Some(crate::oidc::client_assertion::JWT_BEARER),
                Some(&jwt),
            )
            .unwrap()
            .with_verified_assertion(
                crate::oidc::client_assertion::VerifiedAssertion {
                    spent_id: "assertion:app:j1".into(),
                    spent_until: NOW + 60,
                },
            );
            let first = fresh_code(&db, &t.id, &client.id, &alice).await;
            assert!(redeem(&db, &t.id, &first, &creds).await.code.is_some());
            let second = fresh_code(&db, &t.id, &client.id, &alice).await;
            let replay = redeem_code(
                &db,
                &Redemption {
                    tenant_id: &t.id,
                    code_hash: secret_hash(&second),
                    credentials: &creds,
                    now: NOW,
                    grant_id: random::id(),
                    access_token_hash: secret_hash(&random::token()),
                    refresh_token_hash: secret_hash(&random::token()),
                    origin: &Origin::default(),
                },
            )
            .await;
            assert!(
                matches!(&replay, Err(e) if crate::storage::spent::replayed(e)),
                "{:?}",
                replay.err()
            );
            assert_eq!(
                testing::grants(&db, &t.id).await.len(),
                1,
                "no second grant"
            );
            // The second code was not burned: with a fresh assertion it is redeemed.
            let fresh =
                creds.with_verified_assertion(crate::oidc::client_assertion::VerifiedAssertion {
                    spent_id: "assertion:app:j2".into(),
                    spent_until: NOW + 60,
                });
            assert!(redeem(&db, &t.id, &second, &fresh).await.code.is_some());
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
