//! `/api/user-groups`: list and create groups, set their members.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::record;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::storage::groups;

pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let rows = groups::list(req.app.db()?, &req.tenant.tenant.id).await?;
    Ok(json_response(200, &json!({ "data": rows })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    name: String,
    #[serde(default)]
    friendly_name: Option<String>,
}

/// Group names appear in the `groups` claim, where apps match them: keep them simple.
fn valid_group_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: NewGroup = req.incoming.json().await?;
    let name = body.name.trim().to_string();
    if !valid_group_name(&name) {
        return Err(Error::BadRequest(
            "name: 1 to 64 letters, digits, dashes, dots or underscores".into(),
        ));
    }
    let friendly = body
        .friendly_name
        .map(|f| f.trim().chars().take(100).collect::<String>())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| name.clone());
    let id = random::id();
    groups::create(
        req.app.db()?,
        &req.tenant.tenant.id,
        &id,
        &name,
        &friendly,
        req.now,
    )
    .await?;
    record(&req, actor, "group_created", None, json!({ "group": name })).await?;
    Ok(json_response(
        201,
        &json!({ "id": id, "name": name, "friendly_name": friendly }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    user_ids: Vec<String>,
}

pub async fn set_members(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let body: Members = req.incoming.json().await?;
    if body.user_ids.len() > 1000 {
        return Err(Error::BadRequest("user_ids: at most 1000 per call".into()));
    }
    if !groups::set_members(req.app.db()?, &req.tenant.tenant.id, id, &body.user_ids).await? {
        return Err(Error::NotFound("This group".into()));
    }
    record(
        &req,
        actor,
        "group_members_set",
        None,
        json!({ "group_id": id, "count": body.user_ids.len() }),
    )
    .await?;
    Ok(json_response(
        200,
        &json!({ "id": id, "user_ids": body.user_ids }),
    ))
}
