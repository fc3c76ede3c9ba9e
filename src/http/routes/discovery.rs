//! Discovery (OIDC Discovery 1.0, RFC 8414) and the JWKS: served from the cached tenant
//! snapshot with no D1 query, cacheable by clients and Cloudflare's edge.

use worker::Response;

use crate::http::request::TenantRequest;
use crate::http::respond::{set_header, text};
use crate::oidc::discovery::{self, Document};
use crate::oidc::webfinger;

/// Metadata changes only when features ship: cache it for an hour.
const METADATA_CACHE: &str = "public, max-age=3600, stale-while-revalidate=86400";

fn cacheable(body: &str, cache_control: &str) -> Response {
    let mut resp = text(200, "application/json", body);
    set_header(&mut resp, "Cache-Control", cache_control);
    set_header(&mut resp, "Access-Control-Allow-Origin", "*");
    resp
}

pub fn openid_configuration(req: &TenantRequest<'_>) -> Response {
    let body = discovery::document_json(Document::OpenidConfiguration, &req.issuer);
    cacheable(&body, METADATA_CACHE)
}

pub fn oauth_authorization_server(req: &TenantRequest<'_>) -> Response {
    let body = discovery::document_json(Document::OauthAuthorizationServer, &req.issuer);
    cacheable(&body, METADATA_CACHE)
}

pub fn jwks(req: &TenantRequest<'_>) -> Response {
    let jwks = req.tenant.jwks(req.now);
    // Keys change on rotation. The lifetime is `tenancy::keys`'s: a rotated key is published
    // at least max-age + stale-while-revalidate before it signs, so clients that cache the
    // JWKS this long never meet an unknown kid.
    cacheable(
        &serde_json::to_string(&jwks).unwrap_or_else(|_| "{}".into()),
        &crate::tenancy::keys::jwks_cache_control(),
    )
}

/// `GET /.well-known/webfinger?resource=…` (RFC 7033): the tenant's issuer for any account or
/// URL, with CORS for browser-based clients as §5 asks.
pub fn webfinger(req: &TenantRequest<'_>) -> crate::error::Result<Response> {
    let described = webfinger::describe(&req.incoming.query, &req.issuer)
        .map_err(|e| crate::error::Error::BadRequest(e.0.into()))?;
    let body = serde_json::to_string(&described)?;
    let mut resp = text(200, "application/jrd+json", &body);
    set_header(&mut resp, "Cache-Control", METADATA_CACHE);
    set_header(&mut resp, "Access-Control-Allow-Origin", "*");
    Ok(resp)
}
