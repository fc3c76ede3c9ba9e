//! The record that a sealed value (`crate::crypto::sealed`: a passkey challenge, a parked
//! authorization request, a pushed one's request_uri) was used. The value itself lives in the browser; only this stays on
//! the primary, written in the same batch that acts on the value, so of two uses exactly one
//! succeeds. Rows go when the value would have expired anyway (`retention`).

use super::db::{Db, Statement};
use crate::error::{Error, Result, StorageError, StorageFailure};
use crate::params;

/// A sealed value about to be used: its single-use id and its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend<'a> {
    pub id: &'a str,
    pub expires_at: i64,
}

/// Records the use. A second use violates the primary key and fails the whole batch it is in,
/// so nothing that batch would have done happens; [`replayed`] recognises that failure.
pub(super) fn statement(db: &Db, tenant_id: &str, spend: Spend<'_>) -> Result<Statement> {
    db.statement(
        "INSERT INTO spent_tokens (id, tenant_id, expires_at) VALUES (?1, ?2, ?3)",
        params![spend.id, tenant_id, spend.expires_at],
    )
}

/// Records the use on its own (a parked request that was denied, a pushed request taken up
/// at /authorize).
pub async fn spend(db: &Db, tenant_id: &str, spend: Spend<'_>) -> Result<()> {
    db.batch(vec![statement(db, tenant_id, spend)?]).await?;
    Ok(())
}

/// Records the use only if `code_hash` names an authorization code (issued earlier in the same
/// batch), leaving the value usable when the batch issued none.
pub(super) fn statement_if_code(
    db: &Db,
    tenant_id: &str,
    spend: Spend<'_>,
    code_hash: &str,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO spent_tokens (id, tenant_id, expires_at) SELECT ?1, ?2, ?3 \
         WHERE EXISTS (SELECT 1 FROM authorization_codes WHERE code_hash = ?4)",
        params![spend.id, tenant_id, spend.expires_at, code_hash],
    )
}

/// Whether a batch failed because a value in it had been used already.
pub fn replayed(error: &Error) -> bool {
    matches!(
        error,
        Error::Storage(StorageError { kind: StorageFailure::Unique, reason })
            if reason.contains("spent_tokens.id")
    )
}

/// Maps a replay to `refusal`, other errors unchanged.
pub fn refuse_replay(refusal: impl FnOnce() -> Error) -> impl FnOnce(Error) -> Error {
    move |e| if replayed(&e) { refusal() } else { e }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{db, run, tenant};

    #[test]
    fn a_value_is_spent_once_and_the_second_batch_does_nothing() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let spend = Spend {
                id: "v1",
                expires_at: 100,
            };
            db.batch(vec![statement(&db, &t.id, spend).unwrap()])
                .await
                .unwrap();
            // The second use fails as a replay, and its other statement is rolled back.
            let marker = db
                .statement(
                    "UPDATE tenants SET display_name = 'changed' WHERE id = ?1",
                    params![&t.id],
                )
                .unwrap();
            let err = db
                .batch(vec![marker, statement(&db, &t.id, spend).unwrap()])
                .await
                .unwrap_err();
            assert!(replayed(&err), "{err:?}");
            crate::from_row! {
                struct Name {
                    display_name: String,
                }
            }
            let name: Option<Name> = db
                .first(
                    "SELECT display_name FROM tenants WHERE id = ?1",
                    params![&t.id],
                )
                .await
                .unwrap();
            assert_eq!(name.unwrap().display_name, "acme Inc.");
            // Another unique violation is not a replay.
            let other = db
                .run(
                    "INSERT INTO tenants (id, slug, display_name, settings, created_at, updated_at) \
                     VALUES (?1, 'x', 'x', '{}', 0, 0)",
                    params![&t.id],
                )
                .await
                .unwrap_err();
            assert!(!replayed(&other));
        });
    }
}
