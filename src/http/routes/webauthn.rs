//! Passkey ceremonies over JSON: sign-in (usernameless), sign-up through a one-time link, and
//! adding a passkey to the signed-in account.
//!
//! Each ceremony is two calls. `start` stores a single-use challenge in D1 together with a typed
//! [`Ceremony`] saying what completing it does; `finish` finds the challenge by the value the
//! browser echoes in clientDataJSON, deletes it in the same statement (so it works once), and
//! only then verifies the response.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::Response;

use crate::account::next::safe_next;
use crate::account::{NewProfile, ProfileInput};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::request::TenantRequest;
use crate::http::respond::{json as json_response, set_header};
use crate::http::session;
use crate::passkey::{self, RelyingParty, StoredPasskey, UserEntity};
use crate::storage::audit::When;
use crate::storage::ceremonies::{self, ChallengeRow, LinkPurpose};
use crate::storage::db::unique_violation;
use crate::storage::db::{changes, rows, Statement};
use crate::storage::passkeys::{self, NewPasskey, PasskeyRow};
use crate::storage::users::{self, NewSignup, SignUp};
use crate::storage::{audit, sessions};
use crate::tenancy::SignupMode;

/// Ceremonies must finish within this time.
const CHALLENGE_TTL_SECS: i64 = 300;
const TIMEOUT_MS: u32 = 120_000;

/// What finishing a registration ceremony does.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Ceremony {
    Login,
    /// Create the account described here, consuming the one-time link.
    Signup {
        /// The invite or first-admin link consumed; `None` for open sign-up.
        token_hash: Option<String>,
        admin: bool,
        username: String,
        email: String,
        first_name: String,
        last_name: Option<String>,
    },
    /// Add a passkey to an existing account.
    AddPasskey,
}

pub fn relying_party(req: &TenantRequest<'_>) -> RelyingParty {
    RelyingParty {
        id: req.incoming.host.name.clone(),
        name: req.tenant.tenant.display_name.clone(),
        origin: req.issuer.clone(),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

fn b64_decode(s: &str) -> Result<Vec<u8>> {
    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s)
        .map_err(|_| Error::Internal("stored base64 is corrupt".into()))
}

async fn store_challenge(
    req: &TenantRequest<'_>,
    purpose: &str,
    user_id: Option<&str>,
    ceremony: &Ceremony,
) -> Result<[u8; 32]> {
    let challenge = random::bytes::<32>();
    ceremonies::put_challenge(
        req.app.db()?,
        &req.tenant.tenant.id,
        purpose,
        &b64(&challenge),
        user_id,
        &serde_json::to_string(ceremony)?,
        req.now + CHALLENGE_TTL_SECS,
    )
    .await?;
    Ok(challenge)
}

pub async fn login_start(req: TenantRequest<'_>) -> Result<Response> {
    let challenge = store_challenge(&req, "authenticate", None, &Ceremony::Login).await?;
    let options = passkey::request_options(&relying_party(&req), &challenge, &[], TIMEOUT_MS);
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

/// Takes the challenge a response echoes (plus any extra statements in the same round trip).
async fn take_challenge(
    req: &TenantRequest<'_>,
    credential: &Value,
    extra: Vec<Statement>,
) -> Result<(ChallengeRow, Vec<crate::storage::db::QueryResult>)> {
    let db = req.app.db()?;
    let echoed = passkey::client_data_challenge(credential)?;
    let mut statements = vec![ceremonies::take_challenge_statement(
        db,
        &req.tenant.tenant.id,
        &b64(&echoed),
        req.now,
    )?];
    statements.extend(extra);
    let mut results = db.batch(statements).await?;
    let challenge = rows::<ChallengeRow>(&results[0])?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::BadRequest("This sign-in attempt expired. Please try again.".into())
        })?;
    results.remove(0);
    Ok((challenge, results))
}

pub fn start_session(req: &TenantRequest<'_>, user_id: &str) -> Result<(String, Statement, i64)> {
    let session_id = random::token();
    let lifetime = req.tenant.tenant.settings.session_lifetime_secs as i64;
    let statement = sessions::insert_statement(
        req.app.db()?,
        &req.tenant.tenant.id,
        &session_id,
        user_id,
        req.now,
        req.now + lifetime,
        req.incoming.client_ip().as_deref(),
        req.incoming.user_agent().as_deref(),
    )?;
    Ok((session_id, statement, lifetime))
}

fn redirect_json(req: &TenantRequest<'_>, to: &str, cookie: Option<String>) -> Response {
    let mut resp = json_response(200, &json!({ "redirect": to }));
    if let Some(c) = cookie {
        set_header(&mut resp, "Set-Cookie", &c);
    }
    let _ = req;
    resp
}

pub async fn login_finish(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: FinishBody = req.incoming.json().await?;
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    let assertion = passkey::parse_assertion(&body.credential)?;
    let credential_id = b64(&assertion.credential_id);
    let (challenge, results) = take_challenge(
        &req,
        &body.credential,
        vec![passkeys::find_statement(db, &tenant_id, &credential_id)?],
    )
    .await?;
    if challenge.purpose != "authenticate" {
        return Err(Error::BadRequest(
            "This sign-in attempt expired. Please try again.".into(),
        ));
    }
    let origin = req.incoming.audit_origin();
    let Some(stored) = rows::<PasskeyRow>(&results[0])?.into_iter().next() else {
        db.batch(vec![audit::insert_statement(
            db,
            &tenant_id,
            "sign_in_failed",
            None,
            None,
            &origin,
            &json!({ "reason": "unknown_credential" }),
            req.now,
        )?])
        .await?;
        return Err(Error::UnknownCredential);
    };
    if let Some(handle) = &assertion.user_handle {
        if handle.as_slice() != stored.user_id.as_bytes() {
            return Err(Error::Passkey(passkey::PasskeyError::CredentialMismatch));
        }
    }
    let public_key = b64_decode(&stored.public_key)?;
    let outcome = match passkey::verify_assertion(
        &relying_party(&req),
        &b64_decode(&challenge.challenge)?,
        &assertion,
        StoredPasskey {
            public_key_cose: &public_key,
            sign_count: stored.sign_count as u32,
        },
    ) {
        Ok(o) => o,
        Err(e) => {
            db.batch(vec![audit::insert_statement(
                db,
                &tenant_id,
                "sign_in_failed",
                Some(&stored.user_id),
                None,
                &origin,
                &json!({ "reason": e.to_string() }),
                req.now,
            )?])
            .await?;
            return Err(e.into());
        }
    };
    let (session_id, session_insert, lifetime) = start_session(&req, &stored.user_id)?;
    let session_hash = secret_hash(&session_id);
    let audit_entry = |event: &str, details: Value, when| {
        audit::insert_when_statement(
            db,
            &tenant_id,
            event,
            Some(&stored.user_id),
            None,
            &origin,
            &details,
            req.now,
            when,
        )
    };
    // One transaction: the session exists only for an enabled account, and the counter update
    // and the audit entry follow whichever way that went.
    let results = db
        .batch(vec![
            session_insert,
            passkeys::touch_statement(
                db,
                &tenant_id,
                &credential_id,
                outcome.sign_count as i64,
                outcome.backed_up,
                req.now,
                &session_hash,
            )?,
            audit_entry(
                "sign_in",
                json!({ "method": "passkey", "passkey": stored.name }),
                When::SessionCreated(&session_hash),
            )?,
            audit_entry(
                "sign_in_failed",
                json!({ "reason": "account_disabled" }),
                When::SessionRefused(&session_hash),
            )?,
        ])
        .await?;
    if changes(&results[0]) != 1 {
        return Err(Error::Forbidden("This account is disabled.".into()));
    }
    let cookie = session::set_cookie(&req, &session_id, lifetime);
    Ok(redirect_json(
        &req,
        &safe_next(body.next.as_deref(), &req.issuer),
        Some(cookie),
    ))
}

#[derive(Deserialize)]
struct RegisterStartBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    profile: Option<ProfileInput>,
}

fn clean(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Validates a new account's profile and prepares its sign-up ceremony.
async fn signup(
    req: &TenantRequest<'_>,
    token_hash: Option<String>,
    admin: bool,
    profile: &ProfileInput,
) -> Result<(String, Ceremony, UserEntity)> {
    let p = NewProfile::validate(profile)?;
    let db = req.app.db()?;
    if users::username_or_email_taken(db, &req.tenant.tenant.id, &p.username, Some(&p.email))
        .await?
    {
        return Err(Error::Conflict(
            "That username or email address is already in use.".into(),
        ));
    }
    let user_id = random::id();
    let user = UserEntity {
        id: user_id.as_bytes().to_vec(),
        name: p.username.clone(),
        display_name: p.display_name(),
    };
    let ceremony = Ceremony::Signup {
        token_hash,
        admin,
        username: p.username,
        email: p.email,
        first_name: p.first_name,
        last_name: p.last_name,
    };
    Ok((user_id, ceremony, user))
}

pub async fn register_start(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: RegisterStartBody = req.incoming.json().await?;
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    let rp = relying_party(&req);
    let token = body.token.filter(|t| !t.is_empty());
    let (user_id, ceremony, user) = match (token, body.profile) {
        (Some(token), profile) => {
            let link = ceremonies::peek_token(db, &tenant_id, &token, req.now)
                .await?
                .filter(|t| {
                    t.purpose == LinkPurpose::FirstAdmin.as_str()
                        || t.purpose == LinkPurpose::Invite.as_str()
                })
                .ok_or_else(|| {
                    Error::BadRequest("This link has expired or was already used.".into())
                })?;
            let admin = link.purpose == LinkPurpose::FirstAdmin.as_str();
            signup(
                &req,
                Some(secret_hash(&token)),
                admin,
                &profile.unwrap_or_default(),
            )
            .await?
        }
        (None, Some(profile)) => {
            if req.tenant.tenant.settings.signup_mode != SignupMode::Open {
                return Err(Error::Forbidden(
                    "Accounts here are created by invitation. Ask an administrator for a link."
                        .into(),
                ));
            }
            signup(&req, None, false, &profile).await?
        }
        (None, None) => {
            let current = session::require(&req).await?;
            let user = UserEntity {
                id: current.user.id.as_bytes().to_vec(),
                name: current.user.username.clone(),
                display_name: current.user.full_name(),
            };
            (current.user.id.clone(), Ceremony::AddPasskey, user)
        }
    };
    let existing: Vec<Vec<u8>> = passkeys::list_for_user(db, &tenant_id, &user_id)
        .await?
        .iter()
        .filter_map(|p| b64_decode(&p.credential_id).ok())
        .collect();
    let challenge = store_challenge(&req, "register", Some(&user_id), &ceremony).await?;
    let options = passkey::creation_options(&rp, &user, &challenge, &existing, TIMEOUT_MS);
    Ok(json_response(200, &json!({ "options": options })))
}

/// A default name for a new passkey, from the browser's user agent.
fn passkey_name(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    let platform = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Mac OS", "Mac"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Passkey", |(_, name)| name);
    format!("{platform} passkey")
}

pub async fn register_finish(mut req: TenantRequest<'_>) -> Result<Response> {
    let body: FinishBody = req.incoming.json().await?;
    // A name given is checked before the challenge is spent, so a bad one costs no ceremony.
    let given_name = clean(body.name.as_deref())
        .map(|n| -> Result<String> {
            crate::validation::plain_text("name", &n)?;
            Ok(n.chars().take(64).collect())
        })
        .transpose()?;
    let db = req.app.db()?;
    let tenant_id = req.tenant.tenant.id.clone();
    let (challenge, _) = take_challenge(&req, &body.credential, vec![]).await?;
    if challenge.purpose != "register" {
        return Err(Error::BadRequest(
            "This registration expired. Please try again.".into(),
        ));
    }
    let user_id = challenge
        .user_id
        .clone()
        .ok_or_else(|| Error::Internal("registration challenge without user".into()))?;
    let ceremony: Ceremony = serde_json::from_str(&challenge.context)
        .map_err(|e| Error::Internal(format!("stored ceremony: {e}")))?;
    let registered = passkey::verify_registration(
        &relying_party(&req),
        &b64_decode(&challenge.challenge)?,
        &body.credential,
    )?;
    let name = given_name.unwrap_or_else(|| passkey_name(req.incoming.user_agent().as_deref()));
    let credential_id = b64(&registered.credential_id);
    let public_key = b64(&registered.public_key_cose);
    let transports = serde_json::to_string(&registered.transports)?;
    let aaguid = b64(&registered.aaguid);
    let new_passkey = NewPasskey {
        credential_id: &credential_id,
        name: &name,
        public_key: &public_key,
        algorithm: registered.algorithm,
        sign_count: registered.sign_count as i64,
        backup_eligible: registered.backup_eligible,
        backup_state: registered.backed_up,
        transports: &transports,
        aaguid: &aaguid,
    };
    let origin = req.incoming.audit_origin();
    match ceremony {
        Ceremony::Signup {
            token_hash,
            admin,
            username,
            email,
            first_name,
            last_name,
        } => {
            let (session_id, session_insert, lifetime) = start_session(&req, &user_id)?;
            let account = NewSignup {
                id: &user_id,
                username: &username,
                email: &email,
                first_name: &first_name,
                last_name: last_name.as_deref(),
                is_admin: admin,
                link_hash: token_hash.as_deref(),
            };
            // Written only if the batch created the account (and so its session).
            let audit = audit::insert_when_statement(
                db,
                &tenant_id,
                "sign_up",
                Some(&user_id),
                None,
                &origin,
                &json!({ "admin": admin, "passkey": name }),
                req.now,
                When::SessionCreated(&secret_hash(&session_id)),
            )?;
            let outcome = users::sign_up(
                db,
                &tenant_id,
                &account,
                &new_passkey,
                session_insert,
                audit,
                req.now,
            )
            .await?;
            if outcome == SignUp::LinkSpent {
                return Err(Error::BadRequest(
                    "This link has expired or was already used.".into(),
                ));
            }
            let cookie = session::set_cookie(&req, &session_id, lifetime);
            Ok(redirect_json(&req, "/account?welcome=1", Some(cookie)))
        }
        Ceremony::AddPasskey => {
            let current = session::require(&req).await?;
            if current.user.id != user_id {
                return Err(Error::Forbidden(
                    "This registration belongs to another session.".into(),
                ));
            }
            db.batch(vec![
                passkeys::insert_statement(db, &tenant_id, &user_id, &new_passkey, req.now)?,
                audit::insert_statement(
                    db,
                    &tenant_id,
                    "passkey_added",
                    Some(&user_id),
                    None,
                    &origin,
                    &json!({ "passkey": name }),
                    req.now,
                )?,
            ])
            .await
            .map_err(unique_violation("This passkey is already registered."))?;
            Ok(redirect_json(&req, "/account", None))
        }
        Ceremony::Login => Err(Error::BadRequest("This registration expired.".into())),
    }
}
