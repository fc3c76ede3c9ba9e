//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): `oidc::logout::plan` decides
//! from the verified `id_token_hint`, the client it names and the signed-in user; this use case
//! gathers those facts and ends the session (with the grants issued through it) when the plan
//! says so.

use super::Ctx;
use crate::error::Result;
use crate::oidc::hint;
use crate::oidc::logout::{self, Hint, LogoutPlan, LogoutRequest};
use crate::storage::grants::{self, SessionEnd};
use crate::storage::{clients, sessions::SessionWithUser};

pub struct EndSession<'a> {
    /// The browser's live session, if any.
    pub session: Option<&'a SessionWithUser>,
    pub id_token_hint: Option<&'a str>,
    pub request: LogoutRequest,
    /// The user confirmed on our own confirmation form (the caller checked its origin and
    /// CSRF token).
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was done; explain why.
    Refused(&'static str),
    /// Ask the signed-in user to confirm (nothing was done yet).
    Confirm,
    /// Signed out (when there was a session); send the browser to this verified URL.
    Redirect { url: String },
    /// Signed out (when there was a session); show the signed-out page.
    SignedOut,
}

pub async fn end_session(ctx: &Ctx<'_>, input: &EndSession<'_>) -> Result<Outcome> {
    let hint = hint::verify(input.id_token_hint, &ctx.tenant.jwks(ctx.now), ctx.issuer);
    let client = match &hint {
        Hint::Valid { client_id, .. } => {
            clients::find_client(ctx.db, ctx.tenant_id(), client_id).await?
        }
        _ => None,
    };
    let plan = logout::plan(
        &input.request,
        &hint,
        client.as_ref(),
        input.session.map(|s| s.user.id.as_str()),
    );
    Ok(match plan {
        LogoutPlan::Refuse(why) => Outcome::Refused(why),
        LogoutPlan::Confirm if !input.confirmed && input.session.is_some() => Outcome::Confirm,
        LogoutPlan::Redirect { url } => {
            sign_out(ctx, input.session).await?;
            Outcome::Redirect { url }
        }
        LogoutPlan::SignOut | LogoutPlan::Confirm => {
            sign_out(ctx, input.session).await?;
            Outcome::SignedOut
        }
    })
}

/// Deletes the session and revokes the grants issued through it, in one batch.
async fn sign_out(ctx: &Ctx<'_>, session: Option<&SessionWithUser>) -> Result<()> {
    let Some(s) = session else {
        return Ok(());
    };
    grants::end_session(
        ctx.db,
        &SessionEnd {
            tenant_id: ctx.tenant_id(),
            session_id_hash: &s.id_hash,
            user_id: &s.user.id,
            origin: &ctx.origin,
            now: ctx.now,
        },
    )
    .await
}
