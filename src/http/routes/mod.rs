//! Route tables: which handler serves which method and path, on the platform host and on
//! tenant hosts.

pub mod account;
pub mod admin;
pub mod discovery;
pub mod maintenance;
pub mod oidc;
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
        (Method::Get | Method::Post, "/authorize") => oidc::authorize::authorize(req).await,
        (Method::Get, "/authorize/resume") => oidc::authorize::resume(req).await,
        (Method::Post, "/authorize/consent") => oidc::authorize::consent(req).await,
        (Method::Post, "/api/oidc/token") => oidc::token::token(req).await,
        (Method::Get | Method::Post, "/api/oidc/userinfo") => oidc::userinfo::userinfo(req).await,
        (Method::Get | Method::Post, "/api/oidc/end-session") => {
            oidc::end_session::end_session(req).await
        }
        (Method::Post, "/api/oidc/introspect") => oidc::tokens_admin::introspect(req).await,
        (Method::Post, "/api/oidc/revoke") => oidc::tokens_admin::revoke(req).await,
        (Method::Options, p) if oidc::cors_path(p) => Ok(oidc::preflight()),
        (Method::Get, "/") => Ok(super::respond::redirect("/account")),
        (Method::Get, "/login") => account::login_page(req).await,
        (Method::Get, "/signup") => account::signup_page(req).await,
        (Method::Post, "/login/code") => account::one_time_login(req).await,
        (Method::Get, p) if p.starts_with("/login/code/") => {
            let token = p.trim_start_matches("/login/code/").to_string();
            account::one_time_login_page(req, &token).await
        }
        (Method::Put, "/api/account/profile") => account::update_profile(req).await,
        (Method::Get, "/account") => account::account_page(req).await,
        (Method::Get, "/admin") => admin::console::page(req).await,
        (Method::Post, "/logout") => account::logout(req).await,
        (Method::Get, "/theme.css") => Ok(account::theme(&req)),
        (Method::Get, p) if p.starts_with("/static/") => account::static_asset(p),
        (Method::Get, p) if p.starts_with("/setup/") => {
            let token = p.trim_start_matches("/setup/").to_string();
            account::setup_page(req, &token).await
        }
        (Method::Post, "/api/webauthn/login/start") => webauthn::login_start(req).await,
        (Method::Post, "/api/webauthn/login/finish") => webauthn::login_finish(req).await,
        (Method::Post, "/api/webauthn/register/start") => webauthn::register_start(req).await,
        (Method::Post, "/api/webauthn/register/finish") => webauthn::register_finish(req).await,
        (method, p) if p.starts_with("/api/account/passkeys/") => {
            let rest = p.trim_start_matches("/api/account/passkeys/").to_string();
            match (method, rest.strip_suffix("/rename")) {
                (Method::Post, Some(id)) => account::passkey_api(req, id, false).await,
                (Method::Delete, None) => account::passkey_api(req, &rest, true).await,
                _ => Err(Error::NotFound("This API route".into())),
            }
        }
        _ => match admin::route(req).await {
            Some(result) => result,
            None => Err(Error::NotFound("This page".into())),
        },
    }
}
pub mod webauthn;
