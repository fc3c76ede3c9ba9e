//! The tenant admin REST API (`/api/...`, modelled on Pocket ID's), for admins and API keys.
//! The route table with its documentation is `crate::admin::api`; this module dispatches it.

pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod console;
pub mod groups;
pub mod settings;
pub mod users;

use serde::Serialize;
use serde_json::json;
use worker::{Method, Response};

use crate::admin::paging::Page;
use crate::error::{Error, Result};
use crate::http::admin::{require_admin, Actor};
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::usecase::{AdminCtx, Author};

/// Dispatches the admin API; `None` when the path is not one of its routes.
pub async fn route(req: TenantRequest<'_>) -> Option<Result<Response>> {
    let path = req.incoming.path.clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.incoming.method.clone();
    let is_admin_path = matches!(
        segments.as_slice(),
        ["api", "oidc", "clients", ..]
            | ["api", "oidc", "client-presets", ..]
            | ["api", "user-groups", ..]
            | ["api", "users", ..]
            | ["api", "custom-claims", ..]
            | ["api", "audit-logs"]
            | ["api", "api-keys", ..]
            | ["api", "signup-tokens"]
            | ["api", "application-configuration"]
    );
    if segments.as_slice() == ["api", "openapi.json"] && method == Method::Get {
        return Some(Ok(json_response(
            200,
            &crate::admin::api::openapi(&req.issuer),
        )));
    }
    if !is_admin_path {
        return None;
    }
    Some(dispatch(req, method, &segments).await)
}

async fn dispatch(req: TenantRequest<'_>, method: Method, segments: &[&str]) -> Result<Response> {
    use Method::{Delete, Get, Post, Put};
    let actor = require_admin(&req).await?;
    let a = &actor;
    match (method, segments) {
        (Get, ["api", "users"]) => users::list(&req, a).await,
        (Post, ["api", "users"]) => users::create(req, a).await,
        (Get, ["api", "users", id]) => users::get(&req, a, id).await,
        (Put, ["api", "users", id]) => users::update(req, a, id).await,
        (Delete, ["api", "users", id]) => users::delete(&req, a, id).await,
        (Put, ["api", "users", id, "user-groups"]) => users::set_groups(req, a, id).await,
        (Get, ["api", "users", id, "sessions"]) => users::sessions(&req, a, id).await,
        (Delete, ["api", "users", id, "sessions"]) => users::sign_out_everywhere(&req, a, id).await,
        (Delete, ["api", "users", id, "passkeys", cred]) => {
            users::delete_passkey(&req, a, id, cred).await
        }
        (Post, ["api", "users", id, "one-time-access-token"]) => {
            users::one_time_access_token(req, a, id).await
        }
        (Post, ["api", "signup-tokens"]) => users::signup_token(req, a).await,
        (Put, ["api", "custom-claims", "user", id]) => users::set_custom_claims(req, a, id).await,
        (Put, ["api", "custom-claims", "user-group", id]) => {
            groups::set_custom_claims(req, a, id).await
        }
        (Get, ["api", "user-groups"]) => groups::list(&req, a).await,
        (Post, ["api", "user-groups"]) => groups::create(req, a).await,
        (Get, ["api", "user-groups", id]) => groups::get(&req, a, id).await,
        (Put, ["api", "user-groups", id]) => groups::update(req, a, id).await,
        (Delete, ["api", "user-groups", id]) => groups::delete(&req, a, id).await,
        (Put, ["api", "user-groups", id, "users"]) => groups::set_members(req, a, id).await,
        (Get, ["api", "oidc", "clients"]) => clients::list(&req, a).await,
        (Post, ["api", "oidc", "clients"]) => clients::create(req, a).await,
        (Get, ["api", "oidc", "clients", id]) => clients::get(&req, a, id).await,
        (Put, ["api", "oidc", "clients", id]) => clients::update(req, a, id).await,
        (Delete, ["api", "oidc", "clients", id]) => clients::delete(&req, a, id).await,
        (Post, ["api", "oidc", "clients", id, "secret"]) => {
            clients::regenerate_secret(&req, a, id).await
        }
        (Get, ["api", "oidc", "client-presets"]) => Ok(clients::list_presets(&req)),
        (Post, ["api", "oidc", "client-presets", preset]) => {
            clients::create_from_preset(req, a, preset).await
        }
        (Get, ["api", "audit-logs"]) => audit::list(&req).await,
        (Get, ["api", "api-keys"]) => api_keys::list(&req).await,
        (Post, ["api", "api-keys"]) => api_keys::create(req, a).await,
        (Delete, ["api", "api-keys", id]) => api_keys::delete(&req, a, id).await,
        (Get, ["api", "application-configuration"]) => Ok(settings::get(&req)),
        (Put, ["api", "application-configuration"]) => settings::update(req, a).await,
        _ => Err(Error::NotFound("This API route".into())),
    }
}

/// `?page=&limit=` of a list request.
fn page(req: &TenantRequest<'_>) -> Result<Page> {
    Ok(Page::parse(
        req.incoming.query_param("page"),
        req.incoming.query_param("limit"),
    )?)
}

/// `?page=&limit=` of a list that returns everything when neither is given.
fn page_or_everything(req: &TenantRequest<'_>) -> Result<Page> {
    Ok(Page::parse_or_everything(
        req.incoming.query_param("page"),
        req.incoming.query_param("limit"),
    )?)
}

/// A paged list response: `{ data, pagination }`.
fn paged<T: Serialize>(data: &[T], page: &Page, total: i64) -> Response {
    json_response(
        200,
        &json!({ "data": data, "pagination": page.describe(total) }),
    )
}

/// A custom-claims body (object or Pocket ID's key/value list), validated.
async fn claims_body(
    req: &mut TenantRequest<'_>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let input: crate::admin::custom_claims::CustomClaimsInput = req.incoming.json_value().await?;
    Ok(crate::admin::custom_claims::validate(input)?)
}

/// The context of an admin use case run for this request by `actor`.
pub fn admin_ctx<'a>(req: &'a TenantRequest<'_>, actor: &Actor) -> Result<AdminCtx<'a>> {
    Ok(AdminCtx {
        db: req.app.db()?,
        tenant_id: &req.tenant.tenant.id,
        now: req.now,
        author: Author {
            actor: actor.clone(),
            origin: req.incoming.audit_origin(),
        },
    })
}
