//! `POST /api/oidc/token`: the authorization_code and refresh_token grants.
//!
//! A code exchange is one D1 batch (see `storage::grants`): client authentication, redemption,
//! reuse revocation, grant and token creation and the user's claims, atomically. Tokens are
//! opaque random values (hashed in D1) rather than JWT access tokens: revocation takes effect
//! at once (code replay, refresh reuse, logout), and userinfo/introspection read D1 anyway.

use worker::Response;

use super::{client_credentials, form};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::request::TenantRequest;
use crate::http::respond::{json, set_header};
use crate::http::signing::sign_jwt;
use crate::oidc::authorize::AuthorizationRequest;
use crate::oidc::claims::{self, IdTokenContext};
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::error::OAuthError;
use crate::oidc::refresh::{self, RefreshUse};
use crate::oidc::scope::ScopeSet;
use crate::oidc::token::{
    check_code_redemption, refreshed_scope, GrantRequest, TokenResponse, ACCESS_TOKEN_TTL,
    ID_TOKEN_TTL, REFRESH_TOKEN_TTL,
};
use crate::storage::clients::ClientRow;
use crate::storage::grants::{self, Redemption, Rotation, RotationOutcome};
use crate::storage::users::{GroupClaimsRow, UserRow};

pub async fn token(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let response = match GrantRequest::parse(&form)? {
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            exchange_code(
                &req,
                &creds,
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_deref(),
            )
            .await?
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh(&req, &creds, &refresh_token, scope.as_ref()).await?,
    };
    let mut resp = json(200, &response);
    set_header(&mut resp, "Pragma", "no-cache");
    Ok(resp)
}

/// Authenticates the client from its row (the SQL already refused to act for a bad secret;
/// this produces the right error and catches a client that does not exist).
fn authenticate(creds: &ClientCredentials, row: Option<&ClientRow>) -> Result<Client> {
    let client = row
        .map(ClientRow::to_client)
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    creds.authenticate(&client)?;
    Ok(client)
}

/// The master-key purpose of the key that derives refresh token successors.
const REFRESH_SUCCESSOR_KEY: &str = "refresh-successor";

/// The minted token pair for one response.
struct Minted {
    access: String,
    refresh: String,
}

impl Minted {
    fn new() -> Self {
        Self {
            access: random::token(),
            refresh: random::token(),
        }
    }
}

async fn exchange_code(
    req: &TenantRequest<'_>,
    creds: &ClientCredentials,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<TokenResponse> {
    let db = req.app.db()?;
    let minted = Minted::new();
    let origin = req.incoming.audit_origin();
    let redemption = Redemption {
        tenant_id: &req.tenant.tenant.id,
        code_hash: secret_hash(code),
        client_id: &creds.client_id,
        secret_hashes: creds.secret_hashes(),
        now: req.now,
        grant_id: random::id(),
        access_token_hash: secret_hash(&minted.access),
        access_expires_at: req.now + ACCESS_TOKEN_TTL,
        refresh_token_hash: secret_hash(&minted.refresh),
        refresh_expires_at: req.now + REFRESH_TOKEN_TTL,
        origin: &origin,
    };
    let outcome = grants::redeem_code(db, &redemption).await?;
    let client = authenticate(creds, outcome.client.as_ref())?;
    let redeemed = outcome.code.ok_or_else(|| {
        OAuthError::invalid_grant("the code is invalid, expired or was already used")
    })?;
    let request: AuthorizationRequest = serde_json::from_str(&redeemed.request)
        .map_err(|e| Error::Internal(format!("stored request: {e}")))?;
    let revoke = || grants::revoke_grant(db, &req.tenant.tenant.id, &redemption.grant_id, req.now);
    if let Err(e) = check_code_redemption(&request, redirect_uri, code_verifier) {
        revoke().await?;
        return Err(e.into());
    }
    let Some(user) = outcome.user else {
        revoke().await?;
        return Err(OAuthError::invalid_grant("the user no longer exists or is disabled").into());
    };
    respond(
        req,
        &client,
        &user,
        &outcome.groups,
        &request.scope,
        redeemed.auth_time,
        request.nonce.as_deref(),
        minted,
    )
    .await
}

async fn refresh(
    req: &TenantRequest<'_>,
    creds: &ClientCredentials,
    refresh_token: &str,
    asked_scope: Option<&ScopeSet>,
) -> Result<TokenResponse> {
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let grace_secs = req.tenant.tenant.settings.refresh_grace_secs;
    let old_hash = secret_hash(refresh_token);
    let lookup = grants::find_refresh(db, tenant_id, &creds.client_id, &old_hash).await?;
    let client = authenticate(creds, lookup.client.as_ref())?;
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    // Bound to its client: another client's token is simply not valid here.
    let token = lookup
        .token
        .filter(|t| t.client_id == client.id)
        .ok_or_else(invalid)?;
    let successor = refresh::successor(
        &req.app.master_key()?.derive(REFRESH_SUCCESSOR_KEY),
        tenant_id,
        refresh_token,
        grace_secs,
        random::token,
    );
    let successor_hash = secret_hash(&successor);
    match refresh::classify(&token.stored(), req.now, grace_secs, &successor_hash) {
        RefreshUse::Rotate | RefreshUse::GraceRepeat => {}
        RefreshUse::Invalid => return Err(invalid().into()),
        RefreshUse::Reuse => {
            // Someone holds a copy of a rotated token: end the whole family (RFC 9700 §4.14).
            grants::revoke_grant(db, tenant_id, &token.grant_id, req.now).await?;
            return Err(invalid().into());
        }
    }
    let scope = refreshed_scope(&ScopeSet::parse_lenient(&token.scope), asked_scope)?;
    let access = random::token();
    let outcome = grants::rotate_refresh(
        db,
        &Rotation {
            tenant_id,
            old_hash: &old_hash,
            grant_id: &token.grant_id,
            scope: &scope.to_string(),
            now: req.now,
            grace_secs,
            access_token_hash: secret_hash(&access),
            access_expires_at: req.now + ACCESS_TOKEN_TTL,
            refresh_token_hash: successor_hash,
            refresh_expires_at: req.now + REFRESH_TOKEN_TTL,
        },
    )
    .await?;
    let (user, groups) = match outcome {
        RotationOutcome::Issued { user, groups } => (*user, groups),
        RotationOutcome::NoAccess => {
            return Err(OAuthError::invalid_grant(
                "the user is disabled or no longer allowed to use this application",
            )
            .into())
        }
        RotationOutcome::Lost => {
            // A concurrent request rotated it first and this one may not share the successor
            // (strict rotation, or the grace period ran out between the two round trips).
            grants::revoke_grant(db, tenant_id, &token.grant_id, req.now).await?;
            return Err(invalid().into());
        }
    };
    respond(
        req,
        &client,
        &user,
        &groups,
        &scope,
        token.auth_time,
        None,
        Minted {
            access,
            refresh: successor,
        },
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    req: &TenantRequest<'_>,
    client: &Client,
    user: &UserRow,
    groups: &[GroupClaimsRow],
    scope: &ScopeSet,
    auth_time: i64,
    nonce: Option<&str>,
    minted: Minted,
) -> Result<TokenResponse> {
    let claims = claims::id_token(
        &user.claims(groups),
        &IdTokenContext {
            issuer: &req.issuer,
            client_id: &client.id,
            scopes: scope,
            auth_time,
            nonce,
            access_token: &minted.access,
            now: req.now,
            lifetime_secs: ID_TOKEN_TTL,
            include_scope_claims: client.claims_in_id_token,
            tenant: (&req.tenant.tenant.settings).into(),
        },
    );
    let id_token = sign_jwt(req.app, &req.tenant, client.id_token_alg, "JWT", &claims).await?;
    Ok(TokenResponse {
        access_token: minted.access,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL,
        scope: scope.to_string(),
        id_token: Some(id_token),
        refresh_token: Some(minted.refresh),
    })
}
