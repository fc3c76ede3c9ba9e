//! Request objects (RFC 9101, JAR; OIDC Core §6.1): the authorization request's parameters as
//! claims of a JWS the client signed with one of its registered keys, sent as `request` to
//! /authorize or to the PAR endpoint.
//!
//! Everything here is pure: reading the object (the same compact-JWS reader and key selection
//! as client assertions, `oidc::client_assertion`), and the claim rules. The caller checks the
//! signature against the client's keys (`usecase::client_auth::verify_with_client_keys`) and
//! then works from [`authorization_params`] alone: per RFC 9101 §5 the request's own
//! parameters other than `client_id` are ignored.
//!
//! Not single use: RFC 9101 does not require it, and an object replayed within its `exp` only
//! restarts an authorization request its client asked for (the code still needs the client's
//! PKCE verifier or credentials at the token endpoint).

use serde_json::{Map, Value};

use super::client_assertion::{self, AssertionError, ReadAssertion, CLOCK_SKEW_SECS};
use super::error::{ErrorCode, OAuthError};

/// How far ahead of `now` an object's `exp` may be: it stands for one authorization request,
/// made when the client sends the browser on.
pub const MAX_LIFETIME_SECS: i64 = 3600;

/// The claims that frame the object as a JWT; they are not authorization parameters.
const JWT_CLAIMS: &[&str] = &["iss", "aud", "exp", "nbf", "iat", "jti", "sub"];

/// Why a request object is refused: `invalid_request_object` (RFC 9101 §6.2) in every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestObjectError {
    #[error(
        "the request object is not a compact JWS (encrypted request objects are not supported)"
    )]
    Malformed,
    #[error("request objects must be signed; alg none is refused")]
    Unsigned,
    #[error("request object algorithm {0} cannot be verified: this server keeps only hashes of client secrets, so sign with one of the client's registered keys (RS256, ES256 or EdDSA)")]
    Hmac(String),
    #[error("request object algorithm {0} is not accepted (use RS256, ES256 or EdDSA/Ed25519)")]
    Algorithm(String),
    #[error("the client has no registered keys (jwks or jwks_uri) to verify request objects with")]
    NoKeys,
    #[error(
        "none of the client's registered keys can verify this request object (kid or key type)"
    )]
    NoKey,
    #[error("the request object's signature does not verify with the client's keys")]
    BadSignature,
    #[error("the client's jwks_uri could not be fetched or does not serve a JWKS")]
    JwksUnavailable,
    #[error("the request object's {0} claim is missing or of the wrong type")]
    MissingClaim(&'static str),
    #[error("the request object's iss must be the client_id")]
    WrongIssuer,
    #[error("the request object's aud must be (or contain) the issuer")]
    WrongAudience,
    #[error("the request object's client_id claim must equal the request's client_id")]
    WrongClientId,
    #[error("the request object has expired")]
    Expired,
    #[error("the request object's exp is too far ahead ({MAX_LIFETIME_SECS} s at most)")]
    TooLongLived,
    #[error("the request object's {0} is in the future")]
    NotYetValid(&'static str),
    #[error("a request object must not contain request or request_uri")]
    Nested,
}

impl From<RequestObjectError> for OAuthError {
    fn from(e: RequestObjectError) -> Self {
        OAuthError::new(ErrorCode::InvalidRequestObject, e.to_string())
    }
}

impl From<AssertionError> for RequestObjectError {
    /// The reader's and key selection's refusals, in request object terms.
    fn from(e: AssertionError) -> Self {
        match e {
            AssertionError::NoKeys => RequestObjectError::NoKeys,
            AssertionError::NoKey => RequestObjectError::NoKey,
            AssertionError::BadSignature => RequestObjectError::BadSignature,
            AssertionError::JwksUnavailable => RequestObjectError::JwksUnavailable,
            AssertionError::Algorithm(alg) => algorithm_refusal(alg),
            _ => RequestObjectError::Malformed,
        }
    }
}

fn algorithm_refusal(alg: String) -> RequestObjectError {
    if alg == "none" {
        RequestObjectError::Unsigned
    } else if alg.starts_with("HS") {
        RequestObjectError::Hmac(alg)
    } else {
        RequestObjectError::Algorithm(alg)
    }
}

/// Reads the object's header and claims (not yet trusted); only asymmetric algorithms.
pub fn read(jwt: &str) -> Result<ReadAssertion, RequestObjectError> {
    // An unsigned object (`alg: none`) has an empty third segment, which the reader refuses as
    // malformed before it looks at the algorithm: name the real problem.
    if jwt.ends_with('.') && jwt.matches('.').count() == 2 {
        return Err(RequestObjectError::Unsigned);
    }
    Ok(client_assertion::read(jwt)?)
}

/// The claim rules (RFC 9101 §4 and §6.3, OIDC Core §6.1) for an object sent with
/// `client_id` to this `issuer` at `now`; the authorization parameters it carries, with
/// `client_id` first. Values that are not strings (`max_age` as a number, `claims` as an
/// object) become their JSON text, as they would be in a URL.
pub fn authorization_params(
    claims: &Map<String, Value>,
    client_id: &str,
    issuer: &str,
    now: i64,
) -> Result<Vec<(String, String)>, RequestObjectError> {
    let string = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or(RequestObjectError::MissingClaim(name))
    };
    if string("iss")? != client_id {
        return Err(RequestObjectError::WrongIssuer);
    }
    if string("client_id")? != client_id {
        return Err(RequestObjectError::WrongClientId);
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(RequestObjectError::WrongAudience);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(RequestObjectError::MissingClaim("exp"))?;
    if exp <= now - CLOCK_SKEW_SECS {
        return Err(RequestObjectError::Expired);
    }
    if exp > now + MAX_LIFETIME_SECS + CLOCK_SKEW_SECS {
        return Err(RequestObjectError::TooLongLived);
    }
    for name in ["iat", "nbf"] {
        if let Some(v) = claims.get(name) {
            let t = v.as_i64().ok_or(RequestObjectError::MissingClaim(name))?;
            if t > now + CLOCK_SKEW_SECS {
                return Err(RequestObjectError::NotYetValid(name));
            }
        }
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(RequestObjectError::Nested);
    }
    let mut params = vec![("client_id".to_string(), client_id.to_string())];
    for (name, value) in claims {
        if name == "client_id" || JWT_CLAIMS.contains(&name.as_str()) || value.is_null() {
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        params.push((name.clone(), text));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;
    const ISSUER: &str = "https://id.example.com";

    fn claims(extra: Value) -> Map<String, Value> {
        let mut c = json!({
            "iss": "app",
            "aud": ISSUER,
            "client_id": "app",
            "exp": NOW + 300,
            "iat": NOW,
            "response_type": "code",
            "redirect_uri": "https://app.example.com/cb",
            "scope": "openid email",
            "state": "s1",
        })
        .as_object()
        .unwrap()
        .clone();
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
        c
    }

    fn check(extra: Value) -> Result<Vec<(String, String)>, RequestObjectError> {
        authorization_params(&claims(extra), "app", ISSUER, NOW)
    }

    fn jws(header: Value, signature: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(json!({"iss": "app"}).to_string());
        format!("{h}.{p}.{signature}")
    }

    #[test]
    fn a_valid_object_yields_its_parameters_with_the_client_id_first() {
        let p = check(json!({"max_age": 0, "claims": {"userinfo": {}}})).unwrap();
        assert_eq!(p[0], ("client_id".to_string(), "app".to_string()));
        let get = |n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("scope"), Some("openid email"));
        assert_eq!(get("max_age"), Some("0"));
        assert_eq!(get("claims"), Some(r#"{"userinfo":{}}"#));
        // The JWT's own claims are not authorization parameters.
        for framing in ["iss", "aud", "exp", "iat"] {
            assert_eq!(get(framing), None, "{framing}");
        }
        assert_eq!(p.iter().filter(|(k, _)| k == "client_id").count(), 1);
    }

    #[test]
    fn iss_must_be_the_client() {
        assert_eq!(
            check(json!({"iss": "other"})),
            Err(RequestObjectError::WrongIssuer)
        );
        assert_eq!(
            check(json!({"iss": null})),
            Err(RequestObjectError::MissingClaim("iss"))
        );
    }

    #[test]
    fn the_client_id_claim_must_match_the_request() {
        assert_eq!(
            check(json!({"client_id": "other"})),
            Err(RequestObjectError::WrongClientId)
        );
        assert_eq!(
            check(json!({"client_id": null})),
            Err(RequestObjectError::MissingClaim("client_id"))
        );
        // An object for another client, sent with that client's id, names the wrong iss here.
        let c = claims(json!({"iss": "other", "client_id": "other"}));
        assert_eq!(
            authorization_params(&c, "app", ISSUER, NOW),
            Err(RequestObjectError::WrongIssuer)
        );
    }

    #[test]
    fn aud_is_the_issuer_as_a_string_or_in_an_array() {
        assert!(check(json!({"aud": [ "x", ISSUER ]})).is_ok());
        assert_eq!(
            check(json!({"aud": "https://other.example.com"})),
            Err(RequestObjectError::WrongAudience)
        );
        assert_eq!(
            check(json!({"aud": [format!("{ISSUER}/authorize")]})),
            Err(RequestObjectError::WrongAudience)
        );
        assert_eq!(
            check(json!({"aud": null})),
            Err(RequestObjectError::WrongAudience)
        );
    }

    #[test]
    fn exp_is_required_not_past_and_at_most_an_hour_ahead() {
        assert_eq!(
            check(json!({"exp": null})),
            Err(RequestObjectError::MissingClaim("exp"))
        );
        assert_eq!(
            check(json!({"exp": NOW - 61})),
            Err(RequestObjectError::Expired)
        );
        // Within the skew, still accepted.
        assert!(check(json!({"exp": NOW - 30})).is_ok());
        assert!(check(json!({"exp": NOW + 3600})).is_ok());
        assert_eq!(
            check(json!({"exp": NOW + 3600 + 61})),
            Err(RequestObjectError::TooLongLived)
        );
    }

    #[test]
    fn iat_and_nbf_may_be_at_most_a_minute_ahead() {
        assert!(check(json!({"iat": NOW + 60, "nbf": NOW + 60})).is_ok());
        assert_eq!(
            check(json!({"iat": NOW + 61})),
            Err(RequestObjectError::NotYetValid("iat"))
        );
        assert_eq!(
            check(json!({"nbf": NOW + 61})),
            Err(RequestObjectError::NotYetValid("nbf"))
        );
        assert_eq!(
            check(json!({"nbf": "soon"})),
            Err(RequestObjectError::MissingClaim("nbf"))
        );
    }

    #[test]
    fn objects_cannot_nest_requests() {
        assert_eq!(
            check(json!({"request": "eyJ"})),
            Err(RequestObjectError::Nested)
        );
        assert_eq!(
            check(json!({"request_uri": "https://x"})),
            Err(RequestObjectError::Nested)
        );
    }

    #[test]
    fn unsigned_and_hmac_objects_are_refused_with_their_reason() {
        assert_eq!(
            read(&jws(json!({"alg": "none"}), "")).unwrap_err(),
            RequestObjectError::Unsigned
        );
        assert_eq!(
            read(&jws(json!({"alg": "none"}), "AAAA")).unwrap_err(),
            RequestObjectError::Unsigned
        );
        let hs = read(&jws(json!({"alg": "HS256"}), "AAAA")).unwrap_err();
        assert_eq!(hs, RequestObjectError::Hmac("HS256".into()));
        assert!(hs.to_string().contains("hashes of client secrets"));
        assert_eq!(
            read(&jws(json!({"alg": "PS512"}), "AAAA")).unwrap_err(),
            RequestObjectError::Algorithm("PS512".into())
        );
        assert_eq!(read("a.b").unwrap_err(), RequestObjectError::Malformed);
        // Encrypted (JWE, five segments) objects are not supported.
        assert_eq!(
            read("a.b.c.d.e").unwrap_err(),
            RequestObjectError::Malformed
        );
        assert!(read(&jws(json!({"alg": "ES256", "kid": "k"}), "AAAA")).is_ok());
    }

    #[test]
    fn every_refusal_is_invalid_request_object() {
        let e: OAuthError = RequestObjectError::Expired.into();
        assert_eq!(e.code, ErrorCode::InvalidRequestObject);
        assert_eq!(e.code.as_str(), "invalid_request_object");
    }
}
