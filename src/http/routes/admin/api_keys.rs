//! `/api/api-keys`: keys for scripts and tools. The value is shown once at creation; only its
//! SHA-256 is stored. Keys are scoped to the tenant and may expire.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::storage::api_keys;
use crate::validation::{field_error, plain_text};

pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let keys = api_keys::list(req.app.db()?, &req.tenant.tenant.id).await?;
    Ok(json_response(200, &json!({ "data": keys })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    /// Unix seconds; none means the key does not expire.
    #[serde(default)]
    expires_at: Option<i64>,
}

const TEN_YEARS: i64 = 3650 * 86400;

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: NewKey = req.incoming.json().await?;
    let name = body.name.trim();
    plain_text("name", name)?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(field_error("name", "1 to 100 characters").into());
    }
    if let Some(at) = body.expires_at {
        if at <= req.now || at > req.now + TEN_YEARS {
            return Err(field_error("expires_at", "a time in the future, within ten years").into());
        }
    }
    let ctx = super::admin_ctx(&req, actor)?;
    let minted = crate::usecase::api_keys::create(&ctx, name, body.expires_at).await?;
    Ok(json_response(201, &minted))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    crate::usecase::api_keys::delete(&super::admin_ctx(req, actor)?, id).await?;
    Ok(no_content())
}
