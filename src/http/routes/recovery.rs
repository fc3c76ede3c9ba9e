//! Getting back in without a passkey: the "Can't use your passkey?" page, signing in with a
//! recovery code, and making a set of codes from the account page.

use worker::Response;

use crate::account::next::safe_next;
use crate::error::{Error, Result};
use crate::http::render::{brand, render};
use crate::http::request::{form_field, TenantRequest};
use crate::http::respond::{json, redirect, set_header};
use crate::http::session;
use crate::ui::{self, LoginHelpPage, RecoveryCodePage, RecoveryWay};
use crate::usecase::recovery;

fn encoded(next: &str) -> String {
    url::form_urlencoded::byte_serialize(next.as_bytes()).collect()
}

fn with_next(path: &str, next: &str) -> String {
    format!("{path}?next={}", encoded(next))
}

/// `GET /login/help`: "Can't use your passkey?".
pub async fn help_page(req: TenantRequest<'_>) -> Result<Response> {
    let next = safe_next(req.incoming.query_param("next"), &req.issuer);
    let ctx = req.ctx()?;
    let mut ways = vec![RecoveryWay {
        id: "other-device",
        href: with_next("/login/other-device", &next),
        title: "Sign in with another device.".into(),
        text: "Signed in on your phone or another computer? Scan a code with it and approve."
            .into(),
    }];
    if ctx.tenant.tenant.settings.email_sign_in_codes {
        ways.push(RecoveryWay {
            id: "email-code",
            href: with_next("/login/email", &next),
            title: "Get a sign-in code by email.".into(),
            text: "We send a code to your account's address; it works in this browser only.".into(),
        });
    }
    if recovery::offered(&ctx) {
        ways.push(RecoveryWay {
            id: "recovery-code",
            href: with_next("/login/recovery", &next),
            title: "Use a recovery code.".into(),
            text: "One of the ten codes you saved. Each works once.".into(),
        });
    }
    render(&LoginHelpPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        login_url: with_next("/login", &next),
        ways,
    })
}

fn code_page(req: &TenantRequest<'_>, next: String, error: Option<String>) -> Result<Response> {
    render(&RecoveryCodePage {
        tenant: brand(req),
        asset_version: ui::asset_version(),
        help_url: with_next("/login/help", &next),
        next,
        error,
    })
}

/// `GET /login/recovery`: the recovery-code form (not found where the tenant offers none).
pub async fn code_page_get(req: TenantRequest<'_>) -> Result<Response> {
    if !recovery::offered(&req.ctx()?) {
        return Err(Error::NotFound(
            "Recovery codes are not used here. This page".into(),
        ));
    }
    let next = safe_next(req.incoming.query_param("next"), &req.issuer);
    code_page(&req, next, None)
}

/// `POST /login/recovery`: signs in with a code, then asks for a passkey on this device before
/// going on. A code that does not work shows the form again with why.
pub async fn sign_in(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = req.incoming.form().await?;
    let value = |name: &str| form_field(&form, name);
    let next = safe_next(Some(&value("next")), &req.issuer);
    // A browser may come here without an id: it gets one now (sign-in notices).
    let (browser, set_browser) = session::browser_id_or_new(&req);
    let post = req.app.post()?;
    match recovery::sign_in(&req.ctx()?, &post, &value("code"), &browser).await {
        Ok(mut started) => {
            crate::http::mail::send_notice(req.app, post, started.notice.take(), req.now)?;
            let mut resp = redirect(&format!("/account?add_passkey=1&next={}", encoded(&next)));
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
        Err(Error::BadRequest(why)) => Ok(code_page(&req, next, Some(why))?.with_status(400)),
        Err(Error::Forbidden(why)) => Ok(code_page(&req, next, Some(why))?.with_status(403)),
        Err(e) => Err(e),
    }
}

/// `POST /api/account/recovery-codes`: a new set for the signed-in person (the old set stops
/// working); the codes are in this response only.
pub async fn create_codes(req: TenantRequest<'_>) -> Result<Response> {
    session::require_same_origin(&req)?;
    let current = session::require(&req).await?;
    session::check_csrf(&current, req.incoming.header("x-csrf-token").as_deref())?;
    let codes = recovery::create_codes(&req.ctx()?, &current).await?;
    Ok(json(200, &serde_json::json!({ "codes": codes })))
}
