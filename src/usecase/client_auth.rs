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

/// [`authenticate`] reading the client from `ctx.reader()` (a read replica near the Worker),
/// for an endpoint that writes nothing (PAR). A replica may lag: a client created or a secret
/// regenerated a moment ago may not be there yet, so a refusal there is asked again on the
/// primary. The other way round, a secret regenerated a moment ago may still be accepted
/// during the lag: what that buys (a pushed request) is worth nothing without the token
/// endpoint, which authenticates on the primary.
pub async fn authenticate_on_reader(ctx: &Ctx<'_>, creds: &ClientCredentials) -> Result<Client> {
    let reader = ctx.reader();
    let stored = clients::find_client(&reader, ctx.tenant_id(), &creds.client_id).await?;
    match judge(creds, stored) {
        Err(_) if reader.is_replica() => authenticate(ctx, creds).await,
        judged => Ok(judged?),
    }
}
