//! The operator's tenant management (`/operator/api/tenants/...` on the platform host):
//! create, list, inspect, suspend, resume and delete tenants; map custom domains; rotate keys;
//! issue first-admin setup links. Every write that changes what a host serves forgets the
//! tenant's cached snapshots after it has committed (never before: a request in between would
//! cache the old state again for the whole TTL).

use serde::Serialize;

use super::{KeyMaker, Signer};
use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::SigningAlg;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::storage::backend::Cache;
use crate::storage::db::Db;
use crate::storage::{tenant_cache, tenants};
use crate::tenancy::keys::{self, KeyChange};
use crate::tenancy::operator::Rotation;
use crate::tenancy::{
    classify_host, validate_slug, HostKind, RequestHost, Tenant, TenantSettings, TenantStatus,
};
use crate::validation::field_error;

/// How long a first-admin setup link works.
pub const SETUP_LINK_TTL_SECS: i64 = 7 * 24 * 3600;

/// What operator use cases work with.
pub struct OperatorCtx<'a> {
    pub db: &'a Db,
    pub cache: &'a dyn Cache,
    /// The domain tenants live under (`<slug>.<base_domain>`).
    pub base_domain: &'a str,
    pub now: i64,
}

/// A tenant with its custom domains.
#[derive(Debug, Clone)]
pub struct TenantInfo {
    pub tenant: Tenant,
    pub domains: Vec<String>,
}

/// A published signing key, as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: &'static str,
    pub status: &'static str,
    pub created_at: i64,
    pub signs_from: Option<i64>,
    pub published_until: Option<i64>,
}

/// A first-admin setup token, shown once.
#[derive(Debug, Clone)]
pub struct SetupToken {
    pub token: String,
    pub expires_at: i64,
}

impl OperatorCtx<'_> {
    async fn tenant(&self, slug: &str) -> Result<Tenant> {
        tenants::find_by_slug(self.db, slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("Tenant {slug}")))
    }

    async fn info(&self, tenant: Tenant) -> Result<TenantInfo> {
        let domains = tenants::domains(self.db, &tenant.id).await?;
        Ok(TenantInfo { tenant, domains })
    }

    /// Every host the tenant is served on.
    fn hosts(&self, info: &TenantInfo) -> Vec<String> {
        let mut hosts = vec![format!("{}.{}", info.tenant.slug, self.base_domain)];
        hosts.extend(info.domains.iter().cloned());
        hosts
    }

    async fn forget(&self, hosts: &[String]) -> Result<()> {
        tenant_cache::invalidate(self.cache, hosts).await
    }
}

pub async fn list(ctx: &OperatorCtx<'_>) -> Result<Vec<TenantInfo>> {
    let mut out = Vec::new();
    for tenant in tenants::list(ctx.db).await? {
        out.push(ctx.info(tenant).await?);
    }
    Ok(out)
}

/// A tenant with the keys its JWKS publishes and their lifecycle state.
pub async fn show(ctx: &OperatorCtx<'_>, slug: &str) -> Result<(TenantInfo, Vec<KeyInfo>)> {
    let info = ctx.info(ctx.tenant(slug).await?).await?;
    let keys = tenants::keys(ctx.db, &info.tenant.id)
        .await?
        .iter()
        .filter(|k| keys::is_published(k, ctx.now))
        .map(|k| KeyInfo {
            kid: k.kid.clone(),
            alg: k.alg.as_str(),
            status: k.status.as_str(),
            created_at: k.created_at,
            signs_from: keys::signs_from(k),
            published_until: k.expires_at,
        })
        .collect();
    Ok((info, keys))
}

/// Creates a tenant with a key per algorithm and a first-admin setup token.
pub async fn create(
    ctx: &OperatorCtx<'_>,
    key_maker: &dyn KeyMaker,
    slug: &str,
    display_name: &str,
) -> Result<(TenantInfo, SetupToken)> {
    let slug = slug.trim().to_ascii_lowercase();
    validate_slug(&slug).map_err(|e| field_error("slug", e.to_string()))?;
    let display_name = display_name.trim();
    // Shown on every login and consent page of the tenant.
    crate::validation::plain_text("display_name", display_name)?;
    if display_name.is_empty() || display_name.chars().count() > 80 {
        return Err(field_error("display_name", "1 to 80 characters").into());
    }
    // Checked before the (costly) key generation; a concurrent create of the same slug is
    // refused by the UNIQUE constraint inside `tenants::create`, with the same answer.
    if tenants::find_by_slug(ctx.db, &slug).await?.is_some() {
        return Err(tenants::slug_taken(&slug));
    }
    let mut keys = Vec::new();
    for alg in SigningAlg::ALL {
        keys.push(key_maker.generate(alg, ctx.now).await?);
    }
    let tenant = Tenant {
        id: random::id(),
        slug: slug.clone(),
        display_name: display_name.to_string(),
        status: TenantStatus::Active,
        settings: TenantSettings::default(),
        created_at: ctx.now,
    };
    let setup = SetupToken {
        token: random::token(),
        expires_at: ctx.now + SETUP_LINK_TTL_SECS,
    };
    tenants::create(
        ctx.db,
        &tenant,
        &keys,
        &secret_hash(&setup.token),
        setup.expires_at,
    )
    .await?;
    let info = TenantInfo {
        tenant,
        domains: vec![],
    };
    // A host asked for before the tenant existed is cached as unknown: forget that.
    ctx.forget(&ctx.hosts(&info)).await?;
    Ok((info, setup))
}

/// Deletes a tenant and everything it owns.
pub async fn delete(ctx: &OperatorCtx<'_>, slug: &str) -> Result<()> {
    // The hosts are read before the delete (its custom domains go with it) and forgotten after.
    let info = ctx.info(ctx.tenant(slug).await?).await?;
    tenants::delete(ctx.db, &info.tenant.id).await?;
    ctx.forget(&ctx.hosts(&info)).await
}

/// Suspends or resumes a tenant: a suspended tenant serves nothing (its hosts answer 404).
pub async fn set_status(
    ctx: &OperatorCtx<'_>,
    slug: &str,
    status: TenantStatus,
) -> Result<TenantInfo> {
    let mut info = ctx.info(ctx.tenant(slug).await?).await?;
    tenants::set_status(ctx.db, &info.tenant.id, status, ctx.now).await?;
    ctx.forget(&ctx.hosts(&info)).await?;
    info.tenant.status = status;
    Ok(info)
}

/// A fresh first-admin link; only while nobody has set the tenant up yet.
pub async fn setup_link(ctx: &OperatorCtx<'_>, slug: &str) -> Result<SetupToken> {
    let tenant = ctx.tenant(slug).await?;
    if tenants::user_count(ctx.db, &tenant.id).await? > 0 {
        return Err(Error::Conflict(
            "this tenant already has users: its admins invite people from the admin console".into(),
        ));
    }
    let setup = SetupToken {
        token: random::token(),
        expires_at: ctx.now + SETUP_LINK_TTL_SECS,
    };
    let hash = secret_hash(&setup.token);
    tenants::replace_setup_token(ctx.db, &tenant.id, &hash, ctx.now, setup.expires_at).await?;
    Ok(setup)
}

/// Maps a custom domain (a full DNS name outside the base domain) to the tenant.
pub async fn add_domain(ctx: &OperatorCtx<'_>, slug: &str, host: &str) -> Result<TenantInfo> {
    let tenant = ctx.tenant(slug).await?;
    let parsed = RequestHost::parse(host).map_err(|e| field_error("host", e.to_string()))?;
    if parsed.port.is_some() || !parsed.name.contains('.') {
        return Err(field_error("host", "a full DNS name without a port").into());
    }
    let inside = matches!(
        classify_host(&parsed, ctx.base_domain),
        HostKind::Platform | HostKind::TenantSlug(_)
    ) || parsed.name.ends_with(&format!(".{}", ctx.base_domain));
    if inside {
        return Err(field_error("host", "custom domains must be outside the base domain").into());
    }
    tenants::add_domain(ctx.db, &tenant.id, &parsed.name, ctx.now).await?;
    let info = ctx.info(tenant).await?;
    ctx.forget(&ctx.hosts(&info)).await?;
    Ok(info)
}

/// Unmaps a custom domain; its cached snapshot is forgotten once the unmapping committed.
pub async fn remove_domain(ctx: &OperatorCtx<'_>, slug: &str, host: &str) -> Result<TenantInfo> {
    let before = ctx.info(ctx.tenant(slug).await?).await?;
    if !tenants::remove_domain(ctx.db, &before.tenant.id, &host.to_ascii_lowercase()).await? {
        return Err(Error::NotFound(format!("Domain {host}")));
    }
    ctx.forget(&ctx.hosts(&before)).await?;
    ctx.info(before.tenant).await
}

/// Rotates the tenant's keys (both algorithms in one transaction: a failure rotates neither).
/// Normally the new key is published now and signs once every cached JWKS holds it (the
/// promotion trigger); `immediate` is the emergency path that signs with it at once. Returns
/// the new keys.
pub async fn rotate(
    ctx: &OperatorCtx<'_>,
    key_maker: &dyn KeyMaker,
    slug: &str,
    rotation: &Rotation,
) -> Result<Vec<KeyInfo>> {
    let info = ctx.info(ctx.tenant(slug).await?).await?;
    let existing = tenants::keys(ctx.db, &info.tenant.id).await?;
    let mut changes = Vec::new();
    for alg in &rotation.algs {
        let key = key_maker.generate(*alg, ctx.now).await?;
        changes.extend(keys::rotation(
            &existing,
            key,
            rotation.overlap_secs,
            rotation.immediate,
        ));
    }
    tenants::apply_key_changes(ctx.db, &info.tenant.id, &changes).await?;
    ctx.forget(&ctx.hosts(&info)).await?;
    Ok(changes
        .iter()
        .filter_map(|c| match c {
            KeyChange::Insert(k) => Some(KeyInfo {
                kid: k.kid.clone(),
                alg: k.alg.as_str(),
                status: k.status.as_str(),
                created_at: k.created_at,
                signs_from: Some(keys::signs_from(k).unwrap_or(k.created_at)),
                published_until: k.expires_at,
            }),
            _ => None,
        })
        .collect())
}

/// Signs a short-lived probe token with each current key of the tenant, so an operator can
/// check that the keys open under this deployment's master key and that the published JWKS
/// verifies what the tenant signs.
pub async fn key_self_test(
    ctx: &OperatorCtx<'_>,
    signer: &dyn Signer,
    slug: &str,
    issuer: &str,
) -> Result<Vec<(SigningAlg, String)>> {
    let kind = HostKind::TenantSlug(slug.to_string());
    let snapshot = tenants::load_snapshot(ctx.db, &kind)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Tenant {slug}")))?;
    let claims = serde_json::json!({
        "iss": issuer,
        "sub": "self-test",
        "aud": "edge-id-self-test",
        "iat": ctx.now,
        "exp": ctx.now + 300,
    });
    let mut tokens = Vec::new();
    for alg in SigningAlg::ALL {
        tokens.push((alg, signer.sign_jwt(&snapshot, alg, "JWT", &claims).await?));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::backend::memory_cache::MemoryCache;
    use crate::tenancy::operator::RotateInput;
    use crate::tenancy::KeyStatus;
    use crate::testing::{db, run, user, TestKeyMaker, NOW};

    fn ctx<'a>(db: &'a Db, cache: &'a MemoryCache) -> OperatorCtx<'a> {
        OperatorCtx {
            db,
            cache,
            base_domain: "id.test",
            now: NOW,
        }
    }

    #[test]
    fn a_tenant_is_created_with_a_key_per_algorithm_and_a_one_time_setup_token() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            let ctx = ctx(&db, &cache);
            let maker = TestKeyMaker::default();
            let (info, setup) = create(&ctx, &maker, " Acme ", "Acme Inc.").await.unwrap();
            assert_eq!(info.tenant.slug, "acme");
            assert_eq!(setup.expires_at, NOW + SETUP_LINK_TTL_SECS);
            let (_, keys) = show(&ctx, "acme").await.unwrap();
            assert_eq!(keys.len(), SigningAlg::ALL.len());
            assert!(keys.iter().all(|k| k.status == "current"));
            let taken = create(&ctx, &maker, "acme", "Again").await.unwrap_err();
            assert!(matches!(taken, Error::Conflict(_)), "{taken:?}");
            for (slug, name) in [
                ("A!", "x"),
                ("admin", "x"),
                ("ok-slug", ""),
                ("ok-slug", "a\u{202e}b"),
            ] {
                let err = create(&ctx, &maker, slug, name).await.unwrap_err();
                assert!(
                    matches!(err, Error::Invalid { .. }),
                    "{slug} {name}: {err:?}"
                );
            }
            assert_eq!(
                list(&ctx).await.unwrap().len(),
                1,
                "refusals created nothing"
            );
            let fresh = setup_link(&ctx, "acme").await.unwrap();
            assert_ne!(fresh.token, setup.token);
            user(&db, &info.tenant.id, "root", true).await;
            let err = setup_link(&ctx, "acme").await.unwrap_err();
            assert!(
                matches!(err, Error::Conflict(_)),
                "a tenant with users gets no setup link"
            );
        });
    }

    #[test]
    fn domains_must_be_outside_the_base_domain_and_writes_forget_cached_snapshots() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            let ctx = ctx(&db, &cache);
            create(&ctx, &TestKeyMaker::default(), "acme", "Acme")
                .await
                .unwrap();
            for bad in [
                "beta.id.test",
                "id.test",
                "localhost",
                "login.acme.test:8443",
            ] {
                let err = add_domain(&ctx, "acme", bad).await.unwrap_err();
                assert!(
                    matches!(err, Error::Invalid { field: "host", .. }),
                    "{bad}: {err:?}"
                );
            }
            let info = add_domain(&ctx, "acme", "Login.Acme.Test").await.unwrap();
            assert_eq!(info.domains, ["login.acme.test"]);
            let kind = HostKind::CustomDomain("login.acme.test".into());
            tenant_cache::snapshot_for(&db, &cache, "login.acme.test", &kind)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(cache.len(), 1);
            let suspended = set_status(&ctx, "acme", TenantStatus::Suspended)
                .await
                .unwrap();
            assert_eq!(suspended.tenant.status, TenantStatus::Suspended);
            assert!(
                cache.is_empty(),
                "the custom domain's cached snapshot is forgotten"
            );
            let cached = tenant_cache::snapshot_for(&db, &cache, "login.acme.test", &kind)
                .await
                .unwrap();
            assert!(!cached.unwrap().is_active());
            let info = remove_domain(&ctx, "acme", "login.acme.test")
                .await
                .unwrap();
            assert!(info.domains.is_empty());
            assert!(
                cache.is_empty(),
                "an unmapped domain stops serving the tenant"
            );
            assert!(matches!(
                remove_domain(&ctx, "acme", "login.acme.test").await,
                Err(Error::NotFound(_))
            ));
            delete(&ctx, "acme").await.unwrap();
            assert!(matches!(show(&ctx, "acme").await, Err(Error::NotFound(_))));
        });
    }

    #[test]
    fn a_rotation_publishes_a_next_key_and_an_emergency_one_signs_at_once() {
        let (db, cache) = (db(), MemoryCache::default());
        run(async {
            let ctx = ctx(&db, &cache);
            let maker = TestKeyMaker::default();
            create(&ctx, &maker, "acme", "Acme").await.unwrap();
            let rotation = |json: serde_json::Value| {
                serde_json::from_value::<RotateInput>(json)
                    .unwrap()
                    .validate()
                    .unwrap()
            };
            let normal = rotate(
                &ctx,
                &maker,
                "acme",
                &rotation(serde_json::json!({ "alg": "ES256" })),
            )
            .await
            .unwrap();
            assert_eq!(normal.len(), 1);
            assert_eq!((normal[0].alg, normal[0].status), ("ES256", "next"));
            assert!(normal[0].signs_from > Some(NOW), "a next key signs later");
            let urgent = rotate(
                &ctx,
                &maker,
                "acme",
                &rotation(serde_json::json!({ "immediate": true })),
            )
            .await
            .unwrap();
            assert_eq!(urgent.len(), 2);
            assert!(urgent
                .iter()
                .all(|k| k.status == "current" && k.signs_from == Some(NOW)));
            let stored = tenants::keys(&db, &show(&ctx, "acme").await.unwrap().0.tenant.id)
                .await
                .unwrap();
            let current: Vec<&str> = stored
                .iter()
                .filter(|k| k.status == KeyStatus::Current)
                .map(|k| k.kid.as_str())
                .collect();
            assert_eq!(
                current.len(),
                2,
                "one current key per algorithm: {current:?}"
            );
            assert!(
                stored.iter().all(|k| k.status != KeyStatus::Next),
                "the emergency dropped the waiting key"
            );
        });
    }
}
