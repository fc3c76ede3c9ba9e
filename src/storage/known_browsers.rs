//! The browsers a person with sign-in notices has signed in from, so a sign-in from any other
//! one can be mailed to them (issue 16 part 2c).
//!
//! A browser is its `eid_browser` cookie (a long-lived random id; no fingerprinting). Only a
//! hash of it is stored, and only for people who turned the notices on: a browser is recorded
//! by the sign-in batch itself ([`sign_in_statements`], no extra round trip) and by turning the
//! notices on ([`set_notices`], which records the browser it was done in).

use super::db::{rows, Db, QueryResult, Statement};
use super::users::{UserRow, USER_COLUMNS};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

/// The stored form of a browser id (domain-separated from the other hashes of the same id).
pub fn hash(browser_id: &str) -> String {
    secret_hash(&format!("known-browser:{browser_id}"))
}

/// The statements that join a sign-in batch (after the session's insert) for a session started
/// in the browser `browser_hash`: when the session was created and its user has the notices on,
/// the browser is recorded (or its `last_seen_at` bumped); the middle statement returns the
/// user exactly when this sign-in recorded the browser for the first time (read the outcome
/// with [`notice_from`]). Nothing is written for a refused sign-in or a person without notices.
pub(super) fn sign_in_statements(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    browser_hash: &str,
    session_hash: &str,
    now: i64,
) -> Result<Vec<Statement>> {
    let created =
        "EXISTS (SELECT 1 FROM sessions WHERE id_hash = ?5 AND tenant_id = ?1 AND user_id = ?2)";
    let args = || params![tenant_id, user_id, browser_hash, now, session_hash];
    Ok(vec![
        // DO NOTHING on a known browser, so this statement changes a row only for a new one.
        db.statement(
            &format!(
                "INSERT INTO known_browsers (tenant_id, user_id, browser_hash, first_seen_at, last_seen_at) \
                 SELECT ?1, ?2, ?3, ?4, ?4 WHERE {created} AND EXISTS (SELECT 1 FROM users \
                 WHERE id = ?2 AND tenant_id = ?1 AND sign_in_notices = 1) \
                 ON CONFLICT (tenant_id, user_id, browser_hash) DO NOTHING"
            ),
            args(),
        )?,
        // `changes()` is the insert's: the statement just before, in the same transaction.
        db.statement(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = ?2 AND tenant_id = ?1 AND changes() = 1"
            ),
            params![tenant_id, user_id],
        )?,
        db.statement(
            &format!(
                "UPDATE known_browsers SET last_seen_at = ?4 \
                 WHERE tenant_id = ?1 AND user_id = ?2 AND browser_hash = ?3 AND {created}"
            ),
            args(),
        )?,
    ])
}

/// The user to send a notice to, from the result of [`sign_in_statements`]' middle statement:
/// they have the notices on and the sign-in's browser was new to them.
pub(super) fn notice_from(result: &QueryResult) -> Result<Option<UserRow>> {
    Ok(rows::<UserRow>(result)?.into_iter().next())
}

/// Turns the person's sign-in notices on (recording `browser_hash`, the browser they did it in,
/// as known: it must not trigger a notice) or off (forgetting their browsers: nothing is kept
/// that the notices no longer need), with `entry` (the audit entry) in the same transaction.
/// False when the user is gone from the tenant.
pub async fn set_notices(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    on: bool,
    browser_hash: Option<&str>,
    now: i64,
    entry: Statement,
) -> Result<bool> {
    let mut statements = vec![
        db.statement(
            "UPDATE users SET sign_in_notices = ?3, updated_at = ?4 WHERE id = ?2 AND tenant_id = ?1",
            params![tenant_id, user_id, on, now],
        )?,
        entry,
    ];
    match (on, browser_hash) {
        (true, Some(browser)) => statements.push(db.statement(
            "INSERT INTO known_browsers (tenant_id, user_id, browser_hash, first_seen_at, last_seen_at) \
             SELECT ?1, ?2, ?3, ?4, ?4 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND tenant_id = ?1) \
             ON CONFLICT (tenant_id, user_id, browser_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at",
            params![tenant_id, user_id, browser, now],
        )?),
        (true, None) => {}
        (false, _) => statements.push(db.statement(
            "DELETE FROM known_browsers WHERE tenant_id = ?1 AND user_id = ?2",
            params![tenant_id, user_id],
        )?),
    }
    let results = db.batch(statements).await?;
    Ok(super::db::changes(&results[0]) == 1)
}

#[cfg(test)]
pub(crate) mod inspect {
    //! What tests read back: the browsers recorded for a person.
    use super::*;

    crate::from_row! {
        struct Row {
            browser_hash: String,
            first_seen_at: i64,
            last_seen_at: i64,
        }
    }

    /// `(browser_hash, first_seen_at, last_seen_at)` of the person's known browsers.
    pub async fn of(db: &Db, tenant_id: &str, user_id: &str) -> Vec<(String, i64, i64)> {
        let results = db
            .batch(vec![db
                .statement(
                    "SELECT browser_hash, first_seen_at, last_seen_at FROM known_browsers \
                     WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY first_seen_at, browser_hash",
                    params![tenant_id, user_id],
                )
                .unwrap()])
            .await
            .unwrap();
        rows::<Row>(&results[0])
            .unwrap()
            .into_iter()
            .map(|r| (r.browser_hash, r.first_seen_at, r.last_seen_at))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::amr::SignInMethod;
    use crate::storage::audit::Origin;
    use crate::storage::sessions::{create, NewSession, SignIn};
    use crate::testing::{self, db, run, tenant, user, NOW};

    fn session(user_id: &str, browser: &str, at: i64) -> NewSession {
        NewSession {
            method: SignInMethod::OneTimeLink,
            id: crate::crypto::random::token(),
            user_id: user_id.to_string(),
            created_at: at,
            expires_at: at + 3600,
            ip: None,
            user_agent: None,
            browser_hash: None,
        }
        .in_browser(browser)
    }

    /// Signs `user_id` in from `browser` at `at`: (session created, the user to notify).
    async fn sign_in(
        db: &Db,
        tenant_id: &str,
        user_id: &str,
        browser: &str,
        at: i64,
    ) -> (bool, Option<String>) {
        let s = session(user_id, browser, at);
        let done = create(db, tenant_id, SignIn::plain(&s)).await.unwrap();
        (done.created, done.notify.map(|u| u.id))
    }

    async fn turn(db: &Db, tenant_id: &str, user_id: &str, on: bool, browser: Option<&str>) {
        let entry = audit::insert_statement(
            db,
            tenant_id,
            "sign_in_notices_changed",
            Some(user_id),
            None,
            &Origin::default(),
            &serde_json::json!({ "on": on }),
            NOW,
        )
        .unwrap();
        assert!(set_notices(
            db,
            tenant_id,
            user_id,
            on,
            browser.map(hash).as_deref(),
            NOW,
            entry
        )
        .await
        .unwrap());
    }

    use crate::storage::audit;

    /// Browser ids as the cookie carries them (43 characters).
    fn browser(name: &str) -> String {
        format!("{name:-<43}")
    }

    #[test]
    fn a_new_browser_is_reported_once_and_only_for_a_person_with_notices_on() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let bob = user(&db, &t.id, "bob", false).await;
            let (laptop, phone, kiosk) = (browser("laptop"), browser("phone"), browser("kiosk"));

            // Notices off: a sign-in records nothing and tells nobody.
            assert_eq!(sign_in(&db, &t.id, &ada, &phone, NOW).await, (true, None));
            assert!(inspect::of(&db, &t.id, &ada).await.is_empty());

            // On, from the laptop: the laptop is known at once, so it never triggers a notice.
            turn(&db, &t.id, &ada, true, Some(&laptop)).await;
            assert_eq!(
                inspect::of(&db, &t.id, &ada).await,
                [(hash(&laptop), NOW, NOW)]
            );
            assert_eq!(
                sign_in(&db, &t.id, &ada, &laptop, NOW + 10).await,
                (true, None)
            );

            // The phone is new: reported once, then known (its last sighting bumped).
            assert_eq!(
                sign_in(&db, &t.id, &ada, &phone, NOW + 20).await,
                (true, Some(ada.clone()))
            );
            assert_eq!(
                sign_in(&db, &t.id, &ada, &phone, NOW + 30).await,
                (true, None)
            );
            let known = inspect::of(&db, &t.id, &ada).await;
            assert!(known.contains(&(hash(&laptop), NOW, NOW + 10)), "{known:?}");
            assert!(
                known.contains(&(hash(&phone), NOW + 20, NOW + 30)),
                "{known:?}"
            );

            // A refused sign-in (disabled account) records nothing and tells nobody.
            testing::set_disabled(&db, &ada, true).await;
            assert_eq!(
                sign_in(&db, &t.id, &ada, &kiosk, NOW + 40).await,
                (false, None)
            );
            testing::set_disabled(&db, &ada, false).await;
            assert_eq!(inspect::of(&db, &t.id, &ada).await.len(), 2);

            // Per person: the phone is new to Bob (with notices on), whatever Ada did with it.
            assert_eq!(sign_in(&db, &t.id, &bob, &phone, NOW).await, (true, None));
            turn(&db, &t.id, &bob, true, None).await;
            assert_eq!(
                sign_in(&db, &t.id, &bob, &phone, NOW + 50).await,
                (true, Some(bob.clone()))
            );

            // Per tenant: a session for Ada on another tenant is refused, and records nothing.
            let beta = tenant(&db, "beta").await;
            assert_eq!(
                sign_in(&db, &beta.id, &ada, &kiosk, NOW).await,
                (false, None)
            );
            assert!(inspect::of(&db, &beta.id, &ada).await.is_empty());

            // A session without a (well-formed) browser records nothing.
            assert_eq!(sign_in(&db, &t.id, &ada, "", NOW + 60).await, (true, None));
            assert_eq!(
                sign_in(&db, &t.id, &ada, "short", NOW + 60).await,
                (true, None)
            );
            assert_eq!(inspect::of(&db, &t.id, &ada).await.len(), 2);

            // Off: her browsers are forgotten, and new ones are not reported.
            turn(&db, &t.id, &ada, false, Some(&laptop)).await;
            assert!(inspect::of(&db, &t.id, &ada).await.is_empty());
            assert_eq!(
                sign_in(&db, &t.id, &ada, &kiosk, NOW + 70).await,
                (true, None)
            );
            assert!(inspect::of(&db, &t.id, &ada).await.is_empty());
            assert_eq!(inspect::of(&db, &t.id, &bob).await.len(), 1, "Bob's stay");
        });
    }
}
