//! Sign in with another device: a browser without a passkey (a new laptop, a borrowed
//! computer) shows a QR code and a short code; on a device where the person is signed in they
//! open it, see where the request comes from and approve; the waiting browser then gets a
//! session and is asked to add a passkey (Pocket ID added this in v2.12).
//!
//! The waiting page holds a random request id and is bound to its browser by the browser
//! cookie; only hashes of both and of the user code are stored. User codes are the device
//! grant's (8 of 20 consonants, 10 minutes) and guesses count against the same per-person
//! wrong-code window as `/device`, so the two pages together allow no more guesses.
//!
//! The risk this flow carries is the device grant's: someone could show their own code to a
//! person and ask them to approve it. The approval page therefore says where the request
//! comes from (browser, place, address, age) and asks to approve only a request made in front
//! of you; requests live five minutes.

use serde_json::json;

use super::device::person_code;
use super::email::Post;
use super::sessions::{self, Started};
use super::signin::entry;
use super::Ctx;
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::amr::SignInMethod;
use crate::oidc::device::{display_user_code, new_user_code, normalize_user_code};
use crate::storage::audit::When;
use crate::storage::device::CodeEntry;
use crate::storage::other_device::{
    self as store, Decision, NewRequest, OtherDeviceUse, RequestState, Requester,
};
use crate::storage::sessions::{Proof, SessionWithUser, SignIn};

/// How long a waiting request lives.
pub const REQUEST_TTL: i64 = 5 * 60;
/// How many user codes to draw when one collides with a live one.
const USER_CODE_ATTEMPTS: usize = 3;

/// A request the waiting browser shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The random id the waiting page polls with (never shown).
    pub request_id: String,
    /// `XXXX-XXXX`, shown and in the QR code's link.
    pub user_code: String,
    pub expires_in: i64,
}

/// Starts a request from the browser `browser_id`.
pub async fn start(ctx: &Ctx<'_>, browser_id: &str) -> Result<Waiting> {
    for _ in 0..USER_CODE_ATTEMPTS {
        let request_id = random::token();
        let user_code = new_user_code(random::bytes::<32>);
        let canonical = normalize_user_code(&user_code)
            .ok_or_else(|| Error::Internal("a drawn user code does not normalise".into()))?;
        let stored = store::start(
            ctx.db,
            &NewRequest {
                tenant_id: ctx.tenant_id(),
                request_hash: &secret_hash(&request_id),
                user_code_hash: &secret_hash(&canonical),
                browser_hash: &secret_hash(browser_id),
                origin: &ctx.origin,
                now: ctx.now,
                expires_at: ctx.now + REQUEST_TTL,
            },
        )
        .await?;
        if stored {
            return Ok(Waiting {
                request_id,
                user_code,
                expires_in: REQUEST_TTL,
            });
        }
    }
    Err(Error::Internal(
        "could not draw a free user code; try again".into(),
    ))
}

/// What the waiting browser learns when it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled {
    Pending,
    Denied,
    /// Expired, used, unknown, or asked from another browser.
    Gone,
    SignedIn(Started),
}

/// The waiting browser asks whether its request was decided; once approved, the one poll that
/// uses it starts the session.
pub async fn poll(
    ctx: &Ctx<'_>,
    post: &Post,
    browser_id: &str,
    request_id: &str,
) -> Result<Polled> {
    let request_hash = secret_hash(request_id);
    let browser_hash = secret_hash(browser_id);
    let state = store::state(
        ctx.db,
        ctx.tenant_id(),
        &request_hash,
        &browser_hash,
        ctx.now,
    )
    .await?;
    let user_id = match state {
        RequestState::Pending => return Ok(Polled::Pending),
        RequestState::Denied => return Ok(Polled::Denied),
        RequestState::Gone => return Ok(Polled::Gone),
        RequestState::Approved { user_id } => user_id,
    };
    let session =
        sessions::new_session(ctx, &user_id, SignInMethod::OtherDevice).in_browser(browser_id);
    let hash = session.id_hash();
    let signed_in = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        SignIn {
            proof: Proof::OtherDevice(OtherDeviceUse {
                request_hash: &request_hash,
                browser_hash: &browser_hash,
            }),
            recorded: vec![entry(
                ctx,
                "sign_in",
                Some(&user_id),
                json!({ "method": "other_device" }),
                When::SessionCreated(&hash),
            )?],
            ..SignIn::plain(&session)
        },
    )
    .await?;
    Ok(if signed_in.created {
        Polled::SignedIn(sessions::signed_in(ctx, post, session, &signed_in).await?)
    } else {
        // Used by a concurrent poll, or the account was disabled meanwhile.
        Polled::Gone
    })
}

/// What a signed-in person's code names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    Malformed,
    /// Too many wrong codes lately.
    Locked,
    Unknown,
    Confirm {
        user_code: String,
        requester: Requester,
    },
}

/// The signed-in person opened the approval page with (or typed) `typed`.
pub async fn check_code(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    typed: &str,
) -> Result<CodeCheck> {
    let Some(canonical) = normalize_user_code(typed) else {
        return Ok(CodeCheck::Malformed);
    };
    let hash = secret_hash(&canonical);
    let found = store::find_for_person(ctx.db, &person_code(ctx, &session.user.id, &hash)).await?;
    Ok(match found {
        CodeEntry::Locked => CodeCheck::Locked,
        CodeEntry::Unknown => CodeCheck::Unknown,
        CodeEntry::Found(requester) => CodeCheck::Confirm {
            user_code: display_user_code(&canonical),
            requester,
        },
    })
}

/// What became of the person's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Malformed,
    Locked,
    /// Nothing live to decide on (wrong code, expired, decided meanwhile).
    Unknown,
    Recorded {
        approved: bool,
    },
}

/// The signed-in person approves (or denies) the request of `typed`.
pub async fn decide(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    typed: &str,
    approve: bool,
) -> Result<Decided> {
    let Some(canonical) = normalize_user_code(typed) else {
        return Ok(Decided::Malformed);
    };
    let hash = secret_hash(&canonical);
    let decided = store::decide(
        ctx.db,
        &Decision {
            code: person_code(ctx, &session.user.id, &hash),
            approve,
            session_id_hash: &session.id_hash,
            origin: &ctx.origin,
        },
    )
    .await?;
    Ok(match decided {
        CodeEntry::Locked => Decided::Locked,
        CodeEntry::Found(true) => Decided::Recorded { approved: approve },
        CodeEntry::Unknown | CodeEntry::Found(false) => Decided::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::device::MAX_WRONG_USER_CODES;
    use crate::storage::inspection::audit_events;
    use crate::testing::{ctx, db, run, snapshot, tenant, user, NOW};

    const BROWSER: &str = "waiting-browser-id-0000000000000000000000000";
    const OTHER_BROWSER: &str = "someone-elses-browser-000000000000000000000";

    /// A poll from `browser` in a test that sends no mail.
    async fn poll_from(c: &Ctx<'_>, browser: &str, request_id: &str) -> Result<Polled> {
        poll(c, &crate::testing::mail::unused_post(), browser, request_id).await
    }

    async fn signed_in(c: &Ctx<'_>, user_id: &str) -> SessionWithUser {
        let id = crate::testing::session(c.db, c.tenant_id(), user_id, c.now).await;
        sessions::current(c, Some(&id)).await.unwrap().unwrap()
    }

    #[test]
    fn an_approved_request_signs_the_waiting_browser_in_once_as_the_approver() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let waiting = start(&c, BROWSER).await.unwrap();
            assert_eq!(
                poll_from(&c, BROWSER, &waiting.request_id).await.unwrap(),
                Polled::Pending
            );

            let phone = signed_in(&c, &ada).await;
            // Typed in lower case without the dash: the same code.
            let typed = waiting.user_code.to_lowercase().replace('-', "");
            match check_code(&c, &phone, &typed).await.unwrap() {
                CodeCheck::Confirm {
                    user_code,
                    requester,
                } => {
                    assert_eq!(user_code, waiting.user_code);
                    assert_eq!(requester.ip.as_deref(), Some("192.0.2.7"));
                    assert_eq!(requester.created_at, NOW);
                }
                other => panic!("{other:?}"),
            }
            let later = ctx(&db, &snap, NOW + 30);
            assert_eq!(
                decide(&later, &phone, &typed, true).await.unwrap(),
                Decided::Recorded { approved: true }
            );
            // Deciding again finds nothing live.
            assert_eq!(
                decide(&later, &phone, &typed, false).await.unwrap(),
                Decided::Unknown
            );

            // Another browser holding the request id gets nothing, and burns nothing.
            assert_eq!(
                poll_from(&later, OTHER_BROWSER, &waiting.request_id)
                    .await
                    .unwrap(),
                Polled::Gone
            );
            let Polled::SignedIn(started) = poll_from(&later, BROWSER, &waiting.request_id)
                .await
                .unwrap()
            else {
                panic!("the waiting browser should be signed in");
            };
            let session = sessions::current(&later, Some(&started.id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(session.user.id, ada);
            assert_eq!(
                poll_from(&later, BROWSER, &waiting.request_id)
                    .await
                    .unwrap(),
                Polled::Gone
            );

            let events: Vec<_> = audit_events(&db, &t.id)
                .await
                .into_iter()
                .map(|(e, _, d)| format!("{e}:{}", d["method"].as_str().unwrap_or("")))
                .filter(|e| e.starts_with("other_device") || e.ends_with("other_device"))
                .collect();
            assert_eq!(events, ["other_device_approved:", "sign_in:other_device"]);
        });
    }

    #[test]
    fn a_denied_or_expired_request_signs_no_one_in() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let phone = signed_in(&c, &ada).await;

            let denied = start(&c, BROWSER).await.unwrap();
            assert_eq!(
                decide(&c, &phone, &denied.user_code, false).await.unwrap(),
                Decided::Recorded { approved: false }
            );
            assert_eq!(
                poll_from(&c, BROWSER, &denied.request_id).await.unwrap(),
                Polled::Denied
            );

            let stale = start(&c, BROWSER).await.unwrap();
            let expired = ctx(&db, &snap, NOW + REQUEST_TTL);
            let phone_later = signed_in(&expired, &ada).await;
            assert_eq!(
                check_code(&expired, &phone_later, &stale.user_code)
                    .await
                    .unwrap(),
                CodeCheck::Unknown
            );
            assert_eq!(
                decide(&expired, &phone_later, &stale.user_code, true)
                    .await
                    .unwrap(),
                Decided::Unknown
            );
            assert_eq!(
                poll_from(&expired, BROWSER, &stale.request_id)
                    .await
                    .unwrap(),
                Polled::Gone
            );
        });
    }

    #[test]
    fn wrong_codes_lock_the_person_out_for_a_while_including_the_right_one() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let mallory = user(&db, &t.id, "mallory", false).await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let waiting = start(&c, BROWSER).await.unwrap();
            let session = signed_in(&c, &mallory).await;
            assert_eq!(
                check_code(&c, &session, "nope").await.unwrap(),
                CodeCheck::Malformed,
                "malformed input is not a guess"
            );
            for _ in 0..MAX_WRONG_USER_CODES {
                assert_eq!(
                    check_code(&c, &session, "BBBB-BBBB").await.unwrap(),
                    CodeCheck::Unknown
                );
            }
            assert_eq!(
                check_code(&c, &session, &waiting.user_code).await.unwrap(),
                CodeCheck::Locked
            );
            assert_eq!(
                decide(&c, &session, &waiting.user_code, true)
                    .await
                    .unwrap(),
                Decided::Locked
            );
            assert_eq!(
                poll_from(&c, BROWSER, &waiting.request_id).await.unwrap(),
                Polled::Pending
            );
        });
    }

    /// Two polls that both read the request as approved before either batch ran: the second
    /// batch starts no session; and a batch from another browser starts none at all.
    #[test]
    fn of_two_polls_that_both_saw_the_approval_only_the_first_batch_signs_in() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let waiting = start(&c, BROWSER).await.unwrap();
            let phone = signed_in(&c, &ada).await;
            decide(&c, &phone, &waiting.user_code, true).await.unwrap();
            let request_hash = secret_hash(&waiting.request_id);
            let mut created = Vec::new();
            for browser in [OTHER_BROWSER, BROWSER, BROWSER] {
                let session = sessions::new_session(&c, &ada, SignInMethod::OtherDevice);
                let browser_hash = secret_hash(browser);
                let done = crate::storage::sessions::create(
                    &db,
                    &t.id,
                    SignIn {
                        proof: Proof::OtherDevice(OtherDeviceUse {
                            request_hash: &request_hash,
                            browser_hash: &browser_hash,
                        }),
                        ..SignIn::plain(&session)
                    },
                )
                .await
                .unwrap();
                created.push(done.created);
            }
            assert_eq!(created, [false, true, false]);
        });
    }
}
