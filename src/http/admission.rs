//! Checks the callers the route table names that can be checked before the handler runs: a
//! same-origin browser, a tenant admin, the platform operator. The other callers (a session's
//! person, a client, an access token, a link holder) are checked by their handlers, which need
//! what those credentials name anyway.

use super::admin::{require_admin, Actor};
use super::app::App;
use super::request::{Incoming, TenantRequest};
use super::session;
use crate::crypto::hash::secrets_equal;
use crate::error::{Error, Result};
use crate::route_table::Caller;

/// Admits a caller on a tenant host. Returns the admin (API key or signed-in admin) for admin
/// routes, who is recorded in the audit log of what they change.
pub async fn admit_to_tenant(req: &TenantRequest<'_>, caller: Caller) -> Result<Option<Actor>> {
    match caller {
        Caller::SameOriginBrowser => session::require_same_origin(req).map(|()| None),
        Caller::Admin => require_admin(req).await.map(Some),
        Caller::Operator => Err(Error::Internal(
            "the route table put an operator route on tenant hosts".into(),
        )),
        Caller::Anyone
        | Caller::SignedInUser
        | Caller::LinkHolder
        | Caller::Client
        | Caller::AccessToken => Ok(None),
    }
}

/// Admits a caller on the platform host, where only the operator and anyone are expected.
pub fn admit_to_platform(app: &App, incoming: &Incoming, caller: Caller) -> Result<()> {
    match caller {
        Caller::Anyone => Ok(()),
        Caller::Operator => require_operator(app, incoming),
        other => Err(Error::Internal(format!(
            "the route table put a {other:?} route on the platform host"
        ))),
    }
}

/// `Authorization: Bearer <OPERATOR_SECRET>` (a Worker secret), compared in constant time.
/// Without the secret configured the operator API is off, never open.
fn require_operator(app: &App, incoming: &Incoming) -> Result<()> {
    let Some(secret) = app.operator_secret() else {
        return Err(Error::Forbidden(
            "the operator API is disabled: set the OPERATOR_SECRET secret".into(),
        ));
    };
    let presented = incoming
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_string))
        .ok_or(Error::Unauthenticated)?;
    if !secrets_equal(presented.trim(), &secret) {
        return Err(Error::Unauthenticated);
    }
    Ok(())
}
