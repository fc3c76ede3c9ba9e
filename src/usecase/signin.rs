//! Signing in: with a passkey (usernameless WebAuthn assertion), or once with a one-time login
//! link an admin sent (recovery when passkeys are lost). Both end in a new session.

use serde_json::{json, Value};

use super::authorize::{self, Browser};
use super::ceremony::{self, b64, b64_decode, Ceremony, ChallengePurpose, TIMEOUT_MS};
use super::email::Post;
use super::sessions::{self, Started};
use super::Ctx;
use crate::error::{Error, Result};
use crate::oidc::amr::SignInMethod;
use crate::oidc::response::AuthorizationResponse;
use crate::passkey::{self, PasskeyError, StoredPasskey};
use crate::storage::audit::{self, When};
use crate::storage::ceremonies::{self, LinkPurpose};
use crate::storage::passkeys::{self, Refusal};
use crate::storage::sessions::{PasskeyUse, Proof, SignIn};
use crate::storage::spent;

/// Starts a passkey sign-in in this browser: the options for `navigator.credentials.get()`
/// (any discoverable credential of this tenant's RP ID), with a sealed single-use challenge.
/// Nothing is stored.
pub fn start(ctx: &Ctx<'_>, browser: &str) -> Result<Value> {
    let challenge = ceremony::issue(ctx, browser, &Ceremony::Login);
    Ok(passkey::request_options(
        &ceremony::relying_party(ctx)?,
        &challenge,
        &[],
        TIMEOUT_MS,
    ))
}

/// An audit entry about a sign-in of `user_id`, written under `when`.
pub(super) fn entry(
    ctx: &Ctx<'_>,
    event: &str,
    user_id: Option<&str>,
    details: Value,
    when: When<'_>,
) -> Result<crate::storage::db::Statement> {
    audit::insert_when_statement(
        ctx.db,
        ctx.tenant_id(),
        event,
        user_id,
        None,
        &ctx.origin,
        &details,
        ctx.now,
        when,
    )
}

/// A finished passkey sign-in: the session, and the code for the client whose authorization
/// request waited for it, when its batch could issue one.
#[derive(Debug)]
pub struct SignedIn {
    pub started: Started,
    pub code: Option<AuthorizationResponse>,
}

/// Finishes a passkey sign-in with the browser's `AuthenticationResponseJSON`; `waiting` is
/// the sealed authorization request the sign-in page was opened for, if any.
///
/// Two round trips: the passkey the response names is read; the assertion is verified against
/// it and the challenge it echoes (sealed, so no read); then one transaction spends the
/// challenge (a replay fails it whole), creates the session (only for an enabled account),
/// records the passkey's use, writes the audit entry of whichever way it went and, when the
/// waiting request needs nothing more, issues its code. A refused sign-in is audited as
/// `sign_in_failed` with its reason.
pub async fn finish(
    ctx: &Ctx<'_>,
    post: &Post,
    credential: &Value,
    browser: Browser<'_>,
    waiting: Option<&str>,
) -> Result<SignedIn> {
    // Malformed responses are refused before anything is read.
    let assertion = passkey::parse_assertion(credential)?;
    let echoed = passkey::client_data_challenge(credential)?;
    let challenge = ceremony::open(ctx, browser.id, &echoed, ChallengePurpose::Authenticate)?;
    let credential_id = b64(&assertion.credential_id);
    let Some(stored) = find_passkey(ctx, &credential_id).await? else {
        let refused = entry(
            ctx,
            "sign_in_failed",
            None,
            json!({ "reason": "unknown_credential" }),
            When::Always,
        )?;
        audit::record(ctx.db, refused).await?;
        return Err(Error::UnknownCredential);
    };
    if let Some(handle) = &assertion.user_handle {
        if handle.as_slice() != stored.user_id.as_bytes() {
            return Err(PasskeyError::CredentialMismatch.into());
        }
    }
    let public_key = b64_decode(&stored.public_key)?;
    let checked = passkey::check_assertion(
        &ceremony::relying_party(ctx)?,
        &challenge.challenge,
        &assertion,
        StoredPasskey {
            public_key_cose: &public_key,
            sign_count: u32::try_from(stored.sign_count).unwrap_or(u32::MAX),
        },
    );
    let verified = match checked {
        Ok(checked) => {
            let valid = ctx.verifier.verify(checked.signature()).await?;
            checked.conclude(valid)
        }
        Err(e) => Err(e),
    };
    let outcome = match verified {
        Ok(o) => o,
        Err(e) => {
            let refused = entry(
                ctx,
                "sign_in_failed",
                Some(&stored.user_id),
                json!({ "reason": e.to_string() }),
                When::Always,
            )?;
            audit::record(ctx.db, refused).await?;
            return Err(e.into());
        }
    };
    let waiting_code = match waiting {
        Some(sealed) => authorize::code_on_sign_in(ctx, sealed, browser, &stored.user_id).await?,
        None => None,
    };
    let method = SignInMethod::Passkey {
        synced: outcome.backed_up,
    };
    let session = sessions::new_session(ctx, &stored.user_id, method).in_browser(browser.id);
    let hash = session.id_hash();
    let used = PasskeyUse {
        credential_id: &credential_id,
        public_key: &stored.public_key,
        sign_count: i64::from(outcome.sign_count),
        backed_up: outcome.backed_up,
    };
    let signed_in = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        SignIn {
            session: &session,
            proof: Proof::Passkey(used),
            recorded: vec![entry(
                ctx,
                "sign_in",
                Some(&stored.user_id),
                json!({ "method": "passkey", "passkey": stored.name }),
                When::SessionCreated(&hash),
            )?],
            challenge: Some(challenge.spend()),
            code: waiting_code
                .as_ref()
                .map(|w| w.new_code(ctx, &stored.user_id, &hash))
                .transpose()?,
        },
    )
    .await
    .map_err(spent::refuse_replay(|| {
        ceremony::expired(ChallengePurpose::Authenticate)
    }))?;
    if !signed_in.created {
        return Err(refused(ctx, &stored.user_id, &used).await);
    }
    Ok(SignedIn {
        started: sessions::signed_in(ctx, post, session, &signed_in).await?,
        code: waiting_code
            .filter(|_| signed_in.code_issued)
            .map(|w| w.response(ctx.issuer)),
    })
}

/// The passkey a response names, read from a replica (a miss is asked again on the primary: a
/// passkey added a moment ago may not have replicated). What was read is re-checked on the
/// primary by the sign-in batch itself.
async fn find_passkey(
    ctx: &Ctx<'_>,
    credential_id: &str,
) -> Result<Option<crate::storage::passkeys::PasskeyRow>> {
    ctx.read_fresh(
        |db| async move { passkeys::find(&db, ctx.tenant_id(), credential_id).await },
        Option::is_some,
    )
    .await
}

/// A sign-in the primary refused: why (read only on this rare path), audited as
/// `sign_in_failed`, as the error the person sees.
async fn refused(ctx: &Ctx<'_>, user_id: &str, used: &PasskeyUse<'_>) -> Error {
    let why = match passkeys::refusal(ctx.db, ctx.tenant_id(), user_id, used).await {
        Ok(why) => why,
        Err(e) => return e,
    };
    let (reason, error) = match why {
        Refusal::AccountDisabled => (
            "account_disabled",
            Error::Forbidden("This account is disabled.".into()),
        ),
        Refusal::PasskeyGone => ("unknown_credential", Error::UnknownCredential),
        Refusal::CounterRegression => {
            ("counter_regression", PasskeyError::CounterRegression.into())
        }
        Refusal::Changed => (
            "changed_meanwhile",
            ceremony::expired(ChallengePurpose::Authenticate),
        ),
    };
    let recorded = entry(
        ctx,
        "sign_in_failed",
        Some(user_id),
        json!({ "reason": reason }),
        When::Always,
    )
    .map(|statement| audit::record(ctx.db, statement));
    match recorded {
        Ok(write) => write.await.err().unwrap_or(error),
        Err(e) => e,
    }
}

/// Whether `token` is a one-time login link of this tenant that still works (the page with
/// the button; only the POST consumes it, so mail scanners that fetch links do not burn it).
pub async fn login_link_works(ctx: &Ctx<'_>, token: &str) -> Result<bool> {
    Ok(
        ceremonies::peek_token(ctx.db, ctx.tenant_id(), token, ctx.now)
            .await?
            .is_some_and(|l| l.purpose == LinkPurpose::Login.as_str()),
    )
}

/// Signs in with a one-time login link in the browser `browser_id`, consuming it: of
/// concurrent uses exactly one wins. Refused when the link is unknown, expired, used, or its
/// account disabled.
pub async fn with_login_link(
    ctx: &Ctx<'_>,
    post: &Post,
    token: &str,
    browser_id: &str,
) -> Result<Started> {
    let user_id = ceremonies::consume_login_link(ctx.db, ctx.tenant_id(), token, ctx.now)
        .await?
        .ok_or_else(|| {
            Error::BadRequest("This sign-in link has expired or was already used.".into())
        })?;
    let session =
        sessions::new_session(ctx, &user_id, SignInMethod::OneTimeLink).in_browser(browser_id);
    let hash = session.id_hash();
    let signed_in = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        SignIn {
            recorded: vec![entry(
                ctx,
                "sign_in",
                Some(&user_id),
                json!({ "method": "one_time_link" }),
                When::SessionCreated(&hash),
            )?],
            ..SignIn::plain(&session)
        },
    )
    .await?;
    if !signed_in.created {
        return Err(Error::Forbidden("This account is disabled.".into()));
    }
    sessions::signed_in(ctx, post, session, &signed_in).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::BROWSER;
    use crate::testing::{self, db, run, tenant, user, NOW};
    use crate::testing::{ctx, link, profile, snapshot, SoftAuthenticator};
    use crate::usecase::signup::{self, Finished, StartInput};

    /// An account signed up through an invitation with its own authenticator; returns the
    /// user id.
    async fn signed_up(
        c: &Ctx<'_>,
        username: &str,
        authenticator: &mut SoftAuthenticator,
    ) -> String {
        let token = link(c.db, c.tenant_id(), LinkPurpose::Invite, None).await;
        let p = profile(username);
        let options = signup::start(
            c,
            StartInput {
                token: Some(&token),
                profile: Some(&p),
                session: None,
                browser: BROWSER,
            },
        )
        .await
        .unwrap();
        let response = authenticator.register(c.issuer, options).await;
        let Finished::SignedUp(started) = signup::finish(c, &response, None, None, BROWSER)
            .await
            .unwrap()
        else {
            panic!("not a sign-up");
        };
        super::sessions::current(c, Some(&started.id))
            .await
            .unwrap()
            .unwrap()
            .user
            .id
    }

    /// A sign-in response of `authenticator` to a fresh challenge.
    async fn assertion(c: &Ctx<'_>, authenticator: &mut SoftAuthenticator) -> Value {
        let options = start(c, BROWSER).unwrap();
        authenticator.sign_in(c.issuer, options).await
    }

    fn events(
        entries: &[(String, Option<String>, Value)],
        event: &str,
    ) -> Vec<(Option<String>, Value)> {
        entries
            .iter()
            .filter(|(e, ..)| e == event)
            .map(|(_, u, d)| (u.clone(), d.clone()))
            .collect()
    }

    /// Finishes a sign-in in the test's browser, with no authorization request waiting.
    async fn sign_in(c: &Ctx<'_>, response: &Value) -> Result<Started> {
        let browser = Browser {
            session: None,
            id: BROWSER,
        };
        finish(
            c,
            &crate::testing::mail::unused_post(),
            response,
            browser,
            None,
        )
        .await
        .map(|s| {
            assert!(s.code.is_none());
            s.started
        })
    }

    async fn acme() -> (Db, TenantSnapshot) {
        let db = db();
        let t = tenant(&db, "acme").await;
        let snap = snapshot(&t);
        (db, snap)
    }

    #[test]
    fn a_passkey_signs_in_once_per_challenge_and_records_its_use() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let mut phone = SoftAuthenticator::new();
            let ada = signed_up(&c, "ada", &mut phone).await;
            let key = passkeys_of(&db, &c, &ada).await;
            assert_eq!(testing::passkey_use(&db, &key).await.2, None, "never used");

            let later = ctx(&db, &snap, NOW + 60);
            let response = assertion(&later, &mut phone).await;
            let started = sign_in(&later, &response).await.unwrap();
            let session = super::sessions::current(&later, Some(&started.id))
                .await
                .unwrap()
                .expect("signed in");
            assert_eq!(session.user.id, ada);
            assert_eq!(session.auth_time, NOW + 60);
            let (count, _backed_up, last_used) = testing::passkey_use(&db, &key).await;
            assert_eq!(last_used, Some(NOW + 60), "the passkey's use is recorded");
            assert_eq!(count, 0, "this authenticator keeps no counter");
            let entries = testing::audit_events(&db, c.tenant_id()).await;
            let sign_ins = events(&entries, "sign_in");
            assert_eq!(sign_ins.len(), 1);
            assert_eq!(sign_ins[0].0.as_deref(), Some(ada.as_str()));
            assert_eq!(sign_ins[0].1["method"], "passkey");

            // The same response again: its challenge is gone.
            let replay = sign_in(&later, &response).await;
            assert!(
                matches!(&replay, Err(Error::BadRequest(m)) if m.contains("expired")),
                "{replay:?}"
            );
            // A response to an expired challenge.
            let response = assertion(&later, &mut phone).await;
            let too_late = ctx(&db, &snap, NOW + 60 + ceremony::CHALLENGE_TTL_SECS);
            assert!(matches!(
                sign_in(&too_late, &response).await,
                Err(Error::BadRequest(_))
            ));
            assert_eq!(testing::count_rows(&db, "sessions", c.tenant_id()).await, 2);
        });
    }

    /// A passkey sign-in of `authenticator` in the browser `browser` (a 43-character id).
    async fn sign_in_from(
        c: &Ctx<'_>,
        authenticator: &mut SoftAuthenticator,
        browser: &str,
    ) -> Started {
        let options = start(c, browser).unwrap();
        let response = authenticator.sign_in(c.issuer, options).await;
        let browser = Browser {
            session: None,
            id: browser,
        };
        finish(c, &testing::mail::unused_post(), &response, browser, None)
            .await
            .unwrap()
            .started
    }

    #[test]
    fn a_passkey_sign_in_from_a_new_browser_brings_the_notice_the_person_asked_for() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let mut phone = SoftAuthenticator::new();
            signed_up(&c, "ada", &mut phone).await;
            let (laptop, tablet) = (format!("{:-<43}", "laptop"), format!("{:-<43}", "tablet"));
            let first = sign_in_from(&c, &mut phone, &laptop).await;
            assert_eq!(first.notice, None, "not asked for");
            let session = super::sessions::current(&c, Some(&first.id))
                .await
                .unwrap()
                .unwrap();
            let post = testing::mail::unused_post();
            crate::usecase::sign_in_notice::set(&c, &post, &session, true, Some(&laptop))
                .await
                .unwrap();
            assert_eq!(sign_in_from(&c, &mut phone, &laptop).await.notice, None);
            let notice = sign_in_from(&c, &mut phone, &tablet)
                .await
                .notice
                .expect("the tablet is new");
            let parsed = mail_parser::MessageParser::default()
                .parse(&notice.message)
                .unwrap();
            let text = parsed.body_text(0).unwrap();
            assert!(text.contains("with a passkey"), "{text}");
            assert_eq!(sign_in_from(&c, &mut phone, &tablet).await.notice, None);
        });
    }

    async fn passkeys_of(db: &Db, c: &Ctx<'_>, user_id: &str) -> String {
        crate::storage::passkeys::list_for_user(db, c.tenant_id(), user_id)
            .await
            .unwrap()
            .remove(0)
            .credential_id
    }

    #[test]
    fn a_disabled_account_is_refused_and_nothing_but_the_refusal_is_written() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let mut phone = SoftAuthenticator::new();
            let dora = signed_up(&c, "dora", &mut phone).await;
            let key = passkeys_of(&db, &c, &dora).await;
            testing::set_disabled(&db, &dora, true).await;
            let sessions_before = testing::count_rows(&db, "sessions", c.tenant_id()).await;
            let later = ctx(&db, &snap, NOW + 60);
            let response = assertion(&later, &mut phone).await;
            let refused = sign_in(&later, &response).await;
            assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
            assert_eq!(
                testing::count_rows(&db, "sessions", c.tenant_id()).await,
                sessions_before
            );
            assert_eq!(testing::passkey_use(&db, &key).await.2, None, "untouched");
            let entries = testing::audit_events(&db, c.tenant_id()).await;
            assert!(events(&entries, "sign_in").is_empty());
            let failures = events(&entries, "sign_in_failed");
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].0.as_deref(), Some(dora.as_str()));
            assert_eq!(failures[0].1["reason"], "account_disabled");
        });
    }

    #[test]
    fn unknown_or_tampered_responses_are_refused_and_audited() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let mut phone = SoftAuthenticator::new();
            let ada = signed_up(&c, "ada", &mut phone).await;

            // A tampered signature.
            let mut response = assertion(&c, &mut phone).await;
            let sig = response["response"]["signature"]
                .as_str()
                .unwrap()
                .to_string();
            let mut bytes = b64_decode(&sig).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            response["response"]["signature"] = Value::String(b64(&bytes));
            let refused = sign_in(&c, &response).await;
            assert!(matches!(refused, Err(Error::Passkey(_))), "{refused:?}");

            // A response claiming another user's handle for this credential.
            let mut response = assertion(&c, &mut phone).await;
            response["response"]["userHandle"] = Value::String(b64(b"user-mallory"));
            let mismatch = sign_in(&c, &response).await;
            assert!(
                matches!(
                    mismatch,
                    Err(Error::Passkey(PasskeyError::CredentialMismatch))
                ),
                "{mismatch:?}"
            );

            // A passkey another tenant knows nothing of.
            let beta = tenant(&db, "beta").await;
            let beta_snap = snapshot(&beta);
            let mut b = ctx(&db, &beta_snap, NOW);
            b.issuer = c.issuer; // even from the same origin
            let response = assertion(&b, &mut phone).await;
            assert!(matches!(
                sign_in(&b, &response).await,
                Err(Error::UnknownCredential)
            ));
            let beta_failures = events(
                &testing::audit_events(&db, &beta.id).await,
                "sign_in_failed",
            );
            assert_eq!(beta_failures.len(), 1);
            assert_eq!(beta_failures[0].1["reason"], "unknown_credential");

            // A passkey deleted since.
            let key = passkeys_of(&db, &c, &ada).await;
            crate::storage::passkeys::delete(&db, c.tenant_id(), &ada, &key, None)
                .await
                .unwrap();
            let response = assertion(&c, &mut phone).await;
            assert!(matches!(
                sign_in(&c, &response).await,
                Err(Error::UnknownCredential)
            ));

            let failures = events(
                &testing::audit_events(&db, c.tenant_id()).await,
                "sign_in_failed",
            );
            assert_eq!(failures.len(), 2);
            assert_eq!(failures[0].0.as_deref(), Some(ada.as_str()));
            assert_eq!(
                failures[0].1["reason"],
                PasskeyError::BadSignature.to_string()
            );
            assert_eq!(failures[1].1["reason"], "unknown_credential");
            // A malformed response spends nothing and writes nothing.
            assert!(sign_in(&c, &serde_json::json!({ "type": "public-key" }))
                .await
                .is_err());
        });
    }

    fn code_of(response: &AuthorizationResponse) -> Option<&str> {
        response
            .params
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_sign_in_for_a_waiting_client_issues_its_code_in_one_round_trip_to_the_primary() {
        use crate::usecase::authorize::{self, Outcome};
        let (db, dir) = testing::replicated_db("waiting");
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let mut phone = SoftAuthenticator::new();
            let ada = signed_up(&c, "ada", &mut phone).await;
            let app = testing::client(
                &db,
                &t.id,
                &testing::client_input("app"),
                Some(crate::testing::oidc::SECRET),
            )
            .await;
            let anonymous = Browser {
                session: None,
                id: BROWSER,
            };
            let pairs = crate::testing::oidc::authorize_params(&app, &[("state", "s1")]);

            let before = db.round_trips();
            let Outcome::Login { interaction } =
                authorize::authorize(&c, &pairs, anonymous).await.unwrap()
            else {
                panic!("sign in first");
            };
            assert_eq!(
                db.round_trips(),
                before,
                "parking reads a replica, writes nothing"
            );
            let options = start(&c, BROWSER).unwrap();
            assert_eq!(
                db.round_trips(),
                before,
                "a challenge is sealed, not stored"
            );
            let response = phone.sign_in(c.issuer, options).await;
            let signed_in = finish(
                &c,
                &crate::testing::mail::unused_post(),
                &response,
                anonymous,
                Some(&interaction),
            )
            .await
            .unwrap();
            assert_eq!(
                db.round_trips() - before,
                1,
                "the passkey read from the replica, one batch for the session and the code"
            );
            assert!(db.replica_round_trips() > 0);
            let code = signed_in.code.expect("the code, issued with the sign-in");
            assert!(code_of(&code).is_some());
            assert!(code.redirect_url().starts_with(&app.redirect_uris[0]));
            assert!(code.redirect_url().contains("state=s1"));
            let session = super::sessions::current(&c, Some(&signed_in.started.id))
                .await
                .unwrap()
                .expect("signed in");
            assert_eq!(session.user.id, ada);
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.id).await,
                1
            );
            // The request concluded: resuming it, or signing in for it again, issues nothing.
            let signed_browser = Browser {
                session: Some(&signed_in.started.id),
                id: BROWSER,
            };
            assert!(matches!(
                authorize::resume(&c, &interaction, signed_browser)
                    .await
                    .unwrap(),
                Outcome::Expired
            ));
            let again = phone.sign_in(c.issuer, start(&c, BROWSER).unwrap()).await;
            let second = finish(
                &c,
                &crate::testing::mail::unused_post(),
                &again,
                anonymous,
                Some(&interaction),
            )
            .await
            .unwrap();
            assert!(second.code.is_none(), "a request concludes once");
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.id).await,
                1
            );
            // Another browser's sealed request is not this browser's to conclude.
            let elsewhere = Browser {
                session: None,
                id: "another-browser",
            };
            let Outcome::Login {
                interaction: theirs,
            } = authorize::authorize(&c, &pairs, elsewhere).await.unwrap()
            else {
                panic!("sign in first");
            };
            let mine = phone.sign_in(c.issuer, start(&c, BROWSER).unwrap()).await;
            let signed = finish(
                &c,
                &crate::testing::mail::unused_post(),
                &mine,
                anonymous,
                Some(&theirs),
            )
            .await
            .unwrap();
            assert!(signed.code.is_none());
        });
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_waiting_client_that_needs_more_than_a_sign_in_resumes_instead() {
        use crate::usecase::authorize::{self, Outcome};
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let mut phone = SoftAuthenticator::new();
            signed_up(&c, "ada", &mut phone).await;
            let anonymous = Browser {
                session: None,
                id: BROWSER,
            };
            let mut consenting = testing::client_input("consenting");
            consenting.require_consent = true;
            let consenting =
                testing::client(&db, &t.id, &consenting, Some(crate::testing::oidc::SECRET)).await;
            testing::group(&db, &t.id, "staff", &[]).await;
            let mut staff_only = testing::client_input("staff");
            staff_only.allowed_user_groups = vec!["staff".into()];
            let staff_only =
                testing::client(&db, &t.id, &staff_only, Some(crate::testing::oidc::SECRET)).await;
            for (client, then) in [(&consenting, "consent"), (&staff_only, "no access")] {
                let pairs = crate::testing::oidc::authorize_params(client, &[]);
                let Outcome::Login { interaction } =
                    authorize::authorize(&c, &pairs, anonymous).await.unwrap()
                else {
                    panic!("sign in first");
                };
                let response = phone.sign_in(c.issuer, start(&c, BROWSER).unwrap()).await;
                let signed_in = finish(
                    &c,
                    &crate::testing::mail::unused_post(),
                    &response,
                    anonymous,
                    Some(&interaction),
                )
                .await
                .unwrap();
                assert!(signed_in.code.is_none(), "{then}: no code with the sign-in");
                let browser = Browser {
                    session: Some(&signed_in.started.id),
                    id: BROWSER,
                };
                let resumed = authorize::resume(&c, &interaction, browser).await.unwrap();
                match then {
                    "consent" => assert!(matches!(resumed, Outcome::Consent(_)), "{resumed:?}"),
                    _ => assert!(matches!(resumed, Outcome::NoAccess { .. }), "{resumed:?}"),
                }
            }
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.id).await,
                0
            );
        });
    }

    #[test]
    fn a_login_link_signs_in_once() {
        run(async {
            let (db, snap) = acme().await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            let token = link(&db, &tid, LinkPurpose::Login, Some(&ada)).await;
            assert!(login_link_works(&c, &token).await.unwrap());
            let started = with_login_link(&c, &crate::testing::mail::unused_post(), &token, "")
                .await
                .unwrap();
            let session = super::sessions::current(&c, Some(&started.id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(session.user.id, ada);
            let again = with_login_link(&c, &crate::testing::mail::unused_post(), &token, "").await;
            assert!(matches!(again, Err(Error::BadRequest(_))), "{again:?}");
            assert!(!login_link_works(&c, &token).await.unwrap());
            let sign_ins = events(&testing::audit_events(&db, &tid).await, "sign_in");
            assert_eq!(sign_ins.len(), 1);
            assert_eq!(sign_ins[0].1["method"], "one_time_link");

            // Expired, of another kind, of another tenant, or of a disabled account: refused,
            // and the disabled account's link is not spent by trying.
            let late = link(&db, &tid, LinkPurpose::Login, Some(&ada)).await;
            let after = ctx(&db, &snap, NOW + 3600);
            assert!(!login_link_works(&after, &late).await.unwrap());
            assert!(
                with_login_link(&after, &crate::testing::mail::unused_post(), &late, "")
                    .await
                    .is_err()
            );
            let invite = link(&db, &tid, LinkPurpose::Invite, None).await;
            assert!(!login_link_works(&c, &invite).await.unwrap());
            assert!(
                with_login_link(&c, &crate::testing::mail::unused_post(), &invite, "")
                    .await
                    .is_err()
            );
            let beta = tenant(&db, "beta").await;
            let beta_snap = snapshot(&beta);
            let b = ctx(&db, &beta_snap, NOW);
            assert!(
                with_login_link(&b, &crate::testing::mail::unused_post(), &late, "")
                    .await
                    .is_err()
            );
            testing::set_disabled(&db, &ada, true).await;
            assert!(
                with_login_link(&c, &crate::testing::mail::unused_post(), &late, "")
                    .await
                    .is_err()
            );
            testing::set_disabled(&db, &ada, false).await;
            with_login_link(&c, &crate::testing::mail::unused_post(), &late, "")
                .await
                .expect("still usable");
        });
    }

    #[test]
    fn concurrent_uses_of_one_login_link_sign_in_exactly_once() {
        let dir = std::env::temp_dir().join(format!("eid-link-{}", crate::crypto::random::token()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d1.sqlite");
        let open =
            |create| Db::new(crate::storage::backend::sqlite::Sqlite::open(&path, create).unwrap());
        let setup = open(true);
        let (snap, token) = run(async {
            let t = tenant(&setup, "acme").await;
            let ada = user(&setup, &t.id, "ada", false).await;
            let token = link(&setup, &t.id, LinkPurpose::Login, Some(&ada)).await;
            (snapshot(&t), token)
        });
        let threads = 4;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
        let wins = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (snap, token, barrier, open) = (&snap, &token, barrier.clone(), &open);
                    scope.spawn(move || {
                        let db = open(false);
                        barrier.wait();
                        run(async {
                            with_login_link(
                                &ctx(&db, snap, NOW),
                                &crate::testing::mail::unused_post(),
                                token,
                                "",
                            )
                            .await
                            .is_ok()
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|won| *won)
                .count()
        });
        assert_eq!(wins, 1);
        let sessions = run(testing::count_rows(&setup, "sessions", &snap.tenant.id));
        assert_eq!(sessions, 1);
        drop(setup);
        std::fs::remove_dir_all(&dir).ok();
    }
}
