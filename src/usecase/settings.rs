//! The tenant's settings (`/api/application-configuration`): branding and account options.

use serde_json::json;

use super::AdminCtx;
use crate::admin::settings::SettingsChange;
use crate::error::{Error, Result};
use crate::storage::audit::When;
use crate::storage::backend::Cache;
use crate::storage::tenant_cache;
use crate::storage::tenants::{self, UpdatedSettings};

/// Applies `change` (only the settings sent) to what the database holds, never to a cached
/// snapshot that may predate another admin's change, records `settings_updated` with the
/// fields changed in the same batch, and forgets the cached snapshots of every host the tenant
/// is served on (`hosts` plus its custom domains) so they serve the new settings.
pub async fn update(
    ctx: &AdminCtx<'_>,
    cache: &dyn Cache,
    change: &SettingsChange,
    hosts: Vec<String>,
) -> Result<UpdatedSettings> {
    if change.smtp_password.is_some() {
        return Err(Error::Internal(
            "an SMTP password must be sealed (SettingsChange::seal) before it is stored".into(),
        ));
    }
    let mut fields: Vec<&str> = change.patch.keys().map(String::as_str).collect();
    if change.display_name.is_some() {
        fields.insert(0, "display_name");
    }
    let audit = ctx.audit(
        "settings_updated",
        None,
        json!({ "fields": fields }),
        When::PreviousChanged,
    )?;
    let updated = tenants::update_settings(ctx.db, ctx.tenant_id, change, ctx.now, audit)
        .await?
        .ok_or(Error::UnknownTenant)?;
    let mut hosts = hosts;
    hosts.extend(updated.domains.iter().cloned());
    tenant_cache::invalidate(cache, &hosts).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::settings::SettingsInput;
    use crate::storage::backend::memory_cache::MemoryCache;
    use crate::storage::db::Db;
    use crate::tenancy::HostKind;
    use crate::testing::{admin_ctx, db, run, tenant, NOW};
    use crate::usecase::Actor;

    fn change(json: serde_json::Value) -> SettingsChange {
        serde_json::from_value::<SettingsInput>(json)
            .unwrap()
            .validate()
            .unwrap()
    }

    fn admin<'a>(db: &'a Db, tenant_id: &'a str) -> AdminCtx<'a> {
        let actor = Actor::Admin {
            user_id: "user-root".into(),
        };
        admin_ctx(db, tenant_id, actor)
    }

    #[test]
    fn changes_of_different_fields_made_from_the_same_old_copy_all_survive() {
        let db = db();
        let cache = MemoryCache::default();
        run(async {
            let t = tenant(&db, "acme").await;
            let hosts = vec!["acme.id.test".to_string()];
            update(
                &admin(&db, &t.id),
                &cache,
                &change(json!({ "display_name": "Acme" })),
                hosts.clone(),
            )
            .await
            .unwrap();
            let after = update(
                &admin(&db, &t.id),
                &cache,
                &change(json!({ "refresh_grace_secs": 0 })),
                hosts,
            )
            .await
            .unwrap();
            assert_eq!(
                after.display_name, "Acme",
                "the first change survives the second"
            );
            assert_eq!(after.settings.refresh_grace_secs, 0);
        });
    }

    #[test]
    fn every_host_of_the_tenant_serves_the_new_settings() {
        let db = db();
        let cache = MemoryCache::default();
        run(async {
            let t = tenant(&db, "acme").await;
            tenants::add_domain(&db, &t.id, "login.acme.test", NOW)
                .await
                .unwrap();
            let slug_host = HostKind::TenantSlug("acme".into());
            let domain_host = HostKind::CustomDomain("login.acme.test".into());
            for (host, kind) in [
                ("acme.id.test", &slug_host),
                ("login.acme.test", &domain_host),
            ] {
                let cached = tenant_cache::snapshot_for(&db, &cache, host, kind)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(cached.tenant.display_name, "acme Inc.");
            }
            assert_eq!(cache.len(), 2, "both hosts were cached in KV");
            update(
                &admin(&db, &t.id),
                &cache,
                &change(json!({ "display_name": "Acme" })),
                vec!["acme.id.test".into()],
            )
            .await
            .unwrap();
            assert!(
                cache.is_empty(),
                "the custom domain's entry was forgotten too"
            );
            for (host, kind) in [
                ("acme.id.test", &slug_host),
                ("login.acme.test", &domain_host),
            ] {
                let fresh = tenant_cache::snapshot_for(&db, &cache, host, kind)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(fresh.tenant.display_name, "Acme", "{host}");
            }
        });
    }

    #[test]
    fn a_deleted_tenant_is_unknown_and_nothing_is_recorded() {
        let db = db();
        let cache = MemoryCache::default();
        run(async {
            let t = tenant(&db, "acme").await;
            tenants::delete(&db, &t.id).await.unwrap();
            let err = update(
                &admin(&db, &t.id),
                &cache,
                &change(json!({ "display_name": "X" })),
                vec![],
            )
            .await
            .unwrap_err();
            assert!(matches!(err, Error::UnknownTenant), "{err:?}");
        });
    }
}
