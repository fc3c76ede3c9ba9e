//! The token endpoint's requests and responses (RFC 6749 §4.1.3, §5.1, §6) and the checks a
//! redeemed code must pass.

use serde::Serialize;

use super::authorize::{AuthorizationRequest, Params};
use super::error::{ErrorCode, OAuthError};
use super::scope::ScopeSet;

/// Lifetimes, in seconds. Codes are short-lived (RFC 6749 §4.1.2 recommends at most 10 min).
pub const CODE_TTL: i64 = 60;
pub const ACCESS_TOKEN_TTL: i64 = 3600;
pub const ID_TOKEN_TTL: i64 = 3600;
pub const REFRESH_TOKEN_TTL: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        /// RFC 8707 §2.2: when sent, it must be the API the code was authorized for.
        resource: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<ScopeSet>,
    },
    /// RFC 6749 §4.4: a client's own token for the API `resource` (RFC 8707) names.
    ClientCredentials {
        resource: Option<String>,
        /// API permissions, sorted without repeats; `None` for all the client holds.
        scope: Option<Vec<String>>,
    },
    /// A device polling for its tokens (RFC 8628 §3.4).
    DeviceCode { device_code: String },
}

impl GrantRequest {
    pub fn parse(form: &[(String, String)]) -> Result<Self, OAuthError> {
        let p = Params::new(form);
        let required = |name: &str| -> Result<String, OAuthError> {
            p.get(name)?
                .map(str::to_string)
                .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
        };
        match p.get("grant_type")? {
            Some("authorization_code") => Ok(GrantRequest::AuthorizationCode {
                code: required("code")?,
                redirect_uri: p.get("redirect_uri")?.map(str::to_string),
                code_verifier: p.get("code_verifier")?.map(str::to_string),
                resource: super::resource::parse_resource(form)?,
            }),
            Some("refresh_token") => Ok(GrantRequest::RefreshToken {
                refresh_token: required("refresh_token")?,
                scope: p.get("scope")?.map(ScopeSet::parse_lenient),
            }),
            Some("client_credentials") => Ok(GrantRequest::ClientCredentials {
                resource: super::resource::parse_resource(form)?,
                scope: super::resource::requested_scope(p.get("scope")?),
            }),
            Some(super::device::GRANT_TYPE) => Ok(GrantRequest::DeviceCode {
                device_code: required("device_code")?,
            }),
            Some(other) => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type {other} is not supported"),
            )),
            None => Err(OAuthError::invalid_request("grant_type is required")),
        }
    }
}

/// Checks a redeemed code's request against the token request (RFC 6749 §4.1.3, RFC 7636 §4.6).
pub fn check_code_redemption(
    request: &AuthorizationRequest,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    if redirect_uri != Some(request.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match &request.code_challenge {
        Some(challenge) => challenge.verify(code_verifier),
        None if code_verifier.is_some() => Err(OAuthError::invalid_grant(
            "code_verifier sent for a code issued without code_challenge",
        )),
        None => Ok(()),
    }
}

/// A refresh may narrow the scope, never widen it (RFC 6749 §6).
pub fn refreshed_scope(
    granted: &ScopeSet,
    asked: Option<&ScopeSet>,
) -> Result<ScopeSet, OAuthError> {
    match asked {
        None => Ok(granted.clone()),
        Some(asked) if asked.is_subset_of(granted) => Ok(asked.clone()),
        Some(_) => Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "a refresh cannot add scopes that were not granted",
        )),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::authorize::Prompt;
    use crate::oidc::pkce::{ChallengeMethod, CodeChallenge};
    use crate::oidc::response_mode::ResponseMode;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn grant_types() {
        let g = GrantRequest::parse(&form(&[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("redirect_uri", "https://app/cb"),
        ]))
        .unwrap();
        assert!(matches!(g, GrantRequest::AuthorizationCode { ref code, .. } if code == "c"));
        let g = GrantRequest::parse(&form(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://api.example.com"),
            ("scope", "write read"),
        ]))
        .unwrap();
        assert_eq!(
            g,
            GrantRequest::ClientCredentials {
                resource: Some("https://api.example.com".into()),
                scope: Some(vec!["read".into(), "write".into()]),
            }
        );
        let d = GrantRequest::parse(&form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", "d"),
        ]))
        .unwrap();
        assert_eq!(
            d,
            GrantRequest::DeviceCode {
                device_code: "d".into()
            }
        );
        let e = GrantRequest::parse(&form(&[("grant_type", "password")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedGrantType);
        let e = GrantRequest::parse(&form(&[])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = GrantRequest::parse(&form(&[("grant_type", "authorization_code")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    fn request(challenge: Option<CodeChallenge>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "app".into(),
            redirect_uri: "https://app/cb".into(),
            scope: ScopeSet::parse_lenient("openid"),
            state: None,
            nonce: None,
            response_mode: ResponseMode::Query,
            code_challenge: challenge,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            id_token_hint: None,
            resource: None,
            api_scope: vec![],
        }
    }

    #[test]
    fn redemption_checks_redirect_and_pkce() {
        let r = request(None);
        check_code_redemption(&r, Some("https://app/cb"), None).unwrap();
        assert!(check_code_redemption(&r, Some("https://app/cb2"), None).is_err());
        assert!(check_code_redemption(&r, None, None).is_err());
        let challenge = CodeChallenge::new(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ChallengeMethod::S256,
        )
        .unwrap();
        let r = request(Some(challenge));
        check_code_redemption(
            &r,
            Some("https://app/cb"),
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        )
        .unwrap();
        assert!(check_code_redemption(&r, Some("https://app/cb"), None).is_err());
    }

    #[test]
    fn refresh_scope_can_only_narrow() {
        let granted = ScopeSet::parse_lenient("openid email profile");
        let narrower = ScopeSet::parse_lenient("openid email");
        assert_eq!(
            refreshed_scope(&granted, Some(&narrower)).unwrap(),
            narrower
        );
        let wider = ScopeSet::parse_lenient("openid groups");
        assert!(refreshed_scope(&granted, Some(&wider)).is_err());
        assert_eq!(refreshed_scope(&granted, None).unwrap(), granted);
    }
}
