//! The UserInfo endpoint's use case (OIDC Core §5.3): the claims an access token releases.

use serde_json::Value;

use super::Ctx;
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::oidc::claims;
use crate::oidc::error::OAuthError;
use crate::oidc::scope::ScopeSet;
use crate::storage::grants;

/// The claims the access token `token` releases under its scopes; `invalid_token` when the
/// token is unknown, expired, revoked or its user disabled.
pub async fn claims_for(ctx: &Ctx<'_>, token: &str) -> Result<Value> {
    let found =
        grants::find_access_token(ctx.db, ctx.tenant_id(), &secret_hash(token), ctx.now).await?;
    let (Some(token), Some(user)) = (found.token, found.user) else {
        return Err(
            OAuthError::invalid_token("the access token is invalid, expired or revoked").into(),
        );
    };
    let scopes = ScopeSet::parse_lenient(&token.scope);
    Ok(claims::userinfo(
        &user.claims(&found.groups),
        &scopes,
        (&ctx.tenant.tenant.settings).into(),
    ))
}
