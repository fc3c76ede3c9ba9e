//! The authorization endpoint's use cases (OIDC Core §3.1.2): `/authorize`, its resumption
//! after sign-in, and the consent decision.
//!
//! The flow: validate the request in two stages (errors before the redirect URI is trusted are
//! pages, after it they go back to the client), read the facts in one round trip (client,
//! session, user, group access, stored consent: `storage::interactions::authorize_facts`), let
//! `oidc::interaction::decide` pick the next step, and either issue a code or park the request
//! while the user signs in or consents. The browser carries only the parked request's random
//! id, and only the browser that parked it can resume it.

use super::Ctx;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::authorize::{self as authz, AuthorizationRequest, Params, RedirectError};
use crate::oidc::client::Client;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::interaction::{decide, Facts, Next, SessionFacts};
use crate::oidc::logout::Hint;
use crate::oidc::response::AuthorizationResponse;
use crate::oidc::scope::ScopeSet;
use crate::oidc::{hint, token::CODE_TTL};
use crate::storage::codes::{self, NewCode};
use crate::storage::interactions::{self, AuthorizeFacts, FactsQuery};
use crate::storage::sessions::SessionWithUser;

/// The browser a request comes from.
#[derive(Debug, Clone, Copy)]
pub struct Browser<'a> {
    /// The session cookie, when well-formed.
    pub session: Option<&'a str>,
    /// This browser's id (`eid_browser`): the one it presented, or a fresh one the caller sets
    /// as a cookie if the outcome parks a request ([`Outcome::parks`]).
    pub id: &'a str,
}

/// What the endpoint answers.
#[derive(Debug)]
pub enum Outcome {
    /// A problem shown as a page, never redirected: the redirect target is not trusted.
    Stop { status: u16, message: String },
    /// The parked request is gone (expired, finished, or parked by another browser).
    Expired,
    /// Send this to the client: a code, or an error.
    Respond(AuthorizationResponse),
    /// The user may not use this client.
    NoAccess { client_name: String },
    /// The request is parked: sign in, then resume it.
    Login { interaction_id: String },
    /// The request is parked: ask the user to consent.
    Consent(Box<ConsentPrompt>),
}

impl Outcome {
    /// Whether the request was parked for this browser (the browser id must then be kept).
    pub fn parks(&self) -> bool {
        matches!(self, Outcome::Login { .. } | Outcome::Consent(_))
    }
}

/// What the consent page shows.
#[derive(Debug)]
pub struct ConsentPrompt {
    pub client_name: String,
    pub client_logo_url: Option<String>,
    pub scope: ScopeSet,
    pub interaction_id: String,
    /// The signed-in session (the page's CSRF token is derived from it).
    pub session: SessionWithUser,
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// Where a decision happens: a fresh request, or a parked one resumed.
struct Step {
    request: AuthorizationRequest,
    client: Client,
    facts: AuthorizeFacts,
    /// The parked interaction (id, when it began), for a resumed request.
    interaction: Option<(String, i64)>,
    consented_now: bool,
}

/// `GET|POST /authorize` with these parameters.
pub async fn authorize(
    ctx: &Ctx<'_>,
    pairs: &[(String, String)],
    browser: Browser<'_>,
) -> Result<Outcome> {
    let params = Params::new(pairs);
    let stop = |e: authz::PageError| Outcome::Stop {
        status: 400,
        message: e.message,
    };
    let target = match authz::target(&params) {
        Ok(t) => t,
        Err(e) => return Ok(stop(e)),
    };
    let query = FactsQuery {
        client_id: Some(&target.client_id),
        interaction: None,
        session: browser.session,
    };
    let facts = interactions::authorize_facts(ctx.db, ctx.tenant_id(), &query, ctx.now).await?;
    if let Err(e) = authz::check_target(&target, facts.client.as_ref()) {
        return Ok(stop(e));
    }
    let client = facts
        .client
        .clone()
        .ok_or_else(|| Error::Internal("client vanished".into()))?;
    let request = match authz::parse(&params, &target, &client) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Outcome::Respond(AuthorizationResponse::error(
                &e, ctx.issuer,
            )))
        }
    };
    let step = Step {
        request,
        client,
        facts,
        interaction: None,
        consented_now: false,
    };
    proceed(ctx, step, browser).await
}

/// `GET /authorize/resume?interaction=<id>`: back from the sign-in page.
pub async fn resume(ctx: &Ctx<'_>, interaction_id: &str, browser: Browser<'_>) -> Result<Outcome> {
    continue_interaction(ctx, interaction_id, browser, false).await
}

/// `POST /authorize/consent`: the signed-in user's answer (the caller checked the session and
/// the form's CSRF token).
pub async fn consent(
    ctx: &Ctx<'_>,
    interaction_id: &str,
    decision: Decision,
    browser: Browser<'_>,
) -> Result<Outcome> {
    if decision == Decision::Allow {
        return continue_interaction(ctx, interaction_id, browser, true).await;
    }
    let Some((request, _)) = parked(ctx, interaction_id, browser).await? else {
        return Ok(Outcome::Expired);
    };
    interactions::delete(ctx.db, ctx.tenant_id(), interaction_id).await?;
    let denied = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
    Ok(respond_error(ctx, &request, denied))
}

/// The request parked under `id` for this browser, with when it was parked.
async fn parked(
    ctx: &Ctx<'_>,
    id: &str,
    browser: Browser<'_>,
) -> Result<Option<(AuthorizationRequest, i64)>> {
    let query = FactsQuery {
        interaction: Some((id, Some(browser.id))),
        ..FactsQuery::default()
    };
    let facts = interactions::authorize_facts(ctx.db, ctx.tenant_id(), &query, ctx.now).await?;
    let Some(row) = facts.interaction else {
        return Ok(None);
    };
    let request = serde_json::from_str(&row.request)
        .map_err(|e| Error::Internal(format!("parked request: {e}")))?;
    Ok(Some((request, row.created_at)))
}

async fn continue_interaction(
    ctx: &Ctx<'_>,
    id: &str,
    browser: Browser<'_>,
    consented_now: bool,
) -> Result<Outcome> {
    // The client id is inside the parked request, so read the interaction first, then the rest.
    let Some((request, started_at)) = parked(ctx, id, browser).await? else {
        return Ok(Outcome::Expired);
    };
    let query = FactsQuery {
        client_id: Some(&request.client_id),
        interaction: None,
        session: browser.session,
    };
    let facts = interactions::authorize_facts(ctx.db, ctx.tenant_id(), &query, ctx.now).await?;
    // The client may have been deleted or changed while the user signed in.
    let client = match &facts.client {
        Some(c) if c.redirect_uri_registered(&request.redirect_uri) => c.clone(),
        _ => {
            return Ok(Outcome::Stop {
                status: 400,
                message: "The application is no longer registered here.".into(),
            })
        }
    };
    let step = Step {
        request,
        client,
        facts,
        interaction: Some((id.to_string(), started_at)),
        consented_now,
    };
    proceed(ctx, step, browser).await
}

fn respond_error(ctx: &Ctx<'_>, request: &AuthorizationRequest, error: OAuthError) -> Outcome {
    Outcome::Respond(AuthorizationResponse::error(
        &RedirectError {
            error,
            redirect_uri: request.redirect_uri.clone(),
            response_mode: request.response_mode,
            state: request.state.clone(),
        },
        ctx.issuer,
    ))
}

async fn proceed(ctx: &Ctx<'_>, step: Step, browser: Browser<'_>) -> Result<Outcome> {
    let Step {
        request,
        client,
        facts,
        interaction,
        consented_now,
    } = step;
    let hinted_subject = match hint::verify(
        request.id_token_hint.as_deref(),
        &ctx.tenant.jwks(ctx.now),
        ctx.issuer,
    ) {
        Hint::Absent => None,
        Hint::Valid { sub, .. } => Some(sub),
        Hint::Invalid => {
            let invalid =
                OAuthError::invalid_request("id_token_hint was not issued by this provider");
            return Ok(respond_error(ctx, &request, invalid));
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
        has_access: access.is_none_or(|a| a.has_access),
        now: ctx.now,
    });
    match next {
        Next::Fail(e) => Ok(respond_error(ctx, &request, e)),
        Next::NoAccess => Ok(Outcome::NoAccess {
            client_name: client.name,
        }),
        Next::Login => {
            let interaction_id = park(ctx, &request, interaction, browser).await?;
            Ok(Outcome::Login { interaction_id })
        }
        Next::Consent => {
            let session = facts.session.ok_or(Error::Unauthenticated)?;
            let interaction_id = park(ctx, &request, interaction, browser).await?;
            Ok(Outcome::Consent(Box::new(ConsentPrompt {
                client_name: client.name,
                client_logo_url: facts.client_logo_url,
                scope: request.scope.clone(),
                interaction_id,
                session,
            })))
        }
        Next::Issue { user_id, auth_time } => {
            let session = facts.session.as_ref().ok_or(Error::Unauthenticated)?;
            let code = random::token();
            codes::issue_code(
                ctx.db,
                &NewCode {
                    tenant_id: ctx.tenant_id(),
                    code: &code,
                    client_id: &request.client_id,
                    user_id: &user_id,
                    session_id_hash: &session.id_hash,
                    request_json: serde_json::to_string(&request)?,
                    scope: request.scope.to_string(),
                    auth_time,
                    expires_at: ctx.now + CODE_TTL,
                    now: ctx.now,
                    origin: &ctx.origin,
                    interaction_id: interaction.as_ref().map(|(id, _)| id.as_str()),
                    consented: consented_now,
                },
            )
            .await?;
            Ok(Outcome::Respond(AuthorizationResponse::success(
                &request, &code, ctx.issuer,
            )))
        }
    }
}

/// Parks the request for this browser (or keeps the existing interaction) and returns the
/// interaction id.
async fn park(
    ctx: &Ctx<'_>,
    request: &AuthorizationRequest,
    interaction: Option<(String, i64)>,
    browser: Browser<'_>,
) -> Result<String> {
    if let Some((id, _)) = interaction {
        return Ok(id);
    }
    let id = random::token();
    interactions::put(
        ctx.db,
        ctx.tenant_id(),
        &id,
        browser.id,
        &serde_json::to_string(request)?,
        ctx.now,
    )
    .await?;
    Ok(id)
}
