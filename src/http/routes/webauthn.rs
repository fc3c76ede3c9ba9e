//! `/api/webauthn/*`: the passkey ceremonies over JSON. Sign-in (usernameless) and
//! registration (sign-up through a link or open sign-up, or adding a passkey to the signed-in
//! account), each a `start` and a `finish` call; the use cases in `usecase::signin` and
//! `usecase::signup` do the work.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::Response;

use crate::account::next::safe_next;
use crate::account::ProfileInput;
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, set_header};
use crate::http::session;
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

pub async fn login_start(req: TenantRequest<'_>) -> Result<Response> {
    let options = signin::start(&req.ctx()?).await?;
    Ok(json_response(200, &json!({ "options": options })))
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
    let started = signin::finish(&req.ctx()?, &body.credential).await?;
    let next = safe_next(body.next.as_deref(), &req.issuer);
    Ok(redirect_json(&req, &next, Some(&started)))
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
    let input = StartInput {
        token: body.token.as_deref(),
        profile: body.profile.as_ref(),
        session: cookie.as_deref(),
    };
    let options = signup::start(&req.ctx()?, input).await?;
    Ok(json_response(200, &json!({ "options": options })))
}

pub async fn register_finish(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: FinishBody = req.incoming.json().await?;
    let cookie = session::cookie(&req, session::SESSION_COOKIE);
    let finished = signup::finish(
        &req.ctx()?,
        &body.credential,
        body.name.as_deref(),
        cookie.as_deref(),
    )
    .await?;
    Ok(match finished {
        Finished::SignedUp(started) => redirect_json(&req, "/account?welcome=1", Some(&started)),
        Finished::PasskeyAdded => redirect_json(&req, "/account", None),
    })
}
