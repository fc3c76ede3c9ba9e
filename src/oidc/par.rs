//! Pushed authorization requests (RFC 9126): the protocol rules, without storage or sealing.
//!
//! A client POSTs its authorization parameters to the PAR endpoint, authenticated as at the
//! token endpoint, and gets a `request_uri` to send the browser to /authorize with
//! (`/authorize?client_id=…&request_uri=…`). The parameters are validated at the push exactly
//! as /authorize validates them, so a bad request is refused to the client directly, before a
//! browser is involved; /authorize validates them again with the client as it is then.
//!
//! The request_uri is stateless: the pushed parameters themselves, sealed for the tenant and
//! the pushing client (`usecase::par`). So what a client may push is bounded by what fits a URL.

use serde::{Deserialize, Serialize};

use super::authorize::{self as authz, AuthorizationRequest, Params};
use super::client::Client;
use super::error::OAuthError;

/// The prefix of every request_uri this provider issues (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a request_uri stays usable (`expires_in`). RFC 9126 §2.2 suggests a short life:
/// the client sends the browser on at once.
pub const PUSHED_REQUEST_TTL: i64 = 60;

/// The most a push may carry: the sum of its parameters' names and values. The sealed request
/// grows by a third (base64) plus ~80 bytes, so with the host and the client_id the /authorize
/// URL stays well under the 16 KB Cloudflare accepts (and what browsers and proxies carry).
pub const MAX_PUSHED_BYTES: usize = 6 * 1024;

/// Client authentication parameters (RFC 6749 §2.3.1, RFC 7521 §4.2): they authenticate the
/// push and are not part of the authorization request, so they are not sealed into it.
const CLIENT_AUTH_PARAMS: &[&str] = &["client_secret", "client_assertion", "client_assertion_type"];

/// What a request_uri carries: the pushed authorization parameters, for /authorize to use in
/// place of its own (RFC 9126 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRequest {
    pub params: Vec<(String, String)>,
}

/// The answer to a push (RFC 9126 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushResponse {
    pub request_uri: String,
    pub expires_in: i64,
}

/// The authorization request in a push by `client` (already authenticated): its parameters
/// without the client authentication ones, with `client_id` set to the authenticated client,
/// validated as /authorize would. Every problem is an OAuth error for the JSON response.
pub fn pushed_request(
    form: &[(String, String)],
    client: &Client,
) -> Result<(PushedRequest, AuthorizationRequest), OAuthError> {
    let size: usize = form.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_PUSHED_BYTES {
        return Err(OAuthError::invalid_request(format!(
            "the pushed request is larger than {MAX_PUSHED_BYTES} bytes"
        )));
    }
    let pushed = Params::new(form);
    // RFC 9126 §2.1: a request_uri cannot itself be pushed.
    if pushed.get("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri cannot be part of a pushed request",
        ));
    }
    // The client_id of the body, when present, named the client that authenticated
    // (`ClientCredentials::from_request`); with Basic it may be absent: it is added.
    let mut params: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| k != "client_id" && !CLIENT_AUTH_PARAMS.contains(&k.as_str()))
        .cloned()
        .collect();
    params.insert(0, ("client_id".to_string(), client.id.clone()));
    let request = validate(&params, client)?;
    Ok((PushedRequest { params }, request))
}

/// /authorize's two validation stages on pushed parameters, their failures as OAuth errors:
/// at the PAR endpoint nothing is redirected, the client reads the error itself.
fn validate(
    pairs: &[(String, String)],
    client: &Client,
) -> Result<AuthorizationRequest, OAuthError> {
    let params = Params::new(pairs);
    let page = |e: authz::PageError| OAuthError::invalid_request(e.message);
    let target = authz::target(&params).map_err(page)?;
    authz::check_target(&target, Some(client)).map_err(page)?;
    authz::parse(&params, &target, client).map_err(|e| e.error)
}

/// The request_uri of a sealed pushed request.
pub fn request_uri(sealed: &str) -> String {
    format!("{REQUEST_URI_PREFIX}{sealed}")
}

/// The sealed pushed request in a request_uri of ours; `None` for any other request_uri.
pub fn sealed_part(request_uri: &str) -> Option<&str> {
    request_uri.strip_prefix(REQUEST_URI_PREFIX)
}

/// Why /authorize refuses a plain request from a client that must push its requests.
pub fn push_required() -> OAuthError {
    OAuthError::invalid_request(
        "this client must push its authorization requests first (PAR, RFC 9126)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hash::secret_hash;
    use crate::crypto::jwk::SigningAlg;
    use crate::oidc::error::ErrorCode;

    fn form(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = [
            ("client_id", "app"),
            ("client_secret", "s3cret"),
            ("redirect_uri", "https://app.example.com/cb"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "s1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, val) in extra {
            v.retain(|(key, _)| key != k);
            if !val.is_empty() {
                v.push((k.to_string(), val.to_string()));
            }
        }
        v
    }

    fn client() -> Client {
        Client {
            id: "app".into(),
            name: "App".into(),
            secrets: vec![crate::oidc::client::ClientSecret {
                id: "s".into(),
                hash: secret_hash("s3cret"),
                created_at: 0,
                expires_at: None,
            }],
            is_public: false,
            pkce_required: false,
            allow_plain_pkce: false,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            post_logout_redirect_uris: vec![],
            claims_in_id_token: false,
            id_token_alg: SigningAlg::RS256,
            require_consent: false,
            allowed_groups: vec![],
            tokens: Default::default(),
            require_pushed_requests: true,
            auth_method: crate::oidc::client::AuthMethod::ClientSecretBasic,
            keys: None,
            federated: vec![],
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }

    fn code(extra: &[(&str, &str)]) -> ErrorCode {
        pushed_request(&form(extra), &client()).unwrap_err().code
    }

    #[test]
    fn a_valid_push_keeps_the_request_without_the_secret() {
        let (pushed, request) = pushed_request(&form(&[]), &client()).unwrap();
        assert_eq!(request.state.as_deref(), Some("s1"));
        assert_eq!(request.redirect_uri, "https://app.example.com/cb");
        assert!(pushed.params.iter().all(|(k, _)| k != "client_secret"));
        assert_eq!(pushed.params[0], ("client_id".into(), "app".into()));
        // With Basic the body may have no client_id: the authenticated one is used.
        let (pushed, _) = pushed_request(&form(&[("client_id", "")]), &client()).unwrap();
        assert_eq!(
            pushed
                .params
                .iter()
                .filter(|(k, _)| k == "client_id")
                .count(),
            1
        );
    }

    #[test]
    fn what_authorize_refuses_the_push_refuses_as_json_errors() {
        // An unregistered or appended redirect_uri: never sealed into a request_uri.
        assert_eq!(
            code(&[("redirect_uri", "https://evil.example.com/cb")]),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            code(&[("redirect_uri", "https://app.example.com/cb?x=1")]),
            ErrorCode::InvalidRequest
        );
        assert_eq!(code(&[("redirect_uri", "")]), ErrorCode::InvalidRequest);
        assert_eq!(
            code(&[("response_type", "token")]),
            ErrorCode::UnsupportedResponseType
        );
        assert_eq!(code(&[("scope", "email")]), ErrorCode::InvalidScope);
        assert_eq!(code(&[("prompt", "bogus")]), ErrorCode::InvalidRequest);
        assert_eq!(
            code(&[("request", "eyJ.e30.")]),
            ErrorCode::InvalidRequestObject
        );
        assert_eq!(
            code(&[("request_uri", "urn:ietf:params:oauth:request_uri:x")]),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn a_push_too_large_for_a_url_is_refused() {
        let fits = "x".repeat(MAX_PUSHED_BYTES - 200);
        assert!(pushed_request(&form(&[("state", &fits)]), &client()).is_ok());
        let huge = "x".repeat(MAX_PUSHED_BYTES);
        assert_eq!(code(&[("state", &huge)]), ErrorCode::InvalidRequest);
    }

    #[test]
    fn only_our_request_uris_are_ours() {
        assert_eq!(sealed_part(&request_uri("abc")), Some("abc"));
        assert_eq!(sealed_part("https://x.example/r"), None);
    }
}
