//! The authorization endpoint's use cases (OIDC Core §3.1.2): `/authorize`, its resumption
//! after sign-in, and the consent decision.
//!
//! The flow: validate the request in two stages (errors before the redirect URI is trusted are
//! pages, after it they go back to the client), read the facts in one round trip (client,
//! session, user, group access, stored consent: `storage::interactions::authorize_facts`), let
//! `oidc::interaction::decide` pick the next step, and either issue a code or park the request
//! while the user signs in or consents. The browser carries only the parked request's random
//! id, and only the browser that parked it can resume it.

use super::id_token_hint;
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
use crate::oidc::token::CODE_TTL;
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
    let hinted_subject = match id_token_hint::verify(ctx, request.id_token_hint.as_deref()).await? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::{authorize_params, browser, ctx, tenant, BROWSER, SECRET};
    use crate::testing::{self, run, user, NOW};

    fn param<'a>(r: &'a AuthorizationResponse, name: &str) -> Option<&'a str> {
        r.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    async fn setup(db: &Db, consent: bool) -> (TenantSnapshot, Client, String) {
        let t = tenant(db).await;
        let alice = user(db, &t.tenant.id, "alice", false).await;
        let mut input = testing::client_input("app");
        input.require_consent = consent;
        let app = testing::client(db, &t.tenant.id, &input, Some(SECRET)).await;
        let session = testing::session(db, &t.tenant.id, &alice, NOW).await;
        (t, app, session)
    }

    /// The stored consent of alice for the client, read through the authorize lookup.
    async fn consented(
        db: &Db,
        t: &TenantSnapshot,
        client: &Client,
        session: &str,
    ) -> Option<String> {
        let q = FactsQuery {
            client_id: Some(&client.id),
            interaction: None,
            session: Some(session),
        };
        let facts = interactions::authorize_facts(db, &t.tenant.id, &q, NOW)
            .await
            .unwrap();
        facts.access.unwrap().consented_scope
    }

    #[test]
    fn consent_is_asked_saved_with_the_code_and_reused() {
        let db = testing::db();
        run(async {
            let (t, app, session) = setup(&db, true).await;
            let c = ctx(&db, &t, NOW);
            let pairs = authorize_params(&app, &[("state", "s1")]);
            let Outcome::Consent(prompt) = authorize(&c, &pairs, browser(&session)).await.unwrap()
            else {
                panic!("consent first");
            };
            assert_eq!(prompt.client_name, "app");
            assert_eq!(prompt.scope.to_string(), "openid profile email");
            assert_eq!(consented(&db, &t, &app, &session).await, None);
            let outcome = consent(
                &c,
                &prompt.interaction_id,
                Decision::Allow,
                browser(&session),
            )
            .await
            .unwrap();
            let Outcome::Respond(r) = outcome else {
                panic!("a code after consent")
            };
            assert!(param(&r, "code").is_some());
            assert_eq!(param(&r, "state"), Some("s1"));
            assert_eq!(
                consented(&db, &t, &app, &session).await.as_deref(),
                Some("openid profile email")
            );
            // The interaction is finished: it cannot be replayed.
            assert!(matches!(
                resume(&c, &prompt.interaction_id, browser(&session))
                    .await
                    .unwrap(),
                Outcome::Expired
            ));
            // The next request for the same (or fewer) scopes goes straight through.
            let again = authorize_params(&app, &[]);
            let Outcome::Respond(r) = authorize(&c, &again, browser(&session)).await.unwrap()
            else {
                panic!("no second consent");
            };
            assert!(param(&r, "code").is_some());
        });
    }

    #[test]
    fn a_denied_consent_answers_access_denied_and_ends_the_interaction() {
        let db = testing::db();
        run(async {
            let (t, app, session) = setup(&db, true).await;
            let c = ctx(&db, &t, NOW);
            let pairs = authorize_params(&app, &[]);
            let Outcome::Consent(prompt) = authorize(&c, &pairs, browser(&session)).await.unwrap()
            else {
                panic!("consent first");
            };
            let Outcome::Respond(r) = consent(
                &c,
                &prompt.interaction_id,
                Decision::Deny,
                browser(&session),
            )
            .await
            .unwrap() else {
                panic!("an error to the client");
            };
            assert_eq!(param(&r, "error"), Some("access_denied"));
            assert_eq!(param(&r, "iss"), Some(crate::testing::oidc::ISSUER));
            assert!(matches!(
                consent(
                    &c,
                    &prompt.interaction_id,
                    Decision::Allow,
                    browser(&session)
                )
                .await
                .unwrap(),
                Outcome::Expired
            ));
            assert_eq!(consented(&db, &t, &app, &session).await, None);
        });
    }

    #[test]
    fn without_a_session_the_request_is_parked_for_this_browser_only() {
        let db = testing::db();
        run(async {
            let (t, app, session) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let pairs = authorize_params(&app, &[]);
            let anonymous = Browser {
                session: None,
                id: BROWSER,
            };
            let outcome = authorize(&c, &pairs, anonymous).await.unwrap();
            assert!(outcome.parks());
            let Outcome::Login { interaction_id } = outcome else {
                panic!("sign in first")
            };
            let elsewhere = Browser {
                session: Some(&session),
                id: "another-browser",
            };
            assert!(matches!(
                resume(&c, &interaction_id, elsewhere).await.unwrap(),
                Outcome::Expired
            ));
            // Signed in since: prompt-free requests resume to a code.
            let Outcome::Respond(r) = resume(&c, &interaction_id, browser(&session))
                .await
                .unwrap()
            else {
                panic!("a code after sign-in");
            };
            assert!(param(&r, "code").is_some());
            let later = ctx(&db, &t, NOW + interactions::INTERACTION_TTL);
            let Outcome::Login { interaction_id } =
                authorize(&later, &pairs, anonymous).await.unwrap()
            else {
                panic!("sign in first");
            };
            let expired = ctx(&db, &t, NOW + 2 * interactions::INTERACTION_TTL);
            assert!(matches!(
                resume(&expired, &interaction_id, browser(&session))
                    .await
                    .unwrap(),
                Outcome::Expired
            ));
        });
    }

    #[test]
    fn prompt_none_without_a_session_answers_login_required() {
        let db = testing::db();
        run(async {
            let (t, app, _) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let pairs = authorize_params(&app, &[("prompt", "none")]);
            let anonymous = Browser {
                session: None,
                id: BROWSER,
            };
            let Outcome::Respond(r) = authorize(&c, &pairs, anonymous).await.unwrap() else {
                panic!("an error to the client");
            };
            assert_eq!(param(&r, "error"), Some("login_required"));
        });
    }

    #[test]
    fn a_user_outside_the_clients_groups_is_told_so() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            testing::group(&db, &t.tenant.id, "staff", &[]).await;
            let mut input = testing::client_input("app");
            input.allowed_user_groups = vec!["staff".into()];
            let app = testing::client(&db, &t.tenant.id, &input, Some(SECRET)).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let outcome = authorize(&c, &authorize_params(&app, &[]), browser(&session))
                .await
                .unwrap();
            assert!(
                matches!(outcome, Outcome::NoAccess { ref client_name } if client_name == "app")
            );
        });
    }

    #[test]
    fn untrusted_targets_stop_on_a_page() {
        let db = testing::db();
        run(async {
            let (t, app, session) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let mut unknown = app.clone();
            unknown.id = "no-such-client".into();
            let mut elsewhere = app.clone();
            elsewhere.redirect_uris = vec!["https://evil.example.com/cb".into()];
            for client in [&unknown, &elsewhere] {
                let outcome = authorize(&c, &authorize_params(client, &[]), browser(&session))
                    .await
                    .unwrap();
                assert!(
                    matches!(outcome, Outcome::Stop { status: 400, .. }),
                    "{outcome:?}"
                );
            }
            // A bad parameter once the target is trusted goes back to the client.
            let Outcome::Respond(r) = authorize(
                &c,
                &authorize_params(&app, &[("response_mode", "fragment")]),
                browser(&session),
            )
            .await
            .unwrap() else {
                panic!("an error to the client");
            };
            assert!(param(&r, "error").is_some());
        });
    }
}
