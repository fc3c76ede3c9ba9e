//! `/api/users` (list), one-time login links for a user, and invitation (sign-up) links.

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::Response;

use super::record;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::storage::ceremonies::{self, LinkPurpose};
use crate::storage::users;

#[derive(Serialize)]
struct UserView {
    id: String,
    username: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    is_admin: bool,
    disabled: bool,
}

pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let rows = users::list(
        req.app.db()?,
        &req.tenant.tenant.id,
        req.incoming.query_param("search"),
    )
    .await?;
    let data: Vec<UserView> = rows
        .into_iter()
        .map(|u| UserView {
            id: u.id,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            is_admin: u.is_admin == 1,
            disabled: u.disabled == 1,
        })
        .collect();
    Ok(json_response(200, &json!({ "data": data })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    /// Lifetime of the link; defaults differ per kind (see below).
    #[serde(default)]
    expires_in_minutes: Option<i64>,
}

async fn body(req: &mut TenantRequest<'_>) -> Result<LinkBody> {
    let has_body = req
        .incoming
        .header("content-length")
        .is_some_and(|l| l != "0");
    if has_body {
        req.incoming.json().await
    } else {
        Ok(LinkBody::default())
    }
}

fn lifetime(asked: Option<i64>, default: i64, max: i64) -> Result<i64> {
    match asked {
        None => Ok(default),
        Some(m) if (1..=max).contains(&m) => Ok(m),
        Some(_) => Err(Error::Invalid {
            field: "expires_in_minutes",
            message: format!("between 1 and {max} minutes"),
        }),
    }
}

/// `POST /api/users/{id}/one-time-access-token`: a link that signs the user in once, for a
/// user who lost their passkeys (Pocket ID's recovery path). One hour by default.
pub async fn one_time_access_token(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    user_id: &str,
) -> Result<Response> {
    let minutes = lifetime(body(&mut req).await?.expires_in_minutes, 60, 7 * 24 * 60)?;
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    if users::find(db, tenant_id, user_id).await?.is_none() {
        return Err(Error::NotFound("This user".into()));
    }
    let expires_at = req.now + minutes * 60;
    let token = ceremonies::create_link(
        db,
        tenant_id,
        LinkPurpose::Login,
        Some(user_id),
        &actor.label(),
        req.now,
        expires_at,
    )
    .await?;
    record(
        &req,
        actor,
        "one_time_link_created",
        None,
        json!({ "user_id": user_id }),
    )
    .await?;
    Ok(json_response(
        201,
        &json!({
            "token": token,
            "url": format!("{}/login/code/{token}", req.issuer),
            "expires_at": expires_at,
        }),
    ))
}

/// `POST /api/signup-tokens`: an invitation link that creates one account. Seven days by default.
pub async fn signup_token(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let minutes = lifetime(
        body(&mut req).await?.expires_in_minutes,
        7 * 24 * 60,
        30 * 24 * 60,
    )?;
    let expires_at = req.now + minutes * 60;
    let token = ceremonies::create_link(
        req.app.db()?,
        &req.tenant.tenant.id,
        LinkPurpose::Invite,
        None,
        &actor.label(),
        req.now,
        expires_at,
    )
    .await?;
    record(&req, actor, "invite_created", None, json!({})).await?;
    Ok(json_response(
        201,
        &json!({
            "token": token,
            "url": format!("{}/setup/{token}", req.issuer),
            "expires_at": expires_at,
        }),
    ))
}
