//! Building responses, and the ONE place where an [`Error`] becomes an HTTP response.

use serde::Serialize;
use worker::{Headers, Response};

use crate::error::Error;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::route_table::ErrorStyle;

/// Converts any handler failure to a response, in the route's error style (from the route
/// table). Internal details are logged, never shown.
pub fn error_response(err: &Error, style: ErrorStyle, realm: &str) -> Response {
    match err {
        Error::Internal(detail) => worker::console_error!("internal error: {detail}"),
        Error::Storage(cause) => worker::console_error!("storage error: {cause}"),
        _ => {}
    }
    let (status, code, message) = describe(err);
    let response = match style {
        ErrorStyle::OAuth => {
            let oauth = match err {
                Error::OAuth(e) => e.clone(),
                _ => OAuthError::new(oauth_code_for(err), message.clone()),
            };
            let mut resp = json(err.oauth_http_status(&oauth), &oauth.to_json());
            if let Some(challenge) = oauth.www_authenticate(realm) {
                let _ = resp.headers_mut().set("WWW-Authenticate", &challenge);
            }
            resp
        }
        ErrorStyle::Api => {
            let mut body = serde_json::json!({ "error": code, "message": message });
            match err {
                Error::Invalid { field, .. } => body["field"] = serde_json::json!(field),
                Error::Body(e) => {
                    if let Some(field) = &e.field {
                        body["field"] = serde_json::json!(field);
                    }
                }
                _ => {}
            }
            json(status, &body)
        }
        ErrorStyle::Page => html(status, &crate::ui::error_page(status, &message, code)),
    };
    if matches!(err, Error::RateLimited) {
        let mut response = response;
        let _ = response.headers_mut().set("Retry-After", "60");
        return response;
    }
    response
}

/// Status, machine code and human message for an error.
fn describe(err: &Error) -> (u16, &'static str, String) {
    match err {
        Error::OAuth(e) => (e.http_status(), e.code.as_str(), e.description.clone()),
        Error::BadRequest(m) => (400, "invalid_request", m.clone()),
        Error::Body(e) => (400, "invalid_request", e.message.clone()),
        Error::Invalid { message, .. } => (400, "invalid_field", message.clone()),
        Error::Unauthenticated => (401, "unauthorized", "Authentication is required.".into()),
        Error::Forbidden(m) => (403, "forbidden", m.clone()),
        Error::NotFound(what) => (404, "not_found", format!("{what} was not found.")),
        Error::Conflict(m) => (409, "conflict", m.clone()),
        Error::Passkey(e) => (400, "passkey_rejected", e.user_message().into()),
        Error::UnknownCredential => (
            400,
            "unknown_credential",
            "This passkey isn't registered here. Use another passkey or ask an admin for a login link."
                .into(),
        ),
        Error::RateLimited => (
            429,
            "rate_limited",
            "Too many attempts. Wait a minute and try again.".into(),
        ),
        Error::UnknownTenant => (
            404,
            "unknown_tenant",
            "No identity provider is served at this address.".into(),
        ),
        Error::Internal(_) | Error::Storage(_) => (
            500,
            "server_error",
            "Something went wrong on our side. Please try again.".into(),
        ),
    }
}

fn oauth_code_for(err: &Error) -> ErrorCode {
    match err {
        Error::Unauthenticated => ErrorCode::InvalidClient,
        Error::Forbidden(_) => ErrorCode::AccessDenied,
        Error::RateLimited => ErrorCode::TemporarilyUnavailable,
        Error::Internal(_) | Error::Storage(_) => ErrorCode::ServerError,
        _ => ErrorCode::InvalidRequest,
    }
}

fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", content_type);
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body)
}

pub fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    with_body(status, "application/json", body)
}

pub fn html(status: u16, body: &str) -> Response {
    with_body(status, "text/html; charset=utf-8", body.as_bytes().to_vec())
}

pub fn text(status: u16, content_type: &str, body: &str) -> Response {
    with_body(status, content_type, body.as_bytes().to_vec())
}

pub fn redirect(location: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Location", location);
    Response::builder()
        .with_status(302)
        .with_headers(headers)
        .empty()
}

/// Sets a header, ignoring the (impossible for valid names) error.
pub fn set_header(resp: &mut Response, name: &str, value: &str) {
    let _ = resp.headers_mut().set(name, value);
}

/// Headers every response carries. Token-bearing and personalised responses default to
/// `no-store`; handlers that want caching (discovery, JWKS, the theme) set their own.
pub fn finalize(mut resp: Response, is_https: bool, d1_round_trips: Option<u32>) -> Response {
    let is_html = resp
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with("text/html"));
    let h = resp.headers_mut();
    let set_default = |name: &str, value: &str| {
        if !h.has(name).unwrap_or(false) {
            let _ = h.set(name, value);
        }
    };
    set_default("Cache-Control", "no-store");
    set_default("X-Content-Type-Options", "nosniff");
    // `same-origin`, not `no-referrer`: with no-referrer browsers send `Origin: null` on
    // same-origin form posts, which the CSRF check must refuse.
    set_default("Referrer-Policy", "same-origin");
    if is_html {
        set_default(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
             connect-src 'self'; form-action 'self' https: http://localhost:* http://*.localhost:*; \
             frame-ancestors 'none'; base-uri 'none'",
        );
        set_default("X-Frame-Options", "DENY");
    }
    if is_https {
        set_default(
            "Strict-Transport-Security",
            "max-age=63072000; includeSubDomains",
        );
    }
    if let Some(n) = d1_round_trips {
        let _ = h.set("x-edge-id-d1-queries", &n.to_string());
    }
    resp
}

/// `204 No Content` (a successful DELETE).
pub fn no_content() -> Response {
    let mut resp = Response::empty().unwrap_or_else(|_| json(200, &serde_json::json!({})));
    resp = resp.with_status(204);
    resp
}
