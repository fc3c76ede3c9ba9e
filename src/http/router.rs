//! Host-based tenant resolution, and everything the route table says about a request, applied
//! in this one place: the error style and CORS of its path, the route it matches, who may call
//! it, its rate limit; then the handler (the dispatch `match` in `routes`).
//!
//! The Host header alone selects the tenant: `<slug>.<BASE_DOMAIN>`, a mapped custom domain, or
//! the platform itself (the bare base domain, or a loopback IP locally). Unknown and suspended
//! tenants get the same 404, so suspension reveals nothing and serves nothing.

use worker::{Method, Request, Response};

use super::admission::{admit_to_platform, admit_to_tenant};
use super::app::App;
use super::request::{Incoming, TenantRequest};
use super::respond::{error_response, finalize};
use super::{limits, routes};
use crate::error::{Error, Result};
use crate::platform::clock;
use crate::route_table::{self, fallback, match_route, path_facts, Lookup, Site};
use crate::storage::tenant_cache;
use crate::tenancy::{classify_host, issuer_for, HostKind, RequestHost};

pub async fn handle(app: &App, req: Request) -> Response {
    let started = crate::platform::clock::now_ms();
    // Known from the path alone, so even a request that cannot be parsed gets its error style.
    let facts = path_facts(&req.path());
    let (incoming, is_https) = match parse(req) {
        Ok(i) => {
            let https = i.is_https;
            (i, https)
        }
        Err(e) => return finalize(error_response(&e, facts.errors, "edge-id"), false, None),
    };
    let realm = incoming.host.name.clone();
    let mut response = match dispatch(app, incoming).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e, facts.errors, &realm),
    };
    if facts.cors {
        routes::oidc::allow_cors(&mut response);
    }
    let metrics = app
        .expose_metrics
        .then(|| app.db().map(|db| db.round_trips()).unwrap_or(0));
    let mut response = finalize(response, is_https, metrics);
    if app.expose_metrics {
        let timing = app.server_timing(crate::platform::clock::now_ms() - started);
        super::respond::set_header(&mut response, "x-edge-id-timing", &timing);
        // Reads through D1's Sessions API, which a replica near the Worker may serve.
        let replica = app.db().map(|db| db.replica_round_trips()).unwrap_or(0);
        super::respond::set_header(
            &mut response,
            "x-edge-id-d1-replica-queries",
            &replica.to_string(),
        );
    }
    response
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

/// The route table's name for a request method; other methods match no route.
fn table_method(method: &Method) -> Option<route_table::Method> {
    Some(match method {
        Method::Get => route_table::Method::Get,
        Method::Post => route_table::Method::Post,
        Method::Put => route_table::Method::Put,
        Method::Delete => route_table::Method::Delete,
        Method::Options => route_table::Method::Options,
        _ => return None,
    })
}

async fn dispatch(app: &App, incoming: Incoming) -> Result<Response> {
    let kind = match classify_host(&incoming.host, &app.base_domain) {
        // Locally the platform is also reachable on the loopback IP (an IP is never a tenant).
        HostKind::CustomDomain(name) if name == "127.0.0.1" => HostKind::Platform,
        kind => kind,
    };
    let site = if kind == HostKind::Platform {
        Site::Platform
    } else {
        Site::Tenant
    };
    let path = incoming.path.clone();
    let lookup = match table_method(&incoming.method) {
        Some(method) => match_route(site, method, &path),
        None => Lookup::NotFound,
    };
    // The platform's routes, and those of every host (the health check), need no tenant.
    let needs_tenant = match &lookup {
        Lookup::Found(m) => m.route.site == Site::Tenant,
        Lookup::Preflight | Lookup::NotFound => site == Site::Tenant,
    };
    if !needs_tenant {
        return match lookup {
            Lookup::Found(m) => {
                admit_to_platform(app, &incoming, m.route.caller)?;
                routes::without_tenant(app, incoming, &m).await
            }
            Lookup::Preflight | Lookup::NotFound => {
                let refusal = fallback(Site::Platform, &path);
                admit_to_platform(app, &incoming, refusal.caller)?;
                Err(Error::NotFound(refusal.missing.into()))
            }
        };
    }
    let snapshot =
        tenant_cache::snapshot_for(app.db()?, &app.kv()?, &incoming.host.name, &kind).await?;
    let tenant = snapshot
        .filter(|s| s.is_active())
        .ok_or(Error::UnknownTenant)?;
    let issuer = issuer_for(&incoming.host, incoming.is_https);
    let req = TenantRequest {
        app,
        incoming,
        tenant,
        issuer,
        now: clock::now(),
    };
    match lookup {
        Lookup::Found(m) => {
            let admin = admit_to_tenant(&req, m.route.caller).await?;
            // Before the handler reads the body: a limited caller costs no parsing.
            if let Some(limit) = m.route.limit {
                limits::check(&req, limit).await?;
            }
            routes::for_tenant(req, &m, admin).await
        }
        Lookup::Preflight => Ok(routes::oidc::preflight()),
        Lookup::NotFound => {
            let refusal = fallback(Site::Tenant, &path);
            admit_to_tenant(&req, refusal.caller).await?;
            Err(Error::NotFound(refusal.missing.into()))
        }
    }
}
