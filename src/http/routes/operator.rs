//! The operator API on the platform host: create, list, inspect, suspend, resume and delete
//! tenants; map custom domains; rotate keys; issue setup links and tenant API keys.
//!
//! Authenticated by `Authorization: Bearer <OPERATOR_SECRET>` (a Worker secret), which the
//! router checks for every route of the table's operator API (`http::admission`).

use serde_json::{json, Value};
use worker::Response;

use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::SigningAlg;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::app::App;
use crate::http::request::Incoming;
use crate::http::respond::json as json_response;
use crate::platform::{clock, webcrypto};
use crate::route_table::{OperatorRoute, Params};
use crate::storage::{tenant_cache, tenants};
use crate::tenancy::keys::{self, KeyChange};
use crate::tenancy::operator::{ApiKeyInput, CreateTenantInput, DomainInput, RotateInput};
use crate::tenancy::{validate_slug, RequestHost, Tenant, TenantSettings, TenantStatus};

/// How long a first-admin setup link works.
const SETUP_LINK_TTL_SECS: i64 = 7 * 24 * 3600;

/// Dispatches an operator API route; the router has checked the operator's secret.
pub async fn handle(
    app: &App,
    mut incoming: Incoming,
    route: OperatorRoute,
    params: &Params<'_>,
) -> Result<Response> {
    use OperatorRoute as R;
    let ctx = Operator {
        app,
        now: clock::now(),
    };
    let slug = params.get("slug");
    match route {
        R::ListTenants => ctx.list(&incoming).await,
        R::CreateTenant => {
            let body: CreateTenantInput = incoming.json().await?;
            ctx.create(&incoming, body).await
        }
        R::ShowTenant => ctx.show(&incoming, slug).await,
        R::DeleteTenant => ctx.delete(&incoming, slug).await,
        R::SuspendTenant => {
            ctx.set_status(&incoming, slug, TenantStatus::Suspended)
                .await
        }
        R::ResumeTenant => ctx.set_status(&incoming, slug, TenantStatus::Active).await,
        R::SetupLink => ctx.setup_link(&incoming, slug).await,
        R::AddDomain => {
            let body: DomainInput = incoming.json().await?;
            ctx.add_domain(&incoming, slug, &body.host).await
        }
        R::RemoveDomain => ctx.remove_domain(&incoming, slug, params.get("host")).await,
        R::RotateKeys => {
            // Parsed and validated before anything is touched: a malformed body rotates
            // nothing (it used to fall back to "rotate both keys").
            let body: RotateInput = incoming.optional_json().await?;
            ctx.rotate(slug, body).await
        }
        R::KeySelfTest => ctx.key_self_test(&incoming, slug).await,
        R::CreateClient => {
            let body: crate::oidc::client::ClientInput = incoming.json().await?;
            ctx.create_client(slug, body).await
        }
        R::CreateApiKey => {
            // A malformed body used to mint a key that never expires; now it mints nothing.
            let body: ApiKeyInput = incoming.optional_json().await?;
            ctx.api_key(slug, body).await
        }
    }
}

struct Operator<'a> {
    app: &'a App,
    now: i64,
}

impl Operator<'_> {
    fn db(&self) -> Result<&crate::storage::db::Db> {
        self.app.db()
    }

    async fn tenant(&self, slug: &str) -> Result<Tenant> {
        tenants::find_by_slug(self.db()?, slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("Tenant {slug}")))
    }

    /// The tenant's subdomain host, keeping the port the operator used (local development).
    fn slug_host(&self, incoming: &Incoming, slug: &str) -> RequestHost {
        RequestHost {
            name: format!("{slug}.{}", self.app.base_domain),
            port: incoming.host.port,
        }
    }

    fn base_url(&self, incoming: &Incoming, host: &RequestHost) -> String {
        crate::tenancy::issuer_for(host, incoming.is_https)
    }

    async fn hosts(&self, tenant: &Tenant) -> Result<Vec<String>> {
        let mut hosts = vec![format!("{}.{}", tenant.slug, self.app.base_domain)];
        hosts.extend(tenants::domains(self.db()?, &tenant.id).await?);
        Ok(hosts)
    }

    /// Forgets the cached snapshots of the tenant's hosts. Called after the write committed;
    /// a write that removes hosts (delete, remove_domain) collects them before and passes them
    /// to [`Self::invalidate_hosts`].
    async fn invalidate(&self, tenant: &Tenant) -> Result<()> {
        self.invalidate_hosts(&self.hosts(tenant).await?).await
    }

    async fn invalidate_hosts(&self, hosts: &[String]) -> Result<()> {
        tenant_cache::invalidate(&self.app.kv()?, hosts).await
    }

    /// One tenant with its signing keys and their lifecycle state.
    async fn show(&self, incoming: &Incoming, slug: &str) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        let mut view = self.view(incoming, &tenant).await?;
        let keys: Vec<Value> = tenants::keys(self.db()?, &tenant.id)
            .await?
            .iter()
            .filter(|k| keys::is_published(k, self.now))
            .map(|k| {
                json!({
                    "kid": k.kid,
                    "alg": k.alg.as_str(),
                    "status": k.status.as_str(),
                    "created_at": k.created_at,
                    "signs_from": keys::signs_from(k),
                    "published_until": k.expires_at,
                })
            })
            .collect();
        view["keys"] = json!(keys);
        Ok(json_response(200, &view))
    }

    async fn view(&self, incoming: &Incoming, tenant: &Tenant) -> Result<Value> {
        let host = self.slug_host(incoming, &tenant.slug);
        Ok(json!({
            "id": tenant.id,
            "slug": tenant.slug,
            "display_name": tenant.display_name,
            "status": tenant.status.as_str(),
            "created_at": tenant.created_at,
            "issuer": self.base_url(incoming, &host),
            "domains": tenants::domains(self.db()?, &tenant.id).await?,
        }))
    }

    async fn list(&self, incoming: &Incoming) -> Result<Response> {
        let mut out = Vec::new();
        for tenant in tenants::list(self.db()?).await? {
            out.push(self.view(incoming, &tenant).await?);
        }
        Ok(json_response(200, &json!({ "tenants": out })))
    }

    async fn create(&self, incoming: &Incoming, body: CreateTenantInput) -> Result<Response> {
        let slug = body.slug.trim().to_ascii_lowercase();
        validate_slug(&slug).map_err(|e| Error::BadRequest(e.to_string()))?;
        let display_name = body.display_name.trim();
        // Shown on every login and consent page of the tenant.
        crate::validation::plain_text("display_name", display_name)?;
        if display_name.is_empty() || display_name.chars().count() > 80 {
            return Err(Error::BadRequest(
                "display_name must be 1 to 80 characters".into(),
            ));
        }
        if tenants::find_by_slug(self.db()?, &slug).await?.is_some() {
            return Err(Error::Conflict(format!("the slug {slug} is taken")));
        }
        let master = self.app.master_key()?;
        let mut keys = Vec::new();
        for alg in SigningAlg::ALL {
            keys.push(webcrypto::generate_signing_key(alg, &master, self.now).await?);
        }
        let tenant = Tenant {
            id: random::id(),
            slug: slug.clone(),
            display_name: display_name.to_string(),
            status: TenantStatus::Active,
            settings: TenantSettings::default(),
            created_at: self.now,
        };
        let token = random::token();
        let expires_at = self.now + SETUP_LINK_TTL_SECS;
        tenants::create(self.db()?, &tenant, &keys, &secret_hash(&token), expires_at)
            .await
            // Two concurrent creates of one slug: the UNIQUE constraint decides.
            .map_err(crate::storage::db::unique_violation(format!(
                "the slug {slug} is taken"
            )))?;
        self.invalidate(&tenant).await?;
        let mut view = self.view(incoming, &tenant).await?;
        let base = view["issuer"].as_str().unwrap_or_default().to_string();
        view["setup_url"] = json!(format!("{base}/setup/{token}"));
        view["setup_expires_at"] = json!(expires_at);
        Ok(json_response(201, &view))
    }

    async fn delete(&self, _incoming: &Incoming, slug: &str) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        // The hosts are read before the delete (its custom domains go with it) and forgotten
        // after it: invalidating first let a request in between cache the tenant again.
        let hosts = self.hosts(&tenant).await?;
        tenants::delete(self.db()?, &tenant.id).await?;
        self.invalidate_hosts(&hosts).await?;
        Ok(json_response(200, &json!({ "deleted": slug })))
    }

    async fn set_status(
        &self,
        incoming: &Incoming,
        slug: &str,
        status: TenantStatus,
    ) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        tenants::set_status(self.db()?, &tenant.id, status, self.now).await?;
        self.invalidate(&tenant).await?;
        let tenant = self.tenant(slug).await?;
        Ok(json_response(200, &self.view(incoming, &tenant).await?))
    }

    /// A fresh first-admin link; only while nobody has set the tenant up yet.
    async fn setup_link(&self, incoming: &Incoming, slug: &str) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        if tenants::user_count(self.db()?, &tenant.id).await? > 0 {
            return Err(Error::Conflict(
                "this tenant already has users: its admins invite people from the admin console"
                    .into(),
            ));
        }
        let token = random::token();
        let expires_at = self.now + SETUP_LINK_TTL_SECS;
        tenants::replace_setup_token(
            self.db()?,
            &tenant.id,
            &secret_hash(&token),
            self.now,
            expires_at,
        )
        .await?;
        let base = self.base_url(incoming, &self.slug_host(incoming, slug));
        Ok(json_response(
            201,
            &json!({ "setup_url": format!("{base}/setup/{token}"), "setup_expires_at": expires_at }),
        ))
    }

    async fn add_domain(&self, incoming: &Incoming, slug: &str, host: &str) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        let parsed = RequestHost::parse(host).map_err(|e| Error::BadRequest(e.to_string()))?;
        if parsed.port.is_some() || !parsed.name.contains('.') {
            return Err(Error::BadRequest(
                "a custom domain is a full DNS name without a port".into(),
            ));
        }
        if matches!(
            crate::tenancy::classify_host(&parsed, &self.app.base_domain),
            crate::tenancy::HostKind::Platform | crate::tenancy::HostKind::TenantSlug(_)
        ) || parsed.name.ends_with(&format!(".{}", self.app.base_domain))
        {
            return Err(Error::BadRequest(
                "custom domains must be outside the base domain".into(),
            ));
        }
        tenants::add_domain(self.db()?, &tenant.id, &parsed.name, self.now).await?;
        self.invalidate(&tenant).await?;
        Ok(json_response(201, &self.view(incoming, &tenant).await?))
    }

    async fn remove_domain(&self, incoming: &Incoming, slug: &str, host: &str) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        // Collect the hosts while the domain still maps to the tenant; forget them only once
        // the unmapping has committed.
        let hosts = self.hosts(&tenant).await?;
        if !tenants::remove_domain(self.db()?, &tenant.id, &host.to_ascii_lowercase()).await? {
            return Err(Error::NotFound(format!("Domain {host}")));
        }
        self.invalidate_hosts(&hosts).await?;
        Ok(json_response(200, &self.view(incoming, &tenant).await?))
    }

    /// Rotates the tenant's keys. Normally the new key is published now and signs once every
    /// cached JWKS holds it (the promotion trigger, `routes::maintenance`); `immediate` is the
    /// emergency path that signs with it at once.
    async fn rotate(&self, slug: &str, body: RotateInput) -> Result<Response> {
        let rotation = body.validate()?;
        let tenant = self.tenant(slug).await?;
        let existing = tenants::keys(self.db()?, &tenant.id).await?;
        let master = self.app.master_key()?;
        let mut changes = Vec::new();
        for alg in &rotation.algs {
            let key = webcrypto::generate_signing_key(*alg, &master, self.now).await?;
            changes.extend(keys::rotation(
                &existing,
                key,
                rotation.overlap_secs,
                rotation.immediate,
            ));
        }
        // Both algorithms in one transaction: a failure rotates neither.
        tenants::apply_key_changes(self.db()?, &tenant.id, &changes).await?;
        self.invalidate(&tenant).await?;
        let rotated: Vec<Value> = changes
            .iter()
            .filter_map(|c| match c {
                KeyChange::Insert(k) => Some(json!({
                    "alg": k.alg.as_str(),
                    "kid": k.kid,
                    "status": k.status.as_str(),
                    "signs_from": keys::signs_from(k).unwrap_or(k.created_at),
                })),
                _ => None,
            })
            .collect();
        Ok(json_response(200, &json!({ "keys": rotated })))
    }

    /// Signs a short-lived probe token with each current key, so an operator (and the test
    /// suite) can check that the keys decrypt under this deployment's master key and that the
    /// published JWKS verifies what the tenant signs.
    async fn key_self_test(&self, incoming: &Incoming, slug: &str) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        let host =
            crate::tenancy::classify_host(&self.slug_host(incoming, slug), &self.app.base_domain);
        let snapshot = tenants::load_snapshot(self.db()?, &host)
            .await?
            .ok_or_else(|| Error::NotFound(format!("Tenant {slug}")))?;
        let issuer = self.base_url(incoming, &self.slug_host(incoming, &tenant.slug));
        let claims = json!({
            "iss": issuer,
            "sub": "self-test",
            "aud": "edge-id-self-test",
            "iat": self.now,
            "exp": self.now + 300,
        });
        let mut tokens = serde_json::Map::new();
        for alg in SigningAlg::ALL {
            let token =
                crate::http::signing::sign_jwt(self.app, &snapshot, alg, "JWT", &claims).await?;
            tokens.insert(alg.as_str().to_string(), json!(token));
        }
        Ok(json_response(200, &json!({ "tokens": tokens })))
    }

    /// Registers an OIDC client in the tenant (the operator path; tenant admins use
    /// `/api/oidc/clients`).
    async fn create_client(
        &self,
        slug: &str,
        input: crate::oidc::client::ClientInput,
    ) -> Result<Response> {
        let tenant = self.tenant(slug).await?;
        let created =
            super::admin::clients::create_client(self.db()?, &tenant.id, &input, self.now, |_| {
                Ok(None::<crate::storage::db::Statement>)
            })
            .await?;
        Ok(json_response(201, &created))
    }

    /// Mints an API key for the tenant's admin REST API (scripts, provisioning, tests).
    async fn api_key(&self, slug: &str, body: ApiKeyInput) -> Result<Response> {
        let request = body.validate()?;
        let tenant = self.tenant(slug).await?;
        let key = crate::storage::api_keys::generate();
        let expires_at = request.expires_in_days.map(|d| self.now + d * 86400);
        let id = random::id();
        crate::storage::api_keys::create(
            self.db()?,
            &tenant.id,
            &crate::storage::api_keys::NewApiKey {
                id: &id,
                name: &request.name,
                key: &key,
                created_by: "operator",
                expires_at,
            },
            self.now,
            None,
        )
        .await?;
        Ok(json_response(
            201,
            &json!({ "id": id, "name": request.name, "api_key": key, "expires_at": expires_at }),
        ))
    }
}
