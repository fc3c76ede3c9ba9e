//! `/api/apis` and `/api/oidc/clients/{id}/api-permissions`: the tenant's APIs (resource
//! servers) and the permissions each client holds at them. The rules are in
//! `crate::usecase::apis`; this module parses and renders.

use serde_json::json;
use worker::Response;

use super::admin_ctx;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::oidc::api::{ApiInput, ClientApiGrants};
use crate::usecase::apis;

pub async fn list(req: &TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let data = apis::list(&admin_ctx(req, actor)?).await?;
    Ok(json_response(200, &json!({ "data": data })))
}

pub async fn get(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let api = apis::get(&admin_ctx(req, actor)?, id).await?;
    Ok(json_response(200, &api))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: ApiInput = req.incoming.json().await?;
    let api = apis::create(&admin_ctx(&req, actor)?, &input).await?;
    Ok(json_response(201, &api))
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let input: ApiInput = req.incoming.json().await?;
    let api = apis::update(&admin_ctx(&req, actor)?, id, &input).await?;
    Ok(json_response(200, &api))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    apis::delete(&admin_ctx(req, actor)?, id).await?;
    Ok(no_content())
}

pub async fn client_grants(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let data = apis::client_grants(&admin_ctx(req, actor)?, id).await?;
    Ok(json_response(200, &json!({ "data": data })))
}

pub async fn set_client_grants(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let input: ClientApiGrants = req.incoming.json().await?;
    let data = apis::set_client_grants(&admin_ctx(&req, actor)?, id, &input).await?;
    Ok(json_response(200, &json!({ "data": data })))
}
