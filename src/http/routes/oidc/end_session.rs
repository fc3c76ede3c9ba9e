//! `GET|POST /api/oidc/end-session`: RP-initiated logout (`usecase::end_session`). This
//! handler checks our own confirmation form, and renders the outcome: it redirects only when
//! the use case found the target verified.

use worker::{Method, Response};

use crate::error::Result;
use crate::http::render::{brand, message, render};
use crate::http::request::TenantRequest;
use crate::http::respond::{redirect, set_header};
use crate::http::session;
use crate::oidc::logout::LogoutRequest;
use crate::ui::{self, LoggedOutPage, LogoutConfirmPage};
use crate::usecase::end_session::{self, EndSession, Outcome};

/// The parameters carried through the confirmation form.
const CARRIED: [&str; 4] = [
    "id_token_hint",
    "post_logout_redirect_uri",
    "state",
    "client_id",
];

pub async fn end_session(mut req: TenantRequest<'_>) -> Result<Response> {
    let params = if req.incoming.method == Method::Post {
        req.incoming.form().await?
    } else {
        req.incoming.query.clone()
    };
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let current = session::current(&req).await?;
    // Our own confirmation form: same origin and the session's CSRF token.
    let confirmed = match (&current, get("csrf_token")) {
        (Some(s), Some(token)) => {
            session::require_same_origin(&req)?;
            session::check_csrf(s, Some(&token))?;
            true
        }
        _ => false,
    };
    let hint = get("id_token_hint");
    let input = EndSession {
        session: current.as_ref(),
        id_token_hint: hint.as_deref(),
        request: LogoutRequest {
            post_logout_redirect_uri: get("post_logout_redirect_uri"),
            state: get("state"),
            client_id: get("client_id"),
        },
        confirmed,
    };
    let queue = crate::http::backchannel::WorkerLogoutQueue(req.app);
    match end_session::end_session(&req.ctx()?, &input, &queue).await? {
        Outcome::Refused(why) => {
            let resp = message(&req, "Sign-out request refused", why, Some("/account"))?;
            Ok(resp.with_status(400))
        }
        Outcome::Confirm => {
            let Some(s) = &current else {
                return Err(crate::error::Error::Unauthenticated);
            };
            render(&LogoutConfirmPage {
                tenant: brand(&req),
                asset_version: ui::asset_version(),
                csrf_token: session::csrf_token(s),
                fields: CARRIED
                    .iter()
                    .filter_map(|name| get(name).map(|v| (name.to_string(), v)))
                    .collect(),
            })
        }
        Outcome::Redirect { url } => with_cleared_cookie(&req, redirect(&url)),
        Outcome::SignedOut => {
            let page = render(&LoggedOutPage {
                tenant: brand(&req),
                asset_version: ui::asset_version(),
                message: "You are signed out.".into(),
            })?;
            with_cleared_cookie(&req, page)
        }
    }
}

fn with_cleared_cookie(req: &TenantRequest<'_>, mut resp: Response) -> Result<Response> {
    set_header(&mut resp, "Set-Cookie", &session::clear_cookie(req));
    Ok(resp)
}
