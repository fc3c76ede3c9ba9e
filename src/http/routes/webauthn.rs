//! `/api/webauthn/*`: the passkey ceremonies over JSON. Sign-in (usernameless) and
//! registration (sign-up through a link or open sign-up, or adding a passkey to the signed-in
//! account), each a `start` and a `finish` call; the use cases in `usecase::signin` and
//! `usecase::signup` do the work.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::Response;

use crate::account::next::{safe_next, waiting_interaction};
use crate::account::ProfileInput;
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, set_header};
use crate::http::session;
use crate::usecase::authorize::Browser;
use crate::usecase::sessions::Started;
use crate::usecase::signup::{Finished, StartInput};
use crate::usecase::{signin, signup};

/// `{"redirect": to}`, with the new session's cookie when one was started.
fn redirect_json(req: &TenantRequest<'_>, to: &str, started: Option<&Started>) -> Response {
    let mut resp = json_response(200, &json!({ "redirect": to }));
    if let Some(s) = started {
        set_header(
            &mut resp,
            "Set-Cookie",
            &session::set_cookie(req, &s.id, s.max_age),
        );
    }
    resp
}

/// A ceremony's options; the challenge is bound to this browser's id, so a browser without
/// one gets it now.
fn options_json(options: Value, set_browser_cookie: Option<String>) -> Response {
    let mut resp = json_response(200, &json!({ "options": options }));
    if let Some(cookie) = set_browser_cookie {
        resp.headers_mut().append("Set-Cookie", &cookie).ok();
    }
    resp
}

pub async fn login_start(req: TenantRequest<'_>) -> Result<Response> {
    let (browser, set_cookie) = session::browser_id_or_new(&req);
    let options = signin::start(&req.ctx()?, &browser)?;
    Ok(options_json(options, set_cookie))
}

#[derive(Deserialize)]
struct FinishBody {
    credential: Value,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

pub async fn login_finish(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: FinishBody = req.incoming.json().await?;
    let next = safe_next(body.next.as_deref(), &req.issuer);
    let waiting = waiting_interaction(&next);
    let browser_id = session::browser_id(&req).unwrap_or_default();
    let browser = Browser {
        session: None,
        id: &browser_id,
    };
    let post = req.app.post()?;
    let mut signed_in = signin::finish(
        &req.ctx()?,
        &post,
        &body.credential,
        browser,
        waiting.as_deref(),
    )
    .await?;
    crate::http::mail::send_notice(req.app, post, signed_in.started.notice.take(), req.now)?;
    // With the waiting client's code issued, straight back to it; otherwise on to `next`.
    let to = signed_in
        .code
        .map(|response| response.redirect_url())
        .unwrap_or(next);
    Ok(redirect_json(&req, &to, Some(&signed_in.started)))
}

#[derive(Deserialize)]
struct RegisterStartBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    profile: Option<ProfileInput>,
}

pub async fn register_start(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: RegisterStartBody = req.incoming.json().await?;
    let cookie = session::cookie(&req, session::SESSION_COOKIE);
    let (browser, set_cookie) = session::browser_id_or_new(&req);
    let input = StartInput {
        token: body.token.as_deref(),
        profile: body.profile.as_ref(),
        session: cookie.as_deref(),
        browser: &browser,
    };
    let options = signup::start(&req.ctx()?, input).await?;
    Ok(options_json(options, set_cookie))
}

pub async fn register_finish(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: FinishBody = req.incoming.json().await?;
    let cookie = session::cookie(&req, session::SESSION_COOKIE);
    let finished = signup::finish(
        &req.ctx()?,
        &body.credential,
        body.name.as_deref(),
        cookie.as_deref(),
        &session::browser_id(&req).unwrap_or_default(),
    )
    .await?;
    Ok(match finished {
        Finished::SignedUp(started) => redirect_json(&req, "/account?welcome=1", Some(&started)),
        Finished::PasskeyAdded => redirect_json(&req, "/account", None),
    })
}
