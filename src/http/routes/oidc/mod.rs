//! The OpenID Provider's endpoints (Pocket ID's paths): `/authorize`, `/api/oidc/token`,
//! `/api/oidc/userinfo`, `/api/oidc/end-session`, `/api/oidc/introspect`, `/api/oidc/revoke`,
//! `/api/oidc/par`.
//! `/api/oidc/device/authorize` and the `/device` page.
//! Each handler gathers facts from storage, asks `crate::oidc` what to do, and does it.

pub mod authorize;
pub mod device;
pub mod end_session;
pub mod introspection;
pub mod par;
pub mod revocation;
pub mod token;
pub mod userinfo;

use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::oidc::client::ClientCredentials;
use crate::oidc::error::OAuthError;

/// The token, PAR, introspection and revocation endpoints take form posts only (RFC 6749 §3.2).
/// (Their rate limit is the route table's, checked by the router before the body is read.)
pub async fn form(req: &mut TenantRequest<'_>) -> Result<Vec<(String, String)>> {
    req.incoming.form().await.map_err(|_| {
        OAuthError::invalid_request("expected an application/x-www-form-urlencoded body").into()
    })
}

pub fn form_value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The client credentials of a back-channel request (Basic header, or the form's secret or
/// client assertion).
pub fn client_credentials(
    req: &TenantRequest<'_>,
    form: &[(String, String)],
) -> Result<ClientCredentials> {
    Ok(ClientCredentials::from_form(
        req.incoming.header("authorization").as_deref(),
        form_value(form, "client_id"),
        form_value(form, "client_secret"),
        form_value(form, "client_assertion_type"),
        form_value(form, "client_assertion"),
    )?)
}

/// CORS headers for every response at a CORS route's path (`cors` in the route table), errors
/// included, so a browser app can read the OAuth error (and `WWW-Authenticate` of a 401).
pub fn allow_cors(resp: &mut worker::Response) {
    crate::http::respond::set_header(resp, "Access-Control-Allow-Origin", "*");
    crate::http::respond::set_header(resp, "Access-Control-Expose-Headers", "WWW-Authenticate");
}

/// The answer to a CORS preflight at a CORS route's path.
pub fn preflight() -> worker::Response {
    let mut resp = crate::http::respond::text(204, "text/plain", "");
    crate::http::respond::set_header(&mut resp, "Access-Control-Allow-Methods", "GET, POST");
    crate::http::respond::set_header(
        &mut resp,
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type",
    );
    crate::http::respond::set_header(&mut resp, "Access-Control-Max-Age", "86400");
    resp
}
