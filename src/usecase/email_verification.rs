//! Verifying a person's email address (issue 16 part 2d): from the account page they ask for a
//! link; the mail carries it; the page it opens has a button (mail scanners' GETs spend
//! nothing) whose POST sets `email_verified`.
//!
//! * The link lives [`LINK_TTL_SECS`], works once, and only its hash is stored.
//! * It is bound to the user and to the address it was sent to: if the address changed since
//!   (which resets `email_verified`, `storage::users::update_profile`), it verifies nothing.
//! * Audited: `email_verification_sent`, `email_verified`.

use serde_json::json;

use super::email::{self as mail, Delivery, Post};
use super::Ctx;
use crate::crypto::hash::secret_hash;
use crate::email::config;
use crate::email::message::{self, MailKind};
use crate::error::{Error, Result};
use crate::storage::audit::{self, When};
use crate::storage::email_verifications;
use crate::storage::sessions::SessionWithUser;

/// How long a verification link works.
pub const LINK_TTL_SECS: i64 = 24 * 3600;

/// Whether the tenant can send mail (its own server, else the operator's default): the
/// account page offers "Verify" only then.
pub fn mail_usable(ctx: &Ctx<'_>, post: &Post) -> bool {
    config::resolve(
        ctx.tenant.tenant.settings.smtp.as_ref(),
        ctx.tenant_id(),
        &post.master,
        post.operator_default.as_ref(),
    )
    .is_ok()
}

/// The link's hash as stored (domain-separated from other hashed secrets).
fn token_hash(token: &str) -> String {
    secret_hash(&format!("verify-email:{token}"))
}

/// Writes a link for the person's current address and returns the mail to send after the
/// response. Conflict when they have no address or it is verified already; when no server is
/// usable, the failure is audited and the person told.
pub async fn send(ctx: &Ctx<'_>, post: &Post, session: &SessionWithUser) -> Result<Delivery> {
    let user = &session.user;
    let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) else {
        return Err(Error::Conflict(
            "Your account has no email address to verify.".into(),
        ));
    };
    if user.email_verified {
        return Err(Error::Conflict(
            "Your email address is verified already.".into(),
        ));
    }
    let token = crate::crypto::random::token();
    let url = format!("{}/verify-email/{token}", ctx.issuer);
    let name = user.full_name();
    let body = message::verification_mail(
        &mail::brand(&ctx.tenant.tenant, ctx.issuer),
        email,
        Some(&name),
        &url,
        LINK_TTL_SECS / 3600,
    );
    let delivery = match mail::prepare(
        &ctx.tenant.tenant,
        ctx.issuer,
        post,
        &body,
        Some(&user.id),
        &ctx.origin,
        ctx.now,
    ) {
        Ok(d) => d,
        Err(problem) => {
            mail::record_failure(
                ctx.db,
                ctx.tenant_id(),
                MailKind::EmailVerification,
                Some(&user.id),
                &ctx.origin,
                &(&problem).into(),
                ctx.now,
            )
            .await?;
            return Err(Error::Conflict(
                "This site can't send email right now. Ask an administrator.".into(),
            ));
        }
    };
    let entry = audit::insert_statement(
        ctx.db,
        ctx.tenant_id(),
        "email_verification_sent",
        Some(&user.id),
        None,
        &ctx.origin,
        &json!({ "email": email }),
        ctx.now,
    )?;
    email_verifications::create(
        ctx.db,
        ctx.tenant_id(),
        &user.id,
        email,
        &token_hash(&token),
        ctx.now,
        ctx.now + LINK_TTL_SECS,
        entry,
    )
    .await?;
    Ok(delivery)
}

/// Whether the link would verify an address now (the page with the button); spends nothing.
pub async fn link_works(ctx: &Ctx<'_>, token: &str) -> Result<bool> {
    Ok(
        email_verifications::usable(ctx.db, ctx.tenant_id(), &token_hash(token), ctx.now)
            .await?
            .is_some(),
    )
}

/// Spends the link and marks the address verified. Not found when the link is unknown,
/// expired, used, or its user's address is no longer the one it was sent to.
pub async fn verify(ctx: &Ctx<'_>, token: &str) -> Result<()> {
    let gone = || {
        Error::NotFound(
            "This verification link has expired, was already used, or is for an address your \
             account no longer has. It"
                .into(),
        )
    };
    let hash = token_hash(token);
    let pending = email_verifications::usable(ctx.db, ctx.tenant_id(), &hash, ctx.now)
        .await?
        .ok_or_else(gone)?;
    let entry = audit::insert_when_statement(
        ctx.db,
        ctx.tenant_id(),
        "email_verified",
        Some(&pending.user_id),
        None,
        &ctx.origin,
        &json!({ "email": pending.email, "by": "self" }),
        ctx.now,
        When::PreviousChanged,
    )?;
    if email_verifications::consume(ctx.db, ctx.tenant_id(), &hash, ctx.now, entry).await? {
        Ok(())
    } else {
        Err(gone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::ProfileInput;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::{self, ctx, db, run, snapshot, tenant, user, NOW};
    use crate::usecase::{account, sessions};

    async fn signed_in(c: &Ctx<'_>, user_id: &str) -> SessionWithUser {
        let session =
            sessions::new_session(c, user_id, crate::oidc::amr::SignInMethod::OneTimeLink);
        crate::storage::sessions::create(
            c.db,
            c.tenant_id(),
            crate::storage::sessions::SignIn::plain(&session),
        )
        .await
        .unwrap();
        sessions::current(c, Some(&session.id))
            .await
            .unwrap()
            .unwrap()
    }

    async fn acme(db: &Db) -> TenantSnapshot {
        let mut t = tenant(db, "acme").await;
        t.settings.user_editable_fields = vec!["email".into()];
        snapshot(&t)
    }

    /// The link's token, read back from the MIME like a mail client would.
    fn token_in(delivery: &Delivery) -> String {
        let parsed = mail_parser::MessageParser::default()
            .parse(&delivery.message)
            .unwrap();
        let text = parsed.body_text(0).unwrap();
        let at = text.find("/verify-email/").expect("a link in the mail");
        text[at + "/verify-email/".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    async fn verified(db: &Db, tid: &str, user_id: &str) -> bool {
        crate::storage::users::find(db, tid, user_id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    }

    fn events(all: &[(String, Option<String>, serde_json::Value)], name: &str) -> usize {
        all.iter().filter(|(e, ..)| e == name).count()
    }

    #[test]
    fn a_link_verifies_its_users_address_once() {
        run(async {
            let db = db();
            let snap = acme(&db).await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let post = testing::mail::post(1);
            assert!(mail_usable(&c, &post));
            let ada = user(&db, &tid, "ada", false).await;
            let s = signed_in(&c, &ada).await;
            let delivery = send(&c, &post, &s).await.unwrap();
            assert_eq!(delivery.envelope.to, ["ada@example.com"]);
            let token = token_in(&delivery);
            assert!(link_works(&c, &token).await.unwrap());
            assert!(!verified(&db, &tid, &ada).await);
            verify(&c, &token).await.unwrap();
            assert!(verified(&db, &tid, &ada).await);
            // Single use.
            assert!(!link_works(&c, &token).await.unwrap());
            assert!(matches!(verify(&c, &token).await, Err(Error::NotFound(_))));
            let all = testing::audit_events(&db, &tid).await;
            assert_eq!(events(&all, "email_verification_sent"), 1);
            assert_eq!(events(&all, "email_verified"), 1, "{all:?}");
            // Verified now: nothing more to send.
            let s = signed_in(&c, &ada).await;
            assert!(matches!(send(&c, &post, &s).await, Err(Error::Conflict(_))));
        });
    }

    #[test]
    fn a_link_for_an_address_changed_meanwhile_verifies_nothing() {
        run(async {
            let db = db();
            let snap = acme(&db).await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let post = testing::mail::post(1);
            let ada = user(&db, &tid, "ada", false).await;
            let s = signed_in(&c, &ada).await;
            let token = token_in(&send(&c, &post, &s).await.unwrap());
            let input: ProfileInput =
                serde_json::from_value(serde_json::json!({ "email": "ada@elsewhere.test" }))
                    .unwrap();
            account::update_profile(&c, &s, &input).await.unwrap();
            assert!(!link_works(&c, &token).await.unwrap());
            assert!(matches!(verify(&c, &token).await, Err(Error::NotFound(_))));
            assert!(!verified(&db, &tid, &ada).await);
            let all = testing::audit_events(&db, &tid).await;
            assert_eq!(events(&all, "email_verified"), 0);
        });
    }

    #[test]
    fn a_verified_address_changed_by_its_owner_is_unverified() {
        run(async {
            let db = db();
            let snap = acme(&db).await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            let s = signed_in(&c, &ada).await;
            let token = token_in(&send(&c, &testing::mail::post(1), &s).await.unwrap());
            verify(&c, &token).await.unwrap();
            let s = signed_in(&c, &ada).await;
            let input: ProfileInput =
                serde_json::from_value(serde_json::json!({ "email": "ada@new.test" })).unwrap();
            account::update_profile(&c, &s, &input).await.unwrap();
            assert!(!verified(&db, &tid, &ada).await);
        });
    }

    #[test]
    fn an_expired_or_unknown_link_or_another_tenants_verifies_nothing() {
        run(async {
            let db = db();
            let snap = acme(&db).await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let ada = user(&db, &tid, "ada", false).await;
            let s = signed_in(&c, &ada).await;
            let token = token_in(&send(&c, &testing::mail::post(1), &s).await.unwrap());
            // Another user's token is just a token: it verifies its own user, never the
            // presenter, and an unknown one nothing.
            assert!(matches!(
                verify(&c, "not-a-token").await,
                Err(Error::NotFound(_))
            ));
            // Another tenant's host.
            let other = snapshot(&tenant(&db, "globex").await);
            let g = ctx(&db, &other, NOW);
            assert!(matches!(verify(&g, &token).await, Err(Error::NotFound(_))));
            // Expired.
            let later = ctx(&db, &snap, NOW + LINK_TTL_SECS);
            assert!(!link_works(&later, &token).await.unwrap());
            assert!(matches!(
                verify(&later, &token).await,
                Err(Error::NotFound(_))
            ));
            assert!(!verified(&db, &tid, &ada).await);
            // Still good just before.
            let just = ctx(&db, &snap, NOW + LINK_TTL_SECS - 1);
            verify(&just, &token).await.unwrap();
            assert!(verified(&db, &tid, &ada).await);
        });
    }

    #[test]
    fn another_users_link_verifies_only_that_user() {
        run(async {
            let db = db();
            let snap = acme(&db).await;
            let c = ctx(&db, &snap, NOW);
            let tid = c.tenant_id().to_string();
            let post = testing::mail::post(1);
            let ada = user(&db, &tid, "ada", false).await;
            let bob = user(&db, &tid, "bob", false).await;
            let bob_token = token_in(&send(&c, &post, &signed_in(&c, &bob).await).await.unwrap());
            send(&c, &post, &signed_in(&c, &ada).await).await.unwrap();
            verify(&c, &bob_token).await.unwrap();
            assert!(verified(&db, &tid, &bob).await);
            assert!(!verified(&db, &tid, &ada).await);
        });
    }
}
