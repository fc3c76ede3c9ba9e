//! `/authorize` (GET and POST), its resumption after sign-in, and the consent decision
//! (`usecase::authorize`). These handlers read the request and the browser's cookies, check the
//! consent form's origin and CSRF token, and render the outcome: a redirect or form post to the
//! client, the sign-in redirect, the consent page, or an explanation.

use worker::{Method, Response};

use crate::account::next::RESUME_PATH;
use crate::error::{Error, Result};
use crate::http::render::{brand, message, render};
use crate::http::request::{form_field, TenantRequest};
use crate::http::respond::{redirect, set_header};
use crate::http::session::{self, SESSION_COOKIE};
use crate::oidc::response::AuthorizationResponse;
use crate::oidc::response_mode::ResponseMode;
use crate::ui::{self, ConsentPage, FormPostPage, ScopeLine};
use crate::usecase::authorize::{self as usecase, Browser, Decision, Outcome};

/// Sends an authorization response to the client by redirect or auto-submitted form.
fn deliver(resp: &AuthorizationResponse) -> Result<Response> {
    match resp.mode {
        ResponseMode::Query | ResponseMode::Fragment => Ok(redirect(&resp.redirect_url())),
        ResponseMode::FormPost => {
            let mut page = render(&FormPostPage {
                action: resp.redirect_uri.clone(),
                fields: resp.params.clone(),
                asset_version: ui::asset_version(),
            })?;
            // The form goes to the client's origin, which the default CSP does not list.
            let target = url::Url::parse(&resp.redirect_uri)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| "'none'".into());
            set_header(
                &mut page,
                "Content-Security-Policy",
                &format!(
                    "default-src 'none'; script-src 'self'; style-src 'self'; form-action {target}; \
                     frame-ancestors 'none'; base-uri 'none'"
                ),
            );
            Ok(page)
        }
    }
}

/// `GET|POST /authorize`.
pub async fn authorize(mut req: TenantRequest<'_>) -> Result<Response> {
    let pairs = if req.incoming.method == Method::Post {
        req.incoming.form().await?
    } else {
        req.incoming.query.clone()
    };
    let cookies = Cookies::of(&req);
    let outcome = usecase::authorize(&req.ctx()?, &pairs, cookies.browser()).await?;
    render_outcome(&req, outcome, cookies)
}

/// `GET /authorize/resume?interaction=<id>`: back from the sign-in page.
pub async fn resume(req: TenantRequest<'_>) -> Result<Response> {
    let id = req
        .incoming
        .query_param("interaction")
        .unwrap_or_default()
        .to_string();
    let cookies = Cookies::of(&req);
    let outcome = usecase::resume(&req.ctx()?, &id, cookies.browser()).await?;
    render_outcome(&req, outcome, cookies)
}

/// `POST /authorize/consent`: the consent page's Allow / Deny.
pub async fn consent(mut req: TenantRequest<'_>) -> Result<Response> {
    session::require_same_origin(&req)?;
    let form = req.incoming.form().await?;
    let value = |name: &str| form_field(&form, name);
    let current = session::require(&req).await?;
    session::check_csrf(&current, Some(&value("csrf_token")))?;
    let decision = match value("decision").as_str() {
        "allow" => Decision::Allow,
        "deny" => Decision::Deny,
        _ => return Err(Error::BadRequest("Choose Allow or Deny.".into())),
    };
    let cookies = Cookies::of(&req);
    let id = value("interaction_id");
    let outcome = usecase::consent(&req.ctx()?, &id, decision, cookies.browser()).await?;
    render_outcome(&req, outcome, cookies)
}

/// The cookies an authorization step reads: the session, and this browser's id (minted, with
/// its `Set-Cookie`, when the browser has none yet).
struct Cookies {
    session: Option<String>,
    browser_id: String,
    set_browser_cookie: Option<String>,
}

impl Cookies {
    fn of(req: &TenantRequest<'_>) -> Self {
        let (browser_id, set_browser_cookie) = session::browser_id_or_new(req);
        Self {
            session: session::cookie(req, SESSION_COOKIE).filter(|c| c.len() == 43),
            browser_id,
            set_browser_cookie,
        }
    }

    fn browser(&self) -> Browser<'_> {
        Browser {
            session: self.session.as_deref(),
            id: &self.browser_id,
        }
    }
}

fn render_outcome(req: &TenantRequest<'_>, outcome: Outcome, cookies: Cookies) -> Result<Response> {
    // A request parked for a browser that had no id yet: the browser keeps the minted one.
    let set_cookie = outcome
        .parks()
        .then_some(cookies.set_browser_cookie)
        .flatten();
    let mut resp = match outcome {
        Outcome::Stop {
            status,
            message: text,
        } => message(req, "This sign-in can't continue", &text, None)?.with_status(status),
        Outcome::Expired => return Err(expired()),
        Outcome::Respond(response) => deliver(&response)?,
        Outcome::NoAccess { client_name } => message(
            req,
            "No access",
            &format!(
                "Your account isn't allowed to use {client_name}. Ask an administrator to add you \
                 to one of its groups."
            ),
            Some("/account"),
        )?
        .with_status(403),
        Outcome::Login { interaction } => {
            let next = format!("{RESUME_PATH}?interaction={interaction}");
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            redirect(&format!("/login?force=1&next={next}"))
        }
        Outcome::Consent(prompt) => render(&ConsentPage {
            tenant: brand(req),
            asset_version: ui::asset_version(),
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
            api: prompt.api,
            interaction_id: prompt.interaction,
            csrf_token: session::csrf_token(&prompt.session),
            user_display_name: prompt.session.user.full_name(),
        })?,
    };
    if let Some(c) = set_cookie {
        resp.headers_mut().append("Set-Cookie", &c).ok();
    }
    Ok(resp)
}

fn expired() -> Error {
    Error::BadRequest(
        "This sign-in request has expired. Go back to the application and start again.".into(),
    )
}
