//! `/api/users`: list (paged, searched), create, read, edit, disable, delete, group membership,
//! passkeys, custom claims; one-time login links and invitation (sign-up) links. The rules are
//! in `crate::usecase::users`; this module parses and renders.

use serde_json::json;
use worker::Response;

use super::{admin_ctx, claims_body, paged};
use crate::admin::requests::{GroupIds, InvitationInput, LinkInput};
use crate::admin::user::AdminUserInput;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::backchannel::WorkerLogoutQueue;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::usecase::backchannel::Logouts;
use crate::usecase::users;

/// Where the logouts an admin action causes go, under the issuer of the admin's host.
fn logouts<'a>(req: &'a TenantRequest<'_>, queue: &'a WorkerLogoutQueue<'_>) -> Logouts<'a> {
    Logouts {
        queue,
        issuer: &req.issuer,
    }
}

/// `GET /api/users?search=&page=&limit=`
pub async fn list(req: &TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let page = super::page(req)?;
    let search = req.incoming.query_param("search");
    let (data, total) = users::list(&admin_ctx(req, actor)?, search, &page).await?;
    Ok(paged(&data, &page, total))
}

/// `GET /api/users/{id}`: the user with their groups and passkeys.
pub async fn get(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    Ok(json_response(
        200,
        &users::get(&admin_ctx(req, actor)?, id).await?,
    ))
}

/// `POST /api/users`: a user without a passkey yet; send them a one-time login link.
pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: AdminUserInput = req.incoming.json().await?;
    let user = users::create(&admin_ctx(&req, actor)?, &input).await?;
    Ok(json_response(201, &user))
}

/// `PUT /api/users/{id}`: fields left out stay as they are.
pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let input: AdminUserInput = req.incoming.json().await?;
    let queue = WorkerLogoutQueue(req.app);
    let logouts = logouts(&req, &queue);
    let user = users::update(&admin_ctx(&req, actor)?, id, &input, &logouts).await?;
    Ok(json_response(200, &user))
}

/// `PUT /api/custom-claims/user/{id}` (Pocket ID's route): replaces the user's custom claims.
pub async fn set_custom_claims(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let claims = claims_body(&mut req).await?;
    let claims = users::set_custom_claims(&admin_ctx(&req, actor)?, id, claims).await?;
    Ok(json_response(200, &claims))
}

/// `DELETE /api/users/{id}`: the user, their passkeys, sessions, memberships and tokens.
pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let queue = WorkerLogoutQueue(req.app);
    users::delete(&admin_ctx(req, actor)?, id, &logouts(req, &queue)).await?;
    Ok(no_content())
}

/// `GET /api/users/{id}/sessions`: the user's live browser sessions.
pub async fn sessions(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let list = users::sessions(&admin_ctx(req, actor)?, id).await?;
    Ok(json_response(200, &json!({ "data": list })))
}

/// `DELETE /api/users/{id}/sessions`: signs the user out everywhere and revokes every token.
pub async fn sign_out_everywhere(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let queue = WorkerLogoutQueue(req.app);
    users::sign_out_everywhere(&admin_ctx(req, actor)?, id, &logouts(req, &queue)).await?;
    Ok(no_content())
}

/// `PUT /api/users/{id}/user-groups`: the groups the user belongs to.
pub async fn set_groups(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let body: GroupIds = req.incoming.json().await?;
    let groups = users::set_groups(&admin_ctx(&req, actor)?, id, &body.group_ids).await?;
    Ok(json_response(200, &json!({ "data": groups })))
}

/// `DELETE /api/users/{id}/passkeys/{credential_id}`: removes a lost or compromised passkey.
pub async fn delete_passkey(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
    credential_id: &str,
) -> Result<Response> {
    users::delete_passkey(&admin_ctx(req, actor)?, id, credential_id).await?;
    Ok(no_content())
}

/// `POST /api/users/{id}/one-time-access-token`: a link that signs the user in once.
pub async fn one_time_access_token(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    user_id: &str,
) -> Result<Response> {
    let body: LinkInput = req.incoming.optional_json().await?;
    let ctx = admin_ctx(&req, actor)?;
    if body.send_email {
        let post = req.app.post()?;
        let emailed =
            users::email_login_link(&ctx, &post, &req.issuer, user_id, body.expires_in_minutes)
                .await?;
        return Ok(json_response(201, &emailed));
    }
    let link =
        users::create_login_link(&ctx, &req.issuer, user_id, body.expires_in_minutes).await?;
    Ok(json_response(201, &link))
}

/// `POST /api/signup-tokens`: an invitation link (uses, email, groups, lifetime).
pub async fn signup_token(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: InvitationInput = req.incoming.optional_json().await?;
    let ctx = admin_ctx(&req, actor)?;
    let mut issued = users::create_invite(&ctx, &req.issuer, &body).await?;
    if body.send_email {
        let post = req.app.post()?;
        users::email_invite(&ctx, &post, &req.issuer, &mut issued).await?;
    }
    Ok(json_response(201, &issued))
}

/// `GET /api/signup-tokens`: the tenant's invitations with their status (never the links).
pub async fn list_signup_tokens(req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let ctx = admin_ctx(&req, actor)?;
    let list = users::list_invites(&ctx).await?;
    Ok(json_response(200, &json!({ "data": list })))
}

/// `DELETE /api/signup-tokens/{id}`: revoke an invitation.
pub async fn revoke_signup_token(
    req: TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let ctx = admin_ctx(&req, actor)?;
    users::revoke_invite(&ctx, id).await?;
    Ok(no_content())
}
