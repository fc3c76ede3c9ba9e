//! API keys for a tenant's admin REST API. Only the SHA-256 of a key is stored.

use super::db::{rows, Db, Statement};
use super::row::FromRow;
use super::tenants::{TenantRow, TENANT_COLUMNS};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;
use crate::tenancy::Tenant;

crate::from_row! {
    #[derive(Debug)]
    pub struct ApiKeyRow {
        pub id: String,
    }
}

/// A new key's value: a prefix that secret scanners can match, then 256 random bits.
pub fn generate() -> String {
    format!("eid_{}", crate::crypto::random::token())
}

/// The live key with this value in this tenant; records its use in the same statement.
pub async fn authenticate(
    db: &Db,
    tenant_id: &str,
    key: &str,
    now: i64,
) -> Result<Option<ApiKeyRow>> {
    db.first(
        "UPDATE api_keys SET last_used_at = ?3 WHERE key_hash = ?1 AND tenant_id = ?2 \
         AND (expires_at IS NULL OR expires_at > ?3) RETURNING id",
        params![secret_hash(key), tenant_id, now],
    )
    .await
}

crate::from_row! {
    /// An API key as listed (never its value).
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct ApiKeyView {
        pub id: String,
        pub name: String,
        pub created_by: Option<String>,
        pub created_at: i64,
        pub expires_at: Option<i64>,
        pub last_used_at: Option<i64>,
    }
}

pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<ApiKeyView>> {
    db.all(
        "SELECT id, name, created_by, created_at, expires_at, last_used_at FROM api_keys \
         WHERE tenant_id = ?1 ORDER BY created_at DESC",
        params![tenant_id],
    )
    .await
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub created_by: &'a str,
    pub expires_at: Option<i64>,
    /// The tenant URL the request minting it came to (links in its expiry notice go there).
    pub issuer: &'a str,
}

/// Stores a new API key (hashed); `audit`, when given, joins the same batch.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    new: &NewApiKey<'_>,
    now: i64,
    audit: Option<Statement>,
) -> Result<()> {
    let insert = db.statement(
        "INSERT INTO api_keys (id, tenant_id, name, key_hash, created_by, created_at, expires_at, \
         issuer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            new.id,
            tenant_id,
            new.name,
            secret_hash(new.key),
            new.created_by,
            now,
            new.expires_at,
            new.issuer
        ],
    )?;
    db.batch(std::iter::once(insert).chain(audit).collect())
        .await?;
    Ok(())
}

/// Deletes an API key; `audit` (written only if the key went) joins the same batch.
pub async fn delete(db: &Db, tenant_id: &str, id: &str, audit: Statement) -> Result<bool> {
    Ok(db
        .run_recorded(
            "DELETE FROM api_keys WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, id],
            audit,
        )
        .await?
        == 1)
}

// ---- "Expires soon" notices (the hourly cron, `usecase::maintenance`) ----

/// A key of an active tenant whose expiry notice is due, with who should get it.
#[derive(Debug)]
pub struct ExpiringKey {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub expires_at: i64,
    pub created_by: Option<String>,
    /// The creating user's name, or the creating API key's name, when they still exist.
    pub creator_name: Option<String>,
    pub issuer: Option<String>,
    /// The creator when they can take it (an enabled admin with an address), else every enabled
    /// admin of the tenant with an address, oldest account first. Empty: nobody to tell.
    pub recipients: Vec<NoticeRecipient>,
}

#[derive(Debug, Clone)]
pub struct NoticeRecipient {
    pub user_id: String,
    pub email: String,
    pub name: String,
}

/// A tenant with due notices, and its custom domains (for the links).
#[derive(Debug)]
pub struct NoticeTenant {
    pub tenant: Tenant,
    pub domains: Vec<String>,
}

/// Keys that expire after `now` and at most `window_secs` later, whose notice was neither sent
/// nor tried `max_attempts` times, in active tenants: at most `limit`, keys never tried first,
/// then the soonest to expire. With their tenants; one round trip, which also counts this run's
/// attempt for each key listed (before any mail goes: however a run ends, a key gets at most
/// `max_attempts` runs of mail). [`release_attempts`] gives back those a run did not try.
pub async fn expiring_soon(
    db: &Db,
    now: i64,
    window_secs: i64,
    max_attempts: i64,
    limit: usize,
) -> Result<(Vec<ExpiringKey>, Vec<NoticeTenant>)> {
    crate::from_row! {
        struct Row {
            id: String,
            tenant_id: String,
            name: String,
            expires_at: i64,
            created_by: Option<String>,
            creator_name: Option<String>,
            issuer: Option<String>,
            user_id: Option<String>,
            email: Option<String>,
            recipient_name: Option<String>,
        }
    }
    /// A tenant row and, in the same row, its domains.
    struct TenantWithDomains {
        tenant: TenantRow,
        domains: Option<String>,
    }
    impl FromRow for TenantWithDomains {
        fn from_row(row: &super::row::Row<'_>) -> Result<Self> {
            Ok(Self {
                tenant: TenantRow::from_row(row)?,
                domains: row.opt_text("domains")?,
            })
        }
    }
    const DUE: &str = "SELECT id, tenant_id, name, expires_at, created_by, issuer, \
         expiry_notice_attempts FROM api_keys WHERE expires_at > ?1 AND expires_at <= ?1 + ?2 \
         AND expiry_notice_sent_at IS NULL AND expiry_notice_attempts < ?3 \
         AND tenant_id IN (SELECT id FROM tenants WHERE status = 'active') \
         ORDER BY expiry_notice_attempts, expires_at, id LIMIT ?4";
    // A person's name as the `name` claim has it: display name, else first and last, else
    // the username.
    let name = |t: &str| {
        format!(
            "COALESCE(NULLIF({t}.display_name, ''), NULLIF(TRIM(COALESCE({t}.first_name, '') || ' ' \
             || COALESCE({t}.last_name, '')), ''), {t}.username)"
        )
    };
    let usable = |t: &str| {
        format!(
            "{t}.is_admin = 1 AND {t}.disabled = 0 AND {t}.email IS NOT NULL AND {t}.email <> ''"
        )
    };
    let keys_sql = format!(
        "SELECT k.id, k.tenant_id, k.name, k.expires_at, k.created_by, k.issuer, \
           COALESCE({creator}, ck.name) AS creator_name, \
           r.id AS user_id, r.email, {recipient} AS recipient_name \
         FROM ({DUE}) k \
         LEFT JOIN users cu ON cu.tenant_id = k.tenant_id AND 'user:' || cu.id = k.created_by \
         LEFT JOIN api_keys ck ON ck.tenant_id = k.tenant_id AND 'api_key:' || ck.id = k.created_by \
         LEFT JOIN users r ON r.tenant_id = k.tenant_id AND {usable_r} \
           AND (r.id = cu.id OR cu.id IS NULL OR NOT ({usable_cu})) \
         ORDER BY k.expiry_notice_attempts, k.expires_at, k.id, r.created_at, r.id",
        creator = name("cu"),
        recipient = name("r"),
        usable_r = usable("r"),
        usable_cu = usable("cu"),
    );
    let tenants_sql = format!(
        "SELECT {TENANT_COLUMNS}, (SELECT group_concat(host, ' ') FROM \
           (SELECT host FROM tenant_domains d WHERE d.tenant_id = tenants.id ORDER BY host)) \
           AS domains \
         FROM tenants WHERE id IN (SELECT tenant_id FROM ({DUE}))"
    );
    let bind = || params![now, window_secs, max_attempts, limit as i64];
    let results = db
        .batch(vec![
            db.statement(&keys_sql, bind())?,
            db.statement(&tenants_sql, bind())?,
            // Last: the reads above saw the keys as they were.
            db.statement(
                &format!(
                    "UPDATE api_keys SET expiry_notice_attempts = expiry_notice_attempts + 1 \
                     WHERE id IN (SELECT id FROM ({DUE}))"
                ),
                bind(),
            )?,
        ])
        .await?;
    let mut keys: Vec<ExpiringKey> = Vec::new();
    for row in rows::<Row>(&results[0])? {
        if keys.last().is_none_or(|k| k.id != row.id) {
            keys.push(ExpiringKey {
                id: row.id,
                tenant_id: row.tenant_id,
                name: row.name,
                expires_at: row.expires_at,
                created_by: row.created_by,
                creator_name: row.creator_name,
                issuer: row.issuer,
                recipients: Vec::new(),
            });
        }
        if let (Some(user_id), Some(email), Some(name)) =
            (row.user_id, row.email, row.recipient_name)
        {
            let key = keys.last_mut().expect("pushed above");
            key.recipients.push(NoticeRecipient {
                user_id,
                email,
                name,
            });
        }
    }
    let tenants = rows::<TenantWithDomains>(&results[1])?
        .into_iter()
        .map(|t| {
            Ok(NoticeTenant {
                tenant: t.tenant.into_tenant()?,
                domains: t
                    .domains
                    .map(|d| d.split(' ').map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((keys, tenants))
}

/// Marks key `id`'s notice sent: it gets no other.
pub async fn mark_expiry_notice_sent(db: &Db, tenant_id: &str, id: &str, now: i64) -> Result<()> {
    db.run(
        "UPDATE api_keys SET expiry_notice_sent_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
        params![tenant_id, id, now],
    )
    .await?;
    Ok(())
}

/// Gives back the attempt [`expiring_soon`] counted for keys a run left untried.
pub async fn release_attempts(db: &Db, ids: &[String]) -> Result<()> {
    let statements = ids
        .iter()
        .map(|id| {
            db.statement(
                "UPDATE api_keys SET expiry_notice_attempts = expiry_notice_attempts - 1 \
                 WHERE id = ?1 AND expiry_notice_attempts > 0",
                params![id.as_str()],
            )
        })
        .collect::<Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, db, run, tenant, user, NOW};

    #[test]
    fn listing_a_due_key_counts_its_attempt_before_any_mail_goes() {
        run(async {
            let db = db();
            let t = tenant(&db, "acme").await;
            let ada = user(&db, &t.id, "ada", true).await;
            let new = NewApiKey {
                id: "k1",
                name: "ci",
                key: &generate(),
                created_by: &format!("user:{ada}"),
                expires_at: Some(NOW + 3600),
                issuer: "https://acme.id.test",
            };
            create(&db, &t.id, &new, NOW, None).await.unwrap();
            let (keys, tenants) = expiring_soon(&db, NOW, 86400, 3, 20).await.unwrap();
            assert_eq!(keys.len(), 1);
            assert_eq!(keys[0].recipients[0].email, "ada@example.com");
            assert_eq!(keys[0].creator_name.as_deref(), Some("ada"));
            assert_eq!(tenants[0].tenant.id, t.id);
            // A run that ends here (a crash, a storage error) has used one of the key's runs.
            assert_eq!(testing::api_key_notice(&db, "k1").await, (None, 1));
            release_attempts(&db, &["k1".to_string()]).await.unwrap();
            assert_eq!(testing::api_key_notice(&db, "k1").await, (None, 0));
            for _ in 0..3 {
                expiring_soon(&db, NOW, 86400, 3, 20).await.unwrap();
            }
            let (keys, _) = expiring_soon(&db, NOW, 86400, 3, 20).await.unwrap();
            assert!(keys.is_empty(), "given up after 3 runs");
            mark_expiry_notice_sent(&db, &t.id, "k1", NOW)
                .await
                .unwrap();
            assert_eq!(testing::api_key_notice(&db, "k1").await, (Some(NOW), 3));
        });
    }
}
