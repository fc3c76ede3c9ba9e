//! Browser sessions: finding the one a cookie names, starting one (every way of signing in
//! ends here: a passkey, a one-time link, a sign-up) and ending it.
//!
//! The cookie holds a random 256-bit id (43 base64url characters); the database holds only
//! its hash, so a database leak does not yield live sessions.

use super::backchannel::{self, LogoutQueue, Logouts};
use super::email::{Delivery, Post};
use super::Ctx;
use crate::crypto::random;
use crate::error::Result;
use crate::oidc::amr::SignInMethod;
use crate::storage::grants::{self, SessionEnd};
use crate::storage::sessions::{self, NewSession, SessionWithUser, SignedIn};

/// A session that was just created: what the HTTP layer puts in the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The cookie's value.
    pub id: String,
    /// Seconds the session lives (the cookie's Max-Age).
    pub max_age: i64,
    /// The sign-in notice to send after the response: the person turned them on and this
    /// browser was new to them (`usecase::sign_in_notice`). Boxed: rare, and large.
    pub notice: Option<Box<Delivery>>,
}

/// The live session a cookie value names, with its enabled user; `None` for a missing or
/// malformed value, an unknown, expired or ended session, or a disabled account.
pub async fn current(ctx: &Ctx<'_>, cookie: Option<&str>) -> Result<Option<SessionWithUser>> {
    match cookie {
        Some(id) if id.len() == 43 => sessions::find(ctx.db, ctx.tenant_id(), id, ctx.now).await,
        _ => Ok(None),
    }
}

/// A new session for `user_id` signed in by `method`, living as long as the tenant's settings
/// say, from where the request came; to be created by a storage operation together with what
/// it records.
pub(crate) fn new_session(ctx: &Ctx<'_>, user_id: &str, method: SignInMethod) -> NewSession {
    NewSession {
        method,
        id: random::token(),
        user_id: user_id.to_string(),
        created_at: ctx.now,
        expires_at: ctx.now + lifetime(ctx),
        ip: ctx.origin.ip.clone(),
        user_agent: ctx.origin.user_agent.clone(),
        browser_hash: None,
    }
}

fn lifetime(ctx: &Ctx<'_>) -> i64 {
    ctx.tenant.tenant.settings.session_lifetime_secs as i64
}

/// What the HTTP layer needs of a session created from [`new_session`].
pub(crate) fn started(ctx: &Ctx<'_>, session: NewSession) -> Started {
    Started {
        id: session.id,
        max_age: lifetime(ctx),
        notice: None,
    }
}

/// [`started`] for a sign-in whose batch created the session: with the sign-in notice when
/// the batch says one is due (the person has them on, the browser was new to them).
pub(crate) async fn signed_in(
    ctx: &Ctx<'_>,
    post: &Post,
    session: NewSession,
    batch: &SignedIn,
) -> Result<Started> {
    let notice = match &batch.notify {
        Some(user) => super::sign_in_notice::delivery(ctx, post, user, session.method).await?,
        None => None,
    };
    Ok(Started {
        notice: notice.map(Box::new),
        ..started(ctx, session)
    })
}

/// Signs out of this session (other browsers of the same person stay signed in): deletes it
/// and revokes the grants issued through it in one batch, then queues back-channel logout
/// tokens for the clients that held them. The account page's "Sign out" and RP-initiated
/// logout end a session the same way, so an app's tokens never outlive the session they
/// came from.
pub async fn sign_out(
    ctx: &Ctx<'_>,
    session: &SessionWithUser,
    queue: &dyn LogoutQueue,
) -> Result<()> {
    let targets = grants::end_session(
        ctx.db,
        &SessionEnd {
            tenant_id: ctx.tenant_id(),
            session_id_hash: &session.id_hash,
            user_id: &session.user.id,
            origin: &ctx.origin,
            now: ctx.now,
        },
    )
    .await?;
    let logouts = Logouts {
        queue,
        issuer: ctx.issuer,
    };
    backchannel::notify(
        ctx.db,
        &logouts,
        ctx.tenant_id(),
        &targets,
        &ctx.origin,
        ctx.now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    const PASSKEY: SignInMethod = SignInMethod::Passkey { synced: false };
    use crate::testing::{self, db, run, tenant, user, NOW};
    use crate::testing::{ctx as ctx_for, snapshot};

    #[test]
    fn a_session_lives_until_it_expires_and_only_for_an_enabled_user() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let snap = snapshot(&t);
            let ctx = ctx_for(&db, &snap, NOW);
            let session = new_session(&ctx, &ada, PASSKEY);
            assert!(
                sessions::create(
                    &db,
                    &t.id,
                    crate::storage::sessions::SignIn::plain(&session)
                )
                .await
                .unwrap()
                .created
            );
            let started = started(&ctx, session);
            assert_eq!(
                started.max_age,
                snap.tenant.settings.session_lifetime_secs as i64
            );
            let found = current(&ctx, Some(&started.id)).await.unwrap().unwrap();
            assert_eq!(found.user.id, ada);
            assert_eq!(found.auth_time, NOW);
            assert_eq!(found.expires_at, NOW + started.max_age);

            // Malformed and unknown values find nothing (and a malformed one costs no query).
            let trips = db.round_trips();
            assert!(current(&ctx, Some("short")).await.unwrap().is_none());
            assert!(current(&ctx, None).await.unwrap().is_none());
            assert_eq!(db.round_trips(), trips);
            assert!(current(&ctx, Some(&random::token()))
                .await
                .unwrap()
                .is_none());

            // Another tenant does not know it.
            let beta = tenant(&db, "beta").await;
            let beta_snap = snapshot(&beta);
            let beta_ctx = ctx_for(&db, &beta_snap, NOW);
            assert!(current(&beta_ctx, Some(&started.id))
                .await
                .unwrap()
                .is_none());

            // The last second it lives, and the first it does not.
            let end = NOW + started.max_age;
            let before_end = ctx_for(&db, &snap, end - 1);
            assert!(current(&before_end, Some(&started.id))
                .await
                .unwrap()
                .is_some());
            let at_end = ctx_for(&db, &snap, end);
            assert!(current(&at_end, Some(&started.id)).await.unwrap().is_none());

            // A disabled account's session finds nothing, and comes back with the account.
            testing::set_disabled(&db, &ada, true).await;
            assert!(current(&ctx, Some(&started.id)).await.unwrap().is_none());
            testing::set_disabled(&db, &ada, false).await;
            assert!(current(&ctx, Some(&started.id)).await.unwrap().is_some());
        });
    }

    #[test]
    fn a_disabled_account_gets_no_session() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            testing::set_disabled(&db, &ada, true).await;
            let snap = snapshot(&t);
            let ctx = ctx_for(&db, &snap, NOW);
            let session = new_session(&ctx, &ada, PASSKEY);
            assert!(
                !sessions::create(
                    &db,
                    &t.id,
                    crate::storage::sessions::SignIn::plain(&session)
                )
                .await
                .unwrap()
                .created
            );
            assert_eq!(testing::count_rows(&db, "sessions", &t.id).await, 0);
        });
    }

    #[test]
    fn signing_out_ends_this_session_only_and_everywhere_ends_them_all() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let bob = user(&db, &t.id, "bob", false).await;
            let snap = snapshot(&t);
            let ctx = ctx_for(&db, &snap, NOW);
            let mut ids = Vec::new();
            for who in [&ada, &ada, &bob] {
                let session = new_session(&ctx, who, PASSKEY);
                assert!(
                    sessions::create(
                        &db,
                        &t.id,
                        crate::storage::sessions::SignIn::plain(&session)
                    )
                    .await
                    .unwrap()
                    .created
                );
                ids.push(session.id);
            }
            let laptop = current(&ctx, Some(&ids[0])).await.unwrap().unwrap();
            sign_out(
                &ctx,
                &laptop,
                &crate::usecase::backchannel::recording::DiscardingQueue,
            )
            .await
            .unwrap();
            assert!(current(&ctx, Some(&ids[0])).await.unwrap().is_none());
            assert!(current(&ctx, Some(&ids[1])).await.unwrap().is_some());

            // Everywhere (the admin API's sign-out, and disabling an account).
            let admin = crate::testing::admin_ctx(&db, &t.id, crate::usecase::Actor::Operator);
            crate::usecase::users::sign_out_everywhere(
                &admin,
                &ada,
                &crate::usecase::backchannel::recording::NOWHERE,
            )
            .await
            .unwrap();
            assert!(current(&ctx, Some(&ids[1])).await.unwrap().is_none());
            assert!(
                current(&ctx, Some(&ids[2])).await.unwrap().is_some(),
                "another user's session stays"
            );
            assert_eq!(
                crate::storage::users::sessions_of(&db, &t.id, &bob, NOW)
                    .await
                    .unwrap()
                    .len(),
                1
            );
            assert!(crate::storage::users::sessions_of(&db, &t.id, &ada, NOW)
                .await
                .unwrap()
                .is_empty());
        });
    }
}
