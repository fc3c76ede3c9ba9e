//! The tenant admin REST API (`/api/...`, modelled on Pocket ID's), for admins and API keys.

pub mod clients;
pub mod groups;
pub mod settings;
pub mod users;

use worker::{Method, Response};

use crate::error::{Error, Result};
use crate::http::admin::{require_admin, Actor};
use crate::http::request::TenantRequest;
use crate::storage::audit;

/// Dispatches `/api/oidc/clients...`, `/api/user-groups...` and `/api/users`; `None` when the
/// path is not an admin route.
pub async fn route(req: TenantRequest<'_>) -> Option<Result<Response>> {
    let path = req.incoming.path.clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.incoming.method.clone();
    let is_admin_path = matches!(
        segments.as_slice(),
        ["api", "oidc", "clients", ..]
            | ["api", "user-groups", ..]
            | ["api", "users", ..]
            | ["api", "signup-tokens"]
            | ["api", "application-configuration"]
    );
    if !is_admin_path {
        return None;
    }
    Some(dispatch(req, method, &segments).await)
}

async fn dispatch(req: TenantRequest<'_>, method: Method, segments: &[&str]) -> Result<Response> {
    let actor = require_admin(&req).await?;
    match (method, segments) {
        (Method::Get, ["api", "oidc", "clients"]) => clients::list(&req).await,
        (Method::Post, ["api", "oidc", "clients"]) => clients::create(req, &actor).await,
        (Method::Get, ["api", "oidc", "clients", id]) => clients::get(&req, id).await,
        (Method::Put, ["api", "oidc", "clients", id]) => clients::update(req, &actor, id).await,
        (Method::Delete, ["api", "oidc", "clients", id]) => clients::delete(&req, &actor, id).await,
        (Method::Post, ["api", "oidc", "clients", id, "secret"]) => {
            clients::regenerate_secret(&req, &actor, id).await
        }
        (Method::Get, ["api", "user-groups"]) => groups::list(&req).await,
        (Method::Post, ["api", "user-groups"]) => groups::create(req, &actor).await,
        (Method::Put, ["api", "user-groups", id, "users"]) => {
            groups::set_members(req, &actor, id).await
        }
        (Method::Get, ["api", "users"]) => users::list(&req).await,
        (Method::Post, ["api", "users", id, "one-time-access-token"]) => {
            users::one_time_access_token(req, &actor, id).await
        }
        (Method::Post, ["api", "signup-tokens"]) => users::signup_token(req, &actor).await,
        (Method::Get, ["api", "application-configuration"]) => Ok(settings::get(&req)),
        (Method::Put, ["api", "application-configuration"]) => settings::update(req, &actor).await,
        _ => Err(Error::NotFound("This API route".into())),
    }
}

/// Records an admin change in the audit log.
pub async fn record(
    req: &TenantRequest<'_>,
    actor: &Actor,
    event: &str,
    client_id: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    let db = req.app.db()?;
    let mut details = details;
    details["actor"] = serde_json::Value::String(actor.label());
    let user = match actor {
        Actor::Admin { user_id } => Some(user_id.as_str()),
        Actor::ApiKey { .. } => None,
    };
    db.batch(vec![audit::insert_statement(
        db,
        &req.tenant.tenant.id,
        event,
        user,
        client_id,
        &req.incoming.audit_origin(),
        &details,
        req.now,
    )?])
    .await?;
    Ok(())
}
