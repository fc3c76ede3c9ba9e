//! Provider metadata: OpenID Connect Discovery 1.0 and RFC 8414.
//!
//! The documents advertise only what the provider serves, so a relying party never tries a
//! feature that is not there. Endpoint paths follow Pocket ID's, so guides written for Pocket ID
//! work unchanged.

use serde_json::{json, Value};

/// Signing algorithms tenant keys exist for. RS256 first: it is the default and the one the
/// conformance suite requires; no OKP (EdDSA) because Cloudflare Access rejects such a JWKS.
pub const ID_TOKEN_SIGNING_ALGS: [&str; 2] = ["RS256", "ES256"];

/// A tenant's endpoint URLs: what discovery advertises and what setup guides tell people to paste.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Endpoints {
    pub issuer: String,
    pub discovery: String,
    pub authorization: String,
    pub token: String,
    pub userinfo: String,
    pub end_session: String,
    pub introspection: String,
    pub revocation: String,
    pub pushed_authorization_request: String,
    pub device_authorization: String,
    pub jwks: String,
}

/// The algorithms accepted for `private_key_jwt` client assertions (`client_assertion`), by
/// every name (`oidc::client_assertion::AssertionAlg::names`).
const ASSERTION_ALGS: [&str; 4] = ["RS256", "ES256", "EdDSA", "Ed25519"];

impl Endpoints {
    /// Every URL a client assertion's `aud` may name: the issuer, and each endpoint where a
    /// client authenticates (the token endpoint is what OIDC Core §9 recommends).
    pub fn assertion_audiences(&self) -> [&str; 6] {
        [
            &self.issuer,
            &self.token,
            &self.introspection,
            &self.revocation,
            &self.pushed_authorization_request,
            &self.device_authorization,
        ]
    }

    pub fn for_issuer(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_string(),
            discovery: format!("{issuer}/.well-known/openid-configuration"),
            authorization: format!("{issuer}/authorize"),
            token: format!("{issuer}/api/oidc/token"),
            userinfo: format!("{issuer}/api/oidc/userinfo"),
            end_session: format!("{issuer}/api/oidc/end-session"),
            introspection: format!("{issuer}/api/oidc/introspect"),
            revocation: format!("{issuer}/api/oidc/revoke"),
            pushed_authorization_request: format!("{issuer}/api/oidc/par"),
            device_authorization: format!("{issuer}/api/oidc/device/authorize"),
            jwks: format!("{issuer}/.well-known/jwks.json"),
        }
    }
}

fn common(issuer: &str) -> Value {
    let e = Endpoints::for_issuer(issuer);
    json!({
        "issuer": e.issuer,
        "authorization_endpoint": e.authorization,
        "token_endpoint": e.token,
        "userinfo_endpoint": e.userinfo,
        "end_session_endpoint": e.end_session,
        "introspection_endpoint": e.introspection,
        "revocation_endpoint": e.revocation,
        "pushed_authorization_request_endpoint": e.pushed_authorization_request,
        // Per client (its `require_pushed_authorization_requests`), not tenant-wide.
        "require_pushed_authorization_requests": false,
        "device_authorization_endpoint": e.device_authorization,
        "jwks_uri": e.jwks,
        "scopes_supported": ["openid", "profile", "email", "groups", "address", "phone", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            super::device::GRANT_TYPE
        ],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256", "plain"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// `/.well-known/openid-configuration`.
pub fn openid_configuration(issuer: &str) -> Value {
    let mut doc = common(issuer);
    let extra = json!({
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ID_TOKEN_SIGNING_ALGS,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "jti", "sid", "amr",
            "name", "given_name", "family_name", "preferred_username",
            "email", "email_verified", "groups", "address", "phone_number"
        ],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claim_types_supported": ["normal"],
        // Request objects (RFC 9101) signed with the client's registered keys: asymmetric
        // algorithms only (only hashes of client secrets are kept, so HS256 cannot be checked).
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": ASSERTION_ALGS,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "claims_parameter_supported": false,
        // OIDC Back-Channel Logout 1.0 §2.1: logout tokens for every client that registers a
        // backchannel_logout_uri, with `sid` whenever the session is known.
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    doc
}

/// `/.well-known/oauth-authorization-server` (RFC 8414).
pub fn oauth_authorization_server(issuer: &str) -> Value {
    common(issuer)
}

/// The two documents, as JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    OpenidConfiguration,
    OauthAuthorizationServer,
}

/// Issuers whose documents an isolate keeps; past this the memo starts over (a rebuild costs
/// one request a few hundred microseconds).
const MEMO_CAPACITY: usize = 1024;

thread_local! {
    static MEMO: std::cell::RefCell<std::collections::HashMap<(Document, String), std::rc::Rc<str>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `document` of `issuer` as JSON text, made once per issuer in an isolate: it depends on
/// nothing but the issuer and this code, and building the `Value` (some forty members) and
/// serializing it was most of a discovery request's CPU.
pub fn document_json(document: Document, issuer: &str) -> std::rc::Rc<str> {
    let key = (document, issuer.to_string());
    if let Some(text) = MEMO.with(|m| m.borrow().get(&key).cloned()) {
        return text;
    }
    let value = match document {
        Document::OpenidConfiguration => openid_configuration(issuer),
        Document::OauthAuthorizationServer => oauth_authorization_server(issuer),
    };
    let text: std::rc::Rc<str> = value.to_string().into();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_CAPACITY {
            m.clear();
        }
        m.insert(key, text.clone());
    });
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_answers_each_issuer_and_document_with_its_own_text() {
        let a = "https://acme.id.example.com";
        let b = "https://beta.id.example.com";
        for _ in 0..2 {
            for (doc, issuer) in [
                (Document::OpenidConfiguration, a),
                (Document::OpenidConfiguration, b),
                (Document::OauthAuthorizationServer, a),
            ] {
                let text = document_json(doc, issuer);
                let expected = match doc {
                    Document::OpenidConfiguration => openid_configuration(issuer),
                    Document::OauthAuthorizationServer => oauth_authorization_server(issuer),
                };
                let parsed: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(parsed, expected, "{doc:?} {issuer}");
            }
        }
        assert!(std::rc::Rc::ptr_eq(
            &document_json(Document::OpenidConfiguration, a),
            &document_json(Document::OpenidConfiguration, a)
        ));
    }

    #[test]
    fn discovery_is_consistent_with_the_issuer() {
        let d = openid_configuration("https://acme.id.example.com");
        assert_eq!(d["issuer"], "https://acme.id.example.com");
        assert_eq!(
            d["jwks_uri"],
            "https://acme.id.example.com/.well-known/jwks.json"
        );
        assert_eq!(d["id_token_signing_alg_values_supported"][0], "RS256");
        assert_eq!(d["request_parameter_supported"], true);
        assert_eq!(d["request_uri_parameter_supported"], false);
        assert_eq!(
            d["pushed_authorization_request_endpoint"],
            "https://acme.id.example.com/api/oidc/par"
        );
        assert_eq!(d["require_pushed_authorization_requests"], false);
        let algs: Vec<&str> = crate::oidc::client_assertion::AssertionAlg::ALL
            .iter()
            .flat_map(|a| a.names().iter().copied())
            .collect();
        assert_eq!(
            d["token_endpoint_auth_signing_alg_values_supported"],
            json!(algs)
        );
        assert_eq!(
            d["request_object_signing_alg_values_supported"],
            json!(algs)
        );
        assert!(d["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt")));
        assert!(d["claims_parameter_supported"].is_boolean());
        assert!(d["subject_types_supported"].is_array());
        // Machine clients find the grant (RFC 8414) in both documents.
        for doc in [&d, &oauth_authorization_server("https://x")] {
            let grants = doc["grant_types_supported"].as_array().unwrap();
            assert!(grants.iter().any(|g| g == "client_credentials"));
        }
    }

    #[test]
    fn the_device_flow_is_advertised() {
        for d in [
            openid_configuration("https://acme.id.example.com"),
            oauth_authorization_server("https://acme.id.example.com"),
        ] {
            assert_eq!(
                d["device_authorization_endpoint"],
                "https://acme.id.example.com/api/oidc/device/authorize"
            );
            assert!(d["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&json!("urn:ietf:params:oauth:grant-type:device_code")));
        }
    }

    #[test]
    fn endpoints_use_pocket_id_paths_under_the_issuer() {
        let d = openid_configuration("https://acme.id.example.com");
        assert_eq!(
            d["authorization_endpoint"],
            "https://acme.id.example.com/authorize"
        );
        assert_eq!(
            d["token_endpoint"],
            "https://acme.id.example.com/api/oidc/token"
        );
        assert_eq!(
            d["userinfo_endpoint"],
            "https://acme.id.example.com/api/oidc/userinfo"
        );
        assert_eq!(
            d["end_session_endpoint"],
            "https://acme.id.example.com/api/oidc/end-session"
        );
        assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
        assert!(d["code_challenge_methods_supported"].is_array());
        assert_eq!(d["backchannel_logout_supported"], true);
        assert_eq!(d["backchannel_logout_session_supported"], true);
        let m = oauth_authorization_server("https://x");
        assert_eq!(m["issuer"], "https://x");
        assert_eq!(m["token_endpoint"], "https://x/api/oidc/token");
    }
}
