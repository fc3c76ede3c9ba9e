//! The authorization endpoint's use cases (OIDC Core §3.1.2): `/authorize`, its resumption
//! after sign-in, and the consent decision.
//!
//! The flow: validate the request in two stages (errors before the redirect URI is trusted are
//! pages, after it they go back to the client), read the client (from a read replica) and the
//! person behind the session cookie (session, user, group access, stored consent: one round
//! trip to the primary, none without a cookie), let `oidc::interaction::decide` pick the next
//! step, and either issue a code or park the request while the person signs in or consents.
//!
//! A parked request is not stored: the browser carries it sealed for this tenant and this
//! browser (`crate::crypto::sealed`), so it cannot be read, altered, or resumed elsewhere, and
//! it is spent in the batch that issues its code, so it concludes once. When the person signs
//! in with a passkey, the sign-in's own batch issues the code ([`code_on_sign_in`]): the login
//! then needs no separate resumption.

use serde::{Deserialize, Serialize};

use super::par::{self, Taken};
use super::{id_token_hint, request_object, Ctx};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::crypto::sealed::{Binding, SealedKind};
use crate::error::{Error, Result};
use crate::oidc::authorize::{self as authz, AuthorizationRequest, Params, RedirectError};
use crate::oidc::client::Client;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::interaction::{decide, needs_only_a_session, Facts, Next, SessionFacts};
use crate::oidc::logout::Hint;
use crate::oidc::par as oidc_par;
use crate::oidc::response::AuthorizationResponse;
use crate::oidc::response_mode::ResponseMode;
use crate::oidc::scope::ScopeSet;
use crate::oidc::token::CODE_TTL;
use crate::storage::clients;
use crate::storage::codes::{self, CodeSubject, NewCode};
use crate::storage::interactions::{self, PersonFacts};
use crate::storage::sessions::SessionWithUser;
use crate::storage::spent::{self, Spend};

/// How long a person has to sign in (and consent) before a parked request expires.
pub const INTERACTION_TTL: i64 = 15 * 60;

/// The page for a request_uri that cannot be used (RFC 9126 §4, `invalid_request_uri`).
const REQUEST_URI_REFUSED: &str = "This sign-in request (request_uri) is not valid: it has \
    expired, was already used, or belongs to another application (invalid_request_uri). Go back \
    to the application and start again.";

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
    /// The request is parked (`interaction` is the sealed request): sign in, then resume it.
    Login { interaction: String },
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
    /// The API (RFC 8707 `resource`) the access token is for, and the permissions asked there.
    pub api: Option<(String, Vec<String>)>,
    /// The sealed parked request, for the form to send back.
    pub interaction: String,
    /// The signed-in session (the page's CSRF token is derived from it).
    pub session: SessionWithUser,
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// A parked request, as sealed into the browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Parked {
    request: AuthorizationRequest,
    /// When the request was first parked: a sign-in from then on satisfies `prompt=login`.
    started_at: i64,
}

/// A parked request opened again: the request, and the sealed value that carries it.
struct Resumed {
    parked: Parked,
    sealed: String,
    id: String,
    expires_at: i64,
}

impl Resumed {
    fn spend(&self) -> Spend<'_> {
        Spend {
            id: &self.id,
            expires_at: self.expires_at,
        }
    }
}

/// Where a decision happens: a fresh request, or a parked one resumed.
struct Step {
    request: AuthorizationRequest,
    /// The subject of a valid `id_token_hint`.
    hinted_subject: Option<String>,
    client: Client,
    client_logo_url: Option<String>,
    person: PersonFacts,
    /// A code already issued in the round trip that read the session (see [`person`]).
    preissued: Option<String>,
    resumed: Option<Resumed>,
    consented_now: bool,
}

fn binding<'a>(ctx: &'a Ctx<'_>, browser: Browser<'a>) -> Binding<'a> {
    Binding {
        tenant_id: ctx.tenant_id(),
        holder: browser.id,
    }
}

/// The parked request `sealed` carries, for this browser only (`None` when it is not ours,
/// another browser's, tampered with or expired).
fn unseal(ctx: &Ctx<'_>, sealed: &str, browser: Browser<'_>) -> Option<Resumed> {
    let opened = ctx
        .sealer
        .open_text::<Parked>(
            SealedKind::Interaction,
            &binding(ctx, browser),
            ctx.now,
            sealed,
        )
        .ok()?;
    Some(Resumed {
        parked: opened.body,
        sealed: sealed.to_string(),
        id: opened.id,
        expires_at: opened.expires_at,
    })
}

/// The client, read from a replica; a miss is asked again on the primary (a client created a
/// moment ago may not have replicated yet). What the code then depends on (the redirect URI)
/// is confirmed on the primary when the code is issued.
async fn find_client(ctx: &Ctx<'_>, client_id: &str) -> Result<Option<clients::ClientRow>> {
    let reader = ctx.reader();
    let found = clients::find(&reader, ctx.tenant_id(), client_id).await?;
    if found.is_none() && reader.is_replica() {
        return clients::find(ctx.db, ctx.tenant_id(), client_id).await;
    }
    Ok(found)
}

/// The session cookie's person as seen for the client (nothing read without a cookie). When
/// the request needs nothing but a live session with access (`needs_only_a_session`), the same
/// round trip also issues its code for whoever the session names: the code is then returned
/// too, and `proceed` uses it if its own decision (from the same read) is to issue one.
async fn person(
    ctx: &Ctx<'_>,
    request: &AuthorizationRequest,
    client: &Client,
    hinted_subject: Option<&str>,
    browser: Browser<'_>,
) -> Result<(PersonFacts, Option<String>)> {
    let Some(cookie) = browser.session else {
        return Ok((PersonFacts::default(), None));
    };
    let speculate = needs_only_a_session(request, hinted_subject, client.require_consent);
    let code = speculate.then(random::token);
    let session_hash = secret_hash(cookie);
    let new = code
        .as_deref()
        .map(|code| {
            new_code(
                ctx,
                request,
                code,
                CodeSubject::SessionHolder,
                &session_hash,
                None,
                false,
            )
        })
        .transpose()?;
    let (facts, issued) =
        interactions::person_facts(ctx.db, ctx.tenant_id(), &client.id, cookie, ctx.now, new)
            .await?;
    Ok((facts, code.filter(|_| issued)))
}

/// `GET|POST /authorize` with these parameters, or with the pushed request they name
/// (`client_id` and a `request_uri` from the PAR endpoint: `usecase::par`).
pub async fn authorize(
    ctx: &Ctx<'_>,
    pairs: &[(String, String)],
    browser: Browser<'_>,
) -> Result<Outcome> {
    let pushed_pairs;
    let (pairs, pushed) = match par::take(ctx, pairs).await? {
        Taken::Plain => (pairs, false),
        Taken::Pushed(p) => {
            pushed_pairs = p;
            (pushed_pairs.as_slice(), true)
        }
        Taken::Refused => {
            return Ok(Outcome::Stop {
                status: 400,
                message: REQUEST_URI_REFUSED.into(),
            })
        }
    };
    // A request object (RFC 9101): its verified parameters replace the request's, client_id
    // aside. Until it verifies, its redirect_uri is not to be trusted: refusals are pages.
    let opened_pairs;
    let mut prefetched = None;
    let pairs = match Params::new(pairs).get("request") {
        Ok(Some(jwt)) => {
            let Ok(Some(client_id)) = Params::new(pairs).get("client_id") else {
                return Ok(request_object_refused(
                    "client_id is required with a request object",
                ));
            };
            let row = find_client(ctx, client_id).await?;
            let Some(client) = row.as_ref().map(|r| r.to_client()) else {
                return Ok(request_object_refused(
                    "the client_id is not a registered client",
                ));
            };
            match request_object::open(ctx, &client, jwt).await? {
                Ok(opened) => opened_pairs = opened,
                Err(e) => return Ok(request_object_refused(&e.to_string())),
            }
            prefetched = Some(row);
            opened_pairs.as_slice()
        }
        // A repeated `request` is the plain path's error to report (through the query's
        // redirect_uri once that is checked against the client).
        _ => pairs,
    };
    let params = Params::new(pairs);
    let stop = |e: authz::PageError| Outcome::Stop {
        status: 400,
        message: e.message,
    };
    let target = match authz::target(&params) {
        Ok(t) => t,
        Err(e) => return Ok(stop(e)),
    };
    let row = match prefetched {
        Some(row) => row,
        None => find_client(ctx, &target.client_id).await?,
    };
    let client = row.as_ref().map(|r| r.to_client());
    if let Err(e) = authz::check_target(&target, client.as_ref()) {
        return Ok(stop(e));
    }
    let client = client.ok_or_else(|| Error::Internal("client vanished".into()))?;
    let request = match authz::parse(&params, &target, &client) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Outcome::Respond(AuthorizationResponse::error(
                &e, ctx.issuer,
            )))
        }
    };
    if client.require_pushed_requests && !pushed {
        return Ok(respond_error(ctx, &request, oidc_par::push_required()));
    }
    let hinted_subject = match hinted_subject(ctx, &request).await? {
        Ok(sub) => sub,
        Err(invalid) => return Ok(respond_error(ctx, &request, invalid)),
    };
    let (person, preissued) =
        person(ctx, &request, &client, hinted_subject.as_deref(), browser).await?;
    let step = Step {
        person,
        preissued,
        hinted_subject,
        request,
        client,
        client_logo_url: row.and_then(|r| r.logo_url),
        resumed: None,
        consented_now: false,
    };
    proceed(ctx, step, browser).await
}

/// The page for a request object that does not verify (RFC 9101 §6.2): nothing in it may be
/// trusted, its redirect_uri included, so the error is shown rather than redirected.
fn request_object_refused(why: &str) -> Outcome {
    Outcome::Stop {
        status: 400,
        message: format!(
            "This sign-in request's request object is not valid (invalid_request_object): \
             {why}. The application's developer needs to fix it."
        ),
    }
}

/// `GET /authorize/resume?interaction=<sealed>`: back from the sign-in page.
pub async fn resume(ctx: &Ctx<'_>, interaction: &str, browser: Browser<'_>) -> Result<Outcome> {
    continue_interaction(ctx, interaction, browser, false).await
}

/// `POST /authorize/consent`: the signed-in user's answer (the caller checked the session and
/// the form's CSRF token).
pub async fn consent(
    ctx: &Ctx<'_>,
    interaction: &str,
    decision: Decision,
    browser: Browser<'_>,
) -> Result<Outcome> {
    if decision == Decision::Allow {
        return continue_interaction(ctx, interaction, browser, true).await;
    }
    let Some(resumed) = unseal(ctx, interaction, browser) else {
        return Ok(Outcome::Expired);
    };
    // Spent, so the same form cannot allow what was just denied.
    let spend = spent::spend(ctx.db, ctx.tenant_id(), resumed.spend()).await;
    if spend.as_ref().is_err_and(spent::replayed) {
        return Ok(Outcome::Expired);
    }
    spend?;
    let denied = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
    Ok(respond_error(ctx, &resumed.parked.request, denied))
}

async fn continue_interaction(
    ctx: &Ctx<'_>,
    sealed: &str,
    browser: Browser<'_>,
    consented_now: bool,
) -> Result<Outcome> {
    let Some(resumed) = unseal(ctx, sealed, browser) else {
        return Ok(Outcome::Expired);
    };
    let request = resumed.parked.request.clone();
    let row = find_client(ctx, &request.client_id).await?;
    // The client may have been deleted or changed while the user signed in.
    let Some(row) = row.filter(|c| c.to_client().redirect_uri_registered(&request.redirect_uri))
    else {
        return Ok(Outcome::Stop {
            status: 400,
            message: "The application is no longer registered here.".into(),
        });
    };
    let hinted_subject = match hinted_subject(ctx, &request).await? {
        Ok(sub) => sub,
        Err(invalid) => return Ok(respond_error(ctx, &request, invalid)),
    };
    let client = row.to_client();
    // A resumed request is decided by its parked state (when it began, what was consented):
    // no speculative code, so `person` is asked without the request's shortcut.
    let person = match browser.session {
        Some(cookie) => {
            interactions::person_facts(ctx.db, ctx.tenant_id(), &client.id, cookie, ctx.now, None)
                .await?
                .0
        }
        None => PersonFacts::default(),
    };
    let step = Step {
        person,
        preissued: None,
        hinted_subject,
        request,
        client,
        client_logo_url: row.logo_url,
        resumed: Some(resumed),
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

/// The subject of a valid `id_token_hint` (`Ok(Err(..))` with the client's error for an
/// invalid one).
async fn hinted_subject(
    ctx: &Ctx<'_>,
    request: &AuthorizationRequest,
) -> Result<std::result::Result<Option<String>, OAuthError>> {
    Ok(
        match id_token_hint::verify(ctx, request.id_token_hint.as_deref()).await? {
            Hint::Absent => Ok(None),
            Hint::Valid { sub, .. } => Ok(Some(sub)),
            Hint::Invalid => Err(OAuthError::invalid_request(
                "id_token_hint was not issued by this provider",
            )),
        },
    )
}

async fn proceed(ctx: &Ctx<'_>, step: Step, browser: Browser<'_>) -> Result<Outcome> {
    let Step {
        request,
        hinted_subject,
        client,
        client_logo_url,
        person,
        preissued,
        resumed,
        consented_now,
    } = step;
    let access = person.access.as_ref();
    let consent_missing = client.require_consent
        && !access
            .and_then(|a| a.consented_scope.as_deref())
            .is_some_and(|s| request.scope.is_subset_of(&ScopeSet::parse_lenient(s)));
    let next = decide(&Facts {
        request: &request,
        session: person.session.as_ref().map(|s| SessionFacts {
            user_id: s.user.id.clone(),
            auth_time: s.auth_time,
        }),
        hinted_subject,
        started_at: resumed.as_ref().map(|r| r.parked.started_at),
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
        Next::Login => Ok(Outcome::Login {
            interaction: park(ctx, &request, resumed.as_ref(), browser),
        }),
        Next::Consent => {
            let session = person.session.ok_or(Error::Unauthenticated)?;
            Ok(Outcome::Consent(Box::new(ConsentPrompt {
                client_name: client.name,
                client_logo_url,
                scope: request.scope.clone(),
                api: request
                    .resource
                    .clone()
                    .map(|api| (api, request.api_scope.clone())),
                interaction: park(ctx, &request, resumed.as_ref(), browser),
                session,
            })))
        }
        Next::Issue { .. } if preissued.is_some() => {
            let code = preissued.unwrap_or_default();
            Ok(Outcome::Respond(AuthorizationResponse::success(
                &request, &code, ctx.issuer,
            )))
        }
        Next::Issue { user_id, auth_time } => {
            let session = person.session.as_ref().ok_or(Error::Unauthenticated)?;
            let code = random::token();
            let issued = codes::issue_code(
                ctx.db,
                &new_code(
                    ctx,
                    &request,
                    &code,
                    CodeSubject::User {
                        id: &user_id,
                        auth_time,
                    },
                    &session.id_hash,
                    resumed.as_ref().map(Resumed::spend),
                    consented_now,
                )?,
            )
            .await?;
            if !issued {
                // The primary refused what was read a moment ago: the request was concluded
                // meanwhile, or the session, the user's access or the client changed.
                return Ok(Outcome::Expired);
            }
            Ok(Outcome::Respond(AuthorizationResponse::success(
                &request, &code, ctx.issuer,
            )))
        }
    }
}

fn new_code<'a>(
    ctx: &'a Ctx<'_>,
    request: &'a AuthorizationRequest,
    code: &'a str,
    subject: CodeSubject<'a>,
    session_id_hash: &'a str,
    interaction: Option<Spend<'a>>,
    consented: bool,
) -> Result<NewCode<'a>> {
    Ok(NewCode {
        tenant_id: ctx.tenant_id(),
        code,
        client_id: &request.client_id,
        redirect_uri: &request.redirect_uri,
        subject,
        session_id_hash,
        request_json: serde_json::to_string(request)?,
        scope: request.scope.to_string(),
        expires_at: ctx.now + CODE_TTL,
        now: ctx.now,
        origin: &ctx.origin,
        interaction,
        consented,
    })
}

/// Parks the request for this browser (or keeps it parked as it was) and returns the sealed
/// value the browser carries.
fn park(
    ctx: &Ctx<'_>,
    request: &AuthorizationRequest,
    resumed: Option<&Resumed>,
    browser: Browser<'_>,
) -> String {
    if let Some(r) = resumed {
        return r.sealed.clone();
    }
    let parked = Parked {
        request: request.clone(),
        started_at: ctx.now,
    };
    ctx.sealer.seal_text(
        SealedKind::Interaction,
        &binding(ctx, browser),
        ctx.now,
        INTERACTION_TTL,
        &parked,
    )
}

/// A code issued in the batch of the sign-in that a parked request waited for.
pub(crate) struct CodeOnSignIn {
    resumed: Resumed,
    code: String,
}

impl CodeOnSignIn {
    /// The code's row, for the sign-in batch of `session_id_hash`.
    pub(crate) fn new_code<'a>(
        &'a self,
        ctx: &'a Ctx<'_>,
        user_id: &'a str,
        session_id_hash: &'a str,
    ) -> Result<NewCode<'a>> {
        new_code(
            ctx,
            &self.resumed.parked.request,
            &self.code,
            CodeSubject::User {
                id: user_id,
                auth_time: ctx.now,
            },
            session_id_hash,
            Some(self.resumed.spend()),
            false,
        )
    }

    /// The response that carries the code to the client.
    pub(crate) fn response(&self, issuer: &str) -> AuthorizationResponse {
        AuthorizationResponse::success(&self.resumed.parked.request, &self.code, issuer)
    }
}

/// The code to issue together with the sign-in of `user_id`, when the request parked in
/// `sealed` needs nothing more than that sign-in: no consent page, no group check the primary
/// would refuse, a redirect (not a form post) to the client. `None` sends the browser to
/// [`resume`] instead, which handles every other case.
pub(crate) async fn code_on_sign_in(
    ctx: &Ctx<'_>,
    sealed: &str,
    browser: Browser<'_>,
    user_id: &str,
) -> Result<Option<CodeOnSignIn>> {
    let Some(resumed) = unseal(ctx, sealed, browser) else {
        return Ok(None);
    };
    let request = &resumed.parked.request;
    // A form post needs a page; a redirect (query or fragment) the sign-in's answer can carry.
    if request.response_mode == ResponseMode::FormPost {
        return Ok(None);
    }
    let Some(client) = find_client(ctx, &request.client_id).await? else {
        return Ok(None);
    };
    let client = client.to_client();
    if client.require_consent || !client.redirect_uri_registered(&request.redirect_uri) {
        return Ok(None);
    }
    let Ok(hinted_subject) = hinted_subject(ctx, request).await? else {
        return Ok(None);
    };
    let next = decide(&Facts {
        request,
        session: Some(SessionFacts {
            user_id: user_id.to_string(),
            auth_time: ctx.now,
        }),
        hinted_subject,
        started_at: Some(resumed.parked.started_at),
        consent_missing: false,
        consented_now: false,
        // Confirmed on the primary by the code's own condition.
        has_access: true,
        now: ctx.now,
    });
    Ok(matches!(next, Next::Issue { .. }).then(|| CodeOnSignIn {
        resumed,
        code: random::token(),
    }))
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
        let (facts, _) =
            interactions::person_facts(db, &t.tenant.id, &client.id, session, NOW, None)
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
            assert!(prompt.api.is_none(), "no resource asked for");
            assert_eq!(consented(&db, &t, &app, &session).await, None);
            let outcome = consent(&c, &prompt.interaction, Decision::Allow, browser(&session))
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
                resume(&c, &prompt.interaction, browser(&session))
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
    fn a_signed_in_request_is_answered_in_one_round_trip_to_the_primary() {
        let (db, dir) = testing::replicated_db("sso");
        run(async {
            let (t, app, session) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let before = db.round_trips();
            let pairs = authorize_params(&app, &[("state", "s1")]);
            let Outcome::Respond(r) = authorize(&c, &pairs, browser(&session)).await.unwrap()
            else {
                panic!("a code");
            };
            assert_eq!(
                db.round_trips() - before,
                1,
                "the session read issues the code"
            );
            let code = param(&r, "code").expect("a code").to_string();
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.tenant.id).await,
                1,
                "exactly the code returned"
            );
            let entries = testing::audit_events(&db, &t.tenant.id).await;
            let authorized: Vec<_> = entries.iter().filter(|(e, ..)| e == "authorize").collect();
            assert_eq!(authorized.len(), 1);
            assert_eq!(
                authorized[0].1.as_deref(),
                Some("user-alice"),
                "about the session's user"
            );
            // The code is the session user's, redeemable as any other.
            let redeemed = crate::usecase::token::redeem_code(
                &c,
                &crate::testing::oidc::TestSigner,
                &crate::testing::oidc::creds(&app.id, Some(SECRET)),
                &code,
                &crate::usecase::token::RedemptionChecks {
                    redirect_uri: Some(&app.redirect_uris[0]),
                    ..Default::default()
                },
            )
            .await;
            assert!(redeemed.is_ok(), "{redeemed:?}");
            // A request that needs more than a session (prompt=login) issues nothing with the
            // read: it asks for a sign-in.
            let login = authorize_params(&app, &[("prompt", "login")]);
            assert!(matches!(
                authorize(&c, &login, browser(&session)).await.unwrap(),
                Outcome::Login { .. }
            ));
            // A session that ended issues nothing either.
            let ended = authorize(&c, &pairs, browser("no-such-session"))
                .await
                .unwrap();
            assert!(matches!(ended, Outcome::Login { .. }), "{ended:?}");
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.tenant.id).await,
                1
            );
        });
        std::fs::remove_dir_all(dir).ok();
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
            let Outcome::Respond(r) =
                consent(&c, &prompt.interaction, Decision::Deny, browser(&session))
                    .await
                    .unwrap()
            else {
                panic!("an error to the client");
            };
            assert_eq!(param(&r, "error"), Some("access_denied"));
            assert_eq!(param(&r, "iss"), Some(crate::testing::oidc::ISSUER));
            assert!(matches!(
                consent(&c, &prompt.interaction, Decision::Allow, browser(&session))
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
            let Outcome::Login { interaction } = outcome else {
                panic!("sign in first")
            };
            let elsewhere = Browser {
                session: Some(&session),
                id: "another-browser",
            };
            assert!(matches!(
                resume(&c, &interaction, elsewhere).await.unwrap(),
                Outcome::Expired
            ));
            // Signed in since: prompt-free requests resume to a code.
            let Outcome::Respond(r) = resume(&c, &interaction, browser(&session)).await.unwrap()
            else {
                panic!("a code after sign-in");
            };
            assert!(param(&r, "code").is_some());
            let later = ctx(&db, &t, NOW + INTERACTION_TTL);
            let Outcome::Login { interaction } =
                authorize(&later, &pairs, anonymous).await.unwrap()
            else {
                panic!("sign in first");
            };
            let expired = ctx(&db, &t, NOW + 2 * INTERACTION_TTL);
            assert!(matches!(
                resume(&expired, &interaction, browser(&session))
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
                &authorize_params(&app, &[("response_mode", "jwt")]),
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
