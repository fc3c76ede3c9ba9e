//! Authorization requests (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), validated in two stages.
//!
//! Stage one establishes WHERE errors may be sent: until `client_id` names a registered client
//! and `redirect_uri` matches one of its callbacks exactly, nothing may redirect, and every
//! problem becomes an error page ([`PageError`]). Once the redirect target is trusted, every
//! later problem is returned to the client through it ([`RedirectError`]).

use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ErrorCode, OAuthError};
use super::pkce::{ChallengeMethod, CodeChallenge};
use super::response_mode::ResponseMode;
use super::scope::ScopeSet;

/// Longest accepted value of any single parameter. Cloudflare Access sends `state` values of
/// over a kilobyte; URLs on Cloudflare may be up to 16 KB.
const MAX_PARAM_LEN: usize = 8192;

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

impl Prompt {
    pub fn parse(raw: Option<&str>) -> Result<Self, OAuthError> {
        let mut p = Prompt::default();
        for value in raw.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => p.select_account = true,
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "prompt value {other} is not supported"
                    )))
                }
            }
        }
        if p.none && (p.login || p.consent || p.select_account) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        Ok(p)
    }
}

/// A fully validated authorization request: what is parked while the user signs in and what
/// the code remembers for the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub response_mode: ResponseMode,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    /// The API the access token is for (RFC 8707), with the API permissions asked for in
    /// `scope` (values that are not OpenID scopes; dropped when no resource is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_scope: Vec<String>,
}

/// Request parameters with the duplicate check RFC 6749 §3.1 requires.
pub struct Params<'a>(&'a [(String, String)]);

impl<'a> Params<'a> {
    pub fn new(pairs: &'a [(String, String)]) -> Self {
        Params(pairs)
    }

    /// The value of `name`, `None` when absent or empty; an error when repeated.
    pub fn get(&self, name: &str) -> Result<Option<&'a str>, OAuthError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "the {name} parameter is repeated"
            )));
        }
        match first {
            Some(v) if v.len() > MAX_PARAM_LEN => Err(OAuthError::invalid_request(format!(
                "the {name} parameter is too long"
            ))),
            Some("") | None => Ok(None),
            Some(v) => Ok(Some(v)),
        }
    }
}

/// A problem that must be shown to the user, never redirected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub message: String,
}

fn page_error(message: impl Into<String>) -> PageError {
    PageError {
        message: message.into(),
    }
}

/// Stage one: the client and redirect URI a response may be sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub client_id: String,
    pub redirect_uri: String,
}

pub fn target(params: &Params<'_>) -> Result<Target, PageError> {
    let client_id = params
        .get("client_id")
        .map_err(|e| page_error(e.description))?
        .ok_or_else(|| page_error("The sign-in request has no client_id."))?;
    let redirect_uri = params
        .get("redirect_uri")
        .map_err(|e| page_error(e.description))?
        .ok_or_else(|| page_error("The sign-in request has no redirect_uri."))?;
    Ok(Target {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
    })
}

/// Checks the target against the registered client (`None`: no such client in this tenant).
pub fn check_target(target: &Target, client: Option<&Client>) -> Result<(), PageError> {
    let client = client.ok_or_else(|| {
        page_error(
            "The application that sent you here is not registered with this sign-in service.",
        )
    })?;
    if !client.redirect_uri_registered(&target.redirect_uri) {
        return Err(page_error(
            "The application asked to send you to an address it has not registered, so the \
             sign-in was stopped. Its administrator needs to add that callback URL.",
        ));
    }
    Ok(())
}

/// An error to deliver to the (trusted) redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub error: OAuthError,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}

/// Stage two: everything else, with errors returned to the client.
pub fn parse(
    params: &Params<'_>,
    target: &Target,
    client: &Client,
) -> Result<AuthorizationRequest, RedirectError> {
    // State and response mode first: they shape how any error is delivered.
    let state = params.get("state").ok().flatten().map(str::to_string);
    let mode = params
        .get("response_mode")
        .ok()
        .flatten()
        .map(ResponseMode::parse);
    let response_mode = match &mode {
        Some(Ok(m)) => *m,
        _ => ResponseMode::Query,
    };
    let fail = |error: OAuthError| RedirectError {
        error,
        redirect_uri: target.redirect_uri.clone(),
        response_mode,
        state: state.clone(),
    };
    if let Some(Err(e)) = mode {
        return Err(fail(e));
    }
    parse_rest(params, target, client, state.clone(), response_mode).map_err(fail)
}

fn parse_rest(
    params: &Params<'_>,
    target: &Target,
    client: &Client,
    state: Option<String>,
    response_mode: ResponseMode,
) -> Result<AuthorizationRequest, OAuthError> {
    params.get("state")?;
    // A request object is opened and verified before parsing (`usecase::request_object`), its
    // parameters replacing the request's: one still here was never verified.
    if params.get("request")?.is_some() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequestObject,
            "a request object must be verified before its parameters are used",
        ));
    }
    if params.get("request_uri")?.is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match params.get("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type {other} is not supported; use code"),
            ))
        }
    }
    let scope = ScopeSet::for_authorization(params.get("scope")?)?;
    let resource = params
        .get("resource")?
        .map(super::resource::check_resource)
        .transpose()?;
    let api_scope = match resource {
        Some(_) => super::resource::api_permissions(params.get("scope")?)?,
        None => Vec::new(),
    };
    let prompt = Prompt::parse(params.get("prompt")?)?;
    let max_age = match params.get("max_age")? {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            OAuthError::invalid_request("max_age must be a non-negative integer")
        })?),
    };
    let code_challenge = match params.get("code_challenge")? {
        None => None,
        Some(challenge) => {
            let method = ChallengeMethod::parse(params.get("code_challenge_method")?)?;
            if method == ChallengeMethod::Plain && !client.allow_plain_pkce {
                return Err(OAuthError::invalid_request(
                    "this client must use code_challenge_method=S256",
                ));
            }
            Some(CodeChallenge::new(challenge, method)?)
        }
    };
    if code_challenge.is_none() && client.requires_pkce() {
        return Err(OAuthError::invalid_request(
            "this client must use PKCE (code_challenge with S256)",
        ));
    }
    let nonce = params.get("nonce")?.map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > 1024) {
        return Err(OAuthError::invalid_request("nonce is too long"));
    }
    Ok(AuthorizationRequest {
        client_id: target.client_id.clone(),
        redirect_uri: target.redirect_uri.clone(),
        scope,
        state,
        nonce,
        response_mode,
        code_challenge,
        prompt,
        max_age,
        login_hint: params.get("login_hint")?.map(str::to_string),
        id_token_hint: params.get("id_token_hint")?.map(str::to_string),
        resource,
        api_scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jwk::SigningAlg;

    fn client() -> Client {
        Client {
            id: "app".into(),
            name: "App".into(),
            secrets: vec![],
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
            require_pushed_requests: false,
            auth_method: crate::oidc::client::AuthMethod::ClientSecretBasic,
            keys: None,
            federated: vec![],
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }

    fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = vec![
            ("client_id".to_string(), "app".to_string()),
            ("redirect_uri".into(), "https://app.example.com/cb".into()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "openid email".into()),
            ("state".into(), "s1".into()),
        ];
        for (k, val) in extra {
            v.retain(|(key, _)| key != k);
            if !val.is_empty() {
                v.push((k.to_string(), val.to_string()));
            }
        }
        v
    }

    fn run(extra: &[(&str, &str)]) -> Result<AuthorizationRequest, RedirectError> {
        let p = pairs(extra);
        let params = Params::new(&p);
        let t = target(&params).unwrap();
        parse(&params, &t, &client())
    }

    #[test]
    fn a_plain_code_request_with_long_state_and_unknown_params() {
        let long_state = "x".repeat(2500);
        let r = run(&[("state", &long_state), ("display", "page"), ("foo", "bar")]).unwrap();
        assert_eq!(r.state.as_deref(), Some(long_state.as_str()));
        assert_eq!(r.scope.to_string(), "openid email");
        assert_eq!(r.nonce, None);
        assert_eq!(r.response_mode, ResponseMode::Query);
    }

    #[test]
    fn missing_or_wrong_response_type() {
        let e = run(&[("response_type", "")]).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::InvalidRequest);
        assert_eq!(e.state.as_deref(), Some("s1"));
        let e = run(&[("response_type", "token")]).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::UnsupportedResponseType);
    }

    #[test]
    fn unverified_request_objects_and_foreign_request_uris_are_refused() {
        assert_eq!(
            run(&[("request", "eyJ...")]).unwrap_err().error.code,
            ErrorCode::InvalidRequestObject
        );
        assert_eq!(
            run(&[("request_uri", "https://x")]).unwrap_err().error.code,
            ErrorCode::RequestUriNotSupported
        );
    }

    #[test]
    fn errors_keep_form_post_when_asked() {
        let e = run(&[("response_mode", "form_post"), ("scope", "email")]).unwrap_err();
        assert_eq!(e.response_mode, ResponseMode::FormPost);
        assert_eq!(e.error.code, ErrorCode::InvalidScope);
    }

    #[test]
    fn pkce_rules() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let r = run(&[
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .unwrap();
        assert_eq!(r.code_challenge.unwrap().method, ChallengeMethod::S256);
        // plain (explicit or implied) is refused unless the client allows it.
        assert!(run(&[("code_challenge", challenge)]).is_err());
        assert!(run(&[
            ("code_challenge", challenge),
            ("code_challenge_method", "plain")
        ])
        .is_err());
    }

    #[test]
    fn public_clients_must_use_pkce() {
        let mut c = client();
        c.is_public = true;
        let p = pairs(&[]);
        let params = Params::new(&p);
        let t = target(&params).unwrap();
        assert!(parse(&params, &t, &c).is_err());
    }

    #[test]
    fn prompt_and_max_age() {
        let r = run(&[("prompt", "login consent"), ("max_age", "0")]).unwrap();
        assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
        assert_eq!(r.max_age, Some(0));
        assert!(run(&[("prompt", "none login")]).is_err());
        assert!(run(&[("prompt", "bogus")]).is_err());
        assert!(run(&[("max_age", "-1")]).is_err());
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let mut p = pairs(&[]);
        p.push(("scope".into(), "openid".into()));
        let params = Params::new(&p);
        let t = target(&params).unwrap();
        assert!(parse(&params, &t, &client()).is_err());
    }

    #[test]
    fn unregistered_redirects_are_page_errors() {
        let c = client();
        let ok = Target {
            client_id: "app".into(),
            redirect_uri: "https://app.example.com/cb".into(),
        };
        check_target(&ok, Some(&c)).unwrap();
        let appended = Target {
            redirect_uri: "https://app.example.com/cb?x=1".into(),
            ..ok.clone()
        };
        assert!(check_target(&appended, Some(&c)).is_err());
        assert!(check_target(&ok, None).is_err());
        let none: Vec<(String, String)> = vec![];
        assert!(target(&Params::new(&none)).is_err());
    }
}
