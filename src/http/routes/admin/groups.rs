//! `/api/user-groups`: list, create, read, rename, delete groups; set their members and custom
//! claims. The rules are in `crate::usecase::groups`; this module parses and renders.

use worker::Response;

use super::{admin_ctx, claims_body};
use crate::admin::requests::UserIds;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::usecase::groups::{self, GroupInput};

/// `GET /api/user-groups?search=&page=&limit=` (everything when no page is asked for).
pub async fn list(req: &TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let page = super::page_or_everything(req)?;
    let search = req.incoming.query_param("search");
    let (data, total) = groups::list(&admin_ctx(req, actor)?, search, &page).await?;
    Ok(super::paged(&data, &page, total))
}

/// `GET /api/user-groups/{id}`: the group, its members and the clients restricted to it.
pub async fn get(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    Ok(json_response(
        200,
        &groups::get(&admin_ctx(req, actor)?, id).await?,
    ))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: GroupInput = req.incoming.json().await?;
    let group = groups::create(&admin_ctx(&req, actor)?, input).await?;
    Ok(json_response(201, &group))
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let input: GroupInput = req.incoming.json().await?;
    let group = groups::update(&admin_ctx(&req, actor)?, id, input).await?;
    Ok(json_response(200, &group))
}

/// `PUT /api/custom-claims/user-group/{id}` (Pocket ID's route): replaces the group's claims.
pub async fn set_custom_claims(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let claims = claims_body(&mut req).await?;
    let claims = groups::set_custom_claims(&admin_ctx(&req, actor)?, id, claims).await?;
    Ok(json_response(200, &claims))
}

/// `DELETE /api/user-groups/{id}`.
pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    groups::delete(&admin_ctx(req, actor)?, id).await?;
    Ok(no_content())
}

/// `PUT /api/user-groups/{id}/users`: replaces the members.
pub async fn set_members(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let body: UserIds = req.incoming.json().await?;
    let group = groups::set_members(&admin_ctx(&req, actor)?, id, &body.user_ids).await?;
    Ok(json_response(200, &group))
}
