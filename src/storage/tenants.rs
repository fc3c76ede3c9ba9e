//! Tenants, their custom domains and signing keys in D1.

use super::db::{rows, Db, QueryResult, Statement};
use super::row::FromRow;
use crate::crypto::jwk::SigningAlg;
use crate::error::{Error, Result};
use crate::params;
use crate::tenancy::keys::KeyChange;
use crate::tenancy::{
    HostKind, KeyStatus, SigningKeyRecord, Tenant, TenantSettings, TenantSnapshot, TenantStatus,
};

crate::from_row! {
    pub(super) struct TenantRow {
        id: String,
        slug: String,
        display_name: String,
        status: String,
        settings: String,
        created_at: i64,
    }
}

impl TenantRow {
    pub(super) fn into_tenant(self) -> Result<Tenant> {
        Ok(Tenant {
            status: TenantStatus::parse(&self.status)
                .ok_or_else(|| Error::Internal(format!("tenant status {}", self.status)))?,
            settings: serde_json::from_str::<TenantSettings>(&self.settings).unwrap_or_default(),
            id: self.id,
            slug: self.slug,
            display_name: self.display_name,
            created_at: self.created_at,
        })
    }
}

crate::from_row! {
    struct KeyRow {
        kid: String,
        alg: String,
        public_jwk: String,
        sealed_private_key: String,
        status: String,
        created_at: i64,
        expires_at: Option<i64>,
        overlap_secs: Option<i64>,
    }
}

impl KeyRow {
    fn into_record(self) -> Result<SigningKeyRecord> {
        Ok(SigningKeyRecord {
            alg: SigningAlg::parse(&self.alg)
                .ok_or_else(|| Error::Internal(format!("key alg {}", self.alg)))?,
            public_jwk: serde_json::from_str(&self.public_jwk)
                .map_err(|e| Error::Internal(format!("stored JWK: {e}")))?,
            status: KeyStatus::parse(&self.status)
                .ok_or_else(|| Error::Internal(format!("key status {}", self.status)))?,
            kid: self.kid,
            sealed_private_key: self.sealed_private_key,
            created_at: self.created_at,
            expires_at: self.expires_at,
            overlap_secs: self.overlap_secs,
        })
    }
}

pub(super) const TENANT_COLUMNS: &str = "id, slug, display_name, status, settings, created_at";
const KEY_COLUMNS: &str =
    "kid, alg, public_jwk, sealed_private_key, status, created_at, expires_at, overlap_secs";

/// Loads the tenant a host names together with its keys, in one D1 round trip.
pub async fn load_snapshot(db: &Db, kind: &HostKind) -> Result<Option<TenantSnapshot>> {
    let (tenant_where, key) = match kind {
        HostKind::TenantSlug(slug) => ("slug = ?1", slug.clone()),
        HostKind::CustomDomain(host) => (
            "id = (SELECT tenant_id FROM tenant_domains WHERE host = ?1)",
            host.clone(),
        ),
        HostKind::Platform => return Ok(None),
    };
    let results = db
        .batch(snapshot_statements(db, tenant_where, &key)?.into())
        .await?;
    snapshot_from(&results)
}

/// The two statements reading the tenant that `tenant_where` (over `tenants`, with `?1` bound
/// to `key`) selects and its keys, newest first; read them back with [`snapshot_from`].
pub(super) fn snapshot_statements(
    db: &Db,
    tenant_where: &str,
    key: &str,
) -> Result<[Statement; 2]> {
    Ok([
        db.statement(
            &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE {tenant_where}"),
            params![key],
        )?,
        db.statement(
            &format!(
                "SELECT {KEY_COLUMNS} FROM signing_keys WHERE tenant_id = \
                 (SELECT id FROM tenants WHERE {tenant_where}) ORDER BY created_at DESC"
            ),
            params![key],
        )?,
    ])
}

/// The snapshot the results of [`snapshot_statements`] describe.
pub(super) fn snapshot_from(results: &[QueryResult]) -> Result<Option<TenantSnapshot>> {
    let Some(tenant) = rows::<TenantRow>(&results[0])?.into_iter().next() else {
        return Ok(None);
    };
    let keys = rows::<KeyRow>(&results[1])?
        .into_iter()
        .map(KeyRow::into_record)
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(TenantSnapshot {
        tenant: tenant.into_tenant()?,
        keys,
    }))
}

/// The tenant with this id, as D1 holds it now (not a cached snapshot).
pub async fn find(db: &Db, tenant_id: &str) -> Result<Option<Tenant>> {
    db.first::<TenantRow>(
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"),
        params![tenant_id],
    )
    .await?
    .map(TenantRow::into_tenant)
    .transpose()
}

pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>> {
    db.first::<TenantRow>(
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = ?1"),
        params![slug],
    )
    .await?
    .map(TenantRow::into_tenant)
    .transpose()
}

pub async fn list(db: &Db) -> Result<Vec<Tenant>> {
    db.all::<TenantRow>(
        &format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY slug"),
        params![],
    )
    .await?
    .into_iter()
    .map(TenantRow::into_tenant)
    .collect()
}

/// Creates a tenant with its first keys and its first-admin setup token, atomically.
pub async fn create(
    db: &Db,
    tenant: &Tenant,
    keys: &[SigningKeyRecord],
    setup_token_hash: &str,
    setup_expires_at: i64,
) -> Result<()> {
    let mut statements = vec![db.statement(
        "INSERT INTO tenants (id, slug, display_name, status, settings, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            &tenant.id,
            &tenant.slug,
            &tenant.display_name,
            tenant.status.as_str(),
            serde_json::to_string(&tenant.settings)?,
            tenant.created_at
        ],
    )?];
    for key in keys {
        statements.push(insert_key(db, &tenant.id, key)?);
    }
    statements.push(db.statement(
        "INSERT INTO one_time_tokens (token_hash, tenant_id, purpose, created_at, expires_at) \
         VALUES (?1, ?2, 'first_admin', ?3, ?4)",
        params![
            setup_token_hash,
            &tenant.id,
            tenant.created_at,
            setup_expires_at
        ],
    )?);
    db.batch(statements)
        .await
        .map_err(super::db::unique_violation(
            slug_taken(&tenant.slug).to_string(),
        ))?;
    Ok(())
}

/// The answer to a create whose slug another tenant has (the UNIQUE constraint decides races).
pub fn slug_taken(slug: &str) -> Error {
    Error::Conflict(format!("the slug {slug} is taken"))
}

fn insert_key(db: &Db, tenant_id: &str, key: &SigningKeyRecord) -> Result<super::db::Statement> {
    db.statement(
        &format!("INSERT INTO signing_keys (tenant_id, {KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            tenant_id,
            &key.kid,
            key.alg.as_str(),
            serde_json::to_string(&key.public_jwk)?,
            &key.sealed_private_key,
            key.status.as_str(),
            key.created_at,
            key.expires_at,
            key.overlap_secs
        ],
    )
}

/// Replaces a first-admin setup token (only while the tenant has no users).
pub async fn replace_setup_token(
    db: &Db,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    db.batch(vec![
        db.statement(
            "DELETE FROM one_time_tokens WHERE tenant_id = ?1 AND purpose = 'first_admin'",
            params![tenant_id],
        )?,
        db.statement(
            "INSERT INTO one_time_tokens (token_hash, tenant_id, purpose, created_at, expires_at) \
             VALUES (?1, ?2, 'first_admin', ?3, ?4)",
            params![token_hash, tenant_id, now, expires_at],
        )?,
    ])
    .await?;
    Ok(())
}

pub async fn user_count(db: &Db, tenant_id: &str) -> Result<i64> {
    crate::from_row! {
        struct Count {
            n: i64,
        }
    }
    Ok(db
        .first::<Count>(
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1",
            params![tenant_id],
        )
        .await?
        .map_or(0, |c| c.n))
}

pub async fn set_status(db: &Db, tenant_id: &str, status: TenantStatus, now: i64) -> Result<()> {
    db.run(
        "UPDATE tenants SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![tenant_id, status.as_str(), now],
    )
    .await?;
    Ok(())
}

/// Deletes a tenant; every tenant-owned row goes with it (ON DELETE CASCADE).
pub async fn delete(db: &Db, tenant_id: &str) -> Result<()> {
    db.run("DELETE FROM tenants WHERE id = ?1", params![tenant_id])
        .await?;
    Ok(())
}

pub async fn domains(db: &Db, tenant_id: &str) -> Result<Vec<String>> {
    crate::from_row! {
        struct Row {
            host: String,
        }
    }
    Ok(db
        .all::<Row>(
            "SELECT host FROM tenant_domains WHERE tenant_id = ?1 ORDER BY host",
            params![tenant_id],
        )
        .await?
        .into_iter()
        .map(|r| r.host)
        .collect())
}

/// Maps a custom domain to a tenant; a host already mapped (to anyone) is a conflict.
pub async fn add_domain(db: &Db, tenant_id: &str, host: &str, now: i64) -> Result<()> {
    let changed = db
        .run(
            "INSERT INTO tenant_domains (host, tenant_id, created_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (host) DO NOTHING",
            params![host, tenant_id, now],
        )
        .await?;
    if changed == 0 {
        return Err(Error::Conflict(format!(
            "{host} is already mapped to a tenant"
        )));
    }
    Ok(())
}

pub async fn remove_domain(db: &Db, tenant_id: &str, host: &str) -> Result<bool> {
    Ok(db
        .run(
            "DELETE FROM tenant_domains WHERE host = ?1 AND tenant_id = ?2",
            params![host, tenant_id],
        )
        .await?
        > 0)
}

/// A tenant's signing keys, newest first.
pub async fn keys(db: &Db, tenant_id: &str) -> Result<Vec<SigningKeyRecord>> {
    db.all::<KeyRow>(
        &format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE tenant_id = ?1 ORDER BY created_at DESC"
        ),
        params![tenant_id],
    )
    .await?
    .into_iter()
    .map(KeyRow::into_record)
    .collect()
}

/// Applies key changes decided by `tenancy::keys` in one transaction. Every statement is
/// guarded by the state it expects, so a change computed from a read that a concurrent write
/// overtook does nothing rather than something half-done.
pub async fn apply_key_changes(db: &Db, tenant_id: &str, changes: &[KeyChange]) -> Result<()> {
    let mut statements = Vec::new();
    for change in changes {
        match change {
            KeyChange::DropNext { alg } => statements.push(db.statement(
                "DELETE FROM signing_keys WHERE tenant_id = ?1 AND alg = ?2 AND status = 'next'",
                params![tenant_id, alg.as_str()],
            )?),
            KeyChange::RetireCurrent { alg, until } => statements.push(db.statement(
                "UPDATE signing_keys SET status = 'retired', expires_at = ?3 \
                 WHERE tenant_id = ?1 AND alg = ?2 AND status = 'current'",
                params![tenant_id, alg.as_str(), *until],
            )?),
            KeyChange::Insert(key) => statements.push(insert_key(db, tenant_id, key)?),
            KeyChange::Promote {
                kid,
                alg,
                retire_until,
            } => {
                // Retire the current key only while `kid` is still waiting: if a rotation
                // dropped it meanwhile, neither statement changes anything.
                statements.push(db.statement(
                    "UPDATE signing_keys SET status = 'retired', expires_at = ?4 \
                     WHERE tenant_id = ?1 AND alg = ?2 AND status = 'current' AND EXISTS \
                     (SELECT 1 FROM signing_keys WHERE tenant_id = ?1 AND kid = ?3 AND status = 'next')",
                    params![tenant_id, alg.as_str(), kid, *retire_until],
                )?);
                statements.push(db.statement(
                    "UPDATE signing_keys SET status = 'current', overlap_secs = NULL \
                     WHERE tenant_id = ?1 AND kid = ?2 AND status = 'next'",
                    params![tenant_id, kid],
                )?);
            }
            KeyChange::Remove { kid } => statements.push(db.statement(
                "DELETE FROM signing_keys WHERE tenant_id = ?1 AND kid = ?2 AND status = 'retired'",
                params![tenant_id, kid],
            )?),
        }
    }
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(())
}

/// A tenant whose keys the promotion trigger has to look at.
pub struct KeyWork {
    pub tenant_id: String,
    pub slug: String,
    pub keys: Vec<SigningKeyRecord>,
}

/// Every key of the tenants that have a key waiting to sign or a retired key past its
/// publication, in one query (`tenancy::keys::due_changes` decides what happens to them).
pub async fn key_work(db: &Db, now: i64) -> Result<Vec<KeyWork>> {
    /// A key and, in the same row, its tenant.
    struct Row {
        tenant_id: String,
        slug: String,
        key: KeyRow,
    }
    impl FromRow for Row {
        fn from_row(row: &super::row::Row<'_>) -> Result<Self> {
            Ok(Self {
                tenant_id: row.text("tenant_id")?,
                slug: row.text("slug")?,
                key: KeyRow::from_row(row)?,
            })
        }
    }
    let rows = db
        .all::<Row>(
            "SELECT k.tenant_id, t.slug, k.kid, k.alg, k.public_jwk, k.sealed_private_key, \
             k.status, k.created_at, k.expires_at, k.overlap_secs \
             FROM signing_keys k JOIN tenants t ON t.id = k.tenant_id \
             WHERE k.tenant_id IN (SELECT tenant_id FROM signing_keys WHERE status = 'next' \
             OR (status = 'retired' AND expires_at <= ?1)) ORDER BY k.tenant_id",
            params![now],
        )
        .await?;
    let mut work: Vec<KeyWork> = Vec::new();
    for row in rows {
        let key = row.key.into_record()?;
        match work.last_mut() {
            Some(w) if w.tenant_id == row.tenant_id => w.keys.push(key),
            _ => work.push(KeyWork {
                tenant_id: row.tenant_id,
                slug: row.slug,
                keys: vec![key],
            }),
        }
    }
    Ok(work)
}

/// What a settings change left in D1, with the tenant's custom domains (whose cached
/// snapshots the caller invalidates).
#[derive(Debug)]
pub struct UpdatedSettings {
    pub display_name: String,
    pub settings: TenantSettings,
    pub domains: Vec<String>,
}

/// Applies a settings change to the row in D1 (a JSON merge patch of only the settings sent,
/// never a blob from a cached snapshot) in one batch with its `audit` entry and the read of the
/// tenant's domains. `None` when the tenant is gone.
pub async fn update_settings(
    db: &Db,
    tenant_id: &str,
    change: &crate::admin::settings::SettingsChange,
    now: i64,
    audit: Statement,
) -> Result<Option<UpdatedSettings>> {
    crate::from_row! {
        struct Stored {
            display_name: String,
            settings: String,
        }
    }
    crate::from_row! {
        struct Domain {
            host: String,
        }
    }
    // A stored value that is not JSON (never written by us) would make json_patch fail the
    // query: start from an empty object then, and the defaults fill in the rest.
    let results = db
        .batch(vec![
            db.statement(
                "UPDATE tenants SET display_name = COALESCE(?2, display_name), \
                   settings = json_patch(CASE WHEN json_valid(settings) THEN settings ELSE '{}' END, ?3), \
                   updated_at = ?4 \
                 WHERE id = ?1 RETURNING display_name, settings",
                params![
                    tenant_id,
                    change.display_name.clone(),
                    serde_json::Value::Object(change.patch.clone()).to_string(),
                    now
                ],
            )?,
            audit,
            db.statement(
                "SELECT host FROM tenant_domains WHERE tenant_id = ?1 ORDER BY host",
                params![tenant_id],
            )?,
        ])
        .await?;
    let Some(stored) = super::db::first_row::<Stored>(&results[0])? else {
        return Ok(None);
    };
    let settings = serde_json::from_str::<TenantSettings>(&stored.settings)
        .map_err(|e| Error::Internal(format!("stored settings: {e}")))?;
    Ok(Some(UpdatedSettings {
        display_name: stored.display_name,
        settings,
        domains: rows::<Domain>(&results[2])?
            .into_iter()
            .map(|d| d.host)
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::keys::tests::{apply, key};
    use crate::tenancy::keys::{due_changes, rotation, PROMOTION_DELAY_SECS};
    use crate::testing::{db, run, tenant, user, NOW};

    #[test]
    fn a_snapshot_is_found_by_slug_and_by_custom_domain_with_its_keys() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            apply_key_changes(
                &db,
                &t.id,
                &[KeyChange::Insert(Box::new(key(
                    "k1",
                    SigningAlg::ES256,
                    KeyStatus::Current,
                    NOW,
                )))],
            )
            .await
            .unwrap();
            add_domain(&db, &t.id, "login.acme.test", NOW)
                .await
                .unwrap();
            let by_slug = load_snapshot(&db, &HostKind::TenantSlug("acme".into()))
                .await
                .unwrap()
                .unwrap();
            let by_domain = load_snapshot(&db, &HostKind::CustomDomain("login.acme.test".into()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(by_slug.tenant.id, t.id);
            assert_eq!(by_domain.tenant.id, t.id);
            assert_eq!(by_slug.keys.len(), 1);
            assert_eq!(by_slug.keys[0].kid, "k1");
            assert!(load_snapshot(&db, &HostKind::TenantSlug("nope".into()))
                .await
                .unwrap()
                .is_none());
            assert!(load_snapshot(&db, &HostKind::Platform)
                .await
                .unwrap()
                .is_none());
        });
    }

    #[test]
    fn a_custom_domain_belongs_to_one_tenant_and_removal_is_scoped() {
        let db = db();
        run(async {
            let a = tenant(&db, "acme").await;
            let b = tenant(&db, "beta").await;
            add_domain(&db, &a.id, "id.shared.test", NOW).await.unwrap();
            let taken = add_domain(&db, &b.id, "id.shared.test", NOW)
                .await
                .unwrap_err();
            assert!(matches!(taken, Error::Conflict(_)), "{taken:?}");
            assert!(!remove_domain(&db, &b.id, "id.shared.test").await.unwrap());
            assert_eq!(
                domains(&db, &a.id).await.unwrap(),
                vec!["id.shared.test".to_string()]
            );
            assert!(remove_domain(&db, &a.id, "id.shared.test").await.unwrap());
            assert!(domains(&db, &a.id).await.unwrap().is_empty());
        });
    }

    #[test]
    fn status_list_and_delete_cascade_to_everything_the_tenant_owns() {
        let db = db();
        run(async {
            let a = tenant(&db, "acme").await;
            let b = tenant(&db, "beta").await;
            user(&db, &a.id, "alice", true).await;
            user(&db, &b.id, "bob", true).await;
            set_status(&db, &a.id, TenantStatus::Suspended, NOW)
                .await
                .unwrap();
            let found = find_by_slug(&db, "acme").await.unwrap().unwrap();
            assert_eq!(found.status, TenantStatus::Suspended);
            let slugs: Vec<String> = list(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.slug)
                .collect();
            assert_eq!(slugs, ["acme", "beta"]);
            delete(&db, &a.id).await.unwrap();
            assert!(find_by_slug(&db, "acme").await.unwrap().is_none());
            assert_eq!(
                user_count(&db, &a.id).await.unwrap(),
                0,
                "users went with the tenant"
            );
            assert_eq!(
                user_count(&db, &b.id).await.unwrap(),
                1,
                "another tenant is untouched"
            );
        });
    }

    #[test]
    fn a_second_tenant_with_a_taken_slug_is_a_conflict_and_writes_nothing() {
        let db = db();
        run(async {
            let first = tenant(&db, "acme").await;
            let twin = Tenant {
                id: "tenant-twin".into(),
                ..first
            };
            let err = create(&db, &twin, &[], "setup-twin", NOW + 60)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::Conflict(m) if m.contains("acme")),
                "{err:?}"
            );
            assert_eq!(list(&db).await.unwrap().len(), 1);
        });
    }

    #[test]
    fn a_new_setup_token_replaces_the_old_one() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            replace_setup_token(&db, &t.id, "second", NOW, NOW + 60)
                .await
                .unwrap();
            let tokens: Vec<serde_json::Value> = db
                .all(
                    "SELECT token_hash FROM one_time_tokens WHERE tenant_id = ?1 AND purpose = 'first_admin'",
                    params![&t.id],
                )
                .await
                .unwrap();
            assert_eq!(tokens, vec![serde_json::json!({ "token_hash": "second" })]);
        });
    }

    /// Rotations and the promotion trigger, applied in SQL, leave exactly the key set the pure
    /// model (`tenancy::keys`) says they should, through every state of a key's life.
    #[test]
    fn key_changes_in_sql_follow_the_key_lifecycle_model() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let mut model: Vec<SigningKeyRecord> = Vec::new();
            let mut now = NOW;
            // A rotation (kid, immediate) or, with no kid, a run of the promotion trigger.
            let steps = [
                Some(("a", false)),
                None,
                Some(("b", false)),
                Some(("c", false)),
                None,
                Some(("d", true)),
                None,
            ];
            for step in steps {
                let stored = keys(&db, &t.id).await.unwrap();
                let changes = match step {
                    Some((kid, immediate)) => {
                        let status = if immediate {
                            KeyStatus::Current
                        } else {
                            KeyStatus::Next
                        };
                        let overlap = if immediate { 60 } else { 3600 };
                        rotation(
                            &stored,
                            key(kid, SigningAlg::RS256, status, now),
                            overlap,
                            immediate,
                        )
                    }
                    None => due_changes(&stored, now),
                };
                apply_key_changes(&db, &t.id, &changes).await.unwrap();
                apply(&mut model, changes);
                let state = |k: &SigningKeyRecord| {
                    (
                        k.kid.clone(),
                        k.status,
                        k.expires_at,
                        k.overlap_secs,
                        k.created_at,
                    )
                };
                let mut in_sql: Vec<_> =
                    keys(&db, &t.id).await.unwrap().iter().map(state).collect();
                let mut modelled: Vec<_> = model.iter().map(state).collect();
                in_sql.sort_by(|x, y| x.0.cmp(&y.0));
                modelled.sort_by(|x, y| x.0.cmp(&y.0));
                assert_eq!(in_sql, modelled, "at {now}");
                now += PROMOTION_DELAY_SECS + 3601;
            }
            let work = key_work(&db, now).await.unwrap();
            assert!(work.iter().all(|w| w.tenant_id == t.id));
        });
    }
}
