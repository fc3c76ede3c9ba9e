//! Sign-in notices (issue 16 part 2c): a person who turned them on (account page) gets a mail
//! when their account signs in from a browser it had not signed in from before.
//!
//! * A browser is its `eid_browser` cookie (a long-lived random id, no fingerprinting); only a
//!   hash is stored (`storage::known_browsers`), only for people with the notices on.
//! * The sign-in batch itself records the browser and says whether it was new
//!   (`storage::sessions::SignedIn::notify`): no extra round trip on sign-in. Every sign-in
//!   path (passkey, recovery code, another device, email code, an admin's link) ends in
//!   [`super::sessions::signed_in`], which asks [`delivery`] for the mail.
//! * Turning the notices on records the browser it is done in, so that browser never triggers
//!   one; turning them off forgets the person's browsers.
//! * The mail is sent after the response (`Started::notice`), audited by `email::deliver`.

use serde_json::json;

use super::email::{self as mail, Delivery, Post};
use super::Ctx;
use crate::email::message::{self, MailKind, SignInFacts};
use crate::error::{Error, Result};
use crate::oidc::amr::SignInMethod;
use crate::storage::audit::{self, When};
use crate::storage::known_browsers;
use crate::storage::sessions::SessionWithUser;
use crate::storage::users::UserRow;

/// The person's address, when they have one to be told at.
fn address(user: &UserRow) -> Option<&str> {
    user.email.as_deref().filter(|e| !e.is_empty())
}

/// Whether the account page offers the notices to this person: they have an address and the
/// tenant can send mail (as for "Verify").
pub fn offered(ctx: &Ctx<'_>, post: &Post, user: &UserRow) -> bool {
    address(user).is_some() && super::email_verification::mail_usable(ctx, post)
}

/// Turns the person's notices on or off, audited (`sign_in_notices_changed`). Turning them on
/// records `browser_id` (the browser it is done in) as known, and is refused when they are not
/// [`offered`] (no address, or no mail server): they would never arrive.
pub async fn set(
    ctx: &Ctx<'_>,
    post: &Post,
    session: &SessionWithUser,
    on: bool,
    browser_id: Option<&str>,
) -> Result<()> {
    if on && !offered(ctx, post, &session.user) {
        return Err(Error::Conflict(
            "Sign-in notices need an email address on your account and a site that can send email."
                .into(),
        ));
    }
    let user_id = &session.user.id;
    let entry = audit::insert_when_statement(
        ctx.db,
        ctx.tenant_id(),
        "sign_in_notices_changed",
        Some(user_id),
        None,
        &ctx.origin,
        &json!({ "on": on }),
        ctx.now,
        When::PreviousChanged,
    )?;
    let browser = browser_id
        .filter(|id| id.len() == 43)
        .map(known_browsers::hash);
    let found = known_browsers::set_notices(
        ctx.db,
        ctx.tenant_id(),
        user_id,
        on,
        browser.as_deref(),
        ctx.now,
        entry,
    )
    .await?;
    if found {
        Ok(())
    } else {
        Err(Error::Unauthenticated)
    }
}

/// "with a passkey", as the notice says how the sign-in was made.
fn how(method: SignInMethod) -> &'static str {
    match method {
        SignInMethod::Passkey { .. } => "with a passkey",
        SignInMethod::OneTimeLink => "with a one-time sign-in link from an administrator",
        SignInMethod::RecoveryCode => "with a recovery code",
        SignInMethod::OtherDevice => "approved on another device already signed in",
        SignInMethod::EmailCode => "with a code sent by email",
    }
}

/// The notice of a sign-in by `method` in this request (its time, browser, place and IP) to
/// `user`, who has the notices on and signed in from a new browser. `None` when they have no
/// address any more, or no server is usable (that failure is audited, as any mail's).
pub async fn delivery(
    ctx: &Ctx<'_>,
    post: &Post,
    user: &UserRow,
    method: SignInMethod,
) -> Result<Option<Delivery>> {
    let Some(to) = address(user) else {
        return Ok(None);
    };
    let origin = &ctx.origin;
    let facts = SignInFacts {
        when: crate::ui::when::date_time(ctx.now),
        // Named from a fixed list, never the raw header (`ui::agent`).
        browser: crate::ui::agent::browser(origin.user_agent.as_deref()),
        place: crate::ui::agent::place(origin.city.as_deref(), origin.country.as_deref()),
        ip: origin.ip.clone(),
        how: how(method).to_string(),
    };
    let name = user.full_name();
    let body = message::new_device_sign_in_mail(
        &mail::brand(&ctx.tenant.tenant, ctx.issuer),
        to,
        Some(&name),
        &facts,
    );
    match mail::prepare(
        &ctx.tenant.tenant,
        ctx.issuer,
        post,
        &body,
        Some(&user.id),
        origin,
        ctx.now,
    ) {
        Ok(delivery) => Ok(Some(delivery)),
        Err(problem) => {
            // Rare (the notices are offered only while mail works): worth a write, so the
            // admin sees why the person was not told.
            mail::record_failure(
                ctx.db,
                ctx.tenant_id(),
                MailKind::NewDeviceSignIn,
                Some(&user.id),
                origin,
                &(&problem).into(),
                ctx.now,
            )
            .await?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::audit::Origin;
    use crate::storage::ceremonies::LinkPurpose;
    use crate::storage::known_browsers::inspect;
    use crate::testing::{self, ctx, db, link, run, snapshot, tenant, user, NOW};
    use crate::usecase::sessions::{self, Started};
    use mail_parser::MessageParser;

    /// Browser ids as the cookie carries them (43 characters).
    fn browser(name: &str) -> String {
        format!("{name:-<43}")
    }

    /// A request from Firefox on Linux in Berlin.
    fn from_berlin<'a>(c: Ctx<'a>) -> Ctx<'a> {
        Ctx {
            origin: Origin {
                ip: Some("192.0.2.7".into()),
                user_agent: Some(
                    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\nBcc: eve@evil.test"
                        .into(),
                ),
                country: Some("DE".into()),
                city: Some("Berlin".into()),
                asn: None,
            },
            ..c
        }
    }

    /// Signs `user_id` in with an admin's one-time link, in `browser`.
    async fn link_sign_in(c: &Ctx<'_>, post: &Post, user_id: &str, browser: &str) -> Started {
        let token = link(c.db, c.tenant_id(), LinkPurpose::Login, Some(user_id)).await;
        crate::usecase::signin::with_login_link(c, post, &token, browser)
            .await
            .unwrap()
    }

    async fn session_of(c: &Ctx<'_>, started: &Started) -> SessionWithUser {
        sessions::current(c, Some(&started.id))
            .await
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_person_who_asked_is_told_of_a_sign_in_from_a_new_browser_only() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = snapshot(&t);
            let c = from_berlin(ctx(&db, &snap, NOW));
            let post = testing::mail::unused_post();
            let ada = user(&db, &t.id, "ada", false).await;
            let (laptop, phone) = (browser("laptop"), browser("phone"));

            // Not asked for: no notice from any browser.
            let first = link_sign_in(&c, &post, &ada, &laptop).await;
            assert_eq!(first.notice, None);
            let on_laptop = session_of(&c, &first).await;
            assert!(offered(&c, &post, &on_laptop.user));
            set(&c, &post, &on_laptop, true, Some(&laptop))
                .await
                .unwrap();
            assert_eq!(inspect::of(&db, &t.id, &ada).await.len(), 1);

            // The browser it was turned on in is known; a new one brings the notice, once.
            assert_eq!(link_sign_in(&c, &post, &ada, &laptop).await.notice, None);
            let later = from_berlin(ctx(&db, &snap, NOW + 60));
            let notice = link_sign_in(&later, &post, &ada, &phone)
                .await
                .notice
                .expect("a notice for the phone");
            assert_eq!(link_sign_in(&later, &post, &ada, &phone).await.notice, None);

            assert_eq!(notice.mail.kind, MailKind::NewDeviceSignIn);
            assert_eq!(notice.envelope.to, ["ada@example.com"]);
            assert_eq!(notice.user_id.as_deref(), Some(ada.as_str()));
            let parsed = MessageParser::default().parse(&notice.message).unwrap();
            assert!(
                parsed.bcc().is_none(),
                "the user agent stays out of the headers"
            );
            let text = parsed.body_text(0).unwrap();
            for fact in [
                &crate::ui::when::date_time(NOW + 60),
                "Firefox on Linux",
                "Berlin, DE",
                "192.0.2.7",
                "with a one-time sign-in link",
                &format!("{}/account", later.issuer),
            ] {
                assert!(text.contains(fact), "{fact} in {text}");
            }
            assert!(
                !text.contains("evil.test"),
                "the browser is named, not quoted"
            );

            // Turned off: no more notices, from any browser.
            set(&c, &post, &on_laptop, false, Some(&laptop))
                .await
                .unwrap();
            let kiosk = browser("kiosk");
            assert_eq!(link_sign_in(&c, &post, &ada, &kiosk).await.notice, None);
            let changes: Vec<_> = testing::audit_events(&db, &t.id)
                .await
                .into_iter()
                .filter(|(e, ..)| e == "sign_in_notices_changed")
                .map(|(_, user, details)| (user, details["on"].clone()))
                .collect();
            assert_eq!(
                changes,
                [
                    (Some(ada.clone()), serde_json::json!(true)),
                    (Some(ada.clone()), serde_json::json!(false))
                ]
            );
        });
    }

    #[test]
    fn notices_are_offered_only_with_an_address_and_a_mail_server() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = snapshot(&t);
            let c = ctx(&db, &snap, NOW);
            let post = testing::mail::unused_post();
            let ada = user(&db, &t.id, "ada", false).await;
            let started = link_sign_in(&c, &post, &ada, &browser("laptop")).await;
            let mut session = session_of(&c, &started).await;

            let no_server = Post {
                operator_default: None,
                ..post.clone()
            };
            assert!(!offered(&c, &no_server, &session.user));
            let refused = set(&c, &no_server, &session, true, None).await;
            assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");

            session.user.email = None;
            assert!(!offered(&c, &post, &session.user));
            assert!(set(&c, &post, &session, true, None).await.is_err());
            // Turning them off always works.
            set(&c, &post, &session, false, None).await.unwrap();
            assert!(inspect::of(&db, &t.id, &ada).await.is_empty());
        });
    }
}
