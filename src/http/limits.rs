//! Rate limits on the endpoints attackers hammer: passkey ceremonies and one-time links
//! (`SIGNIN_LIMITER`), and the token, introspection and revocation endpoints (`TOKEN_LIMITER`).
//! Which route counts against which limit is the route table's `limit`; the router checks it
//! before the handler reads the body.
//!
//! Uses the Workers Rate Limiting binding (configured in wrangler.toml): counters live in each
//! Cloudflare location, cost no storage round trip, and need no cleanup. Keys are per tenant and
//! client IP (`CF-Connecting-IP`), so one tenant's traffic never throttles another's. Without the
//! binding (a deployment that removed it) requests are not limited.

use super::request::TenantRequest;
use crate::error::{Error, Result};
use crate::route_table::Limit;

/// The wrangler.toml binding that counts a limit.
fn binding(limit: Limit) -> &'static str {
    match limit {
        Limit::SignIn => "SIGNIN_LIMITER",
        Limit::Token => "TOKEN_LIMITER",
    }
}

pub async fn check(req: &TenantRequest<'_>, limit: Limit) -> Result<()> {
    let Some(limiter) = req.app.rate_limiter(binding(limit)) else {
        return Ok(());
    };
    let ip = req.incoming.client_ip().unwrap_or_else(|| "unknown".into());
    let key = format!("{}:{ip}", req.tenant.tenant.id);
    match limiter.limit(key).await {
        Ok(outcome) if !outcome.success => Err(Error::RateLimited),
        // A limiter failure must not lock everyone out: let the request through.
        _ => Ok(()),
    }
}
