//! `/api/users`: list (paged, searched), create, read, edit, disable, delete, group membership,
//! passkeys, custom claims; one-time login links and invitation (sign-up) links.

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::Response;

use super::audit_entry;
use crate::storage::audit::When;

use super::{claims_body, paged};
use crate::admin::user::{AdminFlags, AdminUserInput};
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, no_content};
use crate::storage::ceremonies::{self, LinkPurpose, NewLink};
use crate::storage::users::{self, UserRow};
use crate::storage::{db::Db, passkeys};

#[derive(Serialize)]
struct UserView {
    id: String,
    username: String,
    email: Option<String>,
    email_verified: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    is_admin: bool,
    disabled: bool,
    custom_claims: serde_json::Value,
    created_at: i64,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        Self {
            custom_claims: serde_json::from_str(&u.custom_claims).unwrap_or_else(|_| json!({})),
            id: u.id,
            username: u.username,
            email: u.email,
            email_verified: u.email_verified == 1,
            first_name: u.first_name,
            last_name: u.last_name,
            display_name: u.display_name,
            is_admin: u.is_admin == 1,
            disabled: u.disabled == 1,
            created_at: u.created_at,
        }
    }
}

async fn load(db: &Db, req: &TenantRequest<'_>, id: &str) -> Result<UserRow> {
    users::find(db, &req.tenant.tenant.id, id)
        .await?
        .ok_or_else(|| Error::NotFound("This user".into()))
}

/// `GET /api/users?search=&page=&limit=`
pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let page = super::page(req)?;
    let (rows, total) = users::list_page(
        req.app.db()?,
        &req.tenant.tenant.id,
        req.incoming.query_param("search"),
        &page,
    )
    .await?;
    let data: Vec<UserView> = rows.into_iter().map(UserView::from).collect();
    Ok(paged(&data, &page, total))
}

/// `GET /api/users/{id}`: the user with their groups and passkeys.
pub async fn get(req: &TenantRequest<'_>, id: &str) -> Result<Response> {
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let user = load(db, req, id).await?;
    let groups = users::groups_of(db, tenant_id, id).await?;
    let passkeys: Vec<serde_json::Value> = passkeys::list_for_user(db, tenant_id, id)
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "credential_id": p.credential_id, "name": p.name, "created_at": p.created_at,
                "last_used_at": p.last_used_at, "backed_up": p.backup_state == 1,
            })
        })
        .collect();
    let mut v = serde_json::to_value(UserView::from(user))?;
    v["groups"] = serde_json::to_value(groups)?;
    v["passkeys"] = json!(passkeys);
    Ok(json_response(200, &v))
}

/// `POST /api/users`: a user without a passkey yet; send them a one-time login link.
pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: AdminUserInput = req.incoming.json().await?;
    let (profile, flags) = input.validate_new()?;
    let db = req.app.db()?;
    let id = random::id();
    let audit = audit_entry(
        &req,
        actor,
        "user_created",
        None,
        json!({ "user_id": id, "username": profile.username }),
        When::PreviousChanged,
    )?;
    users::create(
        db,
        &req.tenant.tenant.id,
        &id,
        &profile,
        &flags,
        req.now,
        audit,
    )
    .await?;
    let user = load(db, &req, &id).await?;
    Ok(json_response(201, &UserView::from(user)))
}

fn last_admin() -> Error {
    Error::Conflict(
        "This is the tenant's last active admin who can sign in: make someone else an admin \
         and have them add a passkey first."
            .into(),
    )
}

/// `PUT /api/users/{id}`: fields left out stay as they are.
pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let input: AdminUserInput = req.incoming.json().await?;
    let (change, flags) = input.validate_change()?;
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    load(db, &req, id).await?;
    let loses_admin = flags.is_admin == Some(false) || flags.disabled == Some(true);
    if loses_admin && users::is_last_active_admin(db, &tenant_id, id).await? {
        return Err(last_admin());
    }
    let event = match flags.disabled {
        Some(true) => "user_disabled",
        Some(false) => "user_enabled",
        None => "user_updated",
    };
    let audit = audit_entry(
        &req,
        actor,
        event,
        None,
        json!({ "user_id": id }),
        When::PreviousChanged,
    )?;
    // The same rule again inside the UPDATEs, for two admins demoting each other at once: the
    // profile and the flags change together or not at all.
    if !users::update_flags(db, &tenant_id, id, &flags, Some(&change), req.now, audit).await? {
        return Err(last_admin());
    }
    Ok(json_response(
        200,
        &UserView::from(load(db, &req, id).await?),
    ))
}

/// `PUT /api/custom-claims/user/{id}` (Pocket ID's route): replaces the user's custom claims.
pub async fn set_custom_claims(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let claims = claims_body(&mut req).await?;
    let db = req.app.db()?;
    load(db, &req, id).await?;
    let flags = AdminFlags {
        custom_claims: Some(claims.clone()),
        ..AdminFlags::default()
    };
    let audit = audit_entry(
        &req,
        actor,
        "user_updated",
        None,
        json!({ "user_id": id }),
        When::PreviousChanged,
    )?;
    users::update_flags(db, &req.tenant.tenant.id, id, &flags, None, req.now, audit).await?;
    Ok(json_response(200, &claims))
}

/// `DELETE /api/users/{id}`: the user, their passkeys, sessions, memberships and tokens.
pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let db = req.app.db()?;
    let user = load(db, req, id).await?;
    if matches!(actor, Actor::Admin { user_id } if user_id == id) {
        return Err(Error::Conflict(
            "You cannot delete your own account here; ask another admin.".into(),
        ));
    }
    let audit = audit_entry(
        req,
        actor,
        "user_deleted",
        None,
        json!({ "user_id": id, "username": user.username }),
        When::PreviousChanged,
    )?;
    if !users::delete(db, &req.tenant.tenant.id, id, audit).await? {
        // Refused inside the batch (the last-admin rule is part of every statement, so no
        // separate check precedes it): say which rule, or that the user is gone.
        return Err(
            if users::is_last_active_admin(db, &req.tenant.tenant.id, id).await? {
                last_admin()
            } else {
                Error::NotFound("This user".into())
            },
        );
    }
    Ok(no_content())
}

/// `GET /api/users/{id}/sessions`: the user's live browser sessions.
pub async fn sessions(req: &TenantRequest<'_>, id: &str) -> Result<Response> {
    let db = req.app.db()?;
    load(db, req, id).await?;
    let list = users::sessions_of(db, &req.tenant.tenant.id, id, req.now).await?;
    Ok(json_response(200, &json!({ "data": list })))
}

/// `DELETE /api/users/{id}/sessions`: signs the user out everywhere and revokes every token
/// issued to them (a stolen laptop), without disabling the account.
pub async fn sign_out_everywhere(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let db = req.app.db()?;
    load(db, req, id).await?;
    let mut statements = users::sign_out_statements(
        db,
        &req.tenant.tenant.id,
        id,
        req.now,
        users::SignOut::Always,
    )?;
    statements.push(audit_entry(
        req,
        actor,
        "user_signed_out",
        None,
        json!({ "user_id": id }),
        When::RowExists { table: "users", id },
    )?);
    db.batch(statements).await?;
    Ok(no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupIds {
    group_ids: Vec<String>,
}

/// `PUT /api/users/{id}/user-groups`: the groups the user belongs to.
pub async fn set_groups(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let body: GroupIds = req.incoming.json().await?;
    if body.group_ids.len() > 200 {
        return Err(Error::Invalid {
            field: "group_ids",
            message: "at most 200 groups".into(),
        });
    }
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    load(db, &req, id).await?;
    let audit = audit_entry(
        &req,
        actor,
        "user_groups_set",
        None,
        json!({ "user_id": id, "group_ids": body.group_ids }),
        When::RowExists { table: "users", id },
    )?;
    users::set_groups(db, &tenant_id, id, &body.group_ids, audit).await?;
    let groups = users::groups_of(db, &tenant_id, id).await?;
    Ok(json_response(200, &json!({ "data": groups })))
}

/// `DELETE /api/users/{id}/passkeys/{credential_id}`: removes a lost or compromised passkey.
pub async fn delete_passkey(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
    credential_id: &str,
) -> Result<Response> {
    let audit = audit_entry(
        req,
        actor,
        "passkey_removed",
        None,
        json!({ "user_id": id, "credential_id": credential_id }),
        When::PreviousChanged,
    )?;
    passkeys::delete(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        credential_id,
        Some(audit),
    )
    .await?
    .into_result()?;
    Ok(no_content())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    /// Lifetime of the link; defaults differ per kind (see below).
    #[serde(default)]
    expires_in_minutes: Option<i64>,
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
/// new user or one who lost their passkeys (Pocket ID's recovery path). One hour by default.
pub async fn one_time_access_token(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    user_id: &str,
) -> Result<Response> {
    let body: LinkBody = req.incoming.optional_json().await?;
    let minutes = lifetime(body.expires_in_minutes, 60, 7 * 24 * 60)?;
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    load(db, &req, user_id).await?;
    let expires_at = req.now + minutes * 60;
    let audit = audit_entry(
        &req,
        actor,
        "one_time_link_created",
        None,
        json!({ "user_id": user_id }),
        When::PreviousChanged,
    )?;
    let token = ceremonies::create_link(
        db,
        tenant_id,
        &NewLink {
            purpose: LinkPurpose::Login,
            user_id: Some(user_id),
            created_by: &actor.label(),
            expires_at,
        },
        req.now,
        audit,
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
    let body: LinkBody = req.incoming.optional_json().await?;
    let minutes = lifetime(body.expires_in_minutes, 7 * 24 * 60, 30 * 24 * 60)?;
    let expires_at = req.now + minutes * 60;
    let audit = audit_entry(
        &req,
        actor,
        "invite_created",
        None,
        json!({}),
        When::PreviousChanged,
    )?;
    let token = ceremonies::create_link(
        req.app.db()?,
        &req.tenant.tenant.id,
        &NewLink {
            purpose: LinkPurpose::Invite,
            user_id: None,
            created_by: &actor.label(),
            expires_at,
        },
        req.now,
        audit,
    )
    .await?;
    Ok(json_response(
        201,
        &json!({
            "token": token,
            "url": format!("{}/setup/{token}", req.issuer),
            "expires_at": expires_at,
        }),
    ))
}
