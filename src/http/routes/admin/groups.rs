//! `/api/user-groups`: list, create, read, rename, delete groups; set their members and custom
//! claims. Which clients a group may use is set on the client (`allowed_user_groups`) and
//! shown here.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::audit_entry;
use crate::storage::audit::When;

use super::claims_body;
use crate::admin::custom_claims::{self, CustomClaimsInput};
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::storage::groups;
use crate::validation::field_error;

/// `GET /api/user-groups?search=&page=&limit=` (everything when no page is asked for).
pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let page = super::page_or_everything(req)?;
    let (rows, total) = groups::list(
        req.app.db()?,
        &req.tenant.tenant.id,
        req.incoming.query_param("search"),
        &page,
    )
    .await?;
    let data: Vec<serde_json::Value> = rows.into_iter().map(view).collect();
    Ok(super::paged(&data, &page, total))
}

fn view(g: groups::GroupRow) -> serde_json::Value {
    json!({
        "id": g.id, "name": g.name, "friendly_name": g.friendly_name,
        "custom_claims": serde_json::from_str::<serde_json::Value>(&g.custom_claims).unwrap_or_else(|_| json!({})),
        "member_count": g.member_count, "created_at": g.created_at,
    })
}

/// `GET /api/user-groups/{id}`: the group, its members and the clients restricted to it.
pub async fn get(req: &TenantRequest<'_>, id: &str) -> Result<Response> {
    let (group, members, clients) = groups::find(req.app.db()?, &req.tenant.tenant.id, id)
        .await?
        .ok_or_else(|| Error::NotFound("This group".into()))?;
    let mut v = view(group);
    v["members"] = serde_json::to_value(members)?;
    v["allowed_clients"] = serde_json::to_value(clients)?;
    Ok(json_response(200, &v))
}

/// The JSON body of `POST` and `PUT /api/user-groups/{id}` (on PUT, left-out fields stay).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupInput {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    friendly_name: Option<String>,
    #[serde(default)]
    custom_claims: Option<CustomClaimsInput>,
}

fn group_name(raw: &str) -> Result<String> {
    Ok(crate::admin::group::name(raw)?)
}

fn friendly_name(raw: &str) -> Result<String> {
    Ok(crate::admin::group::friendly_name(raw)?)
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: GroupInput = req.incoming.json().await?;
    let name = group_name(body.name.as_deref().unwrap_or_default())?;
    let friendly = match body.friendly_name.as_deref() {
        Some(f) if !f.trim().is_empty() => friendly_name(f)?,
        _ => name.clone(),
    };
    let claims = body
        .custom_claims
        .map(custom_claims::validate)
        .transpose()?;
    let id = random::id();
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    let audit = audit_entry(
        &req,
        actor,
        "group_created",
        None,
        json!({ "group": name }),
        When::PreviousChanged,
    )?;
    groups::create(
        db,
        &tenant_id,
        &groups::NewGroup {
            id: &id,
            name: &name,
            friendly_name: &friendly,
            custom_claims: &claims.unwrap_or_default(),
        },
        req.now,
        audit,
    )
    .await?;
    get(&req, &id).await.map(|r| r.with_status(201))
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let body: GroupInput = req.incoming.json().await?;
    let name = body.name.as_deref().map(group_name).transpose()?;
    let friendly = body
        .friendly_name
        .as_deref()
        .map(friendly_name)
        .transpose()?;
    let claims = body
        .custom_claims
        .map(custom_claims::validate)
        .transpose()?;
    let change = Change {
        name: name.as_deref(),
        friendly_name: friendly.as_deref(),
        custom_claims: claims.as_ref(),
    };
    apply(&req, actor, id, change).await?;
    get(&req, id).await
}

/// `PUT /api/custom-claims/user-group/{id}` (Pocket ID's route): replaces the group's claims.
pub async fn set_custom_claims(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let claims = claims_body(&mut req).await?;
    let change = Change {
        custom_claims: Some(&claims),
        ..Change::default()
    };
    apply(&req, actor, id, change).await?;
    Ok(json_response(200, &claims))
}

/// What a group update changes; `None` keeps the stored value.
#[derive(Default)]
struct Change<'a> {
    name: Option<&'a str>,
    friendly_name: Option<&'a str>,
    custom_claims: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

async fn apply(req: &TenantRequest<'_>, actor: &Actor, id: &str, c: Change<'_>) -> Result<()> {
    let audit = audit_entry(
        req,
        actor,
        "group_updated",
        None,
        json!({ "group_id": id }),
        When::PreviousChanged,
    )?;
    let found = groups::update(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        c.name,
        c.friendly_name,
        c.custom_claims,
        audit,
    )
    .await?;
    if !found {
        return Err(Error::NotFound("This group".into()));
    }
    Ok(())
}

/// `DELETE /api/user-groups/{id}`. Refused while a client is restricted to this group alone:
/// without it that client would be open to everyone.
pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let only = groups::clients_restricted_only_to(db, tenant_id, id).await?;
    if !only.is_empty() {
        let names: Vec<String> = only.into_iter().map(|c| c.name).collect();
        return Err(Error::Conflict(format!(
            "Only this group may use {}; change that client's allowed groups first, or it would be open to everyone.",
            names.join(", ")
        )));
    }
    let audit = audit_entry(
        req,
        actor,
        "group_deleted",
        None,
        json!({ "group_id": id }),
        When::PreviousChanged,
    )?;
    if !groups::delete(db, tenant_id, id, audit).await? {
        // Refused inside the DELETE when a client became restricted to it alone meanwhile.
        return Err(
            if groups::clients_restricted_only_to(db, tenant_id, id)
                .await?
                .is_empty()
            {
                Error::NotFound("This group".into())
            } else {
                Error::Conflict("A client is now restricted to this group alone.".into())
            },
        );
    }
    Ok(no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    user_ids: Vec<String>,
}

/// `PUT /api/user-groups/{id}/users`: replaces the members.
pub async fn set_members(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let body: Members = req.incoming.json().await?;
    if body.user_ids.len() > 1000 {
        return Err(field_error("user_ids", "at most 1000 per call").into());
    }
    let audit = audit_entry(
        &req,
        actor,
        "group_members_set",
        None,
        json!({ "group_id": id, "count": body.user_ids.len() }),
        When::RowExists {
            table: "user_groups",
            id,
        },
    )?;
    if !groups::set_members(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        &body.user_ids,
        audit,
    )
    .await?
    {
        return Err(Error::NotFound("This group".into()));
    }
    get(&req, id).await
}
