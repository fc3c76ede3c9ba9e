//! Client authentication at the back-channel endpoints (token, introspection, revocation):
//! the stored client, judged by the one rule `ClientCredentials::authenticate`.

use super::Ctx;
use crate::error::Result;
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::error::OAuthError;
use crate::storage::clients;

/// The client, if `stored` exists and the credentials authenticate it; `invalid_client`
/// otherwise (an unknown client and a wrong secret look the same).
pub fn judge(creds: &ClientCredentials, stored: Option<Client>) -> Result<Client, OAuthError> {
    let client =
        stored.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    creds.authenticate(&client)?;
    Ok(client)
}

/// Loads the client the credentials name and authenticates it (one round trip).
pub async fn authenticate(ctx: &Ctx<'_>, creds: &ClientCredentials) -> Result<Client> {
    let stored = clients::find_client(ctx.db, ctx.tenant_id(), &creds.client_id).await?;
    Ok(judge(creds, stored)?)
}
