//! API keys for the tenant admin API: minted by admins (`/api/api-keys`) and by the operator
//! (`/operator/api/tenants/{slug}/api-keys`) through the one [`create`] here. The value is
//! shown once; only its SHA-256 is stored.

use serde_json::json;

use super::AdminCtx;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::storage::api_keys::{self, NewApiKey};
use crate::storage::audit::When;

/// A key just minted: `api_key` is its value, shown this once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MintedKey {
    pub id: String,
    pub name: String,
    pub api_key: String,
    pub expires_at: Option<i64>,
}

/// Mints a key named `name` (validated by the caller's input type) that expires at
/// `expires_at` (none: never), recorded as `api_key_created` in the same batch. `issuer` is
/// the tenant URL the request came to: its expiry notice links there.
pub async fn create(
    ctx: &AdminCtx<'_>,
    issuer: &str,
    name: &str,
    expires_at: Option<i64>,
) -> Result<MintedKey> {
    let id = random::id();
    let key = api_keys::generate();
    let audit = ctx.audit(
        "api_key_created",
        None,
        json!({ "api_key_id": id, "name": name }),
        When::PreviousChanged,
    )?;
    api_keys::create(
        ctx.db,
        ctx.tenant_id,
        &NewApiKey {
            id: &id,
            name,
            key: &key,
            created_by: &ctx.author.actor.label(),
            expires_at,
            issuer,
        },
        ctx.now,
        Some(audit),
    )
    .await?;
    Ok(MintedKey {
        id,
        name: name.to_string(),
        api_key: key,
        expires_at,
    })
}

/// Deletes key `id` of the tenant, recorded as `api_key_deleted`; not found when there is none.
pub async fn delete(ctx: &AdminCtx<'_>, id: &str) -> Result<()> {
    let audit = ctx.audit(
        "api_key_deleted",
        None,
        json!({ "api_key_id": id }),
        When::PreviousChanged,
    )?;
    if !api_keys::delete(ctx.db, ctx.tenant_id, id, audit).await? {
        return Err(Error::NotFound("This API key".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::paging::Page;
    use crate::storage::audit::{self, AuditFilter};
    use crate::storage::db::Db;
    use crate::testing::{admin_ctx, db, run, tenant, NOW};
    use crate::usecase::Actor;

    const ISSUER: &str = "https://acme.id.test";

    fn operator<'a>(db: &'a Db, tenant_id: &'a str) -> AdminCtx<'a> {
        admin_ctx(db, tenant_id, Actor::Operator)
    }

    async fn events(db: &Db, tenant_id: &str) -> Vec<String> {
        let page = Page::parse(None, Some("100")).unwrap();
        let (entries, _) = audit::list(db, tenant_id, &AuditFilter::default(), &page)
            .await
            .unwrap();
        entries.into_iter().map(|e| e.event).collect()
    }

    #[test]
    fn a_key_authenticates_in_its_tenant_only_until_it_expires_and_records_its_use() {
        let db = db();
        run(async {
            let a = tenant(&db, "acme").await;
            let b = tenant(&db, "beta").await;
            let key = create(&operator(&db, &a.id), ISSUER, "ci", Some(NOW + 60))
                .await
                .unwrap();
            assert!(key.api_key.starts_with("eid_"));
            let found = api_keys::authenticate(&db, &a.id, &key.api_key, NOW + 1)
                .await
                .unwrap();
            assert_eq!(found.map(|r| r.id), Some(key.id.clone()));
            assert!(api_keys::authenticate(&db, &b.id, &key.api_key, NOW)
                .await
                .unwrap()
                .is_none());
            assert!(api_keys::authenticate(&db, &a.id, &key.api_key, NOW + 60)
                .await
                .unwrap()
                .is_none());
            assert!(api_keys::authenticate(&db, &a.id, "eid_wrong", NOW)
                .await
                .unwrap()
                .is_none());
            let listed = api_keys::list(&db, &a.id).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].last_used_at, Some(NOW + 1));
            assert_eq!(listed[0].created_by.as_deref(), Some("operator"));
            assert_eq!(events(&db, &a.id).await, ["api_key_created"]);
        });
    }

    #[test]
    fn deleting_is_scoped_to_the_tenant_and_recorded_only_when_it_happened() {
        let db = db();
        run(async {
            let a = tenant(&db, "acme").await;
            let b = tenant(&db, "beta").await;
            let key = create(&operator(&db, &a.id), ISSUER, "ci", None)
                .await
                .unwrap();
            let other = delete(&operator(&db, &b.id), &key.id).await.unwrap_err();
            assert!(matches!(other, Error::NotFound(_)), "{other:?}");
            assert!(
                events(&db, &b.id).await.is_empty(),
                "a refused delete records nothing"
            );
            delete(&operator(&db, &a.id), &key.id).await.unwrap();
            assert!(api_keys::authenticate(&db, &a.id, &key.api_key, NOW)
                .await
                .unwrap()
                .is_none());
            assert_eq!(
                events(&db, &a.id).await,
                ["api_key_deleted", "api_key_created"]
            );
        });
    }
}
