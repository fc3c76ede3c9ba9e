//! The token endpoint's use cases (RFC 6749 §4.1.3, §6): redeeming an authorization code and
//! rotating a refresh token, each answering with fresh tokens and a signed id_token.
//!
//! Tokens are opaque random values (hashed in storage) rather than JWT access tokens: a
//! revocation takes effect at once (code replay, refresh reuse, logout), and userinfo and
//! introspection read the database anyway.
//!
//! The device code grant (RFC 8628) is `usecase::device::poll`, issuing through [`respond`].
//!
//! Database round trips: a code redemption is one batch (`storage::codes::redeem_code`), plus
//! one to revoke the new grant when the redeemed code fails its checks; a refresh is a lookup
//! and a rotation batch, plus one to revoke the family on reuse.

use super::{client_auth, Ctx, Signer};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::authorize::AuthorizationRequest;
use crate::oidc::claims::{self, IdTokenContext, UserClaims};
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::error::OAuthError;
use crate::oidc::refresh::{self, RefreshUse};
use crate::oidc::scope::ScopeSet;
use crate::oidc::token::{
    check_code_redemption, refreshed_scope, GrantRequest, TokenResponse, ACCESS_TOKEN_TTL,
    ID_TOKEN_TTL, REFRESH_TOKEN_TTL,
};
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
    match request {
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            redeem_code(
                ctx,
                keys.signer,
                creds,
                code,
                redirect_uri.as_deref(),
                code_verifier.as_deref(),
            )
            .await
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh(ctx, keys, creds, refresh_token, scope.as_ref()).await,
        GrantRequest::DeviceCode { device_code } => {
            super::device::poll(ctx, keys.signer, creds, device_code).await
        }
    }
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

/// Redeems an authorization code (RFC 6749 §4.1.3): exactly one of any number of concurrent
/// redemptions gets tokens; a repeat revokes what the code issued.
pub async fn redeem_code(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    creds: &ClientCredentials,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<TokenResponse> {
    let minted = Minted::fresh();
    let redemption = Redemption {
        tenant_id: ctx.tenant_id(),
        code_hash: secret_hash(code),
        credentials: creds,
        now: ctx.now,
        grant_id: random::id(),
        access_token_hash: secret_hash(&minted.access),
        access_expires_at: ctx.now + ACCESS_TOKEN_TTL,
        refresh_token_hash: secret_hash(&minted.refresh),
        refresh_expires_at: ctx.now + REFRESH_TOKEN_TTL,
        origin: &ctx.origin,
    };
    let outcome = codes::redeem_code(ctx.db, &redemption).await?;
    // The same rule the batch's SQL was generated from: a refused client redeemed nothing.
    let client = client_auth::judge(creds, outcome.client)?;
    let redeemed = outcome.code.ok_or_else(|| {
        OAuthError::invalid_grant("the code is invalid, expired or was already used")
    })?;
    let request: AuthorizationRequest = serde_json::from_str(&redeemed.request)
        .map_err(|e| Error::Internal(format!("stored request: {e}")))?;
    let revoke = || grants::revoke_grant(ctx.db, ctx.tenant_id(), &redemption.grant_id, ctx.now);
    if let Err(e) = check_code_redemption(&request, redirect_uri, code_verifier) {
        revoke().await?;
        return Err(e.into());
    }
    let Some(user) = outcome.user else {
        revoke().await?;
        return Err(OAuthError::invalid_grant("the user no longer exists or is disabled").into());
    };
    let issued = Issued {
        client: &client,
        user: &user,
        scope: &request.scope,
        auth_time: redeemed.auth_time,
        nonce: request.nonce.as_deref(),
    };
    respond(ctx, signer, &issued, minted).await
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
            let client = client_auth::judge(creds, lookup.client)?;
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
            access_expires_at: ctx.now + ACCESS_TOKEN_TTL,
            refresh_token_hash: successor_hash.clone(),
            refresh_expires_at: ctx.now + REFRESH_TOKEN_TTL,
        },
    )
    .await?;
    let client = client_auth::judge(creds, outcome.client)?;
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
    let issued = Issued {
        client: &client,
        user: &user,
        scope: &scope,
        auth_time: token.auth_time,
        nonce: None,
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
}

/// The token response for `issued`: the minted pair and a signed id_token.
pub(super) async fn respond(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    issued: &Issued<'_>,
    minted: Minted,
) -> Result<TokenResponse> {
    let claims = claims::id_token(
        issued.user,
        &IdTokenContext {
            issuer: ctx.issuer,
            client_id: &issued.client.id,
            scopes: issued.scope,
            auth_time: issued.auth_time,
            nonce: issued.nonce,
            access_token: &minted.access,
            now: ctx.now,
            lifetime_secs: ID_TOKEN_TTL,
            include_scope_claims: issued.client.claims_in_id_token,
            tenant: (&ctx.tenant.tenant.settings).into(),
        },
    );
    let id_token = signer
        .sign_jwt(ctx.tenant, issued.client.id_token_alg, "JWT", &claims)
        .await?;
    Ok(TokenResponse {
        access_token: minted.access,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL,
        scope: issued.scope.to_string(),
        id_token: Some(id_token),
        refresh_token: Some(minted.refresh),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::token::CODE_TTL;
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
            let c = ctx(&db, &t, NOW);
            let info = userinfo::claims_for(&c, &tokens.access_token)
                .await
                .unwrap();
            assert_eq!(info["sub"], "user-alice");
            assert_eq!(grants(&db, &t.tenant.id).await.len(), 1);
        });
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
            assert!(crate::storage::users::update_flags(
                &db, &tid, &alice, &flags, None, NOW, audit
            )
            .await
            .unwrap());
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
