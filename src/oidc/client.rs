//! OIDC clients (relying parties): their registered configuration, how they authenticate at the
//! token endpoint, and validation of what an admin registers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::error::OAuthError;
use super::token_settings::{self, TokenSettings};
use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::SigningAlg;

/// A registered client as the protocol code sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// SHA-256 of the secret; `None` for public clients.
    pub secret_hash: Option<String>,
    pub is_public: bool,
    pub pkce_required: bool,
    pub allow_plain_pkce: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Put the scope claims (email, name, groups...) in the id_token as well as in userinfo:
    /// needed by clients that never call userinfo, such as Cloudflare Access.
    pub claims_in_id_token: bool,
    pub id_token_alg: SigningAlg,
    pub require_consent: bool,
    /// Groups allowed to use the client; empty means every user of the tenant.
    pub allowed_groups: Vec<String>,
    /// Access token format and token lifetimes.
    pub tokens: TokenSettings,
    /// Authorization requests must be pushed first (RFC 9126 §6,
    /// `require_pushed_authorization_requests`): a plain /authorize request is refused.
    pub require_pushed_requests: bool,
    /// OIDC Back-Channel Logout: where logout tokens are POSTed when a session of one of the
    /// client's users ends; `None` when the client does not take them.
    pub backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in its logout tokens (`backchannel_logout_session_required`).
    pub backchannel_logout_session_required: bool,
}

impl Client {
    /// Exact, character-for-character match (OAuth 2.0 Security BCP §4.1.3): no prefix, no
    /// wildcard, no normalisation, so an appended path or query never matches.
    pub fn redirect_uri_registered(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn post_logout_uri_registered(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// Public clients cannot keep a secret, so they must prove possession with PKCE.
    pub fn requires_pkce(&self) -> bool {
        self.is_public || self.pkce_required
    }
}

/// How a client presented itself at the token, introspection or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    /// The candidate secrets to try, in order. More than one when the Basic header could be
    /// read either form-urlencoded (RFC 6749 App. B) or raw (what Cloudflare Access sends).
    pub secrets: Vec<String>,
}

impl ClientCredentials {
    /// Reads `client_secret_basic` from an Authorization header, or `client_secret_post` /
    /// `none` from the form. Presenting both methods at once is refused (RFC 6749 §2.3).
    pub fn from_request(
        authorization: Option<&str>,
        form_client_id: Option<&str>,
        form_client_secret: Option<&str>,
    ) -> Result<Self, OAuthError> {
        let basic = authorization
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, value)| value.trim());
        match (basic, form_client_secret) {
            (Some(_), Some(_)) => Err(OAuthError::invalid_request(
                "use one client authentication method, not both Basic and client_secret",
            )),
            (Some(value), None) => {
                let creds = Self::from_basic(value)?;
                if form_client_id.is_some_and(|id| id != creds.client_id) {
                    return Err(OAuthError::invalid_client(
                        "client_id in the body differs from the Basic credentials",
                    ));
                }
                Ok(creds)
            }
            (None, secret) => {
                let client_id = form_client_id.filter(|id| !id.is_empty()).ok_or_else(|| {
                    OAuthError::invalid_client("client authentication is required")
                })?;
                Ok(Self {
                    client_id: client_id.to_string(),
                    secrets: secret.map(|s| vec![s.to_string()]).unwrap_or_default(),
                })
            }
        }
    }

    /// Lenient `client_secret_basic`: each half is tried form-urldecoded and as sent. Generated
    /// ids and secrets are alphanumeric, where both readings agree; the leniency only matters
    /// for clients that register their own values.
    fn from_basic(value: &str) -> Result<Self, OAuthError> {
        let bad = || OAuthError::invalid_client("malformed Basic credentials");
        let decoded = STANDARD.decode(value).map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        let id = form_urldecode(id).unwrap_or_else(|| id.to_string());
        let mut secrets = vec![secret.to_string()];
        if let Some(unescaped) = form_urldecode(secret).filter(|s| s != secret) {
            secrets.push(unescaped);
        }
        Ok(Self {
            client_id: id,
            secrets,
        })
    }

    /// THE client authentication rule, stated as the exact list of stored states
    /// ([`StoredAuth`]) these credentials authenticate:
    ///
    /// * no secret presented: a public client, which holds no secret (public clients cannot
    ///   keep one, so they prove possession with PKCE);
    /// * secrets presented: a confidential client whose stored secret hash is the hash of one
    ///   of the candidates (a secret sent for a public client is refused: it signals a
    ///   misconfigured app).
    ///
    /// Every place that authenticates a client tests membership in this list and nothing else:
    /// [`Self::authenticate`] in Rust, and the code redemption's SQL (`storage::grants`), which
    /// is generated from it (equality on the two columns), so the two cannot disagree.
    pub fn accepted_states(&self) -> Vec<StoredAuth> {
        if self.secrets.is_empty() {
            return vec![StoredAuth {
                is_public: true,
                secret_hash: None,
            }];
        }
        self.secrets
            .iter()
            .map(|s| StoredAuth {
                is_public: false,
                secret_hash: Some(secret_hash(s)),
            })
            .collect()
    }

    /// Authenticates against the registered client by [`Self::accepted_states`].
    pub fn authenticate(&self, client: &Client) -> Result<(), OAuthError> {
        let stored = client.stored_auth();
        let ok = self
            .accepted_states()
            .iter()
            .any(|accepted| accepted.matches(&stored));
        ok.then_some(())
            .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
    }
}

/// What client authentication looks at in a stored client: whether it is public and the hash
/// of its secret (none for public clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuth {
    pub is_public: bool,
    pub secret_hash: Option<String>,
}

impl StoredAuth {
    /// Plain equality of both fields (hashes compared in constant time).
    fn matches(&self, stored: &StoredAuth) -> bool {
        self.is_public == stored.is_public
            && match (&self.secret_hash, &stored.secret_hash) {
                (Some(a), Some(b)) => crate::crypto::hash::secrets_equal(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl Client {
    pub fn stored_auth(&self) -> StoredAuth {
        StoredAuth {
            is_public: self.is_public,
            secret_hash: self.secret_hash.clone(),
        }
    }
}

fn form_urldecode(s: &str) -> Option<String> {
    let plus_as_space = s.replace('+', " ");
    let bytes = plus_as_space.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What an admin submits to create or update a client.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub name: String,
    #[serde(default)]
    pub callback_urls: Vec<String>,
    #[serde(default)]
    pub logout_callback_urls: Vec<String>,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub pkce_enabled: bool,
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// On unless switched off, as in Pocket ID: many apps read the claims from the id_token
    /// and never call userinfo.
    #[serde(default = "scope_claims_in_id_token_by_default")]
    pub claims_in_id_token: bool,
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    pub require_consent: bool,
    /// RFC 9126 §6's client metadata: /authorize takes only pushed requests from this client.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    #[serde(default)]
    pub launch_url: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub allowed_user_groups: Vec<String>,
    #[serde(default)]
    pub preset: Option<String>,
    /// `opaque` (default) or `jwt`: every access token an RFC 9068 JWT.
    #[serde(default)]
    pub access_token_format: Option<String>,
    /// Lifetimes in seconds; absent means the provider's default.
    #[serde(default)]
    pub access_token_lifetime: Option<i64>,
    #[serde(default)]
    pub id_token_lifetime: Option<i64>,
    #[serde(default)]
    pub refresh_token_lifetime: Option<i64>,
    /// OIDC Back-Channel Logout 1.0 §2.2: https (or http on loopback, for development).
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
}

fn scope_claims_in_id_token_by_default() -> bool {
    true
}

pub use crate::validation::FieldError;
use crate::validation::{field_error, plain_text};

/// A redirect URI must be absolute and carry no fragment (RFC 6749 §3.1.2). `http` is allowed
/// because self-hosted apps on a LAN often have no TLS; custom schemes serve native apps.
fn validate_redirect(field: &'static str, uri: &str) -> Result<(), FieldError> {
    // The URL parser drops tabs and newlines silently; the stored text would still hold them.
    plain_text(field, uri)?;
    let parsed = url::Url::parse(uri).map_err(|_| {
        if uri.is_ascii() {
            field_error(field, format!("{uri} is not an absolute URL"))
        } else {
            // IDNA is ASCII-only in this build (see Cargo.toml): ask for the punycode form.
            field_error(
                field,
                format!("{uri}: write a non-ASCII host in its ASCII form (xn--...)"),
            )
        }
    })?;
    if parsed.fragment().is_some() {
        return Err(field_error(
            field,
            format!("{uri} must not contain a #fragment"),
        ));
    }
    if matches!(parsed.scheme(), "javascript" | "data" | "file" | "vbscript") {
        return Err(field_error(field, format!("{uri} uses a forbidden scheme")));
    }
    if uri.len() > 2000 {
        return Err(field_error(field, "URLs are at most 2000 characters"));
    }
    Ok(())
}

fn validate_web_url(field: &'static str, value: &Option<String>) -> Result<(), FieldError> {
    if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
        plain_text(field, v)?;
        let ok = url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok || v.len() > 2000 {
            return Err(field_error(field, "must be an http(s) URL"));
        }
    }
    Ok(())
}

/// A back-channel logout URI (OIDC Back-Channel Logout 1.0 §2.2): absolute, no fragment, no
/// credentials, `https`; plain `http` only on a loopback host (localhost, 127.0.0.1, [::1]),
/// where a developer's app runs without TLS. Logout tokens are bearer proof that a session
/// ended, so they never travel in clear text across a network.
pub fn validate_backchannel_logout_uri(field: &'static str, uri: &str) -> Result<(), FieldError> {
    plain_text(field, uri)?;
    let parsed = url::Url::parse(uri)
        .map_err(|_| field_error(field, format!("{uri} is not an absolute URL")))?;
    if parsed.fragment().is_some() {
        return Err(field_error(
            field,
            format!("{uri} must not contain a #fragment"),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(field_error(field, "must not carry a user name or password"));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => {}
        "http" if loopback => {}
        _ => {
            return Err(field_error(
                field,
                "must be an https URL (http only on localhost)",
            ))
        }
    }
    if uri.len() > 2000 {
        return Err(field_error(field, "URLs are at most 2000 characters"));
    }
    Ok(())
}

impl ClientInput {
    /// Validates every field; returns the signing algorithm the client asked for.
    pub fn validate(&self) -> Result<SigningAlg, FieldError> {
        let name = self.name.trim();
        // The name is what the consent page and the admin console show.
        plain_text("name", name)?;
        if name.is_empty() || name.chars().count() > 100 {
            return Err(field_error(
                "name",
                "a name of 1 to 100 characters is required",
            ));
        }
        // A confidential client may have none: a machine client that only uses
        // client_credentials never sends anyone to /authorize.
        if self.callback_urls.is_empty() && self.is_public {
            return Err(field_error(
                "callback_urls",
                "a public client needs at least one callback URL",
            ));
        }
        if self.callback_urls.len() > 20 || self.logout_callback_urls.len() > 20 {
            return Err(field_error("callback_urls", "at most 20 URLs"));
        }
        for uri in &self.callback_urls {
            validate_redirect("callback_urls", uri)?;
        }
        for uri in &self.logout_callback_urls {
            validate_redirect("logout_callback_urls", uri)?;
        }
        validate_web_url("launch_url", &self.launch_url)?;
        if let Some(uri) = self
            .backchannel_logout_uri
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            validate_backchannel_logout_uri("backchannel_logout_uri", uri)?;
        }
        validate_web_url("logo_url", &self.logo_url)?;
        token_settings::validate_format(self.access_token_format.as_deref())?;
        token_settings::validate_lifetime(
            "access_token_lifetime",
            self.access_token_lifetime,
            token_settings::ACCESS_BOUNDS,
        )?;
        token_settings::validate_lifetime(
            "id_token_lifetime",
            self.id_token_lifetime,
            token_settings::ID_BOUNDS,
        )?;
        token_settings::validate_lifetime(
            "refresh_token_lifetime",
            self.refresh_token_lifetime,
            token_settings::REFRESH_BOUNDS,
        )?;
        if self.allow_plain_pkce && !self.pkce_enabled && !self.is_public {
            return Err(field_error(
                "allow_plain_pkce",
                "plain PKCE only makes sense with PKCE enabled",
            ));
        }
        match self.id_token_signed_response_alg.as_deref() {
            None | Some("") => Ok(SigningAlg::RS256),
            Some(alg) => SigningAlg::parse(alg).ok_or_else(|| {
                field_error("id_token_signed_response_alg", "must be RS256 or ES256")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internationalised_hosts_are_asked_for_in_ascii() {
        let e = validate_redirect("callback_urls", "https://bücher.example/cb").unwrap_err();
        assert!(e.message.contains("xn--"), "{}", e.message);
        assert!(validate_redirect("callback_urls", "https://xn--bcher-kva.example/cb").is_ok());
    }

    pub fn sample(secret: Option<&str>) -> Client {
        Client {
            id: "app".into(),
            name: "App".into(),
            secret_hash: secret.map(secret_hash),
            is_public: secret.is_none(),
            pkce_required: false,
            allow_plain_pkce: false,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            post_logout_redirect_uris: vec![],
            claims_in_id_token: false,
            id_token_alg: SigningAlg::RS256,
            require_consent: false,
            allowed_groups: vec![],
            tokens: TokenSettings::default(),
            require_pushed_requests: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let c = sample(Some("s"));
        assert!(c.redirect_uri_registered("https://app.example.com/cb"));
        for bad in [
            "https://app.example.com/cb/",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/cbx",
            "https://APP.example.com/cb",
        ] {
            assert!(!c.redirect_uri_registered(bad), "{bad}");
        }
    }

    #[test]
    fn basic_credentials_raw_and_urlencoded() {
        let c = sample(Some("p@ss:w%rd"));
        // Cloudflare Access style: not urlencoded.
        let raw =
            ClientCredentials::from_request(Some(&basic("app", "p@ss:w%rd")), None, None).unwrap();
        raw.authenticate(&c).unwrap();
        // RFC 6749 Appendix B style.
        let enc =
            ClientCredentials::from_request(Some(&basic("app", "p%40ss%3Aw%25rd")), None, None)
                .unwrap();
        enc.authenticate(&c).unwrap();
        let wrong =
            ClientCredentials::from_request(Some(&basic("app", "nope")), None, None).unwrap();
        assert_eq!(
            wrong.authenticate(&c).unwrap_err().code.as_str(),
            "invalid_client"
        );
    }

    #[test]
    fn post_and_none_methods() {
        let confidential = sample(Some("s3cret"));
        let post = ClientCredentials::from_request(None, Some("app"), Some("s3cret")).unwrap();
        post.authenticate(&confidential).unwrap();
        let none = ClientCredentials::from_request(None, Some("app"), None).unwrap();
        assert!(none.authenticate(&confidential).is_err());
        let public = sample(None);
        none.authenticate(&public).unwrap();
        assert!(post.authenticate(&public).is_err());
    }

    #[test]
    fn the_rule_needs_both_columns_to_agree() {
        let post = ClientCredentials::from_request(None, Some("app"), Some("s3cret")).unwrap();
        let none = ClientCredentials::from_request(None, Some("app"), None).unwrap();
        // A public client that somehow holds a secret: neither a secret nor its absence
        // authenticates it (storage never writes this state; the rule does not rely on that).
        let mut odd = sample(Some("s3cret"));
        odd.is_public = true;
        assert!(post.authenticate(&odd).is_err());
        assert!(none.authenticate(&odd).is_err());
        // A confidential client without a secret cannot authenticate at all.
        let mut secretless = sample(None);
        secretless.is_public = false;
        assert!(post.authenticate(&secretless).is_err());
        assert!(none.authenticate(&secretless).is_err());
        assert_eq!(
            post.accepted_states(),
            vec![StoredAuth {
                is_public: false,
                secret_hash: Some(secret_hash("s3cret"))
            }]
        );
    }

    #[test]
    fn malformed_or_conflicting_credentials() {
        assert!(ClientCredentials::from_request(Some("Basic !!!"), None, None).is_err());
        assert!(ClientCredentials::from_request(Some(&basic("a", "b")), None, Some("b")).is_err());
        assert!(ClientCredentials::from_request(Some(&basic("a", "b")), Some("x"), None).is_err());
        assert!(ClientCredentials::from_request(None, None, None).is_err());
    }

    #[test]
    fn input_validation_names_the_field() {
        let mut input = ClientInput {
            name: "Grafana".into(),
            callback_urls: vec!["https://g.example.com/login/generic_oauth".into()],
            ..Default::default()
        };
        assert_eq!(input.validate().unwrap(), SigningAlg::RS256);
        input.callback_urls.push("https://x/cb#frag".into());
        assert_eq!(input.validate().unwrap_err().field, "callback_urls");
        input.callback_urls.pop();
        input.callback_urls.push("javascript:alert(1)".into());
        assert!(input.validate().is_err());
        input.callback_urls.pop();
        input.id_token_signed_response_alg = Some("HS256".into());
        assert_eq!(
            input.validate().unwrap_err().field,
            "id_token_signed_response_alg"
        );
        input.id_token_signed_response_alg = Some("ES256".into());
        assert_eq!(input.validate().unwrap(), SigningAlg::ES256);
        input.name = " ".into();
        assert_eq!(input.validate().unwrap_err().field, "name");
        // Machine clients (confidential) need no callback URL; public clients do.
        input.name = "Nightly sync".into();
        input.callback_urls.clear();
        assert!(input.validate().is_ok());
        input.is_public = true;
        assert_eq!(input.validate().unwrap_err().field, "callback_urls");
    }

    #[test]
    fn names_and_urls_with_hidden_characters_are_refused() {
        let mut input = ClientInput {
            name: "Payroll\u{202E}gnp.exe".into(),
            callback_urls: vec!["https://g.example.com/cb".into()],
            ..Default::default()
        };
        assert_eq!(input.validate().unwrap_err().field, "name");
        input.name = "Payroll".into();
        input.callback_urls = vec!["https://g.example.com/c\nb".into()];
        assert_eq!(input.validate().unwrap_err().field, "callback_urls");
        input.callback_urls = vec!["https://g.example.com/cb".into()];
        input.launch_url = Some("https://g.example.com/\u{200B}".into());
        assert_eq!(input.validate().unwrap_err().field, "launch_url");
    }

    #[test]
    fn backchannel_logout_uris_are_https_or_loopback_http() {
        let field = "backchannel_logout_uri";
        for good in [
            "https://app.example.com/logout",
            "https://app.example.com:8443/bc?x=1",
            "http://localhost:3000/bc",
            "http://127.0.0.1:9000/bc",
            "http://[::1]/bc",
        ] {
            assert!(
                validate_backchannel_logout_uri(field, good).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "http://app.example.com/logout",
            "http://localhost.evil.com/bc",
            "http://127.0.0.2/bc",
            "https://app.example.com/bc#frag",
            "https://user:pw@app.example.com/bc",
            "/relative",
            "javascript:alert(1)",
            "ftp://app.example.com/bc",
            "https://app.example.com/b\nc",
        ] {
            assert_eq!(
                validate_backchannel_logout_uri(field, bad)
                    .unwrap_err()
                    .field,
                field,
                "{bad}"
            );
        }
        let mut input = ClientInput {
            name: "App".into(),
            callback_urls: vec!["https://app.example.com/cb".into()],
            backchannel_logout_uri: Some("http://app.example.com/bc".into()),
            ..Default::default()
        };
        assert_eq!(input.validate().unwrap_err().field, field);
        input.backchannel_logout_uri = Some(String::new());
        assert!(input.validate().is_ok(), "empty means none");
    }
}
