//! Host-based tenant resolution and path routing.
//!
//! The Host header alone selects the tenant: `<slug>.<BASE_DOMAIN>`, a mapped custom domain, or
//! the platform itself (the bare base domain, or a loopback IP locally). Unknown and suspended
//! tenants get the same 404, so suspension reveals nothing and serves nothing.

use worker::{Method, Request, Response};

use super::app::App;
use super::request::{Incoming, TenantRequest};
use super::respond::{error_response, finalize, ErrorStyle};
use super::routes;
use crate::error::{Error, Result};
use crate::platform::clock;
use crate::storage::tenant_cache;
use crate::tenancy::{classify_host, issuer_for, HostKind, RequestHost};

pub async fn handle(app: &App, req: Request) -> Response {
    let started = crate::platform::clock::now_ms();
    let style = error_style(&req.path());
    let (incoming, is_https) = match parse(req) {
        Ok(i) => {
            let https = i.is_https;
            (i, https)
        }
        Err(e) => return finalize(error_response(&e, style, "edge-id"), false, None),
    };
    let realm = incoming.host.name.clone();
    let cors = routes::oidc::cors_path(&incoming.path);
    let mut response = match dispatch(app, incoming).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e, style, &realm),
    };
    if cors {
        routes::oidc::allow_cors(&mut response);
    }
    let metrics = app
        .expose_metrics
        .then(|| app.db().map(|db| db.round_trips()).unwrap_or(0));
    let mut response = finalize(response, is_https, metrics);
    if app.expose_metrics {
        let timing = app.server_timing(crate::platform::clock::now_ms() - started);
        super::respond::set_header(&mut response, "x-edge-id-timing", &timing);
    }
    response
}

/// Errors at OAuth endpoints are RFC 6749 JSON, API errors are JSON, everything else a page.
fn error_style(path: &str) -> ErrorStyle {
    if matches!(
        path,
        "/api/oidc/token" | "/api/oidc/userinfo" | "/api/oidc/introspect" | "/api/oidc/revoke"
    ) {
        ErrorStyle::OAuth
    } else if path == "/api/oidc/end-session" {
        ErrorStyle::Page
    } else if path.starts_with("/api/")
        || path.starts_with("/operator/api/")
        || path.starts_with("/.well-known/")
    {
        ErrorStyle::Api
    } else {
        ErrorStyle::Page
    }
}

fn parse(req: Request) -> Result<Incoming> {
    let url = req
        .url()
        .map_err(|_| Error::BadRequest("unparseable request URL".into()))?;
    let host_header = req
        .headers()
        .get("host")
        .ok()
        .flatten()
        .or_else(|| url.host_str().map(str::to_string))
        .ok_or_else(|| Error::BadRequest("the Host header is missing".into()))?;
    let host = RequestHost::parse(&host_header).map_err(|e| Error::BadRequest(e.to_string()))?;
    Ok(Incoming {
        method: req.method(),
        path: url.path().to_string(),
        query: url.query_pairs().into_owned().collect(),
        is_https: url.scheme() == "https",
        host,
        req,
    })
}

async fn dispatch(app: &App, incoming: Incoming) -> Result<Response> {
    if incoming.path == "/healthz" && incoming.method == Method::Get {
        return Ok(super::respond::text(200, "text/plain", "ok"));
    }
    let kind = match classify_host(&incoming.host, &app.base_domain) {
        // Locally the platform is also reachable on the loopback IP (an IP is never a tenant).
        HostKind::CustomDomain(name) if name == "127.0.0.1" => HostKind::Platform,
        kind => kind,
    };
    if kind == HostKind::Platform {
        return routes::platform(app, incoming).await;
    }
    let snapshot =
        tenant_cache::snapshot_for(app.db()?, &app.kv()?, &incoming.host.name, &kind).await?;
    let tenant = snapshot
        .filter(|s| s.is_active())
        .ok_or(Error::UnknownTenant)?;
    let issuer = issuer_for(&incoming.host, incoming.is_https);
    routes::tenant(TenantRequest {
        app,
        incoming,
        tenant,
        issuer,
        now: clock::now(),
    })
    .await
}
