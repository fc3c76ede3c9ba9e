//! The device authorization grant (RFC 8628, `usecase::device`): the device's request at
//! `POST /api/oidc/device/authorize`, and the `/device` page where a signed-in person enters
//! the user code (`GET`, pre-filled from `verification_uri_complete`), confirms the client
//! (`POST /device`) and allows or denies (`POST /device/decision`). The forms are checked like
//! the consent page's: same origin (by the router) and the session's CSRF token. (The device's polls are the
//! token endpoint's `urn:ietf:params:oauth:grant-type:device_code` grant.)

use worker::Response;

use super::{client_credentials, form, form_value};
use crate::error::{Error, Result};
use crate::http::render::{brand, message, render};
use crate::http::request::{form_field as field, TenantRequest};
use crate::http::respond::{json, redirect, set_header};
use crate::http::session;
use crate::oidc::device::verification_uri;
use crate::storage::sessions::SessionWithUser;
use crate::ui::{self, DeviceConfirmPage, DevicePage, ScopeLine};
use crate::usecase::device::{self as usecase, CodeCheck, Decided};

/// `POST /api/oidc/device/authorize` (RFC 8628 §3.1).
pub async fn authorize(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let response = usecase::start(&req.ctx()?, &creds, form_value(&form, "scope")).await?;
    let mut resp = json(200, &response);
    set_header(&mut resp, "Pragma", "no-cache");
    Ok(resp)
}

/// `GET /device[?user_code=...]`: the code entry form, after signing in.
pub async fn page(req: TenantRequest<'_>) -> Result<Response> {
    let typed = req
        .incoming
        .query_param("user_code")
        .unwrap_or_default()
        .to_string();
    let Some(current) = session::current(&req).await? else {
        let next = if typed.is_empty() {
            "/device".to_string()
        } else {
            format!("/device?user_code={}", encode(&typed))
        };
        return Ok(redirect(&format!("/login?next={}", encode(&next))));
    };
    let qr_svg = (!typed.is_empty())
        .then(|| ui::qr::svg(&complete_uri(&req, &typed)))
        .flatten();
    entry_page(&req, &current, typed, None, qr_svg)
}

/// `POST /device`: the typed code, looked up (and counted when wrong).
pub async fn enter_code(mut req: TenantRequest<'_>) -> Result<Response> {
    let (current, form) = signed_in_form(&mut req).await?;
    let typed = field(&form, "user_code");
    let check = usecase::check_code(&req.ctx()?, &current, &typed).await?;
    let retry = |error: &str| entry_page(&req, &current, typed.clone(), Some(error.into()), None);
    match check {
        CodeCheck::Malformed => retry("That isn't a device code. It looks like XXXX-XXXX."),
        CodeCheck::Unknown => retry(
            "That code isn't valid, or it has expired. Check the code on your device and try again.",
        ),
        CodeCheck::Locked => Err(Error::RateLimited),
        CodeCheck::NoAccess { client_name } => Ok(message(
            &req,
            "No access",
            &format!(
                "Your account isn't allowed to use {client_name}. Ask an administrator to add you \
                 to one of its groups."
            ),
            Some("/account"),
        )?
        .with_status(403)),
        CodeCheck::Confirm(prompt) => render(&DeviceConfirmPage {
            tenant: brand(&req),
            asset_version: ui::asset_version(),
            user_display_name: current.user.full_name(),
            qr_svg: ui::qr::svg(&complete_uri(&req, &prompt.user_code)).unwrap_or_default(),
            user_code: prompt.user_code,
            client_id: prompt.client_id,
            client_name: prompt.client_name,
            client_logo_url: prompt.client_logo_url,
            scopes: prompt
                .scope
                .iter()
                .map(|s| ScopeLine {
                    name: s.as_str().to_string(),
                    description: s.description().to_string(),
                })
                .collect(),
            csrf_token: session::csrf_token(&current),
        }),
    }
}

/// `POST /device/decision`: Allow or Deny.
pub async fn decision(mut req: TenantRequest<'_>) -> Result<Response> {
    let (current, form) = signed_in_form(&mut req).await?;
    let approve = match field(&form, "decision").as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(Error::BadRequest("Choose Allow or Deny.".into())),
    };
    let typed = field(&form, "user_code");
    let client_id = field(&form, "client_id");
    let decided = usecase::decide(&req.ctx()?, &current, &typed, &client_id, approve).await?;
    let (title, text, status) = match decided {
        Decided::Recorded { approved: true } => (
            "Device connected",
            "You're signed in on your device. You can close this page.",
            200,
        ),
        Decided::Recorded { approved: false } => (
            "Request denied",
            "The device was not given access. You can close this page.",
            200,
        ),
        Decided::Locked => return Err(Error::RateLimited),
        Decided::Malformed | Decided::Unknown => (
            "This code has expired",
            "The code isn't valid any more. Start again on your device.",
            400,
        ),
        Decided::Refused => (
            "This request can't continue",
            "The application or your access to it changed. Start again on your device.",
            409,
        ),
    };
    Ok(message(&req, title, text, Some("/account"))?.with_status(status))
}

/// The session of a `/device` form post, after its CSRF check (the router checked the origin:
/// the routes' caller is `SameOriginBrowser`).
async fn signed_in_form(
    req: &mut TenantRequest<'_>,
) -> Result<(SessionWithUser, Vec<(String, String)>)> {
    let form = req.incoming.form().await?;
    let current = session::require(req).await?;
    session::check_csrf(&current, form_value(&form, "csrf_token"))?;
    Ok((current, form))
}

fn entry_page(
    req: &TenantRequest<'_>,
    current: &SessionWithUser,
    user_code: String,
    error: Option<String>,
    qr_svg: Option<String>,
) -> Result<Response> {
    let status = if error.is_some() { 400 } else { 200 };
    Ok(render(&DevicePage {
        tenant: brand(req),
        asset_version: ui::asset_version(),
        user_display_name: current.user.full_name(),
        user_code,
        error,
        csrf_token: session::csrf_token(current),
        qr_svg,
    })?
    .with_status(status))
}

/// `verification_uri_complete` for a code as typed.
fn complete_uri(req: &TenantRequest<'_>, user_code: &str) -> String {
    format!(
        "{}?user_code={}",
        verification_uri(&req.issuer),
        encode(user_code)
    )
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
