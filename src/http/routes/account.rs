//! The signed-in person's pages: login, first-admin/invite setup, account, sign-out; the
//! account API (rename/delete passkeys). The theme is in `assets`.

use serde::Deserialize;
use worker::Response;

use crate::account::next::safe_next;
use crate::account::ProfileInput;
use crate::error::{Error, Result};
use crate::http::render::{brand, message, render};
use crate::http::request::{form_field, TenantRequest};
use crate::http::respond::{json, redirect, set_header};
use crate::http::session;
use crate::tenancy::SignupMode;
use crate::ui::when::{date, date_time};
use crate::ui::{
    self, AccountPage, AccountUser, ActivityItem, AppTile, AuthorizedAppItem, LoginPage,
    OneTimeLoginPage, PasskeyItem, RecoveryCodesStatus, SetupPage, VerifyEmailPage,
};
use crate::usecase::signup::{self, SignUpLink};
use crate::usecase::{account, email_verification, recovery, sessions, sign_in_notice, signin};

pub async fn login_page(req: TenantRequest<'_>) -> Result<Response> {
    let next = safe_next(req.incoming.query_param("next"), &req.issuer);
    // `force` (a sign-in the client asked for) shows the page without reading the session.
    if req.incoming.query_param("force").is_none() && session::current(&req).await?.is_some() {
        return Ok(redirect(&next));
    }
    let help_url = format!(
        "/login/help?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    render(&LoginPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        help_url,
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
    if !signin::login_link_works(&req.ctx()?, token).await? {
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
    let value = |name: &str| form_field(&form, name);
    let token = value("token");
    if !crate::crypto::hash::secrets_equal(&value("csrf_token"), &one_time_csrf(&token)) {
        return Err(Error::Forbidden(
            "This form has expired: open the link again.".into(),
        ));
    }
    // A browser opening the link may be new here: it gets its id now (sign-in notices).
    let (browser, set_browser) = session::browser_id_or_new(&req);
    let post = req.app.post()?;
    let mut started = signin::with_login_link(&req.ctx()?, &post, &token, &browser).await?;
    crate::http::mail::send_notice(req.app, post, started.notice.take(), req.now)?;
    // Signed in without a passkey: the account page asks for one on this device first.
    let mut resp = redirect("/account?add_passkey=1");
    set_header(
        &mut resp,
        "Set-Cookie",
        &session::set_cookie(&req, &started.id, started.max_age),
    );
    if let Some(cookie) = set_browser {
        resp.headers_mut().append("Set-Cookie", &cookie).ok();
    }
    Ok(resp)
}

/// `POST /account/verify-email`: the signed-in person asks for a link to their address; it is
/// mailed after the response.
pub async fn request_email_verification(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let current = session::require(&req).await?;
    let token = form
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str());
    session::check_csrf(&current, token)?;
    let post = req.app.post()?;
    let delivery = email_verification::send(&req.ctx()?, &post, &current).await?;
    crate::http::mail::send_after_response(req.app, post, delivery, req.now)?;
    message(
        &req,
        "Check your inbox",
        "We sent a link to your email address. Open it within 24 hours to verify the address.",
        Some("/account"),
    )
}

/// `POST /account/sign-in-notices`: the person turns sign-in notices on (`on=1`; this browser
/// is then known and never triggers one) or off; back to the account page.
pub async fn set_sign_in_notices(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, Some(&form_field(&form, "csrf_token")))?;
    let on = form_field(&form, "on") == "1";
    let browser = session::browser_id(&req);
    let post = req.app.post()?;
    sign_in_notice::set(&req.ctx()?, &post, &current, on, browser.as_deref()).await?;
    Ok(redirect("/account#sign-in-notices"))
}

/// The CSRF token of the verification form: derived from the link (the person may open it in
/// a browser without a session; the same-origin check does the real work).
fn verify_email_csrf(token: &str) -> String {
    crate::crypto::hash::secret_hash(&format!("verify-email-form:{token}"))
}

/// `GET /verify-email/<token>`: a page with a button; only the POST spends the link.
pub async fn email_verification_page(req: TenantRequest<'_>, token: &str) -> Result<Response> {
    if !email_verification::link_works(&req.ctx()?, token).await? {
        return Ok(message(
            &req,
            "This link can't be used",
            "It has expired, was already used, or is for an address your account no longer \
             has. Ask for a new one from your account page.",
            Some("/account"),
        )?
        .with_status(404));
    }
    render(&VerifyEmailPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        token: token.to_string(),
        csrf_token: verify_email_csrf(token),
    })
}

/// `POST /verify-email`: spends the link and marks the address verified.
pub async fn verify_email(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let value = |name: &str| form_field(&form, name);
    let token = value("token");
    if !crate::crypto::hash::secrets_equal(&value("csrf_token"), &verify_email_csrf(&token)) {
        return Err(Error::Forbidden(
            "This form has expired: open the link again.".into(),
        ));
    }
    email_verification::verify(&req.ctx()?, &token).await?;
    message(
        &req,
        "Email address verified",
        "Thank you: your email address is verified.",
        Some("/account"),
    )
}

/// `PUT /api/account/profile`: the signed-in user edits the fields the tenant allows.
pub async fn update_profile(mut req: TenantRequest<'_>) -> Result<Response> {
    session::require_same_origin(&req)?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    let input: ProfileInput = req.incoming.json().await?;
    let user = account::update_profile(&req.ctx()?, &current, &input).await?;
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

/// `GET /setup/<token>`: the sign-up form of an invitation or the first-admin link.
pub async fn setup_page(req: TenantRequest<'_>, token: &str) -> Result<Response> {
    let Some(link) = signup::sign_up_link(&req.ctx()?, token).await? else {
        // Expired, used up or revoked: say so on the tenant's own page, with a way in.
        return Ok(message(
            &req,
            "This invitation can't be used",
            "It has expired, was used up, or was revoked. If you already have an account, sign \
             in; otherwise ask an administrator for a new invitation.",
            Some("/login"),
        )?
        .with_status(404));
    };
    let first_admin = link == SignUpLink::FirstAdmin;
    let prefill_email = match link {
        SignUpLink::Invite { email } => email,
        SignUpLink::FirstAdmin => None,
    };
    render(&SetupPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        token: token.to_string(),
        first_admin,
        prefill_email,
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

pub async fn account_page(req: TenantRequest<'_>) -> Result<Response> {
    let Some(current) = session::current(&req).await? else {
        return Ok(redirect("/login?next=/account"));
    };
    let ctx = req.ctx()?;
    let overview = account::overview(&ctx, &current).await?;
    let recovery_codes = if recovery::offered(&ctx) {
        let status = recovery::status(&ctx, &current).await?;
        Some(RecoveryCodesStatus {
            unused: status.unused,
            created: status.created_at.map(date),
        })
    } else {
        None
    };
    let post = req.app.post()?;
    // "Verify" when the address is unverified, the tenant does not vouch for every address
    // anyway, and a mail server is usable.
    let offer_email_verification = !current.user.email_verified
        && current.user.email.as_deref().is_some_and(|e| !e.is_empty())
        && !req.tenant.tenant.settings.emails_verified
        && email_verification::mail_usable(&ctx, &post);
    // The notices' switch: shown while they are on (so they can be turned off), or offered.
    let sign_in_notices = (current.user.sign_in_notices
        || sign_in_notice::offered(&ctx, &post, &current.user))
    .then_some(current.user.sign_in_notices);
    let authorized_apps = account::authorized_apps(&ctx, &current)
        .await?
        .into_iter()
        .map(|a| AuthorizedAppItem {
            client_id: a.client_id,
            name: a.name,
            last_used: date(a.last_used_at),
        })
        .collect();
    let activity = account::recent_activity(&ctx, &current)
        .await?
        .into_iter()
        .map(|e| ActivityItem {
            when: date_time(e.created_at),
            what: ui::activity::describe(&e.event, &e.details),
            from: [
                e.user_agent
                    .as_deref()
                    .map(|ua| ui::agent::browser(Some(ua))),
                ui::agent::place(e.city.as_deref(), e.country.as_deref()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
        })
        .collect();
    render(&AccountPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        user: AccountUser {
            display_name: current.user.full_name(),
            username: current.user.username.clone(),
            email: current.user.email.clone().unwrap_or_default(),
            first_name: current.user.first_name.clone().unwrap_or_default(),
            last_name: current.user.last_name.clone().unwrap_or_default(),
            is_admin: current.user.is_admin,
        },
        editable_fields: req.tenant.tenant.settings.user_editable_fields.clone(),
        show_second_passkey_nudge: overview.passkeys.len() < 2,
        passkeys: overview
            .passkeys
            .into_iter()
            .map(|p| PasskeyItem {
                id: p.credential_id,
                name: p.name,
                created: date(p.created_at),
                last_used: p.last_used_at.map(date),
                synced: p.backup_state,
            })
            .collect(),
        apps: overview
            .apps
            .into_iter()
            .map(|a| AppTile {
                initials: ui::initials(&a.name),
                name: a.name,
                launch_url: a.launch_url,
                logo_url: None,
            })
            .collect(),
        csrf_token: session::csrf_token(&current),
        admin_url: current.user.is_admin.then(|| "/admin".to_string()),
        authorized_apps,
        activity,
        add_passkey_first: req.incoming.query_param("add_passkey") == Some("1"),
        next: safe_next(req.incoming.query_param("next"), &req.issuer),
        recovery_codes,
        email_verified: current.user.email_verified,
        offer_email_verification,
        sign_in_notices,
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
        let queue = crate::http::backchannel::WorkerLogoutQueue(req.app);
        sessions::sign_out(&req.ctx()?, &current, &queue).await?;
    }
    let mut resp = message(&req, "Signed out", "You are signed out.", Some("/login"))?;
    set_header(&mut resp, "Set-Cookie", &session::clear_cookie(&req));
    Ok(resp)
}

/// `DELETE /api/account/apps/{client_id}`: the person removes an application's access.
pub async fn revoke_app(req: TenantRequest<'_>, client_id: &str) -> Result<Response> {
    session::require_same_origin(&req)?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    account::revoke_app(&req.ctx()?, &current, client_id).await?;
    Ok(json(200, &serde_json::json!({ "ok": true })))
}

#[derive(Deserialize)]
struct RenameBody {
    name: String,
}

/// `POST /api/account/passkeys/{id}/rename` and `DELETE /api/account/passkeys/{id}`
/// (`?confirm_last=1` when the person accepted removing their only passkey).
pub async fn passkey_api(mut req: TenantRequest<'_>, id: &str, delete: bool) -> Result<Response> {
    session::require_same_origin(&req)?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    if delete {
        let confirmed_last = req.incoming.query_param("confirm_last") == Some("1");
        account::delete_passkey(&req.ctx()?, &current, id, confirmed_last).await?;
    } else {
        let body: RenameBody = req.incoming.json().await?;
        account::rename_passkey(&req.ctx()?, &current, id, &body.name).await?;
    }
    Ok(json(200, &serde_json::json!({ "ok": true })))
}
