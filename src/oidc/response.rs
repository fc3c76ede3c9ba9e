//! Authorization responses (RFC 6749 §4.1.2) delivered by query string or by an auto-submitted
//! form (OAuth 2.0 Form Post Response Mode), always carrying `iss` (RFC 9207) so a client can
//! tell which provider answered.

use super::authorize::{AuthorizationRequest, RedirectError};
use super::response_mode::ResponseMode;

/// Where and how to send the user back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    pub fn success(request: &AuthorizationRequest, code: &str, issuer: &str) -> Self {
        let mut params = vec![("code".to_string(), code.to_string())];
        if let Some(state) = &request.state {
            params.push(("state".into(), state.clone()));
        }
        params.push(("iss".into(), issuer.to_string()));
        Self {
            redirect_uri: request.redirect_uri.clone(),
            mode: request.response_mode,
            params,
        }
    }

    pub fn error(err: &RedirectError, issuer: &str) -> Self {
        let mut params = vec![
            ("error".to_string(), err.error.code.as_str().to_string()),
            ("error_description".into(), err.error.description.clone()),
        ];
        if let Some(state) = &err.state {
            params.push(("state".into(), state.clone()));
        }
        params.push(("iss".into(), issuer.to_string()));
        Self {
            redirect_uri: err.redirect_uri.clone(),
            mode: err.response_mode,
            params,
        }
    }

    /// The redirect target for the query and fragment modes: the registered URI with the
    /// parameters appended to any query it already has, or as its fragment (registered URIs
    /// have none).
    pub fn redirect_url(&self) -> String {
        match url::Url::parse(&self.redirect_uri) {
            Ok(mut url) if self.mode == ResponseMode::Fragment => {
                let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(self.params.iter())
                    .finish();
                url.set_fragment(Some(&encoded));
                url.to_string()
            }
            Ok(mut url) => {
                url.query_pairs_mut().extend_pairs(self.params.iter());
                url.to_string()
            }
            // Registered URIs are validated as absolute URLs; keep a safe fallback anyway.
            Err(_) => self.redirect_uri.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::authorize::Prompt;
    use crate::oidc::error::{ErrorCode, OAuthError};
    use crate::oidc::scope::ScopeSet;

    fn request(redirect: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "app".into(),
            redirect_uri: redirect.into(),
            scope: ScopeSet::parse_lenient("openid"),
            state: Some("a b&c".into()),
            nonce: None,
            response_mode: ResponseMode::Query,
            code_challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            id_token_hint: None,
            resource: None,
            api_scope: vec![],
        }
    }

    #[test]
    fn success_carries_code_state_and_iss() {
        let r =
            AuthorizationResponse::success(&request("https://app/cb?x=1"), "c0de", "https://acme");
        let url = url::Url::parse(&r.redirect_url()).unwrap();
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            vec![
                ("x".into(), "1".into()),
                ("code".into(), "c0de".into()),
                ("state".into(), "a b&c".into()),
                ("iss".into(), "https://acme".into())
            ]
        );
    }

    #[test]
    fn the_fragment_mode_carries_them_in_the_fragment_leaving_the_query_alone() {
        let mut req = request("https://app/cb?x=1");
        req.response_mode = ResponseMode::Fragment;
        let r = AuthorizationResponse::success(&req, "c0de", "https://acme");
        let url = url::Url::parse(&r.redirect_url()).unwrap();
        assert_eq!(url.query(), Some("x=1"));
        let f: Vec<(String, String)> =
            url::form_urlencoded::parse(url.fragment().unwrap().as_bytes())
                .into_owned()
                .collect();
        assert_eq!(
            f,
            vec![
                ("code".into(), "c0de".into()),
                ("state".into(), "a b&c".into()),
                ("iss".into(), "https://acme".into())
            ]
        );
    }

    #[test]
    fn errors_carry_code_description_state() {
        let err = RedirectError {
            error: OAuthError::new(ErrorCode::LoginRequired, "sign in first"),
            redirect_uri: "https://app/cb".into(),
            response_mode: ResponseMode::FormPost,
            state: Some("s".into()),
        };
        let r = AuthorizationResponse::error(&err, "https://acme");
        assert_eq!(r.mode, ResponseMode::FormPost);
        assert_eq!(r.params[0], ("error".into(), "login_required".into()));
        assert!(r.params.contains(&("state".into(), "s".into())));
    }
}
