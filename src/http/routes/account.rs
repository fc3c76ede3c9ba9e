//! The signed-in person's pages: login, first-admin/invite setup, account, sign-out; the
//! account API (rename/delete passkeys). Static assets and the theme are in `assets`.

use serde::Deserialize;
use worker::Response;

use super::pages::{brand, message, render};
use crate::account::next::safe_next;
use crate::account::{ProfileChange, ProfileInput};
use crate::error::{Error, Result};
use crate::http::request::TenantRequest;
use crate::http::respond::{json, redirect, set_header};
use crate::http::session;
use crate::storage::ceremonies::LinkPurpose;
use crate::storage::{audit, ceremonies, passkeys, sessions, users};
use crate::tenancy::SignupMode;
use crate::ui::{
    self, AccountPage, AccountUser, LoginPage, OneTimeLoginPage, PasskeyRow, SetupPage,
};

pub async fn login_page(req: TenantRequest<'_>) -> Result<Response> {
    let next = safe_next(req.incoming.query_param("next"), &req.issuer);
    if session::current(&req).await?.is_some() && req.incoming.query_param("force").is_none() {
        return Ok(redirect(&next));
    }
    render(&LoginPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        next,
        signup_url: (req.tenant.tenant.settings.signup_mode == SignupMode::Open)
            .then(|| "/signup".to_string()),
        notice: None,
    })
}

/// `GET /signup`: open sign-up, when the tenant allows it.
pub async fn signup_page(req: TenantRequest<'_>) -> Result<Response> {
    if req.tenant.tenant.settings.signup_mode != SignupMode::Open {
        return Err(Error::NotFound(
            "Sign-up is by invitation here. This page".into(),
        ));
    }
    render(&SetupPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        token: String::new(),
        first_admin: false,
        prefill_email: None,
        heading: "Create your account".into(),
        intro: format!(
            "You'll sign in to {} with a passkey: no password to remember.",
            req.tenant.tenant.display_name
        ),
    })
}

/// The CSRF token of the one-time login form: there is no session yet, so it is derived from
/// the link itself (and the same-origin check does the real work).
fn one_time_csrf(token: &str) -> String {
    crate::crypto::hash::secret_hash(&format!("one-time-login:{token}"))
}

/// `GET /login/code/<token>`: a page with a button. Only the POST consumes the link, so mail
/// scanners that fetch links do not burn it.
pub async fn one_time_login_page(req: TenantRequest<'_>, token: &str) -> Result<Response> {
    let link = ceremonies::peek_token(req.app.db()?, &req.tenant.tenant.id, token, req.now)
        .await?
        .filter(|l| l.purpose == LinkPurpose::Login.as_str());
    if link.is_none() {
        return Err(Error::NotFound(
            "This sign-in link has expired or was already used. It".into(),
        ));
    }
    render(&OneTimeLoginPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        token: token.to_string(),
        csrf_token: one_time_csrf(token),
    })
}

/// `POST /login/code`: consumes the link and starts a session.
pub async fn one_time_login(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let token = value("token");
    if !crate::crypto::hash::secrets_equal(&value("csrf_token"), &one_time_csrf(&token)) {
        return Err(Error::Forbidden(
            "This form has expired: open the link again.".into(),
        ));
    }
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    let user_id = ceremonies::consume_login_link(db, &tenant_id, &token, req.now)
        .await?
        .ok_or_else(|| {
            Error::BadRequest("This sign-in link has expired or was already used.".into())
        })?;
    let (session_id, insert, lifetime) = super::webauthn::start_session(&req, &user_id)?;
    let created = db
        .batch(vec![
            insert,
            audit::insert_when_statement(
                db,
                &tenant_id,
                "sign_in",
                Some(&user_id),
                None,
                &req.incoming.audit_origin(),
                &serde_json::json!({ "method": "one_time_link" }),
                req.now,
                audit::When::SessionCreated(&crate::crypto::hash::secret_hash(&session_id)),
            )?,
        ])
        .await?;
    if crate::storage::db::changes(&created[0]) != 1 {
        return Err(Error::Forbidden("This account is disabled.".into()));
    }
    let mut resp = redirect("/account?welcome=1");
    set_header(
        &mut resp,
        "Set-Cookie",
        &session::set_cookie(&req, &session_id, lifetime),
    );
    Ok(resp)
}

/// `PUT /api/account/profile`: the signed-in user edits the fields the tenant allows.
pub async fn update_profile(mut req: TenantRequest<'_>) -> Result<Response> {
    session::require_same_origin(&req)?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    let input: ProfileInput = req.incoming.json().await?;
    let change = ProfileChange::validate(&input, &req.tenant.tenant.settings.user_editable_fields)?;
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    users::update_profile(db, tenant_id, &current.user.id, &change, req.now).await?;
    let user = users::find(db, tenant_id, &current.user.id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    Ok(json(
        200,
        &serde_json::json!({
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "display_name": user.full_name(),
        }),
    ))
}

pub async fn setup_page(req: TenantRequest<'_>, token: &str) -> Result<Response> {
    let link = ceremonies::peek_token(req.app.db()?, &req.tenant.tenant.id, token, req.now).await?;
    match link {
        Some(l)
            if l.purpose == LinkPurpose::FirstAdmin.as_str()
                || l.purpose == LinkPurpose::Invite.as_str() =>
        {
            let first_admin = l.purpose == LinkPurpose::FirstAdmin.as_str();
            render(&SetupPage {
                tenant: brand(&req),
                asset_version: ui::asset_version(),
                token: token.to_string(),
                first_admin,
                prefill_email: None,
                heading: if first_admin {
                    "Set up your admin account".into()
                } else {
                    "Create your account".into()
                },
                intro: format!(
                    "You'll sign in to {} with a passkey: no password to remember.",
                    req.tenant.tenant.display_name
                ),
            })
        }
        _ => Err(Error::NotFound(
            "This link has expired or was already used. It".into(),
        )),
    }
}

fn date(ts: i64) -> String {
    // Days since the epoch to a civil date (Howard Hinnant's algorithm): no chrono needed.
    let z = ts.div_euclid(86400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub async fn account_page(req: TenantRequest<'_>) -> Result<Response> {
    let Some(current) = session::current(&req).await? else {
        return Ok(redirect("/login?next=/account"));
    };
    let list =
        passkeys::list_for_user(req.app.db()?, &req.tenant.tenant.id, &current.user.id).await?;
    let apps = super::clients::launchable_apps(&req, &current.user.id).await?;
    render(&AccountPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        user: AccountUser {
            display_name: current.user.full_name(),
            username: current.user.username.clone(),
            email: current.user.email.clone().unwrap_or_default(),
            first_name: current.user.first_name.clone().unwrap_or_default(),
            last_name: current.user.last_name.clone().unwrap_or_default(),
            is_admin: current.user.is_admin == 1,
        },
        editable_fields: req.tenant.tenant.settings.user_editable_fields.clone(),
        show_second_passkey_nudge: list.len() < 2,
        passkeys: list
            .into_iter()
            .map(|p| PasskeyRow {
                id: p.credential_id,
                name: p.name,
                created: date(p.created_at),
                last_used: p.last_used_at.map(date),
                synced: p.backup_state == 1,
            })
            .collect(),
        apps,
        csrf_token: session::csrf_token(&current),
        admin_url: (current.user.is_admin == 1).then(|| "/admin".to_string()),
    })
}

pub async fn logout(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    if let Some(current) = session::current(&req).await? {
        let token = form
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str());
        session::check_csrf(&current, token)?;
        sessions::delete(req.app.db()?, &req.tenant.tenant.id, &current.id_hash).await?;
    }
    let mut resp = message(&req, "Signed out", "You are signed out.", Some("/login"))?;
    set_header(&mut resp, "Set-Cookie", &session::clear_cookie(&req));
    Ok(resp)
}

#[derive(Deserialize)]
struct RenameBody {
    name: String,
}

/// `POST /api/account/passkeys/{id}/rename` and `DELETE /api/account/passkeys/{id}`.
pub async fn passkey_api(mut req: TenantRequest<'_>, id: &str, delete: bool) -> Result<Response> {
    session::require_same_origin(&req)?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    if delete {
        let count = passkeys::list_for_user(db, &tenant_id, &current.user.id)
            .await?
            .len();
        if count <= 1 && req.incoming.query_param("confirm_last") != Some("1") {
            return Err(Error::Conflict(
                "This is your only passkey: confirm that you want to delete it.".into(),
            ));
        }
        // The person's own removal is audited like an admin's, in the same batch.
        let audit = audit::insert_when_statement(
            db,
            &tenant_id,
            "passkey_removed",
            Some(&current.user.id),
            None,
            &req.incoming.audit_origin(),
            &serde_json::json!({ "user_id": current.user.id, "credential_id": id, "by": "self" }),
            req.now,
            audit::When::PreviousChanged,
        )?;
        passkeys::delete(db, &tenant_id, &current.user.id, id, Some(audit))
            .await?
            .into_result()?;
    } else {
        let body: RenameBody = req.incoming.json().await?;
        let name = crate::account::passkey_name(&body.name)?;
        if !passkeys::rename(db, &tenant_id, &current.user.id, id, &name).await? {
            return Err(Error::NotFound("This passkey".into()));
        }
    }
    Ok(json(200, &serde_json::json!({ "ok": true })))
}
