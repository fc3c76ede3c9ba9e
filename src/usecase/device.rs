//! The device authorization grant's use cases (RFC 8628): a device starts an authorization
//! (`/api/oidc/device/authorize`), a signed-in person enters its user code at `/device` and
//! approves or denies, and the device polls the token endpoint until it gets tokens.
//!
//! Round trips to the primary: starting is one batch (two on the rare user code collision); a
//! poll is one batch; entering a code and deciding are one batch each after the session read.
//!
//! Guessing user codes: a code is 8 of 20 letters (about 34.6 bits) and lives 10 minutes; a
//! person must be signed in to try one, each signed-in account may enter
//! [`MAX_WRONG_USER_CODES`] wrong codes per [`WRONG_CODE_WINDOW`] (counted in the database,
//! so it holds across browsers and Worker instances), and the `/device` routes count against
//! the sign-in rate limit per IP.

use super::token::{respond, Issued, Minted};
use super::{client_auth, Ctx, Signer};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result, StorageFailure};
use crate::oidc::client::ClientCredentials;
use crate::oidc::device::{
    self, judge_poll, DeviceAuthorizationResponse, PollAnswer, PollRefusal, DEVICE_CODE_TTL,
    MAX_WRONG_USER_CODES, POLL_INTERVAL, SLOW_DOWN_STEP, WRONG_CODE_WINDOW,
};
use crate::oidc::error::OAuthError;
use crate::oidc::scope::ScopeSet;
use crate::oidc::token::{TokenResponse, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL};
use crate::storage::device::{
    self as store, CodeEntry, DeviceDecision, NewDeviceAuthorization, PendingDevice, PersonCode,
    Poll,
};
use crate::storage::sessions::SessionWithUser;

/// How many user codes to draw when one collides with a stored code.
const USER_CODE_ATTEMPTS: usize = 3;

/// `POST /api/oidc/device/authorize` (RFC 8628 §3.1-3.2) for the authenticated client.
pub async fn start(
    ctx: &Ctx<'_>,
    creds: &ClientCredentials,
    scope: Option<&str>,
) -> Result<DeviceAuthorizationResponse> {
    let scope = ScopeSet::for_authorization(scope)?;
    // A client assertion is verified first and spent in the batch (a replay fails it).
    let verified = client_auth::verify_assertion(ctx, creds).await?;
    let creds = &verified;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let device_code = random::token();
        let user_code = device::new_user_code(random::bytes::<32>);
        let canonical = device::normalize_user_code(&user_code)
            .ok_or_else(|| Error::Internal("a drawn user code does not normalise".into()))?;
        let started = store::start(
            ctx.db,
            &NewDeviceAuthorization {
                tenant_id: ctx.tenant_id(),
                credentials: creds,
                device_code_hash: secret_hash(&device_code),
                user_code_hash: secret_hash(&canonical),
                scope: scope.to_string(),
                interval_secs: POLL_INTERVAL,
                now: ctx.now,
                expires_at: ctx.now + DEVICE_CODE_TTL,
                origin: &ctx.origin,
            },
        )
        .await;
        match started {
            Err(e) if crate::storage::spent::replayed(&e) => {
                return Err(client_auth::replayed_assertion())
            }
            Err(Error::Storage(e))
                if e.kind == StorageFailure::Unique && attempts < USER_CODE_ATTEMPTS =>
            {
                continue
            }
            Err(e) => return Err(e),
            Ok(started) => {
                // The same rule the batch's SQL was generated from: a refused client created
                // nothing.
                client_auth::judge(creds, started.client, ctx.now)?;
                if !started.created {
                    return Err(Error::Internal(
                        "the device authorization batch disagreed with client authentication"
                            .into(),
                    ));
                }
                return Ok(DeviceAuthorizationResponse::new(
                    ctx.issuer,
                    device_code,
                    user_code,
                ));
            }
        }
    }
}

/// What the person's typed user code leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Not the shape of a user code (not counted as a guess).
    Malformed,
    /// Too many wrong codes lately.
    Locked,
    /// No live device authorization has this code (counted as a guess).
    Unknown,
    /// The person's account may not use the client (its groups).
    NoAccess { client_name: String },
    /// Ask the person to confirm: the client, its scopes, and the code as they should see it
    /// on the device.
    Confirm(DevicePrompt),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrompt {
    pub user_code: String,
    pub client_id: String,
    pub client_name: String,
    pub client_logo_url: Option<String>,
    pub scope: ScopeSet,
}

pub(super) fn person_code<'a>(
    ctx: &'a Ctx<'_>,
    user_id: &'a str,
    user_code_hash: &'a str,
) -> PersonCode<'a> {
    PersonCode {
        tenant_id: ctx.tenant_id(),
        user_id,
        user_code_hash,
        now: ctx.now,
        max_wrong: MAX_WRONG_USER_CODES,
        window_secs: WRONG_CODE_WINDOW,
    }
}

/// The signed-in person typed `typed` at `/device`: find what it names.
pub async fn check_code(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    typed: &str,
) -> Result<CodeCheck> {
    let Some(canonical) = device::normalize_user_code(typed) else {
        return Ok(CodeCheck::Malformed);
    };
    let hash = secret_hash(&canonical);
    let found = store::find_for_person(ctx.db, &person_code(ctx, &session.user.id, &hash)).await?;
    Ok(match found {
        CodeEntry::Locked => CodeCheck::Locked,
        CodeEntry::Unknown => CodeCheck::Unknown,
        CodeEntry::Found(PendingDevice {
            client_name,
            has_access: false,
            ..
        }) => CodeCheck::NoAccess { client_name },
        CodeEntry::Found(d) => CodeCheck::Confirm(DevicePrompt {
            user_code: device::display_user_code(&canonical),
            client_id: d.client_id,
            client_name: d.client_name,
            client_logo_url: d.logo_url,
            scope: ScopeSet::parse_lenient(&d.scope),
        }),
    })
}

/// What became of the person's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Malformed,
    Locked,
    Unknown,
    /// Recorded: the device gets tokens (approved) or `access_denied` at its next poll.
    Recorded {
        approved: bool,
    },
    /// The code is live but the decision could not be recorded: the client is not the one the
    /// page showed, or the person lost access or their session meanwhile.
    Refused,
}

/// The signed-in person approves (or denies) the device authorization of `typed` for the
/// client the confirmation page showed.
pub async fn decide(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    typed: &str,
    client_id: &str,
    approve: bool,
) -> Result<Decided> {
    let Some(canonical) = device::normalize_user_code(typed) else {
        return Ok(Decided::Malformed);
    };
    let hash = secret_hash(&canonical);
    let decided = store::decide(
        ctx.db,
        &DeviceDecision {
            code: person_code(ctx, &session.user.id, &hash),
            client_id,
            approve,
            session_id_hash: &session.id_hash,
            auth_time: session.auth_time,
            origin: &ctx.origin,
        },
    )
    .await?;
    Ok(match decided {
        CodeEntry::Locked => Decided::Locked,
        CodeEntry::Unknown => Decided::Unknown,
        CodeEntry::Found(true) => Decided::Recorded { approved: approve },
        CodeEntry::Found(false) => Decided::Refused,
    })
}

/// A device's poll (RFC 8628 §3.4-3.5): tokens once approved, for exactly one poll.
pub async fn poll(
    ctx: &Ctx<'_>,
    signer: &dyn Signer,
    creds: &ClientCredentials,
    device_code: &str,
) -> Result<TokenResponse> {
    let minted = Minted::fresh();
    let outcome = store::poll(
        ctx.db,
        &Poll {
            tenant_id: ctx.tenant_id(),
            device_code_hash: secret_hash(device_code),
            credentials: creds,
            now: ctx.now,
            slow_down_step: SLOW_DOWN_STEP,
            grant_id: random::id(),
            access_token_hash: secret_hash(&minted.access),
            access_expires_at: ctx.now + ACCESS_TOKEN_TTL,
            refresh_token_hash: secret_hash(&minted.refresh),
            refresh_expires_at: ctx.now + REFRESH_TOKEN_TTL,
            origin: &ctx.origin,
        },
    )
    .await?;
    // The same rule the batch's SQL was generated from: a refused client changed nothing.
    let client = client_auth::judge(creds, outcome.client, ctx.now)?;
    let redeemed_now = outcome.redeemed.is_some();
    if let PollAnswer::Refuse(refusal) = judge_poll(outcome.state.as_ref(), ctx.now, redeemed_now) {
        return Err(OAuthError::from(refusal).into());
    }
    let (Some(redeemed), Some(user)) = (outcome.redeemed, outcome.user) else {
        // Approved, but the user was disabled or lost access to the client meanwhile: the
        // device code is spent and no grant was created.
        return Err(OAuthError::from(PollRefusal::AccessDenied).into());
    };
    let scope = ScopeSet::parse_lenient(&redeemed.scope);
    let issued = Issued {
        client: &client,
        user: &user,
        scope: &scope,
        auth_time: redeemed.auth_time,
        nonce: None,
        // A device grant belongs to no browser session (signing out on the phone that
        // approved it does not sign the TV out), and the approval is not a sign-in of the
        // device's own.
        session: None,
        amr: None,
        api: None,
    };
    respond(ctx, signer, &issued, minted).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::client::Client;
    use crate::oidc::error::ErrorCode;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::{
        confidential, creds, ctx, tenant, verify_id_token, TestSigner, SECRET,
    };
    use crate::testing::{self, run, user, NOW};
    use crate::usecase::userinfo;

    /// A tenant with alice signed in and the confidential client "app".
    struct World {
        t: TenantSnapshot,
        app: Client,
        alice: String,
        session: SessionWithUser,
    }

    async fn world(db: &Db) -> World {
        let t = tenant(db).await;
        let alice = user(db, &t.tenant.id, "alice", false).await;
        let app = confidential(db, &t.tenant.id).await;
        let cookie = testing::session(db, &t.tenant.id, &alice, NOW).await;
        let session = crate::usecase::sessions::current(&ctx(db, &t, NOW), Some(&cookie))
            .await
            .unwrap()
            .expect("signed in");
        World {
            t,
            app,
            alice,
            session,
        }
    }

    fn app_creds(w: &World) -> ClientCredentials {
        creds(&w.app.id, Some(SECRET))
    }

    async fn started(db: &Db, w: &World, at: i64) -> DeviceAuthorizationResponse {
        start(&ctx(db, &w.t, at), &app_creds(w), Some("openid email"))
            .await
            .expect("started")
    }

    async fn poll_at(db: &Db, w: &World, at: i64, device_code: &str) -> Result<TokenResponse> {
        poll(&ctx(db, &w.t, at), &TestSigner, &app_creds(w), device_code).await
    }

    /// The OAuth error code of a refused poll.
    fn refused(result: Result<TokenResponse>) -> ErrorCode {
        match result {
            Err(Error::OAuth(e)) => e.code,
            Err(other) => panic!("not an OAuth error: {other:?}"),
            Ok(_) => panic!("tokens were issued"),
        }
    }

    async fn approve(db: &Db, w: &World, at: i64, user_code: &str) -> Decided {
        decide(&ctx(db, &w.t, at), &w.session, user_code, &w.app.id, true)
            .await
            .unwrap()
    }

    #[test]
    fn a_device_gets_tokens_once_after_the_person_approves() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let d = started(&db, &w, NOW).await;
            assert_eq!(d.verification_uri, "https://acme.id.example.com/device");
            assert_eq!(
                refused(poll_at(&db, &w, NOW + 5, &d.device_code).await),
                ErrorCode::AuthorizationPending
            );
            // Typed in lower case without the dash: the same code.
            let typed = d.user_code.to_lowercase().replace('-', "");
            let check = check_code(&ctx(&db, &w.t, NOW + 6), &w.session, &typed)
                .await
                .unwrap();
            let CodeCheck::Confirm(prompt) = check else {
                panic!("{check:?}")
            };
            assert_eq!(prompt.user_code, d.user_code);
            assert_eq!(prompt.client_id, w.app.id);
            assert_eq!(prompt.scope.to_string(), "openid email");
            // A decision names the client the page showed: another client's id changes nothing.
            let elsewhere = decide(&ctx(&db, &w.t, NOW + 7), &w.session, &typed, "other", true)
                .await
                .unwrap();
            assert_eq!(elsewhere, Decided::Refused);
            assert_eq!(
                approve(&db, &w, NOW + 7, &typed).await,
                Decided::Recorded { approved: true }
            );
            let tokens = poll_at(&db, &w, NOW + 10, &d.device_code)
                .await
                .expect("tokens");
            let claims = verify_id_token(&w.t, tokens.id_token.as_deref().unwrap());
            assert_eq!(claims["sub"], w.alice.as_str());
            assert_eq!(claims["aud"], w.app.id.as_str());
            assert_eq!(claims["auth_time"], NOW);
            assert!(tokens.refresh_token.is_some());
            assert_eq!(tokens.scope, "openid email");
            let info = userinfo::claims_for(&ctx(&db, &w.t, NOW + 10), &tokens.access_token)
                .await
                .unwrap();
            assert_eq!(info["sub"], w.alice.as_str());
            // The device code is spent; the tokens it gave stay valid.
            assert_eq!(
                refused(poll_at(&db, &w, NOW + 20, &d.device_code).await),
                ErrorCode::InvalidGrant
            );
            assert_eq!(testing::grants(&db, &w.t.tenant.id).await.len(), 1);
            assert!(
                userinfo::claims_for(&ctx(&db, &w.t, NOW + 20), &tokens.access_token)
                    .await
                    .is_ok()
            );
            // And the code cannot be approved again.
            assert_eq!(approve(&db, &w, NOW + 21, &typed).await, Decided::Unknown);
        });
    }

    #[test]
    fn polling_faster_than_the_interval_slows_down_by_five_seconds() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let d = started(&db, &w, NOW).await;
            let code = d.device_code.as_str();
            let at = |s| poll_at(&db, &w, NOW + s, code);
            assert_eq!(refused(at(0).await), ErrorCode::AuthorizationPending);
            assert_eq!(refused(at(4).await), ErrorCode::SlowDown, "4 s < 5 s");
            // The interval is now 10 s, counted from the last poll.
            assert_eq!(refused(at(13).await), ErrorCode::SlowDown, "9 s < 10 s");
            assert_eq!(
                refused(at(28).await),
                ErrorCode::AuthorizationPending,
                "15 s"
            );
            assert_eq!(
                refused(at(43).await),
                ErrorCode::AuthorizationPending,
                "15 s"
            );
        });
    }

    #[test]
    fn an_expired_device_code_is_expired_token() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let d = started(&db, &w, NOW).await;
            let late = NOW + DEVICE_CODE_TTL;
            assert_eq!(
                refused(poll_at(&db, &w, late, &d.device_code).await),
                ErrorCode::ExpiredToken
            );
            // Too late to approve as well (and it counts as a wrong code).
            assert_eq!(approve(&db, &w, late, &d.user_code).await, Decided::Unknown);
        });
    }

    #[test]
    fn a_denied_device_is_told_access_denied() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let d = started(&db, &w, NOW).await;
            let denied = decide(
                &ctx(&db, &w.t, NOW + 1),
                &w.session,
                &d.user_code,
                &w.app.id,
                false,
            )
            .await
            .unwrap();
            assert_eq!(denied, Decided::Recorded { approved: false });
            for at in [NOW + 10, NOW + 20] {
                assert_eq!(
                    refused(poll_at(&db, &w, at, &d.device_code).await),
                    ErrorCode::AccessDenied
                );
            }
            // Denied is final: it cannot be approved afterwards.
            assert_eq!(
                approve(&db, &w, NOW + 21, &d.user_code).await,
                Decided::Unknown
            );
            assert!(testing::grants(&db, &w.t.tenant.id).await.is_empty());
        });
    }

    #[test]
    fn wrong_user_codes_lock_the_person_out_for_a_window() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let d = started(&db, &w, NOW).await;
            let check = |at: i64, typed: String| {
                let c = ctx(&db, &w.t, at);
                let s = w.session.clone();
                async move { check_code(&c, &s, &typed).await.unwrap() }
            };
            assert_eq!(check(NOW, "not a code".into()).await, CodeCheck::Malformed);
            for i in 0..MAX_WRONG_USER_CODES {
                let wrong = if d.user_code == "BBBB-BBBB" {
                    "CCCC-CCCC"
                } else {
                    "BBBB-BBBB"
                };
                assert_eq!(check(NOW + i, wrong.into()).await, CodeCheck::Unknown);
            }
            // Locked: even the right code is not looked at, nor can it be decided.
            assert_eq!(
                check(NOW + 10, d.user_code.clone()).await,
                CodeCheck::Locked
            );
            assert_eq!(
                approve(&db, &w, NOW + 10, &d.user_code).await,
                Decided::Locked
            );
            assert_eq!(
                refused(poll_at(&db, &w, NOW + 11, &d.device_code).await),
                ErrorCode::AuthorizationPending
            );
            // A new window: codes are looked at again (malformed input never counted).
            let later = NOW + WRONG_CODE_WINDOW;
            let fresh = started(&db, &w, later).await;
            assert!(matches!(
                check(later, fresh.user_code.clone()).await,
                CodeCheck::Confirm(_)
            ));
        });
    }

    #[test]
    fn the_clients_groups_apply_and_the_decision_binds_the_client_shown() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let tid = w.t.tenant.id.clone();
            testing::group(&db, &tid, "staff", &[]).await;
            let mut input = testing::client_input("tv");
            input.allowed_user_groups = vec!["staff".into()];
            let tv = testing::client(&db, &tid, &input, None).await;
            let public = creds(&tv.id, None);
            let d = start(&ctx(&db, &w.t, NOW), &public, Some("openid"))
                .await
                .expect("a public client may start");
            let check = check_code(&ctx(&db, &w.t, NOW), &w.session, &d.user_code)
                .await
                .unwrap();
            assert_eq!(
                check,
                CodeCheck::NoAccess {
                    client_name: tv.name.clone()
                }
            );
            let c = ctx(&db, &w.t, NOW + 1);
            let approved = decide(&c, &w.session, &d.user_code, &tv.id, true)
                .await
                .unwrap();
            assert_eq!(approved, Decided::Refused, "alice is not in staff");
            // Approving "app" while the code belongs to "tv" does nothing either.
            let other = decide(&c, &w.session, &d.user_code, &w.app.id, true)
                .await
                .unwrap();
            assert_eq!(other, Decided::Refused);
            let pending = poll(
                &ctx(&db, &w.t, NOW + 10),
                &TestSigner,
                &public,
                &d.device_code,
            )
            .await;
            assert_eq!(refused(pending), ErrorCode::AuthorizationPending);
            // Denying needs no access.
            let denied = decide(&c, &w.session, &d.user_code, &tv.id, false)
                .await
                .unwrap();
            assert_eq!(denied, Decided::Recorded { approved: false });
        });
    }

    #[test]
    fn only_the_authenticated_client_that_started_it_may_poll() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let other = testing::client(
                &db,
                &w.t.tenant.id,
                &testing::client_input("other"),
                Some("o"),
            )
            .await;
            // A wrong secret starts nothing.
            let bad = start(
                &ctx(&db, &w.t, NOW),
                &creds(&w.app.id, Some("wrong")),
                Some("openid"),
            )
            .await;
            assert!(matches!(bad, Err(Error::OAuth(ref e)) if e.code == ErrorCode::InvalidClient));
            let no_openid = start(&ctx(&db, &w.t, NOW), &app_creds(&w), Some("email")).await;
            assert!(
                matches!(no_openid, Err(Error::OAuth(ref e)) if e.code == ErrorCode::InvalidScope)
            );
            let d = started(&db, &w, NOW).await;
            assert_eq!(
                approve(&db, &w, NOW + 1, &d.user_code).await,
                Decided::Recorded { approved: true }
            );
            let c = ctx(&db, &w.t, NOW + 10);
            let wrong = poll(
                &c,
                &TestSigner,
                &creds(&w.app.id, Some("wrong")),
                &d.device_code,
            )
            .await;
            assert_eq!(refused(wrong), ErrorCode::InvalidClient);
            let foreign = poll(
                &c,
                &TestSigner,
                &creds(&other.id, Some("o")),
                &d.device_code,
            )
            .await;
            assert_eq!(refused(foreign), ErrorCode::InvalidGrant);
            assert!(
                testing::grants(&db, &w.t.tenant.id).await.is_empty(),
                "nothing redeemed"
            );
            poll_at(&db, &w, NOW + 10, &d.device_code)
                .await
                .expect("its own client still redeems it");
            assert_eq!(
                refused(poll_at(&db, &w, NOW + 10, "no-such-code").await),
                ErrorCode::InvalidGrant
            );
        });
    }

    #[test]
    fn a_user_disabled_after_approving_gets_no_tokens() {
        let db = testing::db();
        run(async {
            let w = world(&db).await;
            let d = started(&db, &w, NOW).await;
            approve(&db, &w, NOW + 1, &d.user_code).await;
            testing::set_disabled(&db, &w.alice, true).await;
            assert_eq!(
                refused(poll_at(&db, &w, NOW + 10, &d.device_code).await),
                ErrorCode::AccessDenied
            );
            assert!(testing::grants(&db, &w.t.tenant.id).await.is_empty());
        });
    }

    #[test]
    fn concurrent_polls_of_an_approved_device_exactly_one_gets_tokens() {
        let dir = std::env::temp_dir().join(format!("edge-id-device-race-{}", random::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        let open =
            |create| Db::new(crate::storage::backend::sqlite::Sqlite::open(&path, create).unwrap());
        let setup = open(true);
        let (t, app, device_code) = run(async {
            let w = world(&setup).await;
            let d = started(&setup, &w, NOW).await;
            approve(&setup, &w, NOW + 1, &d.user_code).await;
            (w.t, w.app, d.device_code)
        });
        let barrier = std::sync::Barrier::new(3);
        let outcomes: Vec<std::result::Result<String, ErrorCode>> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        let db = open(false);
                        let c = ctx(&db, &t, NOW + 10);
                        let credentials = creds(&app.id, Some(SECRET));
                        barrier.wait();
                        match run(poll(&c, &TestSigner, &credentials, &device_code)) {
                            Ok(tokens) => Ok(tokens.access_token),
                            Err(e) => Err(refused(Err(e))),
                        }
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "{outcomes:?}"
        );
        assert!(outcomes
            .iter()
            .all(|o| o.is_ok() || *o == Err(ErrorCode::InvalidGrant)));
        let db = open(false);
        assert_eq!(run(testing::grants(&db, &t.tenant.id)).len(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
