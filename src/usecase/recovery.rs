//! Getting back in without a passkey: recovery codes (a tenant option). A person makes a set of
//! ten on their account page (shown once, stored hashed) and signs in with one when every
//! passkey is gone; the session then asks them to add a passkey. Every step is audited.

use serde_json::json;

use super::email::Post;
use super::sessions::{self, Started};
use super::signin::entry;
use super::Ctx;
use crate::account::recovery_codes;
use crate::error::{Error, Result};
use crate::oidc::amr::SignInMethod;
use crate::storage::audit::{self, When};
use crate::storage::recovery_codes::{self as stored, CodeSetStatus, RecoveryCodeUse};
use crate::storage::sessions::{Proof, SessionWithUser, SignIn};

/// Why a recovery code did not sign anyone in. One message for all: telling "unknown" from
/// "used" would confirm to someone guessing that a code once existed.
const REFUSED: &str = "That recovery code doesn't work: it may be mistyped or already used.";

fn enabled(ctx: &Ctx<'_>) -> Result<()> {
    if ctx.tenant.tenant.settings.recovery_codes {
        Ok(())
    } else {
        Err(Error::NotFound(
            "Recovery codes are not used here. This page".into(),
        ))
    }
}

/// Whether the tenant lets people use recovery codes.
pub fn offered(ctx: &Ctx<'_>) -> bool {
    enabled(ctx).is_ok()
}

/// How many of the person's codes are left (none made yet: zero and no date).
pub async fn status(ctx: &Ctx<'_>, session: &SessionWithUser) -> Result<CodeSetStatus> {
    stored::status(ctx.db, ctx.tenant_id(), &session.user.id).await
}

/// Makes a new set of codes for the signed-in person, replacing the old set; returns the codes
/// in the clear, the only time they exist outside the person's hands.
pub async fn create_codes(ctx: &Ctx<'_>, session: &SessionWithUser) -> Result<Vec<String>> {
    enabled(ctx)?;
    let codes = recovery_codes::generate();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| {
            let canonical = recovery_codes::normalize(c).expect("generated codes are canonical");
            recovery_codes::hash(ctx.tenant_id(), &canonical)
        })
        .collect();
    let recorded = entry(
        ctx,
        "recovery_codes_created",
        Some(&session.user.id),
        json!({ "count": codes.len() }),
        When::PreviousChanged,
    )?;
    stored::replace(
        ctx.db,
        ctx.tenant_id(),
        &session.user.id,
        &hashes,
        ctx.now,
        recorded,
    )
    .await?;
    Ok(codes)
}

/// Signs in with a recovery code, using it up: of concurrent uses exactly one signs in.
/// Refused alike when the code is malformed, unknown, used, or its account disabled.
/// `browser_id` is the browser it happens in (for sign-in notices).
pub async fn sign_in(ctx: &Ctx<'_>, post: &Post, typed: &str, browser_id: &str) -> Result<Started> {
    enabled(ctx)?;
    let Some(canonical) = recovery_codes::normalize(typed) else {
        return Err(Error::BadRequest(
            "A recovery code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS.".into(),
        ));
    };
    let code_hash = recovery_codes::hash(ctx.tenant_id(), &canonical);
    let Some(user_id) = owner(ctx, &code_hash).await? else {
        return Err(refuse(ctx, None, "unknown or used code").await);
    };
    let session =
        sessions::new_session(ctx, &user_id, SignInMethod::RecoveryCode).in_browser(browser_id);
    let hash = session.id_hash();
    let signed_in = crate::storage::sessions::create(
        ctx.db,
        ctx.tenant_id(),
        SignIn {
            proof: Proof::RecoveryCode(RecoveryCodeUse {
                code_hash: &code_hash,
            }),
            recorded: vec![entry(
                ctx,
                "sign_in",
                Some(&user_id),
                json!({ "method": "recovery_code" }),
                When::SessionCreated(&hash),
            )?],
            ..SignIn::plain(&session)
        },
    )
    .await?;
    if !signed_in.created {
        // Used meanwhile by a concurrent request, or the account was disabled.
        return Err(refuse(ctx, Some(&user_id), "used concurrently or account disabled").await);
    }
    sessions::signed_in(ctx, post, session, &signed_in).await
}

/// The owner of an unused code: from a replica, and from the primary when the replica has not
/// seen it (a set made a moment ago). The sign-in batch re-checks it on the primary.
async fn owner(ctx: &Ctx<'_>, code_hash: &str) -> Result<Option<String>> {
    let reader = ctx.reader();
    let found = stored::owner(&reader, ctx.tenant_id(), code_hash).await?;
    if found.is_none() && reader.is_replica() {
        return stored::owner(ctx.db, ctx.tenant_id(), code_hash).await;
    }
    Ok(found)
}

/// Audits a refused recovery sign-in and returns what the person sees.
async fn refuse(ctx: &Ctx<'_>, user_id: Option<&str>, why: &str) -> Error {
    let written = async {
        let refused = entry(
            ctx,
            "sign_in_failed",
            user_id,
            json!({ "method": "recovery_code", "reason": why }),
            When::Always,
        )?;
        audit::record(ctx.db, refused).await
    };
    match written.await {
        Ok(()) => Error::Forbidden(REFUSED.into()),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::inspection::{audit_events, set_disabled};
    use crate::tenancy::TenantSnapshot;
    use crate::testing::{ctx, db, run, snapshot, tenant, user, NOW};

    fn allowing(t: &crate::tenancy::Tenant) -> TenantSnapshot {
        let mut s = snapshot(t);
        s.tenant.settings.recovery_codes = true;
        s
    }

    async fn signed_in(c: &Ctx<'_>, user_id: &str) -> SessionWithUser {
        let id = crate::testing::session(c.db, c.tenant_id(), user_id, c.now).await;
        sessions::current(c, Some(&id)).await.unwrap().unwrap()
    }

    fn refused_alike(result: Result<Started>) {
        match result {
            Err(Error::Forbidden(m)) => assert_eq!(m, REFUSED),
            other => panic!("expected the one refusal, got {other:?}"),
        }
    }

    #[test]
    fn each_code_signs_its_owner_in_once_and_a_new_set_retires_the_old() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let snap = allowing(&t);
            let c = ctx(&db, &snap, NOW);
            let session = signed_in(&c, &ada).await;
            let codes = create_codes(&c, &session).await.unwrap();
            assert_eq!(codes.len(), 10);
            assert_eq!(status(&c, &session).await.unwrap().unused, 10);

            // Typed in lower case with spaces: still the code.
            let typed = codes[0].to_lowercase().replace('-', " ");
            let started = sign_in(&c, &crate::testing::mail::unused_post(), &typed, "")
                .await
                .unwrap();
            let new = sessions::current(&c, Some(&started.id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(new.user.id, ada);
            assert_eq!(status(&c, &session).await.unwrap().unused, 9);
            refused_alike(sign_in(&c, &crate::testing::mail::unused_post(), &codes[0], "").await);

            let fresh = create_codes(&c, &session).await.unwrap();
            refused_alike(sign_in(&c, &crate::testing::mail::unused_post(), &codes[1], "").await);
            assert!(
                sign_in(&c, &crate::testing::mail::unused_post(), &fresh[1], "")
                    .await
                    .is_ok()
            );

            let events: Vec<_> = audit_events(&db, &t.id)
                .await
                .into_iter()
                .filter(|(e, _, d)| e.starts_with("recovery") || d["method"] == "recovery_code")
                .map(|(e, _, d)| format!("{e}:{}", d["reason"].as_str().unwrap_or("")))
                .collect();
            assert_eq!(
                events,
                [
                    "recovery_codes_created:",
                    "sign_in:",
                    "sign_in_failed:unknown or used code",
                    "recovery_codes_created:",
                    "sign_in_failed:unknown or used code",
                    "sign_in:",
                ]
            );
        });
    }

    #[test]
    fn a_code_of_another_tenant_or_a_disabled_account_signs_no_one_in_and_is_not_burned() {
        let db = db();
        run(async {
            let acme = tenant(&db, "acme").await;
            let beta = tenant(&db, "beta").await;
            let ada = user(&db, &acme.id, "ada", false).await;
            let (a, b) = (allowing(&acme), allowing(&beta));
            let (ca, cb) = (ctx(&db, &a, NOW), ctx(&db, &b, NOW));
            let session = signed_in(&ca, &ada).await;
            let codes = create_codes(&ca, &session).await.unwrap();

            refused_alike(sign_in(&cb, &crate::testing::mail::unused_post(), &codes[0], "").await);
            set_disabled(&db, &ada, true).await;
            refused_alike(sign_in(&ca, &crate::testing::mail::unused_post(), &codes[0], "").await);
            set_disabled(&db, &ada, false).await;
            assert!(
                sign_in(&ca, &crate::testing::mail::unused_post(), &codes[0], "")
                    .await
                    .is_ok(),
                "the refusals left it usable"
            );
        });
    }

    #[test]
    fn a_tenant_without_recovery_codes_offers_none() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let on = allowing(&t);
            let codes = {
                let c = ctx(&db, &on, NOW);
                create_codes(&c, &signed_in(&c, &ada).await).await.unwrap()
            };
            let off = snapshot(&t);
            let c = ctx(&db, &off, NOW);
            assert!(matches!(
                sign_in(&c, &crate::testing::mail::unused_post(), &codes[0], "").await,
                Err(Error::NotFound(_))
            ));
            let session = signed_in(&c, &ada).await;
            assert!(matches!(
                create_codes(&c, &session).await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn malformed_input_is_explained_without_a_lookup() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let snap = allowing(&t);
            let c = ctx(&db, &snap, NOW);
            match sign_in(&c, &crate::testing::mail::unused_post(), "hunter2", "").await {
                Err(Error::BadRequest(m)) => assert!(m.contains("16 letters"), "{m}"),
                other => panic!("{other:?}"),
            }
            assert!(audit_events(&db, &t.id)
                .await
                .iter()
                .all(|(e, _, _)| e != "sign_in_failed"));
        });
    }

    /// Two requests that both read the code as unused (the owner lookup) before either batch
    /// ran: the batch that comes second creates no session.
    #[test]
    fn of_two_uses_that_both_saw_the_code_unused_only_the_first_batch_signs_in() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let snap = allowing(&t);
            let c = ctx(&db, &snap, NOW);
            let codes = create_codes(&c, &signed_in(&c, &ada).await).await.unwrap();
            let canonical = recovery_codes::normalize(&codes[3]).unwrap();
            let code_hash = recovery_codes::hash(&t.id, &canonical);
            assert_eq!(owner(&c, &code_hash).await.unwrap().as_deref(), Some(&*ada));
            let mut created = Vec::new();
            for _ in 0..2 {
                let session = sessions::new_session(&c, &ada, SignInMethod::RecoveryCode);
                let done = crate::storage::sessions::create(
                    &db,
                    &t.id,
                    SignIn {
                        proof: Proof::RecoveryCode(RecoveryCodeUse {
                            code_hash: &code_hash,
                        }),
                        ..SignIn::plain(&session)
                    },
                )
                .await
                .unwrap();
                created.push(done.created);
            }
            assert_eq!(created, [true, false]);
        });
    }
}
