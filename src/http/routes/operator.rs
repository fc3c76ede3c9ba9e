//! The operator API on the platform host: create, list, inspect, suspend, resume and delete
//! tenants; map custom domains; rotate keys; issue setup links and tenant API keys.
//!
//! Authenticated by `Authorization: Bearer <OPERATOR_SECRET>` (a Worker secret), which the
//! router checks for every route of the table's operator API (`http::admission`).

use serde_json::{json, Value};
use worker::Response;

use crate::error::{Error, Result};
use crate::http::app::App;
use crate::http::request::Incoming;
use crate::http::respond::json as json_response;
use crate::http::signing::{WebCryptoKeyMaker, WebCryptoSigner};
use crate::platform::clock;
use crate::route_table::{OperatorRoute, Params};
use crate::tenancy::operator::{ApiKeyInput, CreateTenantInput, DomainInput, RotateInput};
use crate::tenancy::{RequestHost, TenantStatus};
use crate::usecase::tenants::{self, OperatorCtx, SetupToken, TenantInfo};

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
        origin: incoming.audit_origin(),
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
            ctx.api_key(&incoming, slug, body).await
        }
    }
}

struct Operator<'a> {
    app: &'a App,
    now: i64,
    /// Where the request came from, for the tenant's audit log.
    origin: crate::storage::audit::Origin,
}

impl Operator<'_> {
    /// The context of the operator's tenant use cases.
    fn ctx<'a>(&'a self, cache: &'a dyn crate::storage::backend::Cache) -> Result<OperatorCtx<'a>> {
        Ok(OperatorCtx {
            db: self.app.db()?,
            cache,
            base_domain: &self.app.base_domain,
            now: self.now,
        })
    }

    /// The context of an admin use case the operator runs in a tenant (the operator is the
    /// author in the tenant's audit log).
    fn admin_ctx<'a>(&'a self, tenant_id: &'a str) -> Result<crate::usecase::AdminCtx<'a>> {
        Ok(crate::usecase::AdminCtx {
            db: self.app.db()?,
            tenant_id,
            now: self.now,
            author: crate::usecase::Author {
                actor: crate::usecase::Actor::Operator,
                origin: self.origin.clone(),
            },
        })
    }

    async fn tenant_id(&self, slug: &str) -> Result<String> {
        crate::storage::tenants::find_by_slug(self.app.db()?, slug)
            .await?
            .map(|t| t.id)
            .ok_or_else(|| Error::NotFound(format!("Tenant {slug}")))
    }

    /// The tenant's issuer: its subdomain, keeping the port the operator used (local
    /// development).
    fn issuer(&self, incoming: &Incoming, slug: &str) -> String {
        let host = RequestHost {
            name: format!("{slug}.{}", self.app.base_domain),
            port: incoming.host.port,
        };
        crate::tenancy::issuer_for(&host, incoming.is_https)
    }

    fn view(&self, incoming: &Incoming, info: &TenantInfo) -> Value {
        let t = &info.tenant;
        json!({
            "id": t.id,
            "slug": t.slug,
            "display_name": t.display_name,
            "status": t.status.as_str(),
            "created_at": t.created_at,
            "issuer": self.issuer(incoming, &t.slug),
            "domains": info.domains,
        })
    }

    fn setup(&self, incoming: &Incoming, slug: &str, setup: &SetupToken) -> Value {
        json!({
            "setup_url": format!("{}/setup/{}", self.issuer(incoming, slug), setup.token),
            "setup_expires_at": setup.expires_at,
        })
    }

    /// One tenant with its signing keys and their lifecycle state.
    async fn show(&self, incoming: &Incoming, slug: &str) -> Result<Response> {
        let kv = self.app.kv()?;
        let (info, keys) = tenants::show(&self.ctx(&kv)?, slug).await?;
        let mut view = self.view(incoming, &info);
        view["keys"] = json!(keys);
        Ok(json_response(200, &view))
    }

    async fn list(&self, incoming: &Incoming) -> Result<Response> {
        let kv = self.app.kv()?;
        let all = tenants::list(&self.ctx(&kv)?).await?;
        let out: Vec<Value> = all.iter().map(|t| self.view(incoming, t)).collect();
        Ok(json_response(200, &json!({ "tenants": out })))
    }

    async fn create(&self, incoming: &Incoming, body: CreateTenantInput) -> Result<Response> {
        let kv = self.app.kv()?;
        let maker = WebCryptoKeyMaker(self.app);
        let (info, setup) =
            tenants::create(&self.ctx(&kv)?, &maker, &body.slug, &body.display_name).await?;
        let mut view = self.view(incoming, &info);
        let setup = self.setup(incoming, &info.tenant.slug, &setup);
        view["setup_url"] = setup["setup_url"].clone();
        view["setup_expires_at"] = setup["setup_expires_at"].clone();
        Ok(json_response(201, &view))
    }

    async fn delete(&self, _incoming: &Incoming, slug: &str) -> Result<Response> {
        let kv = self.app.kv()?;
        tenants::delete(&self.ctx(&kv)?, slug).await?;
        Ok(json_response(200, &json!({ "deleted": slug })))
    }

    async fn set_status(
        &self,
        incoming: &Incoming,
        slug: &str,
        status: TenantStatus,
    ) -> Result<Response> {
        let kv = self.app.kv()?;
        let info = tenants::set_status(&self.ctx(&kv)?, slug, status).await?;
        Ok(json_response(200, &self.view(incoming, &info)))
    }

    /// A fresh first-admin link; only while nobody has set the tenant up yet.
    async fn setup_link(&self, incoming: &Incoming, slug: &str) -> Result<Response> {
        let kv = self.app.kv()?;
        let setup = tenants::setup_link(&self.ctx(&kv)?, slug).await?;
        Ok(json_response(201, &self.setup(incoming, slug, &setup)))
    }

    async fn add_domain(&self, incoming: &Incoming, slug: &str, host: &str) -> Result<Response> {
        let kv = self.app.kv()?;
        let info = tenants::add_domain(&self.ctx(&kv)?, slug, host).await?;
        Ok(json_response(201, &self.view(incoming, &info)))
    }

    async fn remove_domain(&self, incoming: &Incoming, slug: &str, host: &str) -> Result<Response> {
        let kv = self.app.kv()?;
        let info = tenants::remove_domain(&self.ctx(&kv)?, slug, host).await?;
        Ok(json_response(200, &self.view(incoming, &info)))
    }

    /// Rotates the tenant's keys (see `usecase::tenants::rotate`).
    async fn rotate(&self, slug: &str, body: RotateInput) -> Result<Response> {
        let rotation = body.validate()?;
        let kv = self.app.kv()?;
        let maker = WebCryptoKeyMaker(self.app);
        let keys = tenants::rotate(&self.ctx(&kv)?, &maker, slug, &rotation).await?;
        let rotated: Vec<Value> = keys
            .iter()
            .map(|k| json!({ "alg": k.alg, "kid": k.kid, "status": k.status, "signs_from": k.signs_from }))
            .collect();
        Ok(json_response(200, &json!({ "keys": rotated })))
    }

    /// Signs a short-lived probe token with each current key (see
    /// `usecase::tenants::key_self_test`).
    async fn key_self_test(&self, incoming: &Incoming, slug: &str) -> Result<Response> {
        let kv = self.app.kv()?;
        let issuer = self.issuer(incoming, slug);
        let signer = WebCryptoSigner(self.app);
        let signed = tenants::key_self_test(&self.ctx(&kv)?, &signer, slug, &issuer).await?;
        let tokens: serde_json::Map<String, Value> = signed
            .into_iter()
            .map(|(alg, token)| (alg.as_str().to_string(), json!(token)))
            .collect();
        Ok(json_response(200, &json!({ "tokens": tokens })))
    }

    /// Registers an OIDC client in the tenant (the operator path; tenant admins use
    /// `/api/oidc/clients`).
    async fn create_client(
        &self,
        slug: &str,
        input: crate::oidc::client::ClientInput,
    ) -> Result<Response> {
        let tenant_id = self.tenant_id(slug).await?;
        let created =
            crate::usecase::clients::create_client(&self.admin_ctx(&tenant_id)?, &input, json!({}))
                .await?;
        Ok(json_response(201, &created.to_json()))
    }

    /// Mints an API key for the tenant's admin REST API (scripts, provisioning, tests).
    async fn api_key(
        &self,
        incoming: &Incoming,
        slug: &str,
        body: ApiKeyInput,
    ) -> Result<Response> {
        let request = body.validate()?;
        let tenant_id = self.tenant_id(slug).await?;
        let expires_at = request.expires_in_days.map(|d| self.now + d * 86400);
        let minted = crate::usecase::api_keys::create(
            &self.admin_ctx(&tenant_id)?,
            &self.issuer(incoming, slug),
            &request.name,
            expires_at,
        )
        .await?;
        Ok(json_response(201, &minted))
    }
}
