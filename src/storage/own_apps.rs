//! The applications a person has authorized, as the person sees them on their account page:
//! every client holding their consent or a live grant, with when it was first and last used
//! (a code redeemed or a refresh), and revoking one (its grants, hence every token of them, and
//! the consent, so the next sign-in asks again where the client asks for consent).

use super::db::{changes, Db, Statement};
use crate::error::Result;
use crate::params;

crate::from_row! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AuthorizedApp {
        pub client_id: String,
        pub name: String,
        pub first_used_at: i64,
        pub last_used_at: i64,
    }
}

/// The person's authorized applications, most recently used first.
pub async fn of_user(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    now: i64,
) -> Result<Vec<AuthorizedApp>> {
    db.all(
        "WITH uses (client_id, at) AS ( \
           SELECT client_id, created_at FROM grants \
             WHERE tenant_id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3 \
           UNION ALL SELECT r.client_id, r.created_at FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE g.tenant_id = ?1 AND g.user_id = ?2 AND g.revoked_at IS NULL AND g.expires_at > ?3 \
           UNION ALL SELECT client_id, granted_at FROM consents WHERE tenant_id = ?1 AND user_id = ?2) \
         SELECT c.id AS client_id, c.name, MIN(u.at) AS first_used_at, MAX(u.at) AS last_used_at \
         FROM uses u JOIN oidc_clients c ON c.id = u.client_id AND c.tenant_id = ?1 \
         GROUP BY c.id, c.name ORDER BY last_used_at DESC, c.name",
        params![tenant_id, user_id, now],
    )
    .await
}

/// Revokes the person's grants to the client and forgets their consent, with the audit entry,
/// in one batch; false when there was nothing to revoke (a concurrent revocation).
pub async fn revoke(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    client_id: &str,
    now: i64,
    audit: Statement,
) -> Result<bool> {
    let results = db
        .batch(vec![
            db.statement(
                "UPDATE grants SET revoked_at = ?4 WHERE tenant_id = ?1 AND user_id = ?2 \
                 AND client_id = ?3 AND revoked_at IS NULL",
                params![tenant_id, user_id, client_id, now],
            )?,
            db.statement(
                "DELETE FROM consents WHERE tenant_id = ?1 AND user_id = ?2 AND client_id = ?3",
                params![tenant_id, user_id, client_id],
            )?,
            audit,
        ])
        .await?;
    Ok(changes(&results[0]) + changes(&results[1]) > 0)
}
