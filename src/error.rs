//! The application's error type: every failure a handler can meet, typed.
//!
//! Handlers return `Result<_, Error>`; the HTTP layer turns an `Error` into a response in ONE
//! place (`http::respond`), choosing between an OAuth JSON error, a JSON API error and a
//! friendly HTML page according to the route's kind. Protocol errors are defined in
//! [`crate::oidc::error`]; they travel here as [`Error::OAuth`].

use crate::oidc::error::OAuthError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A protocol error with its OAuth error code (token, userinfo, introspection...).
    #[error("{0:?}")]
    OAuth(OAuthError),
    /// The request is malformed (bad JSON, missing field, invalid value).
    #[error("{0}")]
    BadRequest(String),
    /// A JSON body that is not what the route takes (not JSON, wrong shape, a field of the
    /// wrong type, missing or unknown): nothing was done. Names the field when one is at fault.
    #[error("{0}")]
    Body(crate::validation::BodyError),
    /// One field of a submitted form or JSON body is invalid; the UI points at it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// No credentials, or credentials that do not verify.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness or state conflict (slug taken, last passkey...).
    #[error("{0}")]
    Conflict(String),
    /// A WebAuthn ceremony was refused.
    #[error("passkey rejected: {0}")]
    Passkey(crate::passkey::PasskeyError),
    /// The passkey presented is not registered with this tenant.
    #[error("unknown credential")]
    UnknownCredential,
    /// Too many attempts from this client.
    #[error("too many requests")]
    RateLimited,
    /// The request's host names no tenant, or a suspended one.
    #[error("no identity provider is served at this address")]
    UnknownTenant,
    /// A database failure no operation expected (a UNIQUE conflict an operation expects is
    /// mapped to [`Error::Conflict`] or a field error there): logged, shown as a generic error.
    #[error("storage: {0}")]
    Storage(StorageError),
    /// Crypto or platform failure: logged, shown to users as a generic error.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A database failure, classified once (by the storage layer's backends) so no caller
/// searches error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    pub kind: StorageFailure,
    /// The backend's message: logged, never sent.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFailure {
    /// A UNIQUE or PRIMARY KEY constraint refused the write (a name or slug already taken).
    Unique,
    /// Any other constraint (FOREIGN KEY, CHECK, NOT NULL): a bug or a row deleted meanwhile.
    Constraint,
    /// The statement, the binding or the database failed.
    Failed,
}

impl StorageError {
    /// Classifies a backend's error message. Both D1 and SQLite report constraint failures in
    /// SQLite's words ("UNIQUE constraint failed: users.email").
    pub fn classify(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let kind = if reason.contains("UNIQUE constraint failed")
            || reason.contains("PRIMARY KEY constraint failed")
        {
            StorageFailure::Unique
        } else if reason.contains("constraint failed") {
            StorageFailure::Constraint
        } else {
            StorageFailure::Failed
        };
        Self { kind, reason }
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.reason)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status of this error at an OAuth endpoint (token, userinfo, introspection,
    /// revocation), where it is sent as `oauth`. A rate limit stays 429 (RFC 6585, with
    /// `Retry-After`) under the `temporarily_unavailable` code: that code's own status, 503,
    /// would tell clients and monitoring the server is down when it is refusing one caller.
    pub fn oauth_http_status(&self, oauth: &OAuthError) -> u16 {
        match self {
            Error::RateLimited => 429,
            Error::Forbidden(_) => 403,
            _ => oauth.http_status(),
        }
    }
}

impl From<OAuthError> for Error {
    fn from(e: OAuthError) -> Self {
        Error::OAuth(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::BadRequest(format!("invalid JSON: {e}"))
    }
}

impl From<crate::validation::BodyError> for Error {
    fn from(e: crate::validation::BodyError) -> Self {
        Error::Body(e)
    }
}

impl From<crate::crypto::envelope::EnvelopeError> for Error {
    fn from(e: crate::crypto::envelope::EnvelopeError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<crate::validation::FieldError> for Error {
    fn from(e: crate::validation::FieldError) -> Self {
        Error::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<crate::passkey::PasskeyError> for Error {
    fn from(e: crate::passkey::PasskeyError) -> Self {
        Error::Passkey(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::error::ErrorCode;

    #[test]
    fn a_rate_limit_is_429_at_oauth_endpoints_too() {
        let oauth = OAuthError::new(ErrorCode::TemporarilyUnavailable, "slow down");
        assert_eq!(Error::RateLimited.oauth_http_status(&oauth), 429);
    }

    #[test]
    fn other_errors_keep_their_oauth_status() {
        let bad_secret = OAuthError::invalid_client("bad secret");
        assert_eq!(
            Error::OAuth(bad_secret.clone()).oauth_http_status(&bad_secret),
            401
        );
        let server = OAuthError::new(ErrorCode::ServerError, "boom");
        assert_eq!(
            Error::Internal("boom".into()).oauth_http_status(&server),
            500
        );
    }
}
