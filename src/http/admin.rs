//! Who may use a tenant's admin API: an API key (`X-API-KEY`, scoped to the tenant, with
//! expiry) or a signed-in admin whose browser request is same-origin and carries the CSRF
//! token (`X-CSRF-Token`) on anything that changes state.

use worker::Method;

use super::request::TenantRequest;
use super::session;
use crate::error::{Error, Result};
use crate::storage::api_keys;

/// The authenticated caller, for the audit log.
pub use crate::usecase::Actor;

pub async fn require_admin(req: &TenantRequest<'_>) -> Result<Actor> {
    if let Some(key) = req.incoming.header("x-api-key") {
        let row = api_keys::authenticate(req.app.db()?, &req.tenant.tenant.id, key.trim(), req.now)
            .await?
            .ok_or(Error::Unauthenticated)?;
        return Ok(Actor::ApiKey { id: row.id });
    }
    let current = session::require(req).await?;
    if !current.user.is_admin {
        return Err(Error::Forbidden("This needs an administrator.".into()));
    }
    if req.incoming.method != Method::Get {
        session::require_same_origin(req)?;
        session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    }
    Ok(Actor::Admin {
        user_id: current.user.id.clone(),
    })
}
