//! `/api/oidc/clients` and `/api/oidc/client-presets`: create, read, update, delete clients,
//! regenerate their secrets, and make clients from presets. The rules are in
//! `crate::usecase::clients`; this module parses and renders.

use serde_json::json;
use worker::Response;

use super::admin_ctx;
use crate::admin::presets;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::oidc::client::ClientInput;
use crate::oidc::discovery::Endpoints;
use crate::usecase::clients::{self, FromPreset, SecretInput};

/// `GET /api/oidc/clients?search=&page=&limit=` (everything when no page is asked for).
pub async fn list(req: &TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let page = super::page_or_everything(req)?;
    let search = req.incoming.query_param("search");
    let (data, total) = clients::list(&admin_ctx(req, actor)?, search, &page).await?;
    Ok(super::paged(&data, &page, total))
}

/// `GET /api/oidc/clients/{id}`, with the preset's setup values when it came from one.
pub async fn get(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let detail = clients::get(&admin_ctx(req, actor)?, &req.issuer, id).await?;
    Ok(json_response(200, &detail))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: ClientInput = req.incoming.json().await?;
    let created = clients::create_client(&admin_ctx(&req, actor)?, &input, json!({})).await?;
    Ok(json_response(201, &created.to_json()))
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let input: ClientInput = req.incoming.json().await?;
    let updated = clients::update(&admin_ctx(&req, actor)?, id, &input).await?;
    Ok(json_response(200, &updated.to_json()))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    clients::delete(&admin_ctx(req, actor)?, id).await?;
    Ok(no_content())
}

/// `POST /api/oidc/clients/{id}/secret?grace_period=N`: rotates the secret.
pub async fn regenerate_secret(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let grace = match req.incoming.query_param("grace_period") {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| Error::Invalid {
            field: "grace_period",
            message: "The grace period is a number of seconds.".into(),
        })?),
    };
    let added = clients::regenerate_secret(&admin_ctx(req, actor)?, id, grace).await?;
    Ok(json_response(200, &added))
}

/// `GET /api/oidc/clients/{id}/secrets`.
pub async fn list_secrets(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let data = clients::list_secrets(&admin_ctx(req, actor)?, id).await?;
    Ok(json_response(200, &json!({ "data": data })))
}

/// `POST /api/oidc/clients/{id}/secrets`.
pub async fn add_secret(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let input: SecretInput = req.incoming.json().await?;
    let added = clients::add_secret(&admin_ctx(&req, actor)?, id, &input).await?;
    Ok(json_response(201, &added))
}

/// `DELETE /api/oidc/clients/{id}/secrets/{secret_id}`.
pub async fn delete_secret(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
    secret_id: &str,
) -> Result<Response> {
    clients::delete_secret(&admin_ctx(req, actor)?, id, secret_id).await?;
    Ok(no_content())
}

/// `GET /api/oidc/client-presets`: the presets and this tenant's endpoint URLs.
pub fn list_presets(req: &TenantRequest<'_>) -> Response {
    json_response(
        200,
        &json!({ "data": presets::PRESETS, "endpoints": Endpoints::for_issuer(&req.issuer) }),
    )
}

/// `POST /api/oidc/client-presets/{preset}`: creates the client the preset describes and
/// returns it with its secret and the values to paste into the app.
pub async fn create_from_preset(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    preset_id: &str,
) -> Result<Response> {
    let body: FromPreset = req.incoming.json().await?;
    let ctx = admin_ctx(&req, actor)?;
    let made = clients::create_from_preset(&ctx, &req.issuer, preset_id, &body).await?;
    Ok(json_response(
        201,
        &json!({ "client": made.client.to_json(), "setup": made.setup }),
    ))
}
