//! The client_credentials grant (RFC 6749 §4.4): a confidential client's own access token for
//! one of the tenant's APIs, an RFC 9068 JWT with the permissions the client holds there. No
//! refresh token (the client can always ask again, §4.4.3) and no id_token (there is no user).
//!
//! One round trip to the primary (`storage::machine_tokens::issue`), which also writes the
//! `token_issued` audit entry under the same rule this use case applies.

use super::{client_auth, Ctx, Signer};
use crate::crypto::jwk::SigningAlg;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::access_token::{self, AccessTokenClaims};
use crate::oidc::client::ClientCredentials;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::resource::{invalid_target, permitted_scope};
use crate::oidc::token::TokenResponse;
use crate::storage::machine_tokens::{self, MachineTokenRequest};

/// Serves a client_credentials request for `resource` with the requested permissions
/// (`None`: all the client holds there).
pub async fn client_credentials(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    creds: &ClientCredentials,
    resource: Option<&str>,
    requested: Option<&[String]>,
) -> Result<TokenResponse> {
    // A token has one audience, and this grant has no default one: naming none is an error
    // the RFC lists as "missing" (RFC 8707 §2).
    let resource = resource.ok_or_else(|| {
        invalid_target("name the API with the resource parameter (its identifier)")
    })?;
    let jti = random::token();
    let outcome = machine_tokens::issue(
        ctx.db,
        &MachineTokenRequest {
            tenant_id: ctx.tenant_id(),
            credentials: creds,
            resource,
            requested,
            jti: &jti,
            now: ctx.now,
            origin: &ctx.origin,
        },
    )
    .await?;
    let client = client_auth::judge(creds, outcome.client, ctx.now)?;
    if client.is_public {
        // A public client cannot keep a secret, so it cannot act on its own behalf.
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client_credentials is for confidential clients",
        )
        .into());
    }
    let access = outcome
        .access
        .ok_or_else(|| invalid_target(format!("{resource} is not an API of this tenant")))?;
    let scope = permitted_scope(requested, &access)?.join(" ");
    if !outcome.audited {
        // The batch's SQL and this rule disagreed: issue nothing unrecorded.
        return Err(Error::Internal(
            "client_credentials: the primary did not confirm the grant".into(),
        ));
    }
    let lifetime = client.tokens.access_ttl;
    let claims = access_token::claims(&AccessTokenClaims {
        issuer: ctx.issuer,
        subject: &client.id,
        audience: &access.identifier,
        client_id: &client.id,
        scope: &scope,
        jti: &jti,
        now: ctx.now,
        lifetime_secs: lifetime,
        auth_time: None,
    });
    let token = signer
        .sign_jwt(ctx.tenant, SigningAlg::RS256, access_token::TYP, &claims)
        .await?;
    Ok(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: lifetime,
        scope,
        id_token: None,
        refresh_token: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::api::{ApiGrantInput, ApiInput, ClientApiGrants, Permission};
    use crate::oidc::resource::ApiAccess;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::{creds, ctx, tenant, verify_id_token, TestSigner, SECRET};
    use crate::testing::{self, audit_events, run, NOW};
    use crate::usecase::{apis, Actor};

    const API: &str = "https://orders.example.com";

    fn permissions(values: &[&str]) -> Vec<Permission> {
        values
            .iter()
            .map(|v| Permission {
                value: v.to_string(),
                description: format!("{v} orders"),
            })
            .collect()
    }

    /// Registers the orders API with `defined` permissions.
    async fn register(db: &Db, tenant_id: &str, defined: &[&str]) {
        let admin = testing::admin_ctx(db, tenant_id, Actor::Operator);
        apis::create(
            &admin,
            &ApiInput {
                identifier: API.into(),
                name: "Orders".into(),
                permissions: permissions(defined),
            },
        )
        .await
        .expect("API registered");
    }

    async fn grant(db: &Db, tenant_id: &str, client_id: &str, granted: &[&str]) {
        let admin = testing::admin_ctx(db, tenant_id, Actor::Operator);
        apis::set_client_grants(
            &admin,
            client_id,
            &ClientApiGrants {
                grants: vec![ApiGrantInput {
                    api: API.into(),
                    permissions: granted.iter().map(|s| s.to_string()).collect(),
                }],
            },
        )
        .await
        .expect("granted");
    }

    /// A tenant with the orders API (read, write, admin) and a confidential client "machine"
    /// holding read and write there.
    async fn setup(db: &Db) -> (TenantSnapshot, String) {
        let t = tenant(db).await;
        register(db, &t.tenant.id, &["read", "write", "admin"]).await;
        let machine = testing::client(
            db,
            &t.tenant.id,
            &testing::client_input("machine"),
            Some(SECRET),
        )
        .await;
        grant(db, &t.tenant.id, &machine.id, &["read", "write"]).await;
        (t, machine.id)
    }

    fn scope(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    async fn ask(
        db: &Db,
        t: &TenantSnapshot,
        credentials: &ClientCredentials,
        resource: Option<&str>,
        requested: Option<&[String]>,
    ) -> Result<TokenResponse> {
        client_credentials(
            &ctx(db, t, NOW),
            &TestSigner,
            credentials,
            resource,
            requested,
        )
        .await
    }

    /// Credentials, resource and requested scope, and the error they must get.
    type Refusal<'a> = (
        ClientCredentials,
        Option<&'a str>,
        Option<Vec<String>>,
        ErrorCode,
    );

    fn refused(result: Result<TokenResponse>) -> ErrorCode {
        match result {
            Err(Error::OAuth(e)) => e.code,
            Err(other) => panic!("not an OAuth error: {other:?}"),
            Ok(_) => panic!("a token was issued"),
        }
    }

    fn header(token: &str) -> serde_json::Value {
        use base64::Engine;
        let first = token.split('.').next().unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(first)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_confidential_client_gets_an_audited_rfc9068_jwt_for_its_api() {
        let db = testing::db();
        run(async {
            let (t, machine) = setup(&db).await;
            let trips = db.round_trips();
            let tokens = ask(&db, &t, &creds(&machine, Some(SECRET)), Some(API), None)
                .await
                .unwrap();
            assert_eq!(db.round_trips() - trips, 1, "one round trip to the primary");
            assert!(tokens.id_token.is_none() && tokens.refresh_token.is_none());
            assert_eq!(tokens.scope, "read write", "all it holds, sorted");
            assert_eq!(header(&tokens.access_token)["typ"], "at+jwt");
            let claims = verify_id_token(&t, &tokens.access_token);
            assert_eq!(claims["iss"], crate::testing::oidc::ISSUER);
            assert_eq!(claims["aud"], API);
            assert_eq!(claims["sub"], machine.as_str());
            assert_eq!(claims["client_id"], machine.as_str());
            assert_eq!(claims["scope"], "read write");
            assert_eq!(claims["exp"], NOW + tokens.expires_in);
            assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 22));
            let narrowed = ask(
                &db,
                &t,
                &creds(&machine, Some(SECRET)),
                Some(API),
                Some(&scope(&["read"])),
            )
            .await
            .unwrap();
            assert_eq!(narrowed.scope, "read");
            let issued: Vec<_> = audit_events(&db, &t.tenant.id)
                .await
                .into_iter()
                .filter(|(event, ..)| event == "token_issued")
                .collect();
            assert_eq!(issued.len(), 2, "one entry per token");
            assert_eq!(issued[0].2["grant_type"], "client_credentials");
            assert_eq!(issued[0].2["aud"], API);
            assert_eq!(issued[0].2["scope"], "read write");
            assert_eq!(issued[0].2["jti"], claims["jti"]);
            assert_eq!(issued[1].2["scope"], "read");
        });
    }

    /// RFC 7662 for a client's own token: active with its API as `aud` and no `auth_time`
    /// until it expires, and only to that client; userinfo still refuses it.
    #[test]
    fn a_client_introspects_its_own_stateless_token_until_it_expires() {
        let db = testing::db();
        run(async {
            let (t, machine) = setup(&db).await;
            let tokens = ask(&db, &t, &creds(&machine, Some(SECRET)), Some(API), None)
                .await
                .unwrap();
            let idle = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("idle"),
                Some("idle"),
            )
            .await;
            let look = |now: i64, who: ClientCredentials| {
                let db = &db;
                let t = &t;
                let token = tokens.access_token.clone();
                async move {
                    crate::usecase::introspection::introspect(
                        &ctx(db, t, now),
                        &who,
                        Some(&token),
                        None,
                    )
                    .await
                    .unwrap()
                }
            };
            let seen =
                serde_json::to_value(look(NOW + 1, creds(&machine, Some(SECRET))).await).unwrap();
            assert_eq!(seen["active"], true, "{seen}");
            assert_eq!(seen["aud"], API);
            assert_eq!(seen["sub"], machine.as_str());
            assert_eq!(seen["scope"], "read write");
            assert!(seen.get("auth_time").is_none());
            assert!(!look(NOW + 1, creds(&idle.id, Some("idle")))
                .await
                .is_active());
            assert!(
                !look(NOW + tokens.expires_in, creds(&machine, Some(SECRET)))
                    .await
                    .is_active()
            );
            assert!(crate::usecase::userinfo::claims_for(
                &ctx(&db, &t, NOW + 1),
                &tokens.access_token
            )
            .await
            .is_err());
        });
    }

    #[test]
    fn the_clients_access_token_lifetime_applies() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            register(&db, &t.tenant.id, &["read"]).await;
            let mut input = testing::client_input("machine");
            input.access_token_lifetime = Some(300);
            let machine = testing::client(&db, &t.tenant.id, &input, Some(SECRET)).await;
            grant(&db, &t.tenant.id, &machine.id, &["read"]).await;
            let tokens = ask(&db, &t, &creds(&machine.id, Some(SECRET)), Some(API), None)
                .await
                .unwrap();
            assert_eq!(tokens.expires_in, 300);
            assert_eq!(verify_id_token(&t, &tokens.access_token)["exp"], NOW + 300);
        });
    }

    #[test]
    fn refusals_follow_the_rfcs_and_issue_nothing() {
        let db = testing::db();
        run(async {
            let (t, machine) = setup(&db).await;
            let tid = t.tenant.id.clone();
            let spa = testing::client(&db, &tid, &testing::client_input("spa"), None).await;
            let idle =
                testing::client(&db, &tid, &testing::client_input("idle"), Some("idle")).await;
            let good = creds(&machine, Some(SECRET));
            let cases: Vec<Refusal<'_>> = vec![
                (
                    creds(&machine, Some("wrong")),
                    Some(API),
                    None,
                    ErrorCode::InvalidClient,
                ),
                (
                    creds("nobody", Some(SECRET)),
                    Some(API),
                    None,
                    ErrorCode::InvalidClient,
                ),
                // A public client cannot authenticate, so it cannot act on its own behalf.
                (
                    creds(&spa.id, None),
                    Some(API),
                    None,
                    ErrorCode::UnauthorizedClient,
                ),
                (good.clone(), None, None, ErrorCode::InvalidTarget),
                (
                    good.clone(),
                    Some("https://unknown.example.com"),
                    None,
                    ErrorCode::InvalidTarget,
                ),
                // The API exists, but this client holds nothing there.
                (
                    creds(&idle.id, Some("idle")),
                    Some(API),
                    None,
                    ErrorCode::InvalidTarget,
                ),
                (
                    good.clone(),
                    Some(API),
                    Some(scope(&["admin"])),
                    ErrorCode::InvalidScope,
                ),
                (
                    good.clone(),
                    Some(API),
                    Some(scope(&["read", "admin"])),
                    ErrorCode::InvalidScope,
                ),
                (
                    good.clone(),
                    Some(API),
                    Some(scope(&["openid"])),
                    ErrorCode::InvalidScope,
                ),
            ];
            for (credentials, resource, requested, expected) in cases {
                let result = ask(&db, &t, &credentials, resource, requested.as_deref()).await;
                assert_eq!(
                    refused(result),
                    expected,
                    "{credentials:?} {resource:?} {requested:?}"
                );
            }
            assert!(
                audit_events(&db, &tid)
                    .await
                    .iter()
                    .all(|(event, ..)| event != "token_issued"),
                "no refusal is recorded as an issued token"
            );
        });
    }

    #[test]
    fn a_permission_the_api_drops_is_no_longer_granted() {
        let db = testing::db();
        run(async {
            let (t, machine) = setup(&db).await;
            let admin = testing::admin_ctx(&db, &t.tenant.id, Actor::Operator);
            apis::update(
                &admin,
                API,
                &ApiInput {
                    identifier: API.into(),
                    name: "Orders".into(),
                    permissions: permissions(&["read"]),
                },
            )
            .await
            .unwrap();
            let good = creds(&machine, Some(SECRET));
            let all = ask(&db, &t, &good, Some(API), None).await.unwrap();
            assert_eq!(all.scope, "read");
            let write = ask(&db, &t, &good, Some(API), Some(&scope(&["write"]))).await;
            assert_eq!(refused(write), ErrorCode::InvalidScope);
        });
    }

    /// The batch's SQL writes the audit entry exactly when the Rust rule (`permitted_scope`)
    /// allows the request, with the scope the rule computes, over every combination of what
    /// the API defines, what the client holds and what it asks for.
    #[test]
    fn the_batch_and_the_rule_agree_on_what_is_permitted() {
        use crate::storage::machine_tokens::{issue, MachineTokenRequest};
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let tid = t.tenant.id.clone();
            let machine =
                testing::client(&db, &tid, &testing::client_input("machine"), Some(SECRET)).await;
            let good = creds(&machine.id, Some(SECRET));
            let admin = testing::admin_ctx(&db, &tid, Actor::Operator);
            let sets: [&[&str]; 4] = [&[], &["a"], &["a", "b"], &["b", "c"]];
            let mut checked = 0;
            for defined in sets {
                for granted in [None, Some(&[][..]), Some(&["a"][..]), Some(&["a", "c"][..])] {
                    for asked in [
                        None,
                        Some(&["a"][..]),
                        Some(&["a", "b"][..]),
                        Some(&["c"][..]),
                    ] {
                        // The stored state: the API with `defined`, and the client's grant
                        // written directly (an API may drop a permission after the grant).
                        let _ = apis::delete(&admin, API).await;
                        register(&db, &tid, defined).await;
                        apis::set_client_grants(&admin, &machine.id, &ClientApiGrants::default())
                            .await
                            .unwrap();
                        if let Some(g) = granted {
                            crate::storage::apis::set_client_grants(
                                &db,
                                &tid,
                                &machine.id,
                                &[(apis::get(&admin, API).await.unwrap().id, scope(g))],
                                crate::storage::audit::insert_statement(
                                    &db,
                                    &tid,
                                    "x",
                                    None,
                                    None,
                                    &Default::default(),
                                    &serde_json::json!({}),
                                    NOW,
                                )
                                .unwrap(),
                            )
                            .await
                            .unwrap();
                        }
                        let asked = asked.map(scope);
                        let before = audit_events(&db, &tid).await.len();
                        let outcome = issue(
                            &db,
                            &MachineTokenRequest {
                                tenant_id: &tid,
                                credentials: &good,
                                resource: API,
                                requested: asked.as_deref(),
                                jti: "j",
                                now: NOW,
                                origin: &Default::default(),
                            },
                        )
                        .await
                        .unwrap();
                        let access: ApiAccess = outcome.access.expect("the API row");
                        let rule = permitted_scope(asked.as_deref(), &access);
                        let case = format!("{defined:?} {granted:?} {asked:?}");
                        assert_eq!(outcome.audited, rule.is_ok(), "{case}");
                        if let Ok(scope) = rule {
                            let events = audit_events(&db, &tid).await;
                            assert_eq!(events.len(), before + 1, "{case}");
                            assert_eq!(events[before].2["scope"], scope.join(" "), "{case}");
                        }
                        checked += 1;
                    }
                }
            }
            assert_eq!(checked, 64);
        });
    }
}
