//! The handlers, and the dispatch from a route of the table (`crate::route_table`) to its
//! handler. The router has already checked the route's caller and rate limit.

pub mod account;
pub mod admin;
pub mod assets;
pub mod discovery;
pub mod email;
pub mod maintenance;
pub mod oidc;
pub mod operator;
pub mod other_device;
pub mod recovery;
pub mod webauthn;

use worker::Response;

use super::admin::Actor;
use super::app::App;
use super::request::{Incoming, TenantRequest};
use super::respond::{json, redirect, text};
use crate::error::{Error, Result};
use crate::route_table::{Match, RouteId};

/// A route matched on a host that serves it without a tenant: the platform host's routes and
/// the health check.
pub async fn without_tenant(app: &App, incoming: Incoming, m: &Match<'_>) -> Result<Response> {
    match m.route.id {
        RouteId::HealthCheck => Ok(text(200, "text/plain", "ok")),
        RouteId::PlatformHome => Ok(text(
            200,
            "text/plain; charset=utf-8",
            "Edge ID: tenants are served on their own hosts. Operators: see /operator/api/tenants.\n",
        )),
        RouteId::Operator(route) => operator::handle(app, incoming, route, &m.params).await,
        tenant_route => Err(misplaced(tenant_route)),
    }
}

/// A route of a tenant's host. `admin` is the admitted admin on admin API routes.
pub async fn for_tenant(
    req: TenantRequest<'_>,
    m: &Match<'_>,
    admin: Option<Actor>,
) -> Result<Response> {
    let param = |name: &str| m.params.get(name);
    match m.route.id {
        RouteId::OpenIdConfiguration => Ok(discovery::openid_configuration(&req)),
        RouteId::OAuthServerMetadata => Ok(discovery::oauth_authorization_server(&req)),
        RouteId::Jwks => Ok(discovery::jwks(&req)),
        RouteId::WebFinger => discovery::webfinger(&req),
        RouteId::Authorize => oidc::authorize::authorize(req).await,
        RouteId::AuthorizeResume => oidc::authorize::resume(req).await,
        RouteId::AuthorizeConsent => oidc::authorize::consent(req).await,
        RouteId::Token => oidc::token::token(req).await,
        RouteId::PushedAuthorization => oidc::par::push(req).await,
        RouteId::UserInfo => oidc::userinfo::userinfo(req).await,
        RouteId::EndSession => oidc::end_session::end_session(req).await,
        RouteId::Introspect => oidc::introspection::introspect(req).await,
        RouteId::Revoke => oidc::revocation::revoke(req).await,
        RouteId::DeviceAuthorize => oidc::device::authorize(req).await,
        RouteId::DevicePage => oidc::device::page(req).await,
        RouteId::DeviceCode => oidc::device::enter_code(req).await,
        RouteId::DeviceDecision => oidc::device::decision(req).await,
        RouteId::Home => Ok(redirect("/account")),
        RouteId::LoginPage => account::login_page(req).await,
        RouteId::SignupPage => account::signup_page(req).await,
        RouteId::OneTimeLogin => account::one_time_login(req).await,
        RouteId::OneTimeLoginPage => account::one_time_login_page(req, param("token")).await,
        RouteId::LoginHelp => recovery::help_page(req).await,
        RouteId::RecoveryCodePage => recovery::code_page_get(req).await,
        RouteId::RecoveryCodeSignIn => recovery::sign_in(req).await,
        RouteId::CreateRecoveryCodes => recovery::create_codes(req).await,
        RouteId::RevokeOwnApp => account::revoke_app(req, param("id")).await,
        RouteId::OtherDevicePage => other_device::page(req).await,
        RouteId::OtherDevicePoll => other_device::poll(req).await,
        RouteId::OtherDeviceApprovePage => other_device::approve_page(req).await,
        RouteId::OtherDeviceDecision => other_device::decision(req).await,
        RouteId::EmailLoginPage => email::ask(req).await,
        RouteId::EmailCodeRequest => email::request(req).await,
        RouteId::EmailCodeSignIn => email::sign_in(req).await,
        RouteId::EmailVerificationRequest => account::request_email_verification(req).await,
        RouteId::EmailVerificationPage => {
            account::email_verification_page(req, param("token")).await
        }
        RouteId::EmailVerify => account::verify_email(req).await,
        RouteId::SignInNotices => account::set_sign_in_notices(req).await,
        RouteId::SetupPage => account::setup_page(req, param("token")).await,
        RouteId::AccountPage => account::account_page(req).await,
        RouteId::UpdateProfile => account::update_profile(req).await,
        RouteId::RenamePasskey => account::passkey_api(req, param("id"), false).await,
        RouteId::DeletePasskey => account::passkey_api(req, param("id"), true).await,
        RouteId::Logout => account::logout(req).await,
        RouteId::AdminConsole => admin::console::page(req).await,
        RouteId::Theme => Ok(assets::theme(&req)),
        RouteId::PasskeyLoginStart => webauthn::login_start(req).await,
        RouteId::PasskeyLoginFinish => webauthn::login_finish(req).await,
        RouteId::PasskeyRegisterStart => webauthn::register_start(req).await,
        RouteId::PasskeyRegisterFinish => webauthn::register_finish(req).await,
        RouteId::OpenApiDocument => Ok(json(200, &crate::admin::api::openapi(&req.issuer))),
        RouteId::Admin(route) => {
            let actor = admin.ok_or_else(|| misplaced(m.route.id))?;
            admin::dispatch(req, &actor, route, &m.params).await
        }
        RouteId::HealthCheck | RouteId::PlatformHome | RouteId::Operator(_) => {
            Err(misplaced(m.route.id))
        }
    }
}

/// A route dispatched where the table says it is not served (or an admin route not admitted
/// as one): a table mistake, which its native tests are there to prevent.
fn misplaced(id: RouteId) -> Error {
    Error::Internal(format!("route {id:?} dispatched against the route table"))
}
