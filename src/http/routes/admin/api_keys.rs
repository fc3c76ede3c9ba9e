//! `/api/api-keys`: keys for scripts and tools. The value is shown once at creation; only its
//! SHA-256 is stored. Keys are scoped to the tenant and may expire.

use serde_json::json;
use worker::Response;

use crate::admin::requests::ApiKeyInput;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::storage::api_keys;

pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let keys = api_keys::list(req.app.db()?, &req.tenant.tenant.id).await?;
    Ok(json_response(200, &json!({ "data": keys })))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: ApiKeyInput = req.incoming.json().await?;
    let (name, expires_at) = body.validate(req.now)?;
    let ctx = super::admin_ctx(&req, actor)?;
    let minted = crate::usecase::api_keys::create(&ctx, &req.issuer, &name, expires_at).await?;
    Ok(json_response(201, &minted))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    crate::usecase::api_keys::delete(&super::admin_ctx(req, actor)?, id).await?;
    Ok(no_content())
}
