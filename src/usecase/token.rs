//! The token endpoint's use cases (RFC 6749 §4.1.3, §6): redeeming an authorization code and
//! rotating a refresh token, each answering with fresh tokens and a signed id_token.
//!
//! Tokens are opaque random values (hashed in storage) by default: a revocation takes effect at
//! once (code replay, refresh reuse, logout), and userinfo and introspection read the database
//! anyway. A client set to `access_token_format: jwt` gets its access tokens as RFC 9068 JWTs
//! that stand for the same stored rows (`oidc::access_token::lookup_hash`), so they are still
//! revocable at userinfo; APIs verifying them offline accept them until `exp`.
//!
//! The device code grant (RFC 8628) is `usecase::device::poll`, issuing through [`respond`].
//!
//! Database round trips: a code redemption is one batch (`storage::codes::redeem_code`), plus
//! one to revoke the new grant when the redeemed code fails its checks; a refresh is a lookup
//! and a rotation batch, plus one to revoke the family on reuse.

use super::{client_auth, Ctx, Signer};
use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::SigningAlg;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::access_token::{self, AccessTokenClaims};
use crate::oidc::amr;
use crate::oidc::authorize::AuthorizationRequest;
use crate::oidc::claims::{self, IdTokenContext, UserClaims};
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::error::OAuthError;
use crate::oidc::refresh::{self, RefreshUse};
use crate::oidc::resource::{delegated_scope, invalid_target, ApiAccess};
use crate::oidc::scope::ScopeSet;
use crate::oidc::token::{check_code_redemption, refreshed_scope, GrantRequest, TokenResponse};
use crate::storage::codes::{self, Redemption};
use crate::storage::grants::{self, Rotation};

/// The master-key purpose of the key that derives refresh token successors.
pub const REFRESH_SUCCESSOR_KEY: &str = "refresh-successor";

/// What the token endpoint signs and derives with.
pub struct TokenKeys<'a> {
    pub signer: &'a dyn Signer,
    /// The key refresh token successors are derived with (`oidc::refresh::successor`), the
    /// master key's [`REFRESH_SUCCESSOR_KEY`] subkey in the Worker.
    pub refresh_successor: [u8; 32],
}

/// Serves one token request.
pub async fn grant(
    ctx: &Ctx<'_>,
    keys: &TokenKeys<'_>,
    creds: &ClientCredentials,
    request: &GrantRequest,
) -> Result<TokenResponse> {
    // A client assertion is verified first; the grant's batch spends it, and fails as a
    // replay when it was spent already.
    let verified = client_auth::verify_assertion(ctx, creds).await?;
    let creds = &verified;
    let served = match request {
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
            resource,
        } => {
            let checks = RedemptionChecks {
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
                resource: resource.as_deref(),
            };
            redeem_code(ctx, keys.signer, creds, code, &checks).await
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh(ctx, keys, creds, refresh_token, scope.as_ref()).await,
        GrantRequest::ClientCredentials { resource, scope } => {
            super::machine_token::client_credentials(
                ctx,
                keys.signer,
                creds,
                resource.as_deref(),
                scope.as_deref(),
            )
            .await
        }
        GrantRequest::DeviceCode { device_code } => {
            super::device::poll(ctx, keys.signer, creds, device_code).await
        }
    };
    served.map_err(crate::storage::spent::refuse_replay(
        client_auth::replayed_assertion,
    ))
}

/// The minted token pair for one response.
pub(super) struct Minted {
    pub(super) access: String,
    pub(super) refresh: String,
}

impl Minted {
    pub(super) fn fresh() -> Self {
        Self {
            access: random::token(),
            refresh: random::token(),
        }
    }
}

/// What a token request sends along with the code, checked against the authorization request.
#[derive(Debug, Default, Clone, Copy)]
pub struct RedemptionChecks<'a> {
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    pub resource: Option<&'a str>,
}

/// Redeems an authorization code (RFC 6749 §4.1.3): exactly one of any number of concurrent
/// redemptions gets tokens; a repeat revokes what the code issued.
pub async fn redeem_code(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    creds: &ClientCredentials,
    code: &str,
    checks: &RedemptionChecks<'_>,
) -> Result<TokenResponse> {
    let minted = Minted::fresh();
    let redemption = Redemption {
        tenant_id: ctx.tenant_id(),
        code_hash: secret_hash(code),
        credentials: creds,
        now: ctx.now,
        grant_id: random::id(),
        access_token_hash: secret_hash(&minted.access),
        refresh_token_hash: secret_hash(&minted.refresh),
        origin: &ctx.origin,
    };
    let outcome = codes::redeem_code(ctx.db, &redemption).await?;
    // The same rule the batch's SQL was generated from: a refused client redeemed nothing.
    let client = client_auth::judge(creds, outcome.client, ctx.now)?;
    let redeemed = outcome.code.ok_or_else(|| {
        OAuthError::invalid_grant("the code is invalid, expired or was already used")
    })?;
    let request: AuthorizationRequest = serde_json::from_str(&redeemed.request)
        .map_err(|e| Error::Internal(format!("stored request: {e}")))?;
    let revoke = || grants::revoke_grant(ctx.db, ctx.tenant_id(), &redemption.grant_id, ctx.now);
    if let Err(e) = check_code_redemption(&request, checks.redirect_uri, checks.code_verifier) {
        revoke().await?;
        return Err(e.into());
    }
    let Some(user) = outcome.user else {
        revoke().await?;
        return Err(OAuthError::invalid_grant("the user no longer exists or is disabled").into());
    };
    if checks
        .resource
        .is_some_and(|r| Some(r) != request.resource.as_deref())
    {
        revoke().await?;
        return Err(invalid_target("resource differs from the authorized one").into());
    }
    let api = match request.resource.as_deref() {
        None => None,
        Some(resource) => match api_token(resource, &request.api_scope, outcome.api) {
            Ok(api) => Some(api),
            Err(e) => {
                revoke().await?;
                return Err(e.into());
            }
        },
    };
    let issued = Issued {
        client: &client,
        user: &user,
        scope: &request.scope,
        auth_time: redeemed.auth_time,
        nonce: request.nonce.as_deref(),
        session: redeemed.session_id.as_deref(),
        amr: redeemed.amr.as_deref(),
        api,
    };
    respond(ctx, signer, &issued, minted).await
}

/// A user's token for an API: its audience and the permissions it carries.
pub(super) struct ApiToken {
    audience: String,
    scope: Vec<String>,
}

/// The API token a grant for `resource` gets now: the API must still exist and the client
/// still hold a grant there; the permissions are those asked for that it still holds.
fn api_token(
    resource: &str,
    asked: &[String],
    access: Option<ApiAccess>,
) -> Result<ApiToken, OAuthError> {
    let access =
        access.ok_or_else(|| invalid_target(format!("{resource} is not an API of this tenant")))?;
    let scope = delegated_scope(asked, &access)?;
    Ok(ApiToken {
        audience: access.identifier,
        scope,
    })
}

/// The API permissions among a stored grant's scope values (those that are not OpenID scopes).
fn api_values(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|v| !v.is_empty() && crate::oidc::scope::Scope::parse(v).is_none())
        .map(str::to_string)
        .collect()
}

/// Rotates a refresh token (RFC 6749 §6, RFC 9700 §4.14.2 with a grace period: see
/// `oidc::refresh`) in one round trip: the batch reads the client and the token as they were
/// and rotates only under the same rules this function then applies to what it read.
pub async fn refresh(
    ctx: &Ctx<'_>,
    keys: &TokenKeys<'_>,
    creds: &ClientCredentials,
    refresh_token: &str,
    asked_scope: Option<&ScopeSet>,
) -> Result<TokenResponse> {
    let tenant_id = ctx.tenant_id();
    let grace_secs = ctx.tenant.tenant.settings.refresh_grace_secs;
    let old_hash = secret_hash(refresh_token);
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    // Narrowing the scope needs the granted one first (a second round trip, for the rare
    // request that asks for less).
    let narrowed = match asked_scope {
        None => None,
        Some(asked) => {
            let lookup =
                grants::find_refresh(ctx.db, tenant_id, &creds.client_id, &old_hash).await?;
            let client = client_auth::judge(creds, lookup.client, ctx.now)?;
            let token = lookup
                .token
                .filter(|t| t.client_id == client.id)
                .ok_or_else(invalid)?;
            Some(refreshed_scope(
                &ScopeSet::parse_lenient(&token.scope),
                Some(asked),
            )?)
        }
    };
    let successor = refresh::successor(
        &keys.refresh_successor,
        tenant_id,
        refresh_token,
        grace_secs,
        random::token,
    );
    let successor_hash = secret_hash(&successor);
    let access = random::token();
    let narrowed_text = narrowed.as_ref().map(ToString::to_string);
    let outcome = grants::rotate_refresh(
        ctx.db,
        &Rotation {
            tenant_id,
            credentials: creds,
            old_hash: &old_hash,
            scope: narrowed_text.as_deref(),
            now: ctx.now,
            grace_secs,
            access_token_hash: secret_hash(&access),
            refresh_token_hash: successor_hash.clone(),
        },
    )
    .await?;
    let client = client_auth::judge(creds, outcome.client, ctx.now)?;
    // Bound to its client: another client's token is simply not valid here.
    let token = outcome
        .token
        .filter(|t| t.client_id == client.id)
        .ok_or_else(invalid)?;
    match refresh::classify(&token.stored(), ctx.now, grace_secs, &successor_hash) {
        RefreshUse::Rotate | RefreshUse::GraceRepeat => {}
        RefreshUse::Invalid => return Err(invalid().into()),
        RefreshUse::Reuse => {
            // Someone holds a copy of a rotated token: end the whole family (RFC 9700 §4.14).
            grants::revoke_grant(ctx.db, tenant_id, &token.grant_id, ctx.now).await?;
            return Err(invalid().into());
        }
    }
    let Some(user) = outcome.issued else {
        if !outcome.may_use {
            return Err(OAuthError::invalid_grant(
                "the user is disabled or no longer allowed to use this application",
            )
            .into());
        }
        // The batch disagreed with what it read (it cannot, in one transaction): refuse, and
        // end the family rather than leave it in a state nobody judged.
        grants::revoke_grant(ctx.db, tenant_id, &token.grant_id, ctx.now).await?;
        return Err(invalid().into());
    };
    let scope = narrowed.unwrap_or_else(|| ScopeSet::parse_lenient(&token.scope));
    let api = match token.resource.as_deref() {
        None => None,
        Some(resource) => Some(api_token(resource, &api_values(&token.scope), outcome.api)?),
    };
    let issued = Issued {
        client: &client,
        user: &user,
        scope: &scope,
        auth_time: token.auth_time,
        nonce: None,
        session: token.session_id.as_deref(),
        amr: token.amr.as_deref(),
        api,
    };
    let minted = Minted {
        access,
        refresh: successor,
    };
    respond(ctx, keys.signer, &issued, minted).await
}

/// What the id_token is about.
pub(super) struct Issued<'a> {
    pub(super) client: &'a Client,
    pub(super) user: &'a UserClaims,
    pub(super) scope: &'a ScopeSet,
    pub(super) auth_time: i64,
    pub(super) nonce: Option<&'a str>,
    /// The stored key of the session the grant began in, for `sid`.
    pub(super) session: Option<&'a str>,
    /// How that session was started (stored `amr` JSON).
    pub(super) amr: Option<&'a str>,
    /// The API the access token is for, when the request named one.
    pub(super) api: Option<ApiToken>,
}

/// The token response for `issued`: the minted pair and a signed id_token.
pub(super) async fn respond(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    issued: &Issued<'_>,
    minted: Minted,
) -> Result<TokenResponse> {
    let settings = issued.client.tokens;
    let mut scope = issued.scope.to_string();
    let access_token = if let Some(api) = &issued.api {
        // A token for the API, not for userinfo: its jti is fresh, so it leads to no stored
        // row (the row minted with the grant stays unreachable and expires).
        let permissions = api.scope.join(" ");
        if !permissions.is_empty() {
            scope = format!("{scope} {permissions}");
        }
        let jti = random::token();
        sign_access_token(ctx, signer, issued, &api.audience, &permissions, &jti).await?
    } else if settings.jwt_access_tokens {
        // Stands for the stored row (its jti is the row's hash): userinfo accepts it.
        let jti = access_token::jti_of_stored(&minted.access);
        let audience = issued.client.id.clone();
        sign_access_token(ctx, signer, issued, &audience, &scope, &jti).await?
    } else {
        minted.access
    };
    let claims = claims::id_token(
        issued.user,
        &IdTokenContext {
            issuer: ctx.issuer,
            client_id: &issued.client.id,
            scopes: issued.scope,
            auth_time: issued.auth_time,
            nonce: issued.nonce,
            access_token: &access_token,
            now: ctx.now,
            lifetime_secs: settings.id_ttl,
            include_scope_claims: issued.client.claims_in_id_token,
            tenant: (&ctx.tenant.tenant.settings).into(),
            jti: &random::token(),
            sid: issued.session.map(amr::sid),
            amr: amr::amr_claim(issued.amr),
        },
    );
    let id_token = signer
        .sign_jwt(ctx.tenant, issued.client.id_token_alg, "JWT", &claims)
        .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: settings.access_ttl,
        scope,
        id_token: Some(id_token),
        refresh_token: Some(minted.refresh),
    })
}

/// An RFC 9068 access token about the user of `issued`, for `audience`: the API a request
/// named, or the client itself for a client that wants JWTs (`access_token_format: jwt`, apps
/// migrating from Pocket ID; `aud` its client_id as Pocket ID issues them).
async fn sign_access_token(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    issued: &Issued<'_>,
    audience: &str,
    scope: &str,
    jti: &str,
) -> Result<String> {
    let claims = access_token::claims(&AccessTokenClaims {
        issuer: ctx.issuer,
        subject: &issued.user.sub,
        audience,
        client_id: &issued.client.id,
        scope,
        jti,
        now: ctx.now,
        lifetime_secs: issued.client.tokens.access_ttl,
        auth_time: Some(issued.auth_time),
    });
    signer
        .sign_jwt(ctx.tenant, SigningAlg::RS256, access_token::TYP, &claims)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::token::{CODE_TTL, ID_TOKEN_TTL};
    use crate::storage::db::Db;
    use crate::testing::oidc::{
        code, confidential, creds, ctx, issued, tenant, verify_id_token, TestSigner, SECRET,
    };
    use crate::testing::{self, grants, run, user, NOW};
    use crate::usecase::userinfo;

    const KEY: [u8; 32] = [1; 32];

    fn keys() -> TokenKeys<'static> {
        TokenKeys {
            signer: &TestSigner,
            refresh_successor: KEY,
        }
    }

    fn code_grant(code: &str, redirect: &str, verifier: Option<&str>) -> GrantRequest {
        GrantRequest::AuthorizationCode {
            code: code.into(),
            redirect_uri: Some(redirect.into()),
            code_verifier: verifier.map(str::to_string),
            resource: None,
        }
    }

    fn refresh_grant(token: &str) -> GrantRequest {
        GrantRequest::RefreshToken {
            refresh_token: token.into(),
            scope: None,
        }
    }

    /// A refresh-token grant of `token` with these client credentials.
    async fn refresh_with(
        c: &Ctx<'_>,
        credentials: &ClientCredentials,
        token: &str,
    ) -> Result<TokenResponse> {
        grant(c, &keys(), credentials, &refresh_grant(token)).await
    }

    /// The OAuth error code of a refused request.
    fn refused(result: Result<TokenResponse>) -> ErrorCode {
        match result {
            Err(Error::OAuth(e)) => e.code,
            Err(other) => panic!("not an OAuth error: {other:?}"),
            Ok(_) => panic!("tokens were issued"),
        }
    }

    const CB: &str = "https://app.example.com/callback";

    #[test]
    fn a_code_yields_tokens_and_an_id_token_the_tenant_key_verifies() {
        let db = testing::db();
        run(async {
            let (t, app, tokens) = issued(&db).await;
            let claims = verify_id_token(&t, tokens.id_token.as_deref().unwrap());
            assert_eq!(claims["iss"], crate::testing::oidc::ISSUER);
            assert_eq!(claims["sub"], "user-alice");
            assert_eq!(claims["aud"], app.id.as_str());
            assert_eq!(claims["nonce"], "n-1");
            assert_eq!(claims["auth_time"], NOW);
            assert_eq!(claims["exp"], NOW + ID_TOKEN_TTL);
            assert_eq!(
                claims["at_hash"],
                claims::at_hash(&tokens.access_token).as_str()
            );
            assert_eq!(tokens.scope, "openid profile email");
            // How the session signed in (the fixture's synced passkey), which session, which token.
            assert_eq!(claims["amr"], serde_json::json!(["mfa", "swk", "user"]));
            let sid = claims["sid"].as_str().expect("a sid").to_string();
            assert_eq!(sid.len(), 22);
            assert_eq!(claims["jti"].as_str().map(str::len), Some(43));
            let c = ctx(&db, &t, NOW);
            let info = userinfo::claims_for(&c, &tokens.access_token)
                .await
                .unwrap();
            assert_eq!(info["sub"], "user-alice");
            assert_eq!(grants(&db, &t.tenant.id).await.len(), 1);
        });
    }

    #[test]
    fn the_clients_token_lifetimes_apply_to_every_token() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let mut input = testing::client_input("app");
            input.access_token_lifetime = Some(120);
            input.id_token_lifetime = Some(300);
            input.refresh_token_lifetime = Some(600);
            let app = testing::client(&db, &t.tenant.id, &input, Some(SECRET)).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let code = code(&c, &app, &session, &[]).await;
            let credentials = creds(&app.id, Some(SECRET));
            let tokens = grant(&c, &keys(), &credentials, &code_grant(&code, CB, None))
                .await
                .unwrap();
            assert_eq!(tokens.expires_in, 120);
            let id_token = verify_id_token(&t, tokens.id_token.as_deref().unwrap());
            assert_eq!(id_token["exp"], NOW + 300);
            let at = |now| ctx(&db, &t, now);
            assert!(userinfo::claims_for(&at(NOW + 119), &tokens.access_token)
                .await
                .is_ok());
            assert!(userinfo::claims_for(&at(NOW + 120), &tokens.access_token)
                .await
                .is_err());
            let refresh = tokens.refresh_token.unwrap();
            assert_eq!(
                refused(refresh_with(&at(NOW + 600), &credentials, &refresh).await),
                ErrorCode::InvalidGrant,
                "the refresh token lived 600 s"
            );
            let second = refresh_with(&at(NOW + 500), &credentials, &refresh)
                .await
                .unwrap();
            assert_eq!(second.expires_in, 120);
            assert!(userinfo::claims_for(&at(NOW + 619), &second.access_token)
                .await
                .is_ok());
            assert!(userinfo::claims_for(&at(NOW + 620), &second.access_token)
                .await
                .is_err());
            let successor = second.refresh_token.unwrap();
            assert!(refresh_with(&at(NOW + 1099), &credentials, &successor)
                .await
                .is_ok());
        });
    }

    #[test]
    fn a_jwt_client_gets_jwt_access_tokens_that_work_and_end_like_opaque_ones() {
        use crate::usecase::{introspection, revocation};
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let mut input = testing::client_input("app");
            input.access_token_format = Some("jwt".into());
            let app = testing::client(&db, &t.tenant.id, &input, Some(SECRET)).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let credentials = creds(&app.id, Some(SECRET));
            let code = code(&c, &app, &session, &[]).await;
            let tokens = grant(&c, &keys(), &credentials, &code_grant(&code, CB, None))
                .await
                .unwrap();
            let jwt = tokens.access_token.clone();
            assert!(jwt.starts_with("eyJ"), "a JWT");
            let claims = verify_id_token(&t, &jwt);
            assert_eq!(claims["aud"], app.id.as_str());
            assert_eq!(claims["sub"], "user-alice");
            assert_eq!(claims["client_id"], app.id.as_str());
            assert_eq!(claims["auth_time"], NOW);
            assert_eq!(claims["scope"], tokens.scope.as_str());
            let id_token = verify_id_token(&t, tokens.id_token.as_deref().unwrap());
            assert_eq!(id_token["at_hash"], claims::at_hash(&jwt).as_str());
            assert!(userinfo::claims_for(&c, &jwt).await.is_ok());
            // The jti an API sees is no credential on its own.
            let jti = claims["jti"].as_str().unwrap();
            assert!(userinfo::claims_for(&c, jti).await.is_err());
            // Neither is a JWT whose payload was changed, nor the id_token.
            let mut parts: Vec<&str> = jwt.split('.').collect();
            let forged_payload = {
                use base64::Engine;
                let mut forged = claims.clone();
                forged.insert("sub".into(), "user-mallory".into());
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(serde_json::Value::Object(forged).to_string())
            };
            parts[1] = &forged_payload;
            assert!(userinfo::claims_for(&c, &parts.join(".")).await.is_err());
            let id_token_jwt = tokens.id_token.as_deref().unwrap();
            assert!(userinfo::claims_for(&c, id_token_jwt).await.is_err());
            assert!(matches!(
                introspection::introspect(&c, &credentials, Some(&jwt), None)
                    .await
                    .unwrap(),
                introspection::Introspection::Active(_)
            ));
            // Refreshing gives another JWT; revoking by the JWT ends the family.
            let refreshed =
                refresh_with(&c, &credentials, tokens.refresh_token.as_deref().unwrap())
                    .await
                    .unwrap();
            assert!(verify_id_token(&t, &refreshed.access_token)["jti"] != claims["jti"]);
            revocation::revoke(&c, &credentials, Some(&jwt))
                .await
                .unwrap();
            assert!(userinfo::claims_for(&c, &refreshed.access_token)
                .await
                .is_err());
            // A revoked person's JWT is no client's own token: introspection says inactive.
            for revoked in [&jwt, &refreshed.access_token] {
                assert!(
                    !introspection::introspect(&c, &credentials, Some(revoked), None)
                        .await
                        .unwrap()
                        .is_active()
                );
            }
        });
    }

    /// The orders API (read:orders, admin:orders) and a confidential client "app" holding
    /// read:orders there, with alice signed in: (tenant, client, session).
    async fn orders_api_setup(db: &Db) -> (crate::tenancy::TenantSnapshot, Client, String) {
        use crate::oidc::api::{ApiGrantInput, ApiInput, ClientApiGrants, Permission};
        let t = tenant(db).await;
        let tid = t.tenant.id.clone();
        let alice = user(db, &tid, "alice", false).await;
        let app = confidential(db, &tid).await;
        let admin = testing::admin_ctx(db, &tid, crate::usecase::Actor::Operator);
        let permission = |v: &str| Permission {
            value: v.into(),
            description: String::new(),
        };
        crate::usecase::apis::create(
            &admin,
            &ApiInput {
                identifier: ORDERS.into(),
                name: "Orders".into(),
                permissions: vec![permission("read:orders"), permission("admin:orders")],
            },
        )
        .await
        .unwrap();
        crate::usecase::apis::set_client_grants(
            &admin,
            &app.id,
            &ClientApiGrants {
                grants: vec![ApiGrantInput {
                    api: ORDERS.into(),
                    permissions: vec!["read:orders".into()],
                }],
            },
        )
        .await
        .unwrap();
        let session = testing::session(db, &tid, &alice, NOW).await;
        (t, app, session)
    }

    const ORDERS: &str = "https://orders.example.com";

    fn params_with(app: &Client, resource: &str, scope: &str) -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", app.id.as_str()),
            ("redirect_uri", CB),
            ("scope", scope),
            ("resource", resource),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_resource_at_authorize_gives_a_jwt_for_that_api_and_refresh_keeps_it() {
        let db = testing::db();
        run(async {
            let (t, app, session) = orders_api_setup(&db).await;
            let c = ctx(&db, &t, NOW);
            let credentials = creds(&app.id, Some(SECRET));
            let pairs = params_with(&app, ORDERS, "openid email read:orders admin:orders");
            let code = crate::testing::oidc::code_for(&c, &pairs, &session).await;
            let tokens = grant(&c, &keys(), &credentials, &code_grant(&code, CB, None))
                .await
                .unwrap();
            // admin:orders was asked for but not granted to the client: dropped, and the
            // response's scope says what was issued.
            assert_eq!(tokens.scope, "openid email read:orders");
            let claims = verify_id_token(&t, &tokens.access_token);
            assert_eq!(claims["aud"], ORDERS);
            assert_eq!(claims["scope"], "read:orders");
            assert_eq!(claims["sub"], "user-alice");
            assert_eq!(claims["auth_time"], NOW);
            assert!(
                userinfo::claims_for(&c, &tokens.access_token)
                    .await
                    .is_err(),
                "an API token is not a userinfo token"
            );
            let later = ctx(&db, &t, NOW + 100);
            let refreshed = refresh_with(
                &later,
                &credentials,
                tokens.refresh_token.as_deref().unwrap(),
            )
            .await
            .unwrap();
            let again = verify_id_token(&t, &refreshed.access_token);
            assert_eq!(again["aud"], ORDERS);
            assert_eq!(again["scope"], "read:orders");
            assert_ne!(again["jti"], claims["jti"]);
        });
    }

    #[test]
    fn an_unregistered_or_different_resource_is_invalid_target_and_burns_the_code() {
        let db = testing::db();
        run(async {
            let (t, app, session) = orders_api_setup(&db).await;
            let c = ctx(&db, &t, NOW);
            let credentials = creds(&app.id, Some(SECRET));
            let unknown = params_with(&app, "https://unknown.example.com", "openid read:orders");
            let code = crate::testing::oidc::code_for(&c, &unknown, &session).await;
            let result = grant(&c, &keys(), &credentials, &code_grant(&code, CB, None)).await;
            assert_eq!(refused(result), ErrorCode::InvalidTarget);
            let known = params_with(&app, ORDERS, "openid read:orders");
            let code = crate::testing::oidc::code_for(&c, &known, &session).await;
            let mismatch = GrantRequest::AuthorizationCode {
                code: code.clone(),
                redirect_uri: Some(CB.into()),
                code_verifier: None,
                resource: Some("https://other.example.com".into()),
            };
            let result = grant(&c, &keys(), &credentials, &mismatch).await;
            assert_eq!(refused(result), ErrorCode::InvalidTarget);
            assert!(grants(&db, &t.tenant.id)
                .await
                .iter()
                .all(|g| g.revoked_at.is_some()));
            // Without resource at /authorize, the API permissions are dropped: a userinfo token.
            let plain = authorize_params_with_scope(&app, "openid read:orders");
            let code = crate::testing::oidc::code_for(&c, &plain, &session).await;
            let tokens = grant(&c, &keys(), &credentials, &code_grant(&code, CB, None))
                .await
                .unwrap();
            assert_eq!(tokens.scope, "openid");
            assert!(userinfo::claims_for(&c, &tokens.access_token).await.is_ok());
        });
    }

    fn authorize_params_with_scope(app: &Client, scope: &str) -> Vec<(String, String)> {
        let mut pairs = params_with(app, "", scope);
        pairs.retain(|(k, _)| k != "resource");
        pairs
    }

    #[test]
    fn es256_clients_get_es256_id_tokens() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let mut input = testing::client_input("app");
            input.id_token_signed_response_alg = Some("ES256".into());
            let app = testing::client(&db, &t.tenant.id, &input, Some(SECRET)).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let code = code(&c, &app, &session, &[]).await;
            let tokens = grant(
                &c,
                &keys(),
                &creds(&app.id, Some(SECRET)),
                &code_grant(&code, CB, None),
            )
            .await
            .unwrap();
            let id_token = tokens.id_token.unwrap();
            assert!(id_token.starts_with("eyJhbGciOiJFUzI1NiI"), "ES256 header");
            verify_id_token(&t, &id_token);
        });
    }

    #[test]
    fn concurrent_redemptions_of_one_code_exactly_one_wins() {
        let dir =
            std::env::temp_dir().join(format!("edge-id-race-{}", crate::crypto::random::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        let open =
            |create| Db::new(crate::storage::backend::sqlite::Sqlite::open(&path, create).unwrap());
        let setup = open(true);
        let (snapshot, app, code) = run(async {
            let t = tenant(&setup).await;
            let alice = user(&setup, &t.tenant.id, "alice", false).await;
            let app = confidential(&setup, &t.tenant.id).await;
            let session = testing::session(&setup, &t.tenant.id, &alice, NOW).await;
            let code = code(&ctx(&setup, &t, NOW), &app, &session, &[]).await;
            (t, app, code)
        });
        let barrier = std::sync::Barrier::new(2);
        let outcomes: Vec<std::result::Result<String, ErrorCode>> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let db = open(false);
                        let c = ctx(&db, &snapshot, NOW);
                        let request = code_grant(&code, CB, None);
                        let credentials = creds(&app.id, Some(SECRET));
                        barrier.wait();
                        match run(grant(&c, &keys(), &credentials, &request)) {
                            Ok(tokens) => Ok(tokens.access_token),
                            Err(e) => Err(refused(Err(e))),
                        }
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "{outcomes:?}");
        assert!(
            outcomes.contains(&Err(ErrorCode::InvalidGrant)),
            "{outcomes:?}"
        );
        let stored = run(grants(&setup, &snapshot.tenant.id));
        assert_eq!(stored.len(), 1, "one grant: {stored:?}");
        // The loser's request is indistinguishable from a replay, which revokes what the code
        // issued (RFC 6749 §4.1.2).
        assert!(stored[0].revoked_at.is_some());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_replayed_code_is_refused_and_revokes_the_tokens_it_issued() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let app = confidential(&db, &t.tenant.id).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let code = code(&c, &app, &session, &[]).await;
            let request = code_grant(&code, CB, None);
            let credentials = creds(&app.id, Some(SECRET));
            let tokens = grant(&c, &keys(), &credentials, &request).await.unwrap();
            assert_eq!(
                refused(grant(&c, &keys(), &credentials, &request).await),
                ErrorCode::InvalidGrant
            );
            assert!(userinfo::claims_for(&c, &tokens.access_token)
                .await
                .is_err());
            assert_eq!(
                refused(
                    refresh_with(&c, &credentials, tokens.refresh_token.as_deref().unwrap()).await
                ),
                ErrorCode::InvalidGrant
            );
            let stored = grants(&db, &t.tenant.id).await;
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].revoked_at, Some(NOW));
        });
    }

    #[test]
    fn an_expired_code_is_refused_and_creates_nothing() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let app = confidential(&db, &t.tenant.id).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let code = code(&ctx(&db, &t, NOW), &app, &session, &[]).await;
            let late = ctx(&db, &t, NOW + CODE_TTL);
            let result = grant(
                &late,
                &keys(),
                &creds(&app.id, Some(SECRET)),
                &code_grant(&code, CB, None),
            )
            .await;
            assert_eq!(refused(result), ErrorCode::InvalidGrant);
            assert!(grants(&db, &t.tenant.id).await.is_empty());
        });
    }

    #[test]
    fn pkce_is_checked_and_a_mismatch_burns_the_code() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let spa = testing::client(&db, &t.tenant.id, &testing::client_input("spa"), None).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            // RFC 7636 Appendix B.
            let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
            let pkce = [
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ];
            let cb = "https://spa.example.com/callback";
            let public = creds(&spa.id, None);
            let first = code(&c, &spa, &session, &pkce).await;
            let wrong = grant(
                &c,
                &keys(),
                &public,
                &code_grant(&first, cb, Some("x".repeat(43).as_str())),
            )
            .await;
            assert_eq!(refused(wrong), ErrorCode::InvalidGrant);
            // The code is spent: even the right verifier no longer redeems it.
            let retry = grant(
                &c,
                &keys(),
                &public,
                &code_grant(&first, cb, Some(verifier)),
            )
            .await;
            assert_eq!(refused(retry), ErrorCode::InvalidGrant);
            assert!(grants(&db, &t.tenant.id)
                .await
                .iter()
                .all(|g| g.revoked_at.is_some()));
            let second = code(&c, &spa, &session, &pkce).await;
            let missing = grant(&c, &keys(), &public, &code_grant(&second, cb, None)).await;
            assert_eq!(refused(missing), ErrorCode::InvalidGrant);
            let third = code(&c, &spa, &session, &pkce).await;
            grant(
                &c,
                &keys(),
                &public,
                &code_grant(&third, cb, Some(verifier)),
            )
            .await
            .expect("the right verifier redeems a fresh code");
        });
    }

    #[test]
    fn client_authentication_refusals_leave_the_code_redeemable() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let app = confidential(&db, &t.tenant.id).await;
            let other = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("other"),
                Some("other-secret"),
            )
            .await;
            let spa = testing::client(&db, &t.tenant.id, &testing::client_input("spa"), None).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let code = code(&c, &app, &session, &[]).await;
            let request = code_grant(&code, CB, None);
            for (credentials, expected) in [
                (creds(&app.id, Some("wrong")), ErrorCode::InvalidClient),
                (creds(&app.id, None), ErrorCode::InvalidClient),
                (
                    creds("no-such-client", Some(SECRET)),
                    ErrorCode::InvalidClient,
                ),
                (creds(&spa.id, Some("anything")), ErrorCode::InvalidClient),
                // Another client, properly authenticated: the code is not its to redeem.
                (
                    creds(&other.id, Some("other-secret")),
                    ErrorCode::InvalidGrant,
                ),
            ] {
                let result = grant(&c, &keys(), &credentials, &request).await;
                assert_eq!(refused(result), expected, "{credentials:?}");
            }
            assert!(
                grants(&db, &t.tenant.id).await.is_empty(),
                "nothing redeemed, nothing burned"
            );
            grant(&c, &keys(), &creds(&app.id, Some(SECRET)), &request)
                .await
                .expect("the code's own client still redeems it");
        });
    }

    #[test]
    fn refresh_rotates_and_the_successor_works() {
        let db = testing::db();
        run(async {
            let (t, app, first) = issued(&db).await;
            let c = ctx(&db, &t, NOW + 100);
            let credentials = creds(&app.id, Some(SECRET));
            let old = first.refresh_token.unwrap();
            let second = refresh_with(&c, &credentials, &old).await.unwrap();
            assert_ne!(second.refresh_token.as_deref(), Some(old.as_str()));
            assert_ne!(second.access_token, first.access_token);
            let claims = verify_id_token(&t, second.id_token.as_deref().unwrap());
            assert_eq!(claims["auth_time"], NOW, "auth_time is the sign-in's");
            let before = verify_id_token(&t, first.id_token.as_deref().unwrap());
            assert_eq!(claims["sid"], before["sid"], "the same session");
            assert_eq!(claims["amr"], before["amr"], "the same sign-in");
            assert_ne!(claims["jti"], before["jti"], "another token");
            assert_eq!(claims["iat"], NOW + 100);
            assert!(userinfo::claims_for(&c, &second.access_token).await.is_ok());
            let third = refresh_with(&c, &credentials, second.refresh_token.as_deref().unwrap())
                .await
                .unwrap();
            assert!(third.refresh_token.is_some());
            // Another client cannot use the token.
            let other = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("other"),
                Some("o"),
            )
            .await;
            let foreign = refresh_with(
                &c,
                &creds(&other.id, Some("o")),
                third.refresh_token.as_deref().unwrap(),
            )
            .await;
            assert_eq!(refused(foreign), ErrorCode::InvalidGrant);
            assert!(grants(&db, &t.tenant.id).await[0].revoked_at.is_none());
        });
    }

    #[test]
    fn a_repeat_within_the_grace_period_gets_the_same_successor() {
        let db = testing::db();
        run(async {
            let (t, app, first) = issued(&db).await;
            let credentials = creds(&app.id, Some(SECRET));
            let old = first.refresh_token.unwrap();
            let a = refresh_with(&ctx(&db, &t, NOW + 100), &credentials, &old)
                .await
                .unwrap();
            let b = refresh_with(&ctx(&db, &t, NOW + 105), &credentials, &old)
                .await
                .unwrap();
            assert_eq!(a.refresh_token, b.refresh_token, "the family does not fork");
            assert_ne!(a.access_token, b.access_token);
            let c = ctx(&db, &t, NOW + 106);
            assert!(userinfo::claims_for(&c, &a.access_token).await.is_ok());
            assert!(userinfo::claims_for(&c, &b.access_token).await.is_ok());
            assert!(grants(&db, &t.tenant.id).await[0].revoked_at.is_none());
        });
    }

    #[test]
    fn a_repeat_after_the_grace_period_revokes_the_family() {
        let db = testing::db();
        run(async {
            let (t, app, first) = issued(&db).await;
            let credentials = creds(&app.id, Some(SECRET));
            let old = first.refresh_token.unwrap();
            let grace = i64::from(t.tenant.settings.refresh_grace_secs);
            let a = refresh_with(&ctx(&db, &t, NOW + 100), &credentials, &old)
                .await
                .unwrap();
            let late = ctx(&db, &t, NOW + 101 + grace);
            assert_eq!(
                refused(refresh_with(&late, &credentials, &old).await),
                ErrorCode::InvalidGrant
            );
            // The whole family is gone: the successor and its access token too.
            assert_eq!(
                refused(
                    refresh_with(&late, &credentials, a.refresh_token.as_deref().unwrap()).await
                ),
                ErrorCode::InvalidGrant
            );
            assert!(userinfo::claims_for(&late, &a.access_token).await.is_err());
            assert_eq!(
                grants(&db, &t.tenant.id).await[0].revoked_at,
                Some(NOW + 101 + grace)
            );
        });
    }

    #[test]
    fn a_repeat_after_the_successor_was_used_revokes_the_family() {
        let db = testing::db();
        run(async {
            let (t, app, first) = issued(&db).await;
            let credentials = creds(&app.id, Some(SECRET));
            let old = first.refresh_token.unwrap();
            let c = ctx(&db, &t, NOW + 100);
            let a = refresh_with(&c, &credentials, &old).await.unwrap();
            refresh_with(&c, &credentials, a.refresh_token.as_deref().unwrap())
                .await
                .unwrap();
            assert_eq!(
                refused(refresh_with(&c, &credentials, &old).await),
                ErrorCode::InvalidGrant
            );
            assert!(grants(&db, &t.tenant.id).await[0].revoked_at.is_some());
        });
    }

    #[test]
    fn with_grace_zero_any_repeat_is_reuse() {
        let db = testing::db();
        run(async {
            let (mut t, app, first) = issued(&db).await;
            t.tenant.settings.refresh_grace_secs = 0;
            let credentials = creds(&app.id, Some(SECRET));
            let old = first.refresh_token.unwrap();
            let c = ctx(&db, &t, NOW + 100);
            let a = refresh_with(&c, &credentials, &old).await.unwrap();
            assert_eq!(
                refused(refresh_with(&c, &credentials, &old).await),
                ErrorCode::InvalidGrant
            );
            assert!(
                userinfo::claims_for(&c, &a.access_token).await.is_err(),
                "family revoked"
            );
        });
    }

    #[test]
    fn a_user_removed_from_the_clients_groups_gets_no_tokens_and_keeps_the_refresh_token() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let tid = t.tenant.id.clone();
            let alice = user(&db, &tid, "alice", false).await;
            let staff = testing::group(&db, &tid, "staff", std::slice::from_ref(&alice)).await;
            let mut input = testing::client_input("app");
            input.allowed_user_groups = vec!["staff".into()];
            let app = testing::client(&db, &tid, &input, Some(SECRET)).await;
            let session = testing::session(&db, &tid, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let credentials = creds(&app.id, Some(SECRET));
            let code = code(&c, &app, &session, &[]).await;
            let tokens = grant(&c, &keys(), &credentials, &code_grant(&code, CB, None))
                .await
                .unwrap();
            let refresh = tokens.refresh_token.unwrap();
            let audit = || {
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
                .unwrap()
            };
            crate::storage::groups::set_members(&db, &tid, &staff, &[], audit())
                .await
                .unwrap();
            assert_eq!(
                refused(refresh_with(&c, &credentials, &refresh).await),
                ErrorCode::InvalidGrant
            );
            // Not burned: back in the group, the same token rotates.
            crate::storage::groups::set_members(
                &db,
                &tid,
                &staff,
                std::slice::from_ref(&alice),
                audit(),
            )
            .await
            .unwrap();
            refresh_with(&c, &credentials, &refresh)
                .await
                .expect("rotates again");
        });
    }

    #[test]
    fn a_disabled_user_gets_no_tokens() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let tid = t.tenant.id.clone();
            let alice = user(&db, &tid, "alice", false).await;
            user(&db, &tid, "root", true).await;
            let app = confidential(&db, &tid).await;
            let session = testing::session(&db, &tid, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let credentials = creds(&app.id, Some(SECRET));
            let first = code(&c, &app, &session, &[]).await;
            let tokens = grant(&c, &keys(), &credentials, &code_grant(&first, CB, None))
                .await
                .unwrap();
            let pending = code(&c, &app, &session, &[]).await;
            let flags = crate::admin::user::AdminFlags {
                disabled: Some(true),
                ..Default::default()
            };
            let audit = crate::storage::audit::insert_statement(
                &db,
                &tid,
                "x",
                None,
                None,
                &Default::default(),
                &serde_json::json!({}),
                NOW,
            )
            .unwrap();
            assert!(
                crate::storage::users::update_flags(&db, &tid, &alice, &flags, None, NOW, audit)
                    .await
                    .unwrap()
                    .applied
            );
            let refresh = tokens.refresh_token.unwrap();
            assert_eq!(
                refused(refresh_with(&c, &credentials, &refresh).await),
                ErrorCode::InvalidGrant
            );
            assert_eq!(
                refused(grant(&c, &keys(), &credentials, &code_grant(&pending, CB, None)).await),
                ErrorCode::InvalidGrant
            );
            assert!(userinfo::claims_for(&c, &tokens.access_token)
                .await
                .is_err());
        });
    }
}
