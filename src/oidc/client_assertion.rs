//! Client authentication with a signed JWT (`private_key_jwt`, RFC 7523 §2.2 and §3, OIDC Core
//! §9): the client signs a short-lived assertion about itself with a private key whose public
//! half it registered (inline JWKS or a `jwks_uri`), and sends it as `client_assertion`.
//!
//! Everything here is pure: reading the assertion, choosing the keys that may have signed it
//! (the signature checks a [`SignatureVerifier`](crate::usecase::SignatureVerifier) decides),
//! and the claim rules. What remains for the caller is to verify one of the checks and to spend
//! the `jti` in the batch that acts on the authentication ([`VerifiedAssertion::spent_id`]), so
//! a replayed assertion fails that batch.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::error::OAuthError;
use crate::crypto::hash::secret_hash;
use crate::crypto::jwk::{Jwks, PublicJwk};
use crate::crypto::signature::{SignatureCheck, VerifyingKey};

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far ahead of `now` an assertion's `exp` may be: an assertion is made for one request,
/// so a long-lived one is a bearer secret in disguise (and its `jti` would have to be kept as
/// long).
pub const MAX_LIFETIME_SECS: i64 = 300;

/// How far ahead an external issuer's token may expire when it serves as a federated client
/// credential: such tokens are made by CI systems and Kubernetes for their own lifetimes
/// (a projected service account token lives at least 10 minutes, an hour by default).
pub const FEDERATED_MAX_LIFETIME_SECS: i64 = 3600;

/// Tolerated clock difference between the client and this server.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The longest accepted `jti` (it is hashed before it is stored, but a bound keeps requests
/// small and predictable).
pub const MAX_JTI_LEN: usize = 256;

/// The longest accepted assertion, in bytes (an RSA-4096 signature and generous claims fit).
pub const MAX_ASSERTION_LEN: usize = 8 * 1024;

/// The signature algorithms accepted for client assertions: the asymmetric ones the
/// verifiers implement. `none` and the HMAC family are refused: a client's registered keys are
/// public, so an HMAC "signature" keyed with one proves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlg {
    RS256,
    ES256,
    EdDSA,
}

impl AssertionAlg {
    pub const ALL: [AssertionAlg; 3] = [
        AssertionAlg::RS256,
        AssertionAlg::ES256,
        AssertionAlg::EdDSA,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAlg::RS256 => "RS256",
            AssertionAlg::ES256 => "ES256",
            AssertionAlg::EdDSA => "EdDSA",
        }
    }

    /// Every name the algorithm goes by in a JWS header or a JWK's `alg`: Ed25519 is `EdDSA`
    /// (RFC 8037) or, fully specified, `Ed25519` (RFC 9864, what openid-client sends).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            AssertionAlg::RS256 => &["RS256"],
            AssertionAlg::ES256 => &["ES256"],
            AssertionAlg::EdDSA => &["EdDSA", "Ed25519"],
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.names().contains(&s))
    }

    /// The key `jwk` as this algorithm's verifier imports it, if it is such a key.
    fn key(self, jwk: &PublicJwk) -> Option<VerifyingKey> {
        let decode = |member: &Option<String>| {
            member
                .as_deref()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        };
        match (self, jwk.kty.as_str(), jwk.crv.as_deref()) {
            (AssertionAlg::RS256, "RSA", _) => Some(VerifyingKey::Rsa {
                n: decode(&jwk.n)?,
                e: decode(&jwk.e)?,
            }),
            (AssertionAlg::ES256, "EC", Some("P-256")) => {
                VerifyingKey::p256(&decode(&jwk.x)?, &decode(&jwk.y)?)
            }
            (AssertionAlg::EdDSA, "OKP", Some("Ed25519")) => Some(VerifyingKey::Ed25519 {
                key: decode(&jwk.x)?.try_into().ok()?,
            }),
            _ => None,
        }
    }
}

/// Why an assertion is refused. Every case is `invalid_client` (RFC 7523 §3.2 / RFC 6749
/// §5.2), with a description that tells the client's developer what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("client_assertion is not a compact JWS")]
    Malformed,
    #[error("client_assertion_type must be {JWT_BEARER}")]
    WrongType,
    #[error("client assertion algorithm {0} is not accepted (use RS256, ES256 or EdDSA/Ed25519)")]
    Algorithm(String),
    #[error("none of the client's registered keys can verify this assertion (kid or key type)")]
    NoKey,
    #[error("the client assertion's signature does not verify")]
    BadSignature,
    #[error("the client assertion's {0} claim is missing or not a string")]
    MissingClaim(&'static str),
    #[error("the client assertion's iss and sub must both be the client_id (or a trusted issuer and subject)")]
    WrongSubject,
    #[error("the client assertion's aud must contain the issuer or the token endpoint URL")]
    WrongAudience,
    #[error("the client assertion has expired")]
    Expired,
    #[error("the client assertion's exp is too far ahead ({MAX_LIFETIME_SECS} s at most; {FEDERATED_MAX_LIFETIME_SECS} s for a federated credential)")]
    TooLongLived,
    #[error("the client assertion's {0} is in the future")]
    NotYetValid(&'static str),
    #[error("the client assertion's jti is longer than {MAX_JTI_LEN} characters")]
    JtiTooLong,
    #[error("the client assertion was already used (its jti is single use)")]
    Replayed,
    #[error("the client has no keys of its own for private_key_jwt (jwks or jwks_uri)")]
    NoKeys,
    #[error("the client's jwks_uri could not be fetched or does not serve a JWKS")]
    JwksUnavailable,
}

impl From<AssertionError> for OAuthError {
    fn from(e: AssertionError) -> Self {
        OAuthError::invalid_client(e.to_string())
    }
}

/// A compact JWS read but not yet trusted.
#[derive(Debug, Clone)]
pub struct ReadAssertion {
    pub alg: AssertionAlg,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

/// Reads the assertion's header and claims; refuses other algorithms than [`AssertionAlg`].
pub fn read(jwt: &str) -> Result<ReadAssertion, AssertionError> {
    if jwt.len() > MAX_ASSERTION_LEN {
        return Err(AssertionError::Malformed);
    }
    let mut parts = jwt.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AssertionError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| AssertionError::Malformed)
    };
    let header: Map<String, Value> =
        serde_json::from_slice(&decode(header_b64)?).map_err(|_| AssertionError::Malformed)?;
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(AssertionError::Malformed)?;
    let alg =
        AssertionAlg::parse(alg_name).ok_or_else(|| AssertionError::Algorithm(alg_name.into()))?;
    // A critical extension this reader does not implement must be refused (RFC 7515 §4.1.11).
    if header.contains_key("crit") {
        return Err(AssertionError::Malformed);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(AssertionError::Malformed),
    };
    let claims: Map<String, Value> =
        serde_json::from_slice(&decode(payload_b64)?).map_err(|_| AssertionError::Malformed)?;
    let signature = decode(signature)?;
    if signature.is_empty() {
        return Err(AssertionError::Malformed);
    }
    Ok(ReadAssertion {
        alg,
        kid,
        claims,
        // The signed bytes are the first two segments exactly as sent.
        signing_input: format!("{header_b64}.{payload_b64}"),
        signature,
    })
}

/// The client an assertion names, read WITHOUT verifying it: only to know whose keys to load.
/// `sub` is the client (RFC 7523 §3 B); `iss` must say the same, checked later.
pub fn claimed_client_id(jwt: &str) -> Result<String, AssertionError> {
    let read = read(jwt)?;
    string_claim(&read.claims, "sub").map(str::to_string)
}

fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, AssertionError> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .ok_or(AssertionError::MissingClaim(name))
}

impl ReadAssertion {
    /// The signature checks that decide the assertion, one per registered key that may have
    /// signed it: the key named by `kid` when the header has one, otherwise every key of the
    /// algorithm's type. Keys marked `use: enc` are skipped, and a key that declares an `alg`
    /// must declare this one; a key without `alg` (common in JWKS) is not refused for lacking it.
    pub fn checks(&self, keys: &Jwks) -> Result<Vec<SignatureCheck>, AssertionError> {
        let checks: Vec<SignatureCheck> = keys
            .keys
            .iter()
            .filter(|k| self.kid.as_deref().is_none_or(|kid| k.kid == kid))
            .filter(|k| k.key_use.as_deref() != Some("enc"))
            .filter(|k| {
                k.alg
                    .as_deref()
                    .is_none_or(|a| self.alg.names().contains(&a))
            })
            .filter_map(|k| self.alg.key(k))
            .map(|key| SignatureCheck {
                key,
                message: self.signing_input.as_bytes().to_vec(),
                signature: self.signature.clone(),
            })
            .collect();
        if checks.is_empty() {
            return Err(AssertionError::NoKey);
        }
        Ok(checks)
    }

    /// The claim rules (RFC 7523 §3, OIDC Core §9) of an assertion the client signed itself,
    /// for `client_id` at `now`, with the audiences this server answers to (its issuer and the
    /// endpoints' URLs).
    pub fn validate(
        &self,
        client_id: &str,
        audiences: &[&str],
        now: i64,
    ) -> Result<VerifiedAssertion, AssertionError> {
        self.validate_as(
            &Expected {
                client_id,
                issuer: client_id,
                subject: client_id,
                audiences,
                max_lifetime: MAX_LIFETIME_SECS,
            },
            now,
        )
    }

    /// The same rules for any expected issuer and subject (a federated credential's).
    pub fn validate_as(
        &self,
        expected: &Expected<'_>,
        now: i64,
    ) -> Result<VerifiedAssertion, AssertionError> {
        let c = &self.claims;
        let iss = string_claim(c, "iss")?;
        let sub = string_claim(c, "sub")?;
        if iss != expected.issuer || sub != expected.subject {
            return Err(AssertionError::WrongSubject);
        }
        let audiences = expected.audiences;
        let aud_ok = match c.get("aud") {
            Some(Value::String(a)) => audiences.contains(&a.as_str()),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .any(|a| audiences.contains(&a)),
            _ => false,
        };
        if !aud_ok {
            return Err(AssertionError::WrongAudience);
        }
        let exp = c
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(AssertionError::MissingClaim("exp"))?;
        if exp <= now - CLOCK_SKEW_SECS {
            return Err(AssertionError::Expired);
        }
        if exp > now + expected.max_lifetime + CLOCK_SKEW_SECS {
            return Err(AssertionError::TooLongLived);
        }
        for name in ["iat", "nbf"] {
            match c.get(name) {
                None => {}
                Some(v) => {
                    let t = v.as_i64().ok_or(AssertionError::MissingClaim(name))?;
                    if t > now + CLOCK_SKEW_SECS {
                        return Err(AssertionError::NotYetValid(name));
                    }
                }
            }
        }
        let jti = string_claim(c, "jti")?;
        if jti.is_empty() {
            return Err(AssertionError::MissingClaim("jti"));
        }
        if jti.chars().count() > MAX_JTI_LEN {
            return Err(AssertionError::JtiTooLong);
        }
        let client_id = expected.client_id;
        // Scoped to the client, and for an external issuer to that issuer too (two issuers
        // may use the same jti).
        let spent_key = if expected.issuer == client_id {
            secret_hash(jti)
        } else {
            secret_hash(&format!("{}\n{jti}", expected.issuer))
        };
        Ok(VerifiedAssertion {
            spent_id: format!("assertion:{client_id}:{spent_key}"),
            // Kept until the assertion could no longer be accepted anyway.
            spent_until: exp + CLOCK_SKEW_SECS,
        })
    }
}

/// Who an assertion must be from and about, and for whom.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The client it authenticates (its spent record is scoped to it).
    pub client_id: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    /// Any one of these in `aud`.
    pub audiences: &'a [&'a str],
    /// How far ahead of now `exp` may be.
    pub max_lifetime: i64,
}

/// An assertion whose claims passed [`ReadAssertion::validate`] (the caller verified one of its
/// signature checks before making one): what the batch must spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The single-use id of its `jti` in `spent_tokens`: scoped to the client (two clients
    /// may pick the same jti) and hashed (a jti is the client's free text).
    pub spent_id: String,
    /// Until when the spent record must be kept.
    pub spent_until: i64,
}

/// Validates a JWKS an admin registers for a client: well-formed, at most 10 keys, each one a
/// key some accepted algorithm can use; `kid`s unique when present.
pub fn validate_jwks(raw: &str) -> Result<Jwks, String> {
    if raw.len() > 32 * 1024 {
        return Err("the JWKS is larger than 32 KB".into());
    }
    let jwks: Jwks =
        serde_json::from_str(raw).map_err(|e| format!("not a JWKS ({{\"keys\": [...]}}): {e}"))?;
    if jwks.keys.is_empty() || jwks.keys.len() > 10 {
        return Err("a JWKS of 1 to 10 keys is required".into());
    }
    for (i, key) in jwks.keys.iter().enumerate() {
        if !AssertionAlg::ALL.iter().any(|alg| alg.key(key).is_some()) {
            return Err(format!(
                "key {i} is not a public RSA, EC P-256 or Ed25519 signing key"
            ));
        }
        if !key.kid.is_empty() && jwks.keys[..i].iter().any(|k| k.kid == key.kid) {
            return Err(format!("kid {} appears twice", key.kid));
        }
    }
    Ok(jwks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jws::tests::{es256_key, sign_es256};
    use crate::crypto::signature::verify_natively;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;
    const ISSUER: &str = "https://acme.id.example.com";
    const TOKEN_URL: &str = "https://acme.id.example.com/api/oidc/token";

    fn claims() -> Value {
        json!({ "iss": "app", "sub": "app", "aud": TOKEN_URL, "exp": NOW + 60, "iat": NOW, "jti": "j1" })
    }

    fn validate(c: Value) -> Result<VerifiedAssertion, AssertionError> {
        let (sk, jwk) = es256_key();
        read(&sign_es256(&sk, &jwk, &c))?.validate("app", &[ISSUER, TOKEN_URL], NOW)
    }

    fn with(key: &str, value: Value) -> Value {
        let mut c = claims();
        c[key] = value;
        c
    }

    fn without(key: &str) -> Value {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(key);
        c
    }

    #[test]
    fn a_good_assertion_passes_and_names_its_spent_record() {
        let v = validate(claims()).unwrap();
        assert_eq!(v.spent_id, format!("assertion:app:{}", secret_hash("j1")));
        assert_eq!(v.spent_until, NOW + 60 + CLOCK_SKEW_SECS);
        // aud as the issuer, or an array holding either.
        validate(with("aud", json!(ISSUER))).unwrap();
        validate(with("aud", json!(["https://other", TOKEN_URL]))).unwrap();
        // iat and nbf are optional; within the skew they pass.
        validate(without("iat")).unwrap();
        validate(with("nbf", json!(NOW + CLOCK_SKEW_SECS))).unwrap();
    }

    #[test]
    fn each_claim_rule_refuses() {
        use AssertionError as E;
        let cases = [
            (with("iss", json!("other")), E::WrongSubject),
            (with("sub", json!("other")), E::WrongSubject),
            (without("iss"), E::MissingClaim("iss")),
            (with("aud", json!("https://evil.example")), E::WrongAudience),
            (
                with("aud", json!(["https://evil.example"])),
                E::WrongAudience,
            ),
            (
                with("aud", json!(["https://acme.id.example.com/"])),
                E::WrongAudience,
            ),
            (without("aud"), E::WrongAudience),
            (without("exp"), E::MissingClaim("exp")),
            (with("exp", json!("soon")), E::MissingClaim("exp")),
            (with("exp", json!(NOW - CLOCK_SKEW_SECS)), E::Expired),
            (
                with("exp", json!(NOW + MAX_LIFETIME_SECS + CLOCK_SKEW_SECS + 1)),
                E::TooLongLived,
            ),
            (
                with("iat", json!(NOW + CLOCK_SKEW_SECS + 1)),
                E::NotYetValid("iat"),
            ),
            (
                with("nbf", json!(NOW + CLOCK_SKEW_SECS + 1)),
                E::NotYetValid("nbf"),
            ),
            (without("jti"), E::MissingClaim("jti")),
            (with("jti", json!("")), E::MissingClaim("jti")),
            (with("jti", json!(7)), E::MissingClaim("jti")),
            (
                with("jti", json!("x".repeat(MAX_JTI_LEN + 1))),
                E::JtiTooLong,
            ),
        ];
        for (c, expected) in cases {
            assert_eq!(validate(c.clone()).unwrap_err(), expected, "{c}");
        }
        // At the edges: within the skew it is accepted.
        validate(with("exp", json!(NOW - CLOCK_SKEW_SECS + 1))).unwrap();
        validate(with(
            "exp",
            json!(NOW + MAX_LIFETIME_SECS + CLOCK_SKEW_SECS),
        ))
        .unwrap();
        validate(with("jti", json!("x".repeat(MAX_JTI_LEN)))).unwrap();
    }

    fn unsigned(header: Value, c: &Value) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(c.to_string()),
            URL_SAFE_NO_PAD.encode([1u8; 64])
        )
    }

    #[test]
    fn none_hmac_and_unknown_algorithms_are_refused() {
        for alg in ["none", "HS256", "HS512", "PS256", "RS512"] {
            let jwt = unsigned(json!({ "alg": alg }), &claims());
            assert_eq!(
                read(&jwt).unwrap_err(),
                AssertionError::Algorithm(alg.into()),
                "{alg}"
            );
        }
        // alg none with an empty signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({ "alg": "none" }).to_string()),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert!(read(&none).is_err());
        assert_eq!(read("a.b").unwrap_err(), AssertionError::Malformed);
        assert_eq!(
            read(&unsigned(
                json!({ "alg": "ES256", "crit": ["x"] }),
                &claims()
            ))
            .unwrap_err(),
            AssertionError::Malformed
        );
        assert_eq!(
            read(&"a".repeat(MAX_ASSERTION_LEN + 1)).unwrap_err(),
            AssertionError::Malformed
        );
    }

    fn jwk(kid: &str, alg: Option<&str>, key_use: Option<&str>) -> PublicJwk {
        let (_, mut k) = es256_key();
        k.kid = kid.into();
        k.alg = alg.map(str::to_string);
        k.key_use = key_use.map(str::to_string);
        k
    }

    #[test]
    fn keys_are_chosen_by_kid_or_by_type_skipping_encryption_keys() {
        let (sk, mut signer) = es256_key();
        signer.kid = "k1".into();
        let jwt = sign_es256(&sk, &signer, &claims());
        let read = read(&jwt).unwrap();
        assert_eq!(read.kid.as_deref(), Some("k1"));
        let (_, rsa) = crate::crypto::jws::tests::rsa_key();
        let set = |keys: Vec<PublicJwk>| Jwks { keys };
        // By kid: only k1, which verifies.
        let checks = read
            .checks(&set(vec![
                jwk("k0", None, None),
                jwk("k1", None, None),
                rsa.clone(),
            ]))
            .unwrap();
        assert_eq!(checks.len(), 1);
        assert!(verify_natively(&checks[0]));
        // Without alg on the key: fine. With another alg or use enc: skipped.
        assert_eq!(
            read.checks(&set(vec![jwk("k1", Some("RS256"), None)]))
                .unwrap_err(),
            AssertionError::NoKey
        );
        assert_eq!(
            read.checks(&set(vec![jwk("k1", None, Some("enc"))]))
                .unwrap_err(),
            AssertionError::NoKey
        );
        read.checks(&set(vec![jwk("k1", Some("ES256"), Some("sig"))]))
            .unwrap();
        // An unknown kid matches nothing, even if another key would verify.
        assert_eq!(
            read.checks(&set(vec![jwk("k2", None, None)])).unwrap_err(),
            AssertionError::NoKey
        );
        // Without kid: every EC P-256 key (not the RSA one); one of them verifies.
        let no_kid_jwt = |sk: &p256::ecdsa::SigningKey| {
            use p256::ecdsa::signature::Signer;
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(json!({ "alg": "ES256" }).to_string()),
                URL_SAFE_NO_PAD.encode(claims().to_string())
            );
            let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
            crate::crypto::jws::compact(&input, &sig.to_bytes())
        };
        let no_kid = super::read(&no_kid_jwt(&sk)).unwrap();
        assert_eq!(no_kid.kid, None);
        let checks = no_kid
            .checks(&set(vec![jwk("a", None, None), rsa, jwk("b", None, None)]))
            .unwrap();
        assert_eq!(checks.len(), 2);
        // A different key of the right type yields a check that fails.
        let other = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
        let forged = no_kid_jwt(&other);
        let checks = super::read(&forged)
            .unwrap()
            .checks(&set(vec![jwk("a", None, None)]))
            .unwrap();
        assert!(!checks.iter().any(verify_natively));
    }

    #[test]
    fn ed25519_assertions_verify_under_either_name() {
        use ed25519_dalek::Signer;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[4u8; 32]);
        let x = URL_SAFE_NO_PAD.encode(sk.verifying_key().as_bytes());
        let keys: Jwks = serde_json::from_value(
            json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "e1" }] }),
        )
        .unwrap();
        for alg in ["EdDSA", "Ed25519"] {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "kid": "e1" }).to_string()),
                URL_SAFE_NO_PAD.encode(claims().to_string())
            );
            let jwt = crate::crypto::jws::compact(&input, &sk.sign(input.as_bytes()).to_bytes());
            let read = read(&jwt).unwrap();
            assert_eq!(read.alg, AssertionAlg::EdDSA, "{alg}");
            assert!(
                read.checks(&keys).unwrap().iter().any(verify_natively),
                "{alg}"
            );
        }
    }

    #[test]
    fn registered_jwks_are_validated() {
        let (_, ec) = es256_key();
        let (_, rsa) = crate::crypto::jws::tests::rsa_key();
        let ok = json!({ "keys": [ec, rsa] }).to_string();
        assert_eq!(validate_jwks(&ok).unwrap().keys.len(), 2);
        let ed = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([3u8; 32]) }] });
        validate_jwks(&ed.to_string()).unwrap();
        for bad in [
            "{}".to_string(),
            "[]".to_string(),
            json!({ "keys": [] }).to_string(),
            json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] }).to_string(),
            json!({ "keys": [{ "kty": "EC", "crv": "P-384", "x": "AA", "y": "AA" }] }).to_string(),
            json!({ "keys": [jwk("a", None, None), jwk("a", None, None)] }).to_string(),
        ] {
            assert!(validate_jwks(&bad).is_err(), "{bad}");
        }
    }
}
