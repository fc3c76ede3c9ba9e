//! OAuth 2.0 / OpenID Connect protocol errors (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6,
//! RFC 6750 §3.1, RFC 7009, RFC 7662).
//!
//! Every protocol failure is an [`OAuthError`]: a typed [`ErrorCode`] plus a human description.
//! How it is delivered (JSON body with a status, a redirect back to the client, or an error page
//! when the redirect target cannot be trusted) is decided by the caller; the status code and
//! JSON shape are decided here, once.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    AccountSelectionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    /// RFC 9101 §6.2: the request object is invalid (signature, claims, or unverifiable).
    InvalidRequestObject,
    RegistrationNotSupported,
    InvalidToken,
    InsufficientScope,
    UnsupportedTokenType,
    /// RFC 8707 §2: the requested resource is invalid, missing, unknown or malformed.
    InvalidTarget,
    /// RFC 8628 §3.5: the person has not approved or denied the device yet.
    AuthorizationPending,
    /// RFC 8628 §3.5: polled faster than the interval (which grows by 5 s).
    SlowDown,
    /// RFC 8628 §3.5: the device code expired.
    ExpiredToken,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::AccountSelectionRequired => "account_selection_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
        }
    }

    /// The HTTP status for this error when returned as a JSON body (token, introspection,
    /// revocation, userinfo endpoints).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            // `access_denied` from the token endpoint (RFC 8628 §3.5) is a 400 like every
            // token error (RFC 6749 §5.2); a refused caller is 403 (`Error::oauth_http_status`).
            ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// A protocol error: a code and a description safe to show to the client developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, description)
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The RFC 6749 §5.2 JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code.as_str(), "error_description": self.description })
    }

    /// The `WWW-Authenticate` header value this error requires, if any: `Basic` for a failed
    /// client authentication at the token endpoint (RFC 6749 §5.2), `Bearer` for a bad access
    /// token at a protected resource (RFC 6750 §3).
    pub fn www_authenticate(&self, realm: &str) -> Option<String> {
        let desc = self.description.replace('"', "'");
        match self.code {
            ErrorCode::InvalidClient => Some(format!("Basic realm=\"{realm}\"")),
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => Some(format!(
                "Bearer realm=\"{realm}\", error=\"{}\", error_description=\"{desc}\"",
                self.code.as_str()
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_401_with_basic_challenge() {
        let e = OAuthError::invalid_client("bad secret");
        assert_eq!(e.http_status(), 401);
        assert_eq!(e.www_authenticate("acme").unwrap(), "Basic realm=\"acme\"");
        assert_eq!(e.to_json()["error"], "invalid_client");
    }

    #[test]
    fn grant_errors_are_400_without_challenge() {
        let e = OAuthError::invalid_grant("code already used");
        assert_eq!(e.http_status(), 400);
        assert!(e.www_authenticate("acme").is_none());
        assert_eq!(e.to_json()["error_description"], "code already used");
    }

    #[test]
    fn bearer_challenge_names_the_error() {
        let e = OAuthError::invalid_token("expired \"x\"");
        let h = e.www_authenticate("acme").unwrap();
        assert!(h.starts_with("Bearer realm=\"acme\", error=\"invalid_token\""));
        assert!(!h.contains("\"x\""));
    }
}
