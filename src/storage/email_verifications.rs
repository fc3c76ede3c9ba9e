//! Email verification links in D1 (`email_verifications`): written when a person asks to verify
//! their address, spent by the POST of the page the link opens. A link is bound to the user and
//! to the address it was mailed to; only its hash is stored.

use super::db::{Db, Statement};
use crate::error::Result;
use crate::params;

/// Stores a link (its hash) with its audit entry, one batch.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    email: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
    audit: Statement,
) -> Result<()> {
    db.batch(vec![
        db.statement(
            "INSERT INTO email_verifications (token_hash, tenant_id, user_id, email, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![token_hash, tenant_id, user_id, email, now, expires_at],
        )?,
        audit,
    ])
    .await?;
    Ok(())
}

/// The user and address of a link that is unused, unexpired, and whose user still has the
/// address it was sent to (the page with the button shows only then; nothing is spent).
pub async fn usable(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<PendingVerification>> {
    let results = db
        .batch(vec![db.statement(
            "SELECT v.user_id AS user_id, v.email AS email FROM email_verifications v \
             JOIN users u ON u.id = v.user_id \
             WHERE v.token_hash = ?1 AND v.tenant_id = ?2 AND v.used_at IS NULL AND v.expires_at > ?3 \
             AND u.tenant_id = ?2 AND u.email = v.email",
            params![token_hash, tenant_id, now],
        )?])
        .await?;
    super::db::first_row(&results[0])
}

crate::from_row! {
    /// A live link's user and address.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PendingVerification {
        pub user_id: String,
        pub email: String,
    }
}

/// Spends the link and marks the address verified, one batch: the link is spent only if it is
/// live and its user still has the address it was sent to; the user's flag is set only if this
/// batch spent it (`used_at` = now, the address compared again), and `audit` (a
/// `When::PreviousChanged` entry) follows that update. Returns whether the address is now
/// verified by this link.
pub async fn consume(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
    audit: Statement,
) -> Result<bool> {
    let results = db
        .batch(vec![
            db.statement(
                "UPDATE email_verifications SET used_at = ?3 \
                 WHERE token_hash = ?1 AND tenant_id = ?2 AND used_at IS NULL AND expires_at > ?3 \
                 AND email = (SELECT email FROM users WHERE id = email_verifications.user_id AND tenant_id = ?2)",
                params![token_hash, tenant_id, now],
            )?,
            db.statement(
                "UPDATE users SET email_verified = 1, updated_at = ?3 \
                 WHERE tenant_id = ?2 AND (id, email) IN \
                 (SELECT user_id, email FROM email_verifications WHERE token_hash = ?1 AND tenant_id = ?2 AND used_at = ?3) \
                 AND changes() > 0",
                params![token_hash, tenant_id, now],
            )?,
            audit,
        ])
        .await?;
    Ok(super::db::changes(&results[1]) > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::audit::{self, Origin, When};
    use crate::testing::{self, db, run, tenant, user, NOW};

    fn entry(db: &Db, tid: &str) -> Statement {
        event(db, tid, "email_verified")
    }

    fn event(db: &Db, tid: &str, name: &str) -> Statement {
        audit::insert_when_statement(
            db,
            tid,
            name,
            None,
            None,
            &Origin::default(),
            &serde_json::json!({}),
            NOW,
            When::PreviousChanged,
        )
        .unwrap()
    }

    /// `consume` holds on its own (without `usable` before it): a second spend in the same
    /// second, or a spend after the address changed, verifies nothing and audits nothing.
    #[test]
    fn consume_spends_once_and_only_for_the_address_it_was_sent_to() {
        run(async {
            let db = db();
            let tid = tenant(&db, "acme").await.id;
            let ada = user(&db, &tid, "ada", false).await;
            let bob = user(&db, &tid, "bob", false).await;
            let sent = |u: &str, e: &str, h: &str| {
                let (u, e, h) = (u.to_string(), e.to_string(), h.to_string());
                let db = db.clone();
                let tid = tid.clone();
                async move {
                    let a = event(&db, &tid, "email_verification_sent");
                    create(&db, &tid, &u, &e, &h, NOW, NOW + 60, a)
                        .await
                        .unwrap()
                }
            };
            sent(&ada, "ada@example.com", "h-ada").await;
            assert!(consume(&db, &tid, "h-ada", NOW, entry(&db, &tid))
                .await
                .unwrap());
            assert!(!consume(&db, &tid, "h-ada", NOW, entry(&db, &tid))
                .await
                .unwrap());
            // Sent to an address bob does not have (any more).
            sent(&bob, "bob@old.test", "h-bob").await;
            assert!(!consume(&db, &tid, "h-bob", NOW, entry(&db, &tid))
                .await
                .unwrap());
            let bob_row = crate::storage::users::find(&db, &tid, &bob)
                .await
                .unwrap()
                .unwrap();
            assert!(!bob_row.email_verified);
            let verified = testing::audit_events(&db, &tid)
                .await
                .into_iter()
                .filter(|(e, ..)| e == "email_verified")
                .count();
            assert_eq!(verified, 1);
        });
    }
}
