//! Route tables: which handler serves which method and path, on the platform host and on
//! tenant hosts.

pub mod discovery;
pub mod maintenance;
pub mod operator;
pub mod pages;

use worker::{Method, Response};

use super::app::App;
use super::request::{Incoming, TenantRequest};
use crate::error::{Error, Result};

/// The platform host: the operator API and a short landing text.
pub async fn platform(app: &App, incoming: Incoming) -> Result<Response> {
    if incoming.path.starts_with("/operator/api/") {
        return operator::handle(app, incoming).await;
    }
    match (incoming.method.clone(), incoming.path.as_str()) {
        (Method::Get, "/") => Ok(super::respond::text(
            200,
            "text/plain; charset=utf-8",
            "Edge ID: tenants are served on their own hosts. Operators: see /operator/api/tenants.\n",
        )),
        _ => Err(Error::NotFound("This page".into())),
    }
}

/// A tenant host: the OpenID Provider, the passkey pages and the tenant API.
pub async fn tenant(req: TenantRequest<'_>) -> Result<Response> {
    match (req.incoming.method.clone(), req.incoming.path.as_str()) {
        (Method::Get, "/.well-known/openid-configuration") => {
            Ok(discovery::openid_configuration(&req))
        }
        (Method::Get, "/.well-known/oauth-authorization-server") => {
            Ok(discovery::oauth_authorization_server(&req))
        }
        (Method::Get, "/.well-known/jwks.json") => Ok(discovery::jwks(&req)),
        _ => Err(Error::NotFound("This page".into())),
    }
}
