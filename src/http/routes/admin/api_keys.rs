//! `/api/api-keys`: keys for scripts and tools. The value is shown once at creation; only its
//! SHA-256 is stored. Keys are scoped to the tenant and may expire.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::audit_entry;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::storage::api_keys::{self, NewApiKey};
use crate::storage::audit::When;
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
    let id = random::id();
    let key = api_keys::generate();
    let audit = audit_entry(
        &req,
        actor,
        "api_key_created",
        None,
        json!({ "api_key_id": id, "name": name }),
        When::PreviousChanged,
    )?;
    api_keys::create(
        req.app.db()?,
        &req.tenant.tenant.id,
        &NewApiKey {
            id: &id,
            name,
            key: &key,
            created_by: &actor.label(),
            expires_at: body.expires_at,
        },
        req.now,
        Some(audit),
    )
    .await?;
    Ok(json_response(
        201,
        &json!({ "id": id, "name": name, "api_key": key, "expires_at": body.expires_at }),
    ))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let audit = audit_entry(
        req,
        actor,
        "api_key_deleted",
        None,
        json!({ "api_key_id": id }),
        When::PreviousChanged,
    )?;
    if !api_keys::delete(req.app.db()?, &req.tenant.tenant.id, id, audit).await? {
        return Err(Error::NotFound("This API key".into()));
    }
    Ok(no_content())
}
