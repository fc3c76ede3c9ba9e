//! OIDC clients (relying parties): their registered configuration, how they authenticate at the
//! token endpoint, and validation of what an admin registers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::client_assertion::{claimed_client_id, AssertionError, VerifiedAssertion, JWT_BEARER};
use super::error::OAuthError;
use super::token_settings::{self, TokenSettings};
use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::SigningAlg;

/// A registered client as the protocol code sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// A confidential client's secrets (any unexpired one authenticates it); none for public
    /// clients.
    pub secrets: Vec<ClientSecret>,
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
    /// How it authenticates at the back-channel endpoints.
    pub auth_method: AuthMethod,
    /// Its keys for `private_key_jwt`: an inline JWKS, or where to fetch one.
    pub keys: Option<ClientKeys>,
    /// External issuers whose JWTs for a subject it accepts as its client assertion.
    pub federated: Vec<FederatedCredential>,
    /// OIDC Back-Channel Logout: where logout tokens are POSTed when a session of one of the
    /// client's users ends; `None` when the client does not take them.
    pub backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in its logout tokens (`backchannel_logout_session_required`).
    pub backchannel_logout_session_required: bool,
}

/// A federated client credential (Pocket ID's): a JWT issued by `issuer` (verified with the
/// keys its discovery document names) about `subject`, for `audience`, is accepted as the
/// client's assertion. A CI system's OIDC token or a Kubernetes service account token thus
/// authenticates a machine client without any secret to store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    /// The `aud` the token must carry; absent: this server's issuer or an endpoint URL.
    #[serde(default)]
    pub audience: Option<String>,
}

/// RFC 7591's `token_endpoint_auth_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A secret in the Basic header. `client_secret_post` clients may use it too, and the
    /// other way round: before this setting existed every confidential client could use
    /// either, and apps rely on it.
    ClientSecretBasic,
    ClientSecretPost,
    /// A JWT signed with one of the client's registered keys (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// A public client: no authentication (PKCE instead).
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the client authenticates with one of its secrets (and so holds some).
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }
}

/// Where a `private_key_jwt` client's public keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeys {
    /// Registered inline (a JWKS as JSON text).
    Inline(String),
    /// Fetched from this https URL (and cached a short while).
    Uri(String),
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

/// One of a confidential client's secrets, as stored: its SHA-256 hash and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ClientSecret {
    pub id: String,
    pub hash: String,
    pub created_at: i64,
    /// `None`: never expires. Refused from this second on.
    pub expires_at: Option<i64>,
}

impl ClientSecret {
    /// Whether the secret still authenticates at `now` (the SQL twin is in
    /// `storage::codes::client_authenticated`: `expires_at IS NULL OR expires_at > now`).
    pub fn live_at(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

/// How a client presented itself at the token, introspection or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    /// The candidate secrets to try, in order. More than one when the Basic header could be
    /// read either form-urlencoded (RFC 6749 App. B) or raw (what Cloudflare Access sends).
    pub secrets: Vec<String>,
    /// A `private_key_jwt` assertion (RFC 7523), instead of secrets.
    pub assertion: Option<PresentedAssertion>,
}

/// A client assertion as presented, and once its signature and claims checked out, what the
/// batch acting on it must spend. Until then it authenticates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedAssertion {
    pub jwt: String,
    verified: Option<VerifiedAssertion>,
}

impl PresentedAssertion {
    pub fn verified(&self) -> Option<&VerifiedAssertion> {
        self.verified.as_ref()
    }
}

impl ClientCredentials {
    /// Reads `client_secret_basic` from an Authorization header, `private_key_jwt` from the
    /// form's `client_assertion_type` and `client_assertion`, or `client_secret_post` / `none`
    /// from the form. Presenting two methods at once is refused (RFC 6749 §2.3). The client is
    /// the `client_id` sent along, or else the assertion's `sub` (read unverified, only to know
    /// whose keys verify it; the claim rules then hold it to the client).
    pub fn from_form(
        authorization: Option<&str>,
        form_client_id: Option<&str>,
        form_client_secret: Option<&str>,
        assertion_type: Option<&str>,
        assertion: Option<&str>,
    ) -> Result<Self, OAuthError> {
        let Some(jwt) = assertion else {
            if assertion_type.is_some() {
                return Err(OAuthError::invalid_request(
                    "client_assertion_type without client_assertion",
                ));
            }
            return Self::from_request(authorization, form_client_id, form_client_secret);
        };
        let has_basic = authorization
            .and_then(|h| h.split_once(' '))
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"));
        if has_basic || form_client_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not a client_assertion and a secret",
            ));
        }
        if assertion_type != Some(JWT_BEARER) {
            return Err(AssertionError::WrongType.into());
        }
        // An assertion of the client's own names it in `sub`; a federated one (another
        // issuer's token about its own subject) needs the client_id sent along.
        let client_id = match form_client_id {
            Some(id) => id.to_string(),
            None => claimed_client_id(jwt)?,
        };
        Ok(Self {
            client_id,
            secrets: vec![],
            assertion: Some(PresentedAssertion {
                jwt: jwt.to_string(),
                verified: None,
            }),
        })
    }

    /// These credentials with their assertion's checks passed: `verified` comes from
    /// `ReadAssertion::validate`, after one of its signature checks verified.
    pub fn with_verified_assertion(mut self, verified: VerifiedAssertion) -> Self {
        if let Some(a) = &mut self.assertion {
            a.verified = Some(verified);
        }
        self
    }

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
                    assertion: None,
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
            assertion: None,
        })
    }

    /// THE client authentication rule, stated as the exact list of stored states
    /// ([`Accepted`]) these credentials authenticate:
    ///
    /// * nothing presented: a public client, which holds no secret (public clients cannot
    ///   keep one, so they prove possession with PKCE);
    /// * secrets presented: a confidential client registered for a secret method with an
    ///   unexpired secret whose hash is the hash of one of the candidates (a secret sent for a
    ///   public client is refused: it signals a misconfigured app);
    /// * a client assertion whose signature (by one of the client's keys) and claims were
    ///   verified: a confidential client registered for `private_key_jwt`; an assertion not
    ///   verified yet authenticates nothing.
    ///
    /// Every place that authenticates a client tests membership in this list and nothing else:
    /// [`Self::authenticate`] in Rust, and the batches' SQL (`storage::codes::
    /// client_authenticated`), which is generated from it state by state, so the two cannot
    /// disagree.
    pub fn accepted_states(&self) -> Vec<Accepted> {
        if let Some(assertion) = &self.assertion {
            return match assertion.verified {
                Some(_) => vec![Accepted::KeyJwt],
                None => vec![],
            };
        }
        if self.secrets.is_empty() {
            return vec![Accepted::Public];
        }
        self.secrets
            .iter()
            .map(|s| Accepted::Secret {
                hash: secret_hash(s),
            })
            .collect()
    }

    /// Authenticates against the registered client, as stored, at `now`, by
    /// [`Self::accepted_states`].
    pub fn authenticate(&self, client: &Client, now: i64) -> Result<(), OAuthError> {
        let ok = self
            .accepted_states()
            .iter()
            .any(|accepted| accepted.matches(client, now));
        ok.then_some(())
            .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
    }
}

/// A stored state of a client that presented credentials authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A public client (method `none`) holding no secret at all.
    Public,
    /// A confidential client of a secret method holding an unexpired secret with this hash.
    Secret { hash: String },
    /// A confidential `private_key_jwt` client (the assertion was verified against its keys).
    KeyJwt,
}

impl Accepted {
    /// Whether `client`, as stored, is in this state at `now` (hashes compared in constant
    /// time).
    pub fn matches(&self, client: &Client, now: i64) -> bool {
        match self {
            Accepted::Public => {
                client.is_public
                    && client.auth_method == AuthMethod::None
                    && client.secrets.is_empty()
            }
            Accepted::KeyJwt => {
                !client.is_public && client.auth_method == AuthMethod::PrivateKeyJwt
            }
            Accepted::Secret { hash } => {
                !client.is_public
                    && client.auth_method.uses_secret()
                    && client.secrets.iter().any(|s| {
                        s.live_at(now) && crate::crypto::hash::secrets_equal(&s.hash, hash)
                    })
            }
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
    /// RFC 7591: `client_secret_basic` (default for confidential clients),
    /// `client_secret_post`, `private_key_jwt`, or `none` (public clients, the default there).
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// `private_key_jwt`: the client's public keys, inline (a JWKS object)...
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// ... or the https URL they are fetched from.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// `private_key_jwt`: external issuers whose JWTs are accepted as the client's assertion.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
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

/// `jwks_uri` must be https: the keys decide who may act as the client. Plain http only on the
/// loopback interface, for local development (a Worker on Cloudflare cannot reach one).
pub(crate) fn validate_jwks_uri(uri: &str) -> Result<(), FieldError> {
    plain_text("jwks_uri", uri)?;
    let parsed = url::Url::parse(uri)
        .map_err(|_| field_error("jwks_uri", format!("{uri} is not an absolute URL")))?;
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok = match parsed.scheme() {
        "https" => true,
        "http" => loopback,
        _ => false,
    };
    if !ok || parsed.fragment().is_some() || parsed.username() != "" || uri.len() > 2000 {
        return Err(field_error(
            "jwks_uri",
            "must be an https URL (http only on localhost), without credentials or #fragment",
        ));
    }
    Ok(())
}

/// Federated credentials: at most 10, each an issuer URL as `jwks_uri` must be (its discovery
/// document and keys are fetched from there), a subject, and an optional audience.
fn validate_federated(list: &[FederatedCredential]) -> Result<(), FieldError> {
    let field = "federated_credentials";
    if list.len() > 10 {
        return Err(field_error(field, "at most 10 federated credentials"));
    }
    for fc in list {
        validate_jwks_uri(&fc.issuer).map_err(|_| {
            field_error(
                field,
                "an issuer is an https URL (http only on localhost), without credentials or #fragment",
            )
        })?;
        plain_text(field, &fc.subject)?;
        if fc.subject.is_empty() || fc.subject.chars().count() > 256 {
            return Err(field_error(
                field,
                "a subject of 1 to 256 characters is required",
            ));
        }
        if let Some(aud) = &fc.audience {
            plain_text(field, aud)?;
            if aud.is_empty() || aud.chars().count() > 2000 {
                return Err(field_error(field, "an audience is 1 to 2000 characters"));
            }
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
    /// How the client authenticates and, for `private_key_jwt`, its keys (the JWKS validated
    /// and stored as compact JSON).
    pub fn auth_settings(&self) -> Result<(AuthMethod, Option<ClientKeys>), FieldError> {
        let field = "token_endpoint_auth_method";
        let method = match self.token_endpoint_auth_method.as_deref() {
            None | Some("") if self.is_public => AuthMethod::None,
            None | Some("") => AuthMethod::ClientSecretBasic,
            Some(m) => AuthMethod::parse(m).ok_or_else(|| {
                field_error(
                    field,
                    "must be client_secret_basic, client_secret_post, private_key_jwt or none",
                )
            })?,
        };
        if self.is_public != (method == AuthMethod::None) {
            return Err(field_error(
                field,
                "a public client authenticates with none, and only a public client does",
            ));
        }
        let jwks = self.jwks.as_ref().filter(|v| !v.is_null());
        let jwks_uri = self.jwks_uri.as_deref().filter(|v| !v.trim().is_empty());
        if method != AuthMethod::PrivateKeyJwt {
            if jwks.is_some() || jwks_uri.is_some() {
                return Err(field_error(
                    "jwks",
                    "keys are for private_key_jwt clients only",
                ));
            }
            if !self.federated_credentials.is_empty() {
                return Err(field_error(
                    "federated_credentials",
                    "federated credentials are for private_key_jwt clients only",
                ));
            }
            return Ok((method, None));
        }
        validate_federated(&self.federated_credentials)?;
        let keys = match (jwks, jwks_uri) {
            (Some(jwks), None) => {
                let text = jwks.to_string();
                super::client_assertion::validate_jwks(&text)
                    .map_err(|m| field_error("jwks", m))?;
                ClientKeys::Inline(text)
            }
            (None, Some(uri)) => {
                validate_jwks_uri(uri)?;
                ClientKeys::Uri(uri.to_string())
            }
            // Without keys of its own, federated credentials are how it authenticates.
            (None, None) if !self.federated_credentials.is_empty() => return Ok((method, None)),
            _ => {
                return Err(field_error(
                    "jwks",
                    "a private_key_jwt client needs its keys (jwks or jwks_uri, one of them) or federated credentials",
                ))
            }
        };
        Ok((method, Some(keys)))
    }

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
        self.auth_settings()?;
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

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn internationalised_hosts_are_asked_for_in_ascii() {
        let e = validate_redirect("callback_urls", "https://bücher.example/cb").unwrap_err();
        assert!(e.message.contains("xn--"), "{}", e.message);
        assert!(validate_redirect("callback_urls", "https://xn--bcher-kva.example/cb").is_ok());
    }

    pub fn secret_at(secret: &str, expires_at: Option<i64>) -> ClientSecret {
        ClientSecret {
            id: format!("id-{secret}"),
            hash: secret_hash(secret),
            created_at: 0,
            expires_at,
        }
    }

    pub fn sample(secret: Option<&str>) -> Client {
        Client {
            id: "app".into(),
            name: "App".into(),
            secrets: secret.map(|s| secret_at(s, None)).into_iter().collect(),
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
            auth_method: if secret.is_some() {
                AuthMethod::ClientSecretBasic
            } else {
                AuthMethod::None
            },
            keys: None,
            federated: vec![],
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
        raw.authenticate(&c, NOW).unwrap();
        // RFC 6749 Appendix B style.
        let enc =
            ClientCredentials::from_request(Some(&basic("app", "p%40ss%3Aw%25rd")), None, None)
                .unwrap();
        enc.authenticate(&c, NOW).unwrap();
        let wrong =
            ClientCredentials::from_request(Some(&basic("app", "nope")), None, None).unwrap();
        assert_eq!(
            wrong.authenticate(&c, NOW).unwrap_err().code.as_str(),
            "invalid_client"
        );
    }

    #[test]
    fn post_and_none_methods() {
        let confidential = sample(Some("s3cret"));
        let post = ClientCredentials::from_request(None, Some("app"), Some("s3cret")).unwrap();
        post.authenticate(&confidential, NOW).unwrap();
        let none = ClientCredentials::from_request(None, Some("app"), None).unwrap();
        assert!(none.authenticate(&confidential, NOW).is_err());
        let public = sample(None);
        none.authenticate(&public, NOW).unwrap();
        assert!(post.authenticate(&public, NOW).is_err());
    }

    #[test]
    fn the_rule_needs_both_columns_to_agree() {
        let post = ClientCredentials::from_request(None, Some("app"), Some("s3cret")).unwrap();
        let none = ClientCredentials::from_request(None, Some("app"), None).unwrap();
        // A public client that somehow holds a secret: neither a secret nor its absence
        // authenticates it (storage never writes this state; the rule does not rely on that).
        let mut odd = sample(Some("s3cret"));
        odd.is_public = true;
        assert!(post.authenticate(&odd, NOW).is_err());
        assert!(none.authenticate(&odd, NOW).is_err());
        // A confidential client without a secret cannot authenticate at all.
        let mut secretless = sample(None);
        secretless.is_public = false;
        assert!(post.authenticate(&secretless, NOW).is_err());
        assert!(none.authenticate(&secretless, NOW).is_err());
        assert_eq!(
            post.accepted_states(),
            vec![Accepted::Secret {
                hash: secret_hash("s3cret")
            }]
        );
    }

    #[test]
    fn any_unexpired_secret_authenticates_and_an_expired_one_from_its_expiry_on() {
        let post = |s: &str| ClientCredentials::from_request(None, Some("app"), Some(s)).unwrap();
        let mut c = sample(Some("old"));
        c.secrets[0].expires_at = Some(NOW + 60);
        c.secrets.push(secret_at("new", None));
        post("old").authenticate(&c, NOW).unwrap();
        post("new").authenticate(&c, NOW).unwrap();
        post("old").authenticate(&c, NOW + 59).unwrap();
        assert!(
            post("old").authenticate(&c, NOW + 60).is_err(),
            "expired at its second"
        );
        post("new").authenticate(&c, NOW + 60).unwrap();
        assert!(post("other").authenticate(&c, NOW).is_err());
        // Every secret expired: nothing authenticates, not even "no secret".
        c.secrets[1].expires_at = Some(NOW);
        assert!(post("new").authenticate(&c, NOW).is_err());
        let none = ClientCredentials::from_request(None, Some("app"), None).unwrap();
        assert!(none.authenticate(&c, NOW).is_err());
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
