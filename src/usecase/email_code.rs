//! Signing in with a one-time code sent by email (`/login/email`, tenant opt-in): recovery for
//! a person whose passkey is gone, without an admin.
//!
//! * Asking for a code answers the same whether or not an account has the address: a code row
//!   is written either way (without an account for an unknown address), the same two round
//!   trips are made, and the page says "if an account exists, we sent a code".
//! * The code is 6 digits, lives [`CODE_TTL_SECS`], works once and allows [`MAX_ATTEMPTS`]
//!   tries, right or wrong. Only its hash (salted with the row id) is stored.
//! * It works only in the browser that asked: the row id travels sealed to that browser's
//!   `eid_browser` cookie and the tenant (`crypto::sealed`), so a code read from a mail in
//!   another browser, or on another tenant, opens nothing.
//! * The try is one transaction on the primary (`storage::email_codes`): attempt counted,
//!   code consumed only if right, session created only if this try consumed it.
//! * The mail itself is sent after the response ([`Requested::delivery`]).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::authorize::Browser;
use super::email::{self as mail, Delivery, Post};
use super::sessions::{self, Started};
use super::Ctx;
use crate::crypto::hash::secret_hash;
use crate::crypto::sealed::{Binding, SealedKind};
use crate::email::message;
use crate::error::{Error, Result};
use crate::oidc::amr::SignInMethod;
use crate::storage::audit::{self, When};
use crate::storage::email_codes::{self, CodeAttempt, CodeState, NewEmailCode};
use crate::storage::sessions::{Proof, SignIn};

/// How long a code works.
pub const CODE_TTL_SECS: i64 = 600;
/// Tries per code, right or wrong: a guesser has 5 in a million.
pub const MAX_ATTEMPTS: i64 = 5;
/// Digits in a code.
const CODE_DIGITS: usize = 6;
/// Codes mailed to one account per [`CODE_TTL_SECS`]: asking more often (someone flooding a
/// person's inbox from many addresses, past the per-IP limit) still gets the same answer and a
/// code row, but no mail.
pub const MAX_MAILS_PER_WINDOW: i64 = 5;

/// What the browser carries between asking and entering the code (sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    id: String,
    /// The account's id; for an address without one, a random id of the same shape, so the
    /// sealed value's length does not tell the two apart (no account has it).
    user_id: String,
    email: String,
}

/// The answer to a request for a code.
#[derive(Debug)]
pub struct Requested {
    /// The sealed state for the code form (opens only in this browser, on this tenant).
    pub pending: String,
    /// The address as typed (normalised), to show on the page.
    pub email: String,
    /// The mail to send after the response; `None` when no account has the address (or no
    /// server is usable, which is already in the audit log).
    pub delivery: Option<Delivery>,
}

fn enabled(ctx: &Ctx<'_>) -> Result<()> {
    if ctx.tenant.tenant.settings.email_sign_in_codes {
        Ok(())
    } else {
        Err(Error::NotFound(
            "Email sign-in is not offered here. This page".into(),
        ))
    }
}

/// Whether the tenant offers email codes (the login page's link).
pub fn offered(ctx: &Ctx<'_>) -> bool {
    enabled(ctx).is_ok()
}

/// A uniformly random 6-digit code.
fn new_code() -> String {
    let mut code = String::with_capacity(CODE_DIGITS);
    while code.len() < CODE_DIGITS {
        for b in crate::crypto::random::bytes::<16>() {
            // 250 = 25 * 10: bytes from 250 up would favour the low digits.
            if b < 250 && code.len() < CODE_DIGITS {
                code.push(char::from(b'0' + b % 10));
            }
        }
    }
    code
}

fn code_hash(id: &str, code: &str) -> String {
    secret_hash(&format!("email sign-in code\0{id}\0{code}"))
}

fn binding<'a>(ctx: &'a Ctx<'_>, browser: &'a str) -> Binding<'a> {
    Binding {
        tenant_id: ctx.tenant_id(),
        holder: browser,
    }
}

/// Asks for a code for `email` in `browser`. Two round trips to the primary whatever the
/// address: the account's lookup, then the code row with its audit entry.
pub async fn request(ctx: &Ctx<'_>, post: &Post, browser: &str, email: &str) -> Result<Requested> {
    enabled(ctx)?;
    let email = crate::account::email(Some(email))?;
    let found =
        email_codes::find_user_by_email(ctx.db, ctx.tenant_id(), &email, ctx.now - CODE_TTL_SECS)
            .await?;
    let throttled = found
        .as_ref()
        .is_some_and(|(_, recent)| *recent >= MAX_MAILS_PER_WINDOW);
    let user = found.map(|(user, _)| user);
    let id = crate::crypto::random::token();
    let code = new_code();
    let hash = code_hash(&id, &code);
    let user_id = user.as_ref().map(|u| u.id.as_str());
    let entry = audit::insert_statement(
        ctx.db,
        ctx.tenant_id(),
        "email_code_requested",
        user_id,
        None,
        &ctx.origin,
        &json!({ "account_found": user.is_some(), "throttled": throttled }),
        ctx.now,
    )?;
    email_codes::create(
        ctx.db,
        ctx.tenant_id(),
        &NewEmailCode {
            id: &id,
            user_id,
            code_hash: &hash,
            created_at: ctx.now,
            expires_at: ctx.now + CODE_TTL_SECS,
        },
        entry,
    )
    .await?;
    let pending = ctx.sealer.seal_text(
        SealedKind::EmailCode,
        &binding(ctx, browser),
        ctx.now,
        CODE_TTL_SECS,
        &Pending {
            id,
            user_id: user_id.map_or_else(crate::crypto::random::id, str::to_string),
            email: email.clone(),
        },
    );
    let delivery = match &user {
        None => None,
        Some(_) if throttled => None,
        Some(user) => {
            let to = user.email.as_deref().unwrap_or(&email);
            let name = user.full_name();
            let body = message::sign_in_code_mail(
                &mail::brand(&ctx.tenant.tenant, ctx.issuer),
                to,
                Some(&name),
                &code,
                CODE_TTL_SECS / 60,
            );
            match mail::prepare(
                &ctx.tenant.tenant,
                ctx.issuer,
                post,
                &body,
                Some(&user.id),
                &ctx.origin,
                ctx.now,
            ) {
                Ok(delivery) => Some(delivery),
                Err(problem) => {
                    mail::record_failure(
                        ctx.db,
                        ctx.tenant_id(),
                        message::MailKind::SignInCode,
                        Some(&user.id),
                        &ctx.origin,
                        &(&problem).into(),
                        ctx.now,
                    )
                    .await?;
                    None
                }
            }
        }
    };
    Ok(Requested {
        pending,
        email,
        delivery,
    })
}

/// The address a pending request is for, to show on the code form again (`None` when it does
/// not open in this browser).
pub fn pending_email(ctx: &Ctx<'_>, browser: &str, pending: &str) -> Option<String> {
    ctx.sealer
        .open_text::<Pending>(
            SealedKind::EmailCode,
            &binding(ctx, browser),
            ctx.now,
            pending,
        )
        .ok()
        .map(|o| o.body.email)
}

/// A refused code, as the person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong code (also every try for an address without an account).
    Wrong,
    /// This try used the last attempt, or there were none left.
    TooManyAttempts,
    /// Expired, used, or asked for in another browser or on another tenant.
    Expired,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Wrong => "That code is not right. Check the email and try again.",
            Refusal::TooManyAttempts => "Too many wrong codes. Ask for a new code.",
            Refusal::Expired => {
                "This code has expired or was already used, or it was asked for in another browser. Ask for a new code."
            }
        }
    }
}

/// How a try ended.
#[derive(Debug)]
pub enum Tried {
    SignedIn(Started),
    Refused(Refusal),
}

/// Signs in with `code` for the request sealed in `pending`, in `browser`. One round trip to
/// the primary when the code is right; a refusal reads why and records it (two more).
pub async fn sign_in(
    ctx: &Ctx<'_>,
    post: &Post,
    browser: Browser<'_>,
    pending: &str,
    code: &str,
) -> Result<Tried> {
    enabled(ctx)?;
    let Ok(opened) = ctx.sealer.open_text::<Pending>(
        SealedKind::EmailCode,
        &binding(ctx, browser.id),
        ctx.now,
        pending,
    ) else {
        let entry = audit::insert_statement(
            ctx.db,
            ctx.tenant_id(),
            "sign_in_failed",
            None,
            None,
            &ctx.origin,
            &json!({ "method": "email_code", "reason": "not_this_browser_or_expired" }),
            ctx.now,
        )?;
        audit::record(ctx.db, entry).await?;
        return Ok(Tried::Refused(Refusal::Expired));
    };
    // An address without an account is tried like any other (the row counts its attempts),
    // under a user id no account has.
    let Pending { id, user_id, .. } = opened.body;
    let typed: String = code.chars().filter(char::is_ascii_digit).collect();
    let session =
        sessions::new_session(ctx, &user_id, SignInMethod::EmailCode).in_browser(browser.id);
    let hash = session.id_hash();
    let typed_hash = code_hash(&id, &typed);
    let signed_in = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        SignIn {
            recorded: vec![audit::insert_when_statement(
                ctx.db,
                ctx.tenant_id(),
                "sign_in",
                Some(&user_id),
                None,
                &ctx.origin,
                &json!({ "method": "email_code" }),
                ctx.now,
                When::SessionCreated(&hash),
            )?],
            proof: Proof::EmailCode(CodeAttempt {
                id: &id,
                code_hash: &typed_hash,
                now: ctx.now,
                max_attempts: MAX_ATTEMPTS,
            }),
            ..SignIn::plain(&session)
        },
    )
    .await?;
    if signed_in.created {
        return Ok(Tried::SignedIn(
            sessions::signed_in(ctx, post, session, &signed_in).await?,
        ));
    }
    let (state, account) =
        email_codes::state(ctx.db, ctx.tenant_id(), &id, ctx.now, MAX_ATTEMPTS).await?;
    let entry = audit::insert_statement(
        ctx.db,
        ctx.tenant_id(),
        "sign_in_failed",
        account.as_deref(),
        None,
        &ctx.origin,
        &json!({ "method": "email_code", "reason": state.as_str() }),
        ctx.now,
    )?;
    audit::record(ctx.db, entry).await?;
    Ok(Tried::Refused(match state {
        CodeState::Live => Refusal::Wrong,
        CodeState::TooManyAttempts => Refusal::TooManyAttempts,
        CodeState::Missing | CodeState::Used | CodeState::Expired => Refusal::Expired,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::config::SmtpSettings;
    use crate::email::smtp::TlsMode;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::{self, ctx, db, run, snapshot, tenant, user, NOW};

    const BROWSER: &str = "browser-of-ada-0123456789012345678901234567";
    const OTHER_BROWSER: &str = "browser-of-eve-0123456789012345678901234567";

    fn post(port: u16) -> Post {
        crate::testing::mail::post(port)
    }

    async fn opted_in(db: &Db, slug: &str) -> TenantSnapshot {
        let mut t = tenant(db, slug).await;
        t.settings.email_sign_in_codes = true;
        snapshot(&t)
    }

    /// The 6-digit code of a delivery, read back from its MIME like a mail client would.
    fn code_in(delivery: &Delivery) -> String {
        let parsed = mail_parser::MessageParser::default()
            .parse(&delivery.message)
            .unwrap();
        let text = parsed.body_text(0).unwrap();
        text.split_whitespace()
            .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
            .expect("a code in the mail")
            .to_string()
    }

    /// A user `username` whose id has the shape of real ids (`random::id`), so sealed values
    /// compare by length as in production.
    async fn user_with_real_id(db: &Db, tenant_id: &str, username: &str) -> String {
        let id = crate::crypto::random::id();
        let profile = crate::account::NewProfile {
            username: username.to_string(),
            email: format!("{username}@example.com"),
            first_name: username.to_string(),
            last_name: None,
        };
        let audit = audit::insert_statement(
            db,
            tenant_id,
            testing::FIXTURE_EVENT,
            Some(&id),
            None,
            &crate::storage::audit::Origin::default(),
            &json!({}),
            NOW,
        )
        .unwrap();
        crate::storage::users::create(
            db,
            tenant_id,
            &id,
            &profile,
            &Default::default(),
            NOW,
            audit,
        )
        .await
        .unwrap();
        id
    }

    fn browser(id: &str) -> Browser<'_> {
        Browser { session: None, id }
    }

    fn events(
        entries: &[(String, Option<String>, serde_json::Value)],
        event: &str,
    ) -> Vec<serde_json::Value> {
        entries
            .iter()
            .filter(|(e, ..)| e == event)
            .map(|(_, _, d)| d.clone())
            .collect()
    }

    #[test]
    fn known_and_unknown_addresses_get_the_same_answer_and_cost() {
        let db = db();
        run(async {
            let snap = opted_in(&db, "acme").await;
            let ada = user_with_real_id(&db, &snap.tenant.id, "ada").await;
            let c = ctx(&db, &snap, NOW);
            let before = db.round_trips();
            let known = request(&c, &post(1), BROWSER, " Ada@Example.com ")
                .await
                .unwrap();
            let known_trips = db.round_trips() - before;
            let before = db.round_trips();
            // An address of the same length: the sealed state's length says nothing more.
            let unknown = request(&c, &post(1), BROWSER, "bob@example.com")
                .await
                .unwrap();
            assert_eq!(db.round_trips() - before, known_trips, "same round trips");
            assert_eq!(known_trips, 2);
            assert_eq!(known.email, "ada@example.com");
            assert_eq!(unknown.email, "bob@example.com");
            assert_eq!(
                known.pending.len(),
                unknown.pending.len(),
                "same-size sealed state"
            );
            let delivery = known.delivery.expect("a mail for the account");
            assert!(unknown.delivery.is_none());
            assert_eq!(delivery.envelope.to, vec!["ada@example.com".to_string()]);
            assert_eq!(delivery.user_id.as_deref(), Some(ada.as_str()));
            assert_eq!(
                testing::count_rows(&db, "email_sign_in_codes", &snap.tenant.id).await,
                2,
                "a row for both"
            );
            let requested = events(
                &testing::audit_events(&db, &snap.tenant.id).await,
                "email_code_requested",
            );
            assert_eq!(requested.len(), 2);
            assert_eq!(requested[0]["account_found"], true);
            assert_eq!(requested[1]["account_found"], false);
            // The code is not stored, only its hash.
            let code = code_in(&delivery);
            let stored = testing::email_code_hashes(&db, &snap.tenant.id).await;
            assert_eq!(stored.len(), 2);
            assert!(stored.iter().all(|h| !h.contains(&code)));
        });
    }

    #[test]
    fn the_right_code_signs_in_once_in_the_browser_that_asked() {
        let db = db();
        run(async {
            let snap = opted_in(&db, "acme").await;
            let ada = user(&db, &snap.tenant.id, "ada", false).await;
            let c = ctx(&db, &snap, NOW);
            let asked = request(&c, &post(1), BROWSER, "ada@example.com")
                .await
                .unwrap();
            let code = code_in(asked.delivery.as_ref().unwrap());

            // Another browser holding the sealed value (stolen, or pasted) opens nothing, and
            // costs the code no attempt.
            let elsewhere = sign_in(&c, &post(1), browser(OTHER_BROWSER), &asked.pending, &code)
                .await
                .unwrap();
            assert!(
                matches!(elsewhere, Tried::Refused(Refusal::Expired)),
                "{elsewhere:?}"
            );
            // Another tenant neither, even in the same browser.
            let beta = opted_in(&db, "beta").await;
            let b = ctx(&db, &beta, NOW);
            let other_tenant = sign_in(&b, &post(1), browser(BROWSER), &asked.pending, &code)
                .await
                .unwrap();
            assert!(matches!(other_tenant, Tried::Refused(Refusal::Expired)));

            let later = ctx(&db, &snap, NOW + 60);
            let trips = db.round_trips();
            let Tried::SignedIn(started) = sign_in(
                &later,
                &post(1),
                browser(BROWSER),
                &asked.pending,
                &format!(" {} ", &code),
            )
            .await
            .unwrap() else {
                panic!("the right code signs in");
            };
            assert_eq!(db.round_trips() - trips, 1, "one round trip to sign in");
            let session = super::sessions::current(&later, Some(&started.id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(session.user.id, ada);
            let entries = testing::audit_events(&db, &snap.tenant.id).await;
            let sign_ins = events(&entries, "sign_in");
            assert_eq!(
                sign_ins,
                vec![serde_json::json!({ "method": "email_code" })]
            );
            let amrs = testing::session_amrs(&db, &snap.tenant.id).await;
            assert_eq!(amrs, vec![Some("[\"otp\"]".to_string())]);

            // Used once: the same code again is refused.
            let again = sign_in(&later, &post(1), browser(BROWSER), &asked.pending, &code)
                .await
                .unwrap();
            assert!(
                matches!(again, Tried::Refused(Refusal::Expired)),
                "{again:?}"
            );
            let failures = events(
                &testing::audit_events(&db, &snap.tenant.id).await,
                "sign_in_failed",
            );
            assert_eq!(failures.last().unwrap()["reason"], "code_used");
            assert_eq!(failures[0]["reason"], "not_this_browser_or_expired");
        });
    }

    #[test]
    fn wrong_expired_and_too_many_attempts_are_refused_alike_for_unknown_addresses() {
        let db = db();
        run(async {
            let snap = opted_in(&db, "acme").await;
            user(&db, &snap.tenant.id, "ada", false).await;
            let c = ctx(&db, &snap, NOW);
            for address in ["ada@example.com", "nobody@example.com"] {
                let asked = request(&c, &post(1), BROWSER, address).await.unwrap();
                let code = asked.delivery.as_ref().map(code_in);
                let wrong = |n: i64| {
                    let right = code.clone().unwrap_or_default();
                    // A code that is not the right one.
                    format!("{:06}", (right.parse::<i64>().unwrap_or(0) + n) % 1_000_000)
                };
                let mut refusals = Vec::new();
                for n in 1..=MAX_ATTEMPTS {
                    match sign_in(&c, &post(1), browser(BROWSER), &asked.pending, &wrong(n))
                        .await
                        .unwrap()
                    {
                        Tried::Refused(r) => refusals.push(r),
                        Tried::SignedIn(_) => panic!("a wrong code signed in"),
                    }
                }
                let mut expected = vec![Refusal::Wrong; (MAX_ATTEMPTS - 1) as usize];
                expected.push(Refusal::TooManyAttempts);
                assert_eq!(refusals, expected, "{address}");
                if let Some(code) = code {
                    // Even the right code is refused once the attempts are spent.
                    let late = sign_in(&c, &post(1), browser(BROWSER), &asked.pending, &code)
                        .await
                        .unwrap();
                    assert!(
                        matches!(late, Tried::Refused(Refusal::TooManyAttempts)),
                        "{late:?}"
                    );
                }
            }
            // A code past its 10 minutes.
            let asked = request(&c, &post(1), BROWSER, "ada@example.com")
                .await
                .unwrap();
            let code = code_in(asked.delivery.as_ref().unwrap());
            let late = ctx(&db, &snap, NOW + CODE_TTL_SECS);
            let expired = sign_in(&late, &post(1), browser(BROWSER), &asked.pending, &code)
                .await
                .unwrap();
            assert!(matches!(expired, Tried::Refused(Refusal::Expired)));
            assert_eq!(
                testing::count_rows(&db, "sessions", &snap.tenant.id).await,
                0
            );
        });
    }

    #[test]
    fn an_account_gets_a_limited_number_of_mails_per_window() {
        let db = db();
        run(async {
            let snap = opted_in(&db, "acme").await;
            user(&db, &snap.tenant.id, "ada", false).await;
            let c = ctx(&db, &snap, NOW);
            for i in 0..MAX_MAILS_PER_WINDOW {
                let asked = request(&c, &post(1), BROWSER, "ada@example.com")
                    .await
                    .unwrap();
                assert!(asked.delivery.is_some(), "mail {i}");
            }
            let flooded = request(&c, &post(1), BROWSER, "ada@example.com")
                .await
                .unwrap();
            assert!(flooded.delivery.is_none(), "no more mail in this window");
            let requested = events(
                &testing::audit_events(&db, &snap.tenant.id).await,
                "email_code_requested",
            );
            assert_eq!(requested.last().unwrap()["throttled"], true);
            // The next window mails again.
            let later = ctx(&db, &snap, NOW + CODE_TTL_SECS + 1);
            let asked = request(&later, &post(1), BROWSER, "ada@example.com")
                .await
                .unwrap();
            assert!(asked.delivery.is_some());
        });
    }

    #[test]
    fn a_tenant_that_did_not_opt_in_offers_nothing() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            assert!(!offered(&c));
            assert!(matches!(
                request(&c, &post(1), BROWSER, "ada@example.com").await,
                Err(Error::NotFound(_))
            ));
            assert!(matches!(
                sign_in(&c, &post(1), browser(BROWSER), "x", "123456").await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn the_mail_reaches_a_real_server_on_loopback_and_a_dead_one_is_audited() {
        let db = db();
        run(async {
            let snap = opted_in(&db, "acme").await;
            let ada = user(&db, &snap.tenant.id, "ada", false).await;
            let c = ctx(&db, &snap, NOW);
            let (port, server) = crate::testing::mail::loopback_server();
            let post = post(port);
            let asked = request(&c, &post, BROWSER, "ada@example.com")
                .await
                .unwrap();
            let delivery = asked.delivery.unwrap();
            let sent = super::mail::deliver(&db, &post, &delivery, NOW)
                .await
                .unwrap();
            assert_eq!(sent, Ok(()));
            let received = server.join().unwrap();
            let parsed = mail_parser::MessageParser::default()
                .parse(received.as_bytes())
                .unwrap();
            assert_eq!(
                parsed.to().unwrap().first().unwrap().address(),
                Some("ada@example.com")
            );
            assert!(parsed.body_text(0).unwrap().contains(&code_in(&delivery)));
            let entries = testing::audit_events(&db, &snap.tenant.id).await;
            assert_eq!(events(&entries, "email_sent").len(), 1);

            // Nobody listens on the port any more: the failure is recorded with its stage.
            let failed = super::mail::deliver(&db, &post, &delivery, NOW)
                .await
                .unwrap();
            let failure = failed.unwrap_err();
            assert_eq!(failure.stage, "connect");
            let failures = events(
                &testing::audit_events(&db, &snap.tenant.id).await,
                "email_failed",
            );
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0]["stage"], "connect");
            assert_eq!(failures[0]["kind"], "sign_in_code");
            let _ = ada;
        });
    }

    #[test]
    fn no_usable_server_is_audited_and_the_answer_stays_the_same() {
        let db = db();
        run(async {
            let mut t = tenant(&db, "acme").await;
            t.settings.email_sign_in_codes = true;
            // A password sealed for another host: unusable, and never sent anywhere.
            t.settings.smtp = Some(SmtpSettings {
                host: "smtp.evil.test".into(),
                port: 587,
                tls: TlsMode::StartTls,
                from_address: "id@acme.test".into(),
                from_name: None,
                username: Some("mailer".into()),
                password_sealed: Some(post(1).master.seal(
                    &crate::email::config::password_context(
                        &t.id,
                        "smtp.acme.test",
                        Some("mailer"),
                    ),
                    b"hunter2",
                )),
            });
            let snap = snapshot(&t);
            user(&db, &t.id, "ada", false).await;
            let c = ctx(&db, &snap, NOW);
            let asked = request(&c, &post(1), BROWSER, "ada@example.com")
                .await
                .unwrap();
            assert!(asked.delivery.is_none());
            let failures = events(&testing::audit_events(&db, &t.id).await, "email_failed");
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0]["stage"], "config");
            assert!(!failures[0].to_string().contains("hunter2"));
        });
    }
}
