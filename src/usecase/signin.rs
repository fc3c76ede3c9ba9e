//! Signing in: with a passkey (usernameless WebAuthn assertion), or once with a one-time login
//! link an admin sent (recovery when passkeys are lost). Both end in a new session.

use serde_json::{json, Value};

use super::ceremony::{self, b64, b64_decode, Ceremony, TIMEOUT_MS};
use super::sessions::{self, Started};
use super::Ctx;
use crate::error::{Error, Result};
use crate::passkey::{self, PasskeyError, StoredPasskey};
use crate::storage::audit::{self, When};
use crate::storage::ceremonies::{self, ChallengePurpose, LinkPurpose};
use crate::storage::sessions::PasskeyUse;

/// Starts a passkey sign-in: the options for `navigator.credentials.get()` (any discoverable
/// credential of this tenant's RP ID), with a fresh single-use challenge.
pub async fn start(ctx: &Ctx<'_>) -> Result<Value> {
    let challenge =
        ceremony::issue(ctx, ChallengePurpose::Authenticate, None, &Ceremony::Login).await?;
    Ok(passkey::request_options(
        &ceremony::relying_party(ctx)?,
        &challenge,
        &[],
        TIMEOUT_MS,
    ))
}

/// An audit entry about a sign-in of `user_id`, written under `when`.
fn entry(
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

/// Finishes a passkey sign-in with the browser's `AuthenticationResponseJSON`.
///
/// The challenge it echoes is taken (once) together with the passkey it names, in one round
/// trip; then the assertion is verified, and one transaction creates the session (only for an
/// enabled account), records the passkey's use and writes the audit entry of whichever way it
/// went. A refused sign-in is audited as `sign_in_failed` with its reason.
pub async fn finish(ctx: &Ctx<'_>, credential: &Value) -> Result<Started> {
    // Malformed responses are refused before anything is spent.
    let assertion = passkey::parse_assertion(credential)?;
    let echoed = passkey::client_data_challenge(credential)?;
    let credential_id = b64(&assertion.credential_id);
    let (challenge, stored) = ceremonies::take_challenge_for_passkey(
        ctx.db,
        ctx.tenant_id(),
        &b64(&echoed),
        &credential_id,
        ctx.now,
    )
    .await?;
    let challenge = challenge
        .filter(|c| c.purpose == ChallengePurpose::Authenticate)
        .ok_or_else(|| ceremony::expired(ChallengePurpose::Authenticate))?;
    let Some(stored) = stored else {
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
        &b64_decode(&challenge.challenge)?,
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
    let session = sessions::new_session(ctx, &stored.user_id);
    let hash = session.id_hash();
    let created = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        &session,
        Some(PasskeyUse {
            credential_id: &credential_id,
            sign_count: i64::from(outcome.sign_count),
            backed_up: outcome.backed_up,
        }),
        vec![
            entry(
                ctx,
                "sign_in",
                Some(&stored.user_id),
                json!({ "method": "passkey", "passkey": stored.name }),
                When::SessionCreated(&hash),
            )?,
            entry(
                ctx,
                "sign_in_failed",
                Some(&stored.user_id),
                json!({ "reason": "account_disabled" }),
                When::SessionRefused(&hash),
            )?,
        ],
    )
    .await?;
    if !created {
        return Err(Error::Forbidden("This account is disabled.".into()));
    }
    Ok(sessions::started(ctx, session))
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

/// Signs in with a one-time login link, consuming it: of concurrent uses exactly one wins.
/// Refused when the link is unknown, expired, used, or its account disabled.
pub async fn with_login_link(ctx: &Ctx<'_>, token: &str) -> Result<Started> {
    let user_id = ceremonies::consume_login_link(ctx.db, ctx.tenant_id(), token, ctx.now)
        .await?
        .ok_or_else(|| {
            Error::BadRequest("This sign-in link has expired or was already used.".into())
        })?;
    let session = sessions::new_session(ctx, &user_id);
    let hash = session.id_hash();
    let created = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        &session,
        None,
        vec![entry(
            ctx,
            "sign_in",
            Some(&user_id),
            json!({ "method": "one_time_link" }),
            When::SessionCreated(&hash),
        )?],
    )
    .await?;
    if !created {
        return Err(Error::Forbidden("This account is disabled.".into()));
    }
    Ok(sessions::started(ctx, session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
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
            },
        )
        .await
        .unwrap();
        let response = authenticator.register(c.issuer, options).await;
        let Finished::SignedUp(started) = signup::finish(c, &response, None, None).await.unwrap()
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
        let options = start(c).await.unwrap();
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
            let started = finish(&later, &response).await.unwrap();
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
            let replay = finish(&later, &response).await;
            assert!(
                matches!(&replay, Err(Error::BadRequest(m)) if m.contains("expired")),
                "{replay:?}"
            );
            // A response to an expired challenge.
            let response = assertion(&later, &mut phone).await;
            let too_late = ctx(&db, &snap, NOW + 60 + ceremony::CHALLENGE_TTL_SECS);
            assert!(matches!(
                finish(&too_late, &response).await,
                Err(Error::BadRequest(_))
            ));
            assert_eq!(testing::count_rows(&db, "sessions", c.tenant_id()).await, 2);
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
            let refused = finish(&later, &response).await;
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
            let refused = finish(&c, &response).await;
            assert!(matches!(refused, Err(Error::Passkey(_))), "{refused:?}");

            // A response claiming another user's handle for this credential.
            let mut response = assertion(&c, &mut phone).await;
            response["response"]["userHandle"] = Value::String(b64(b"user-mallory"));
            let mismatch = finish(&c, &response).await;
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
                finish(&b, &response).await,
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
                finish(&c, &response).await,
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
            assert!(finish(&c, &serde_json::json!({ "type": "public-key" }))
                .await
                .is_err());
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
            let started = with_login_link(&c, &token).await.unwrap();
            let session = super::sessions::current(&c, Some(&started.id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(session.user.id, ada);
            let again = with_login_link(&c, &token).await;
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
            assert!(with_login_link(&after, &late).await.is_err());
            let invite = link(&db, &tid, LinkPurpose::Invite, None).await;
            assert!(!login_link_works(&c, &invite).await.unwrap());
            assert!(with_login_link(&c, &invite).await.is_err());
            let beta = tenant(&db, "beta").await;
            let beta_snap = snapshot(&beta);
            let b = ctx(&db, &beta_snap, NOW);
            assert!(with_login_link(&b, &late).await.is_err());
            testing::set_disabled(&db, &ada, true).await;
            assert!(with_login_link(&c, &late).await.is_err());
            testing::set_disabled(&db, &ada, false).await;
            with_login_link(&c, &late).await.expect("still usable");
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
                        run(async { with_login_link(&ctx(&db, snap, NOW), token).await.is_ok() })
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
