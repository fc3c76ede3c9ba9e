//! `/authorize` (GET and POST), its resumption after sign-in, and the consent decision.
//!
//! The flow: validate the request in two stages (errors before the redirect URI is trusted are
//! pages, after it they go back to the client), gather the facts in one D1 round trip (client,
//! session, user, group access, stored consent), let `oidc::interaction::decide` pick the next
//! step, and either issue a code or park the request in `interactions` while the user signs in
//! or consents. The parked request is resumed at `/authorize/resume?interaction=<id>`.

use worker::{Method, Response};

use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::request::TenantRequest;
use crate::http::respond::{redirect, set_header};
use crate::http::routes::pages::{brand, message, render};
use crate::http::session::{self, SESSION_COOKIE};
use crate::oidc::authorize::{self as authz, AuthorizationRequest, Params, RedirectError};
use crate::oidc::client::Client;
use crate::oidc::error::OAuthError;
use crate::oidc::interaction::{decide, Facts, Next, SessionFacts};
use crate::oidc::logout::Hint;
use crate::oidc::response::AuthorizationResponse;
use crate::oidc::response_mode::ResponseMode;
use crate::oidc::scope::ScopeSet;
use crate::oidc::{hint, token::CODE_TTL};
use crate::storage::clients::{self, ClientRow};
use crate::storage::db::{first_row, Statement};
use crate::storage::grants::NewCode;
use crate::storage::interactions::{self, AccessFacts, InteractionRow};
use crate::storage::sessions::{self, SessionWithUser};
use crate::storage::{audit, grants};
use crate::ui::{self, ConsentPage, FormPostPage, ScopeLine};

/// Everything the decision needs, read in one round trip.
struct Gathered {
    client: Option<ClientRow>,
    session: Option<SessionWithUser>,
    access: Option<AccessFacts>,
    interaction: Option<InteractionRow>,
}

async fn gather(
    req: &TenantRequest<'_>,
    client_id: Option<&str>,
    interaction_id: Option<&str>,
) -> Result<Gathered> {
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let cookie = session::cookie(req, SESSION_COOKIE).filter(|c| c.len() == 43);
    let mut statements: Vec<Statement> = Vec::new();
    let interaction_at = interaction_id.map(|_| statements.len());
    if let Some(id) = interaction_id {
        let browser = session::browser_id(req);
        statements.push(interactions::find_statement(
            db,
            tenant_id,
            id,
            browser.as_deref(),
            req.now,
        )?);
    }
    let client_at = client_id.map(|_| statements.len());
    if let Some(id) = client_id {
        statements.push(clients::find_statement(db, tenant_id, id)?);
    }
    let session_at = cookie.as_ref().map(|_| statements.len());
    if let Some(c) = &cookie {
        statements.extend(sessions::find_statements(db, tenant_id, c, req.now)?);
        if let Some(id) = client_id {
            statements.push(interactions::access_facts_statement(
                db, tenant_id, id, c, req.now,
            )?);
        }
    }
    let results = db.batch(statements).await?;
    let session = match session_at {
        Some(i) => sessions::from_results(&results[i..i + 2])?,
        None => None,
    };
    Ok(Gathered {
        client: client_at
            .map(|i| first_row(&results[i]))
            .transpose()?
            .flatten(),
        access: match (session_at, client_id) {
            (Some(i), Some(_)) => first_row(&results[i + 2])?,
            _ => None,
        },
        session,
        interaction: interaction_at
            .map(|i| first_row(&results[i]))
            .transpose()?
            .flatten(),
    })
}

/// A problem shown as a page (never redirected): the redirect target is not trusted.
fn stop(req: &TenantRequest<'_>, status: u16, text: &str) -> Result<Response> {
    let mut resp = message(req, "This sign-in can't continue", text, None)?;
    resp = resp.with_status(status);
    Ok(resp)
}

/// Sends an authorization response to the client by redirect or auto-submitted form.
fn deliver(resp: &AuthorizationResponse) -> Result<Response> {
    match resp.mode {
        ResponseMode::Query => Ok(redirect(&resp.redirect_url())),
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

fn fail(
    req: &TenantRequest<'_>,
    request: &AuthorizationRequest,
    error: OAuthError,
) -> Result<Response> {
    deliver(&AuthorizationResponse::error(
        &RedirectError {
            error,
            redirect_uri: request.redirect_uri.clone(),
            response_mode: request.response_mode,
            state: request.state.clone(),
        },
        &req.issuer,
    ))
}

/// `GET|POST /authorize`.
pub async fn authorize(mut req: TenantRequest<'_>) -> Result<Response> {
    let pairs = if req.incoming.method == Method::Post {
        req.incoming.form().await?
    } else {
        req.incoming.query.clone()
    };
    let params = Params::new(&pairs);
    let target = match authz::target(&params) {
        Ok(t) => t,
        Err(e) => return stop(&req, 400, &e.message),
    };
    let facts = gather(&req, Some(&target.client_id), None).await?;
    let client = facts.client.as_ref().map(ClientRow::to_client);
    if let Err(e) = authz::check_target(&target, client.as_ref()) {
        return stop(&req, 400, &e.message);
    }
    let client = client.ok_or_else(|| Error::Internal("client vanished".into()))?;
    let request = match authz::parse(&params, &target, &client) {
        Ok(r) => r,
        Err(e) => return deliver(&AuthorizationResponse::error(&e, &req.issuer)),
    };
    proceed(&req, request, &client, facts, None, false).await
}

/// `GET /authorize/resume?interaction=<id>`: back from the sign-in page.
pub async fn resume(req: TenantRequest<'_>) -> Result<Response> {
    let id = req
        .incoming
        .query_param("interaction")
        .unwrap_or_default()
        .to_string();
    continue_interaction(&req, &id, false).await
}

/// `POST /authorize/consent`: the consent page's Allow / Deny.
pub async fn consent(mut req: TenantRequest<'_>) -> Result<Response> {
    session::require_same_origin(&req)?;
    let form = req.incoming.form().await?;
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let current = session::require(&req).await?;
    session::check_csrf(&current, Some(&value("csrf_token")))?;
    let id = value("interaction_id");
    match value("decision").as_str() {
        "allow" => continue_interaction(&req, &id, true).await,
        "deny" => {
            let facts = gather(&req, None, Some(&id)).await?;
            let row = facts.interaction.ok_or_else(expired)?;
            let request: AuthorizationRequest = serde_json::from_str(&row.request)
                .map_err(|e| Error::Internal(format!("parked request: {e}")))?;
            req.app
                .db()?
                .batch(vec![interactions::delete_statement(
                    req.app.db()?,
                    &req.tenant.tenant.id,
                    &id,
                )?])
                .await?;
            fail(
                &req,
                &request,
                OAuthError::new(
                    crate::oidc::error::ErrorCode::AccessDenied,
                    "the user denied access",
                ),
            )
        }
        _ => Err(Error::BadRequest("Choose Allow or Deny.".into())),
    }
}

fn expired() -> Error {
    Error::BadRequest(
        "This sign-in request has expired. Go back to the application and start again.".into(),
    )
}

async fn continue_interaction(
    req: &TenantRequest<'_>,
    id: &str,
    consented_now: bool,
) -> Result<Response> {
    // The client id is inside the parked request, so read the interaction first, then the rest.
    let parked = gather(req, None, Some(id)).await?;
    let row = parked.interaction.ok_or_else(expired)?;
    let request: AuthorizationRequest = serde_json::from_str(&row.request)
        .map_err(|e| Error::Internal(format!("parked request: {e}")))?;
    let facts = gather(req, Some(&request.client_id), None).await?;
    // The client may have been deleted or changed while the user signed in.
    let client = facts.client.as_ref().map(ClientRow::to_client);
    let client = match client {
        Some(c) if c.redirect_uri_registered(&request.redirect_uri) => c,
        _ => return stop(req, 400, "The application is no longer registered here."),
    };
    let interaction = Some((id.to_string(), row.created_at));
    proceed(req, request, &client, facts, interaction, consented_now).await
}

async fn proceed(
    req: &TenantRequest<'_>,
    request: AuthorizationRequest,
    client: &Client,
    facts: Gathered,
    interaction: Option<(String, i64)>,
    consented_now: bool,
) -> Result<Response> {
    let hinted_subject = match hint::verify(
        request.id_token_hint.as_deref(),
        &req.tenant.jwks(req.now),
        &req.issuer,
    ) {
        Hint::Absent => None,
        Hint::Valid { sub, .. } => Some(sub),
        Hint::Invalid => {
            return fail(
                req,
                &request,
                OAuthError::invalid_request("id_token_hint was not issued by this provider"),
            )
        }
    };
    let access = facts.access.as_ref();
    let consent_missing = client.require_consent
        && !access
            .and_then(|a| a.consented_scope.as_deref())
            .is_some_and(|s| request.scope.is_subset_of(&ScopeSet::parse_lenient(s)));
    let next = decide(&Facts {
        request: &request,
        session: facts.session.as_ref().map(|s| SessionFacts {
            user_id: s.user.id.clone(),
            auth_time: s.auth_time,
        }),
        hinted_subject,
        started_at: interaction.as_ref().map(|(_, at)| *at),
        consent_missing,
        consented_now,
        has_access: access.is_none_or(|a| a.has_access == 1),
        now: req.now,
    });
    match next {
        Next::Fail(e) => fail(req, &request, e),
        Next::NoAccess => {
            let mut resp = message(
                req,
                "No access",
                &format!(
                    "Your account isn't allowed to use {}. Ask an administrator to add you to one \
                     of its groups.",
                    client.name
                ),
                Some("/account"),
            )?;
            resp = resp.with_status(403);
            Ok(resp)
        }
        Next::Login => {
            let (id, browser_cookie) = park(req, &request, interaction).await?;
            let next = format!("/authorize/resume?interaction={id}");
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            let mut resp = redirect(&format!("/login?force=1&next={next}"));
            set_browser_cookie(&mut resp, browser_cookie);
            Ok(resp)
        }
        Next::Consent => {
            let session = facts.session.as_ref().ok_or(Error::Unauthenticated)?;
            let (id, browser_cookie) = park(req, &request, interaction).await?;
            let mut page = render(&ConsentPage {
                tenant: brand(req),
                asset_version: ui::asset_version(),
                client_name: client.name.clone(),
                client_logo_url: facts.client.as_ref().and_then(|c| c.logo_url.clone()),
                scopes: request
                    .scope
                    .iter()
                    .map(|s| ScopeLine {
                        name: s.as_str().to_string(),
                        description: s.description().to_string(),
                    })
                    .collect(),
                interaction_id: id,
                csrf_token: session::csrf_token(session),
                user_display_name: session.user.full_name(),
            })?;
            set_browser_cookie(&mut page, browser_cookie);
            Ok(page)
        }
        Next::Issue { user_id, auth_time } => {
            let session = facts.session.as_ref().ok_or(Error::Unauthenticated)?;
            issue(
                req,
                &request,
                &user_id,
                auth_time,
                session,
                interaction,
                consented_now,
            )
            .await
        }
    }
}

/// Parks the request for this browser (or keeps the existing interaction) and returns the
/// interaction id, with the browser cookie to set when this browser had none yet.
async fn park(
    req: &TenantRequest<'_>,
    request: &AuthorizationRequest,
    interaction: Option<(String, i64)>,
) -> Result<(String, Option<String>)> {
    if let Some((id, _)) = interaction {
        return Ok((id, None));
    }
    let id = random::token();
    let (browser, browser_cookie) = session::browser_id_or_new(req);
    interactions::put(
        req.app.db()?,
        &req.tenant.tenant.id,
        &id,
        &browser,
        &serde_json::to_string(request)?,
        req.now,
    )
    .await?;
    Ok((id, browser_cookie))
}

fn set_browser_cookie(resp: &mut Response, cookie: Option<String>) {
    if let Some(c) = cookie {
        resp.headers_mut().append("Set-Cookie", &c).ok();
    }
}

async fn issue(
    req: &TenantRequest<'_>,
    request: &AuthorizationRequest,
    user_id: &str,
    auth_time: i64,
    session: &SessionWithUser,
    interaction: Option<(String, i64)>,
    consented_now: bool,
) -> Result<Response> {
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let code = random::token();
    let mut statements = vec![
        grants::insert_code_statement(
            db,
            &NewCode {
                tenant_id,
                code: &code,
                client_id: &request.client_id,
                user_id,
                session_id_hash: &session.id_hash,
                request_json: serde_json::to_string(request)?,
                auth_time,
                expires_at: req.now + CODE_TTL,
            },
        )?,
        audit::insert_statement(
            db,
            tenant_id,
            "authorize",
            Some(user_id),
            Some(&request.client_id),
            &req.incoming.audit_origin(),
            &serde_json::json!({ "scope": request.scope.to_string() }),
            req.now,
        )?,
    ];
    if let Some((id, _)) = &interaction {
        statements.push(interactions::delete_statement(db, tenant_id, id)?);
    }
    if consented_now {
        statements.push(interactions::save_consent_statement(
            db,
            tenant_id,
            user_id,
            &request.client_id,
            &request.scope.to_string(),
            req.now,
        )?);
    }
    db.batch(statements).await?;
    deliver(&AuthorizationResponse::success(request, &code, &req.issuer))
}
