//! Sign in with another device: the waiting page and its poll, and the approval page on the
//! device where the person is signed in (`usecase::other_device`).

use serde::Deserialize;
use worker::Response;

use crate::account::next::safe_next;
use crate::error::{Error, Result};
use crate::http::render::{brand, message, render};
use crate::http::request::{form_field, TenantRequest};
use crate::http::respond::{json, redirect, set_header};
use crate::http::session;
use crate::storage::sessions::SessionWithUser;
use crate::ui::{self, OtherDeviceApprovePage, OtherDevicePage, RequesterView};
use crate::usecase::other_device::{self as usecase, CodeCheck, Decided, Polled, REQUEST_TTL};

const APPROVE_PATH: &str = "/login/approve";

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /login/other-device`: a fresh request with its QR code, bound to this browser.
pub async fn page(req: TenantRequest<'_>) -> Result<Response> {
    let next = safe_next(req.incoming.query_param("next"), &req.issuer);
    let (browser, set_browser) = session::browser_id_or_new(&req);
    let waiting = usecase::start(&req.ctx()?, &browser).await?;
    let approve_url = format!("{}{APPROVE_PATH}", req.issuer);
    let link = format!("{approve_url}?code={}", encode(&waiting.user_code));
    let mut resp = render(&OtherDevicePage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        qr_svg: ui::qr::svg(&link).unwrap_or_default(),
        approve_url,
        user_code: waiting.user_code,
        request_id: waiting.request_id,
        next,
        expires_in_minutes: REQUEST_TTL / 60,
    })?;
    // The page is a secret of this browser: never cached, never shared.
    set_header(&mut resp, "Cache-Control", "no-store");
    if let Some(cookie) = set_browser {
        set_header(&mut resp, "Set-Cookie", &cookie);
    }
    Ok(resp)
}

#[derive(Deserialize)]
struct PollBody {
    request: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /api/login/other-device/poll`: pending, denied, gone, or signed in (with the cookie).
pub async fn poll(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: PollBody = req.incoming.json().await?;
    let Some(browser) = session::browser_id(&req) else {
        return Ok(json(200, &serde_json::json!({ "status": "gone" })));
    };
    let post = req.app.post()?;
    let polled = usecase::poll(&req.ctx()?, &post, &browser, &body.request).await?;
    let status = match polled {
        Polled::Pending => "pending",
        Polled::Denied => "denied",
        Polled::Gone => "gone",
        Polled::SignedIn(mut started) => {
            crate::http::mail::send_notice(req.app, post, started.notice.take(), req.now)?;
            let next = safe_next(body.next.as_deref(), &req.issuer);
            let mut resp = json(
                200,
                &serde_json::json!({
                    "status": "signed_in",
                    "redirect": format!("/account?add_passkey=1&next={}", encode(&next)),
                }),
            );
            set_header(
                &mut resp,
                "Set-Cookie",
                &session::set_cookie(&req, &started.id, started.max_age),
            );
            return Ok(resp);
        }
    };
    Ok(json(200, &serde_json::json!({ "status": status })))
}

/// `GET /login/approve[?code=]`: on the signed-in device, the request the code names (counted
/// as a guess when wrong), or a form to type the code.
pub async fn approve_page(req: TenantRequest<'_>) -> Result<Response> {
    let typed = req
        .incoming
        .query_param("code")
        .unwrap_or_default()
        .to_string();
    let Some(current) = session::current(&req).await? else {
        let next = if typed.is_empty() {
            APPROVE_PATH.to_string()
        } else {
            format!("{APPROVE_PATH}?code={}", encode(&typed))
        };
        return Ok(redirect(&format!("/login?next={}", encode(&next))));
    };
    if typed.is_empty() {
        return approve_form(&req, &current, typed, None, None);
    }
    checked(&req, &current, typed).await
}

/// `POST /login/approve`: a typed code (`decision=check`), or Approve / Deny.
pub async fn decision(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let field = |name: &str| form_field(&form, name);
    let current = session::require(&req).await?;
    session::check_csrf(&current, Some(&field("csrf_token")))?;
    let typed = field("code");
    let approve = match field("decision").as_str() {
        "check" => return checked(&req, &current, typed).await,
        "approve" => true,
        "deny" => false,
        _ => return Err(Error::BadRequest("Choose Approve or Deny.".into())),
    };
    let (title, text, status) =
        match usecase::decide(&req.ctx()?, &current, &typed, approve).await? {
            Decided::Recorded { approved: true } => (
                "Sign-in approved",
                "The other device is signing in now. You can close this page.",
                200,
            ),
            Decided::Recorded { approved: false } => (
                "Sign-in denied",
                "The other device was not signed in. You can close this page.",
                200,
            ),
            Decided::Locked => return Err(Error::RateLimited),
            Decided::Malformed | Decided::Unknown => (
                "This code has expired",
                "The code isn't valid any more. Start again on the other device.",
                400,
            ),
        };
    Ok(message(&req, title, text, Some("/account"))?.with_status(status))
}

async fn checked(
    req: &TenantRequest<'_>,
    current: &SessionWithUser,
    typed: String,
) -> Result<Response> {
    let ctx = req.ctx()?;
    match usecase::check_code(&ctx, current, &typed).await? {
        CodeCheck::Malformed => approve_form(
            req,
            current,
            typed,
            Some("That isn't a sign-in code. It looks like XXXX-XXXX."),
            None,
        ),
        CodeCheck::Unknown => approve_form(
            req,
            current,
            typed,
            Some("That code isn't valid, or it has expired. Check the code on the other device."),
            None,
        ),
        CodeCheck::Locked => Err(Error::RateLimited),
        CodeCheck::Confirm {
            user_code,
            requester,
        } => {
            let minutes = (ctx.now - requester.created_at).max(0) / 60;
            let view = RequesterView {
                browser: ui::agent::browser(requester.user_agent.as_deref()),
                place: ui::agent::place(requester.city.as_deref(), requester.country.as_deref()),
                ip: requester.ip,
                age: match minutes {
                    0 => "just now".to_string(),
                    1 => "a minute ago".to_string(),
                    n => format!("{n} minutes ago"),
                },
            };
            approve_form(req, current, user_code, None, Some(view))
        }
    }
}

fn approve_form(
    req: &TenantRequest<'_>,
    current: &SessionWithUser,
    user_code: String,
    error: Option<&str>,
    requester: Option<RequesterView>,
) -> Result<Response> {
    let status = if error.is_some() { 400 } else { 200 };
    Ok(render(&OtherDeviceApprovePage {
        tenant: brand(req),
        asset_version: ui::asset_version(),
        user_display_name: current.user.full_name(),
        csrf_token: session::csrf_token(current),
        user_code,
        error: error.map(str::to_string),
        requester,
    })?
    .with_status(status))
}
