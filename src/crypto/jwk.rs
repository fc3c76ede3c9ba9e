//! Public keys as JWKs (RFC 7517) and their RFC 7638 thumbprints.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::signature::VerifyingKey;

/// The signature algorithms tenant keys exist for.
///
/// Only RSA and EC: Cloudflare Access rejects a JWKS that holds an OKP (Ed25519) key, and RS256
/// is the algorithm every relying party (and the conformance suite) expects by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::RS256, SigningAlg::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }
}

/// A public signing key as published in the tenant's JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kid: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    // RSA
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    // EC
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwkError {
    #[error("the key is missing its {0} member")]
    Missing(&'static str),
    #[error("unsupported key type {0}")]
    UnsupportedType(String),
}

impl PublicJwk {
    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
    /// Used as the `kid`, so a key id always names exactly one key.
    pub fn thumbprint(&self) -> Result<String, JwkError> {
        let canonical = match self.kty.as_str() {
            "RSA" => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                self.e.as_deref().ok_or(JwkError::Missing("e"))?,
                self.n.as_deref().ok_or(JwkError::Missing("n"))?
            ),
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                self.crv.as_deref().ok_or(JwkError::Missing("crv"))?,
                self.x.as_deref().ok_or(JwkError::Missing("x"))?,
                self.y.as_deref().ok_or(JwkError::Missing("y"))?
            ),
            other => return Err(JwkError::UnsupportedType(other.to_string())),
        };
        Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
    }

    /// Keeps only the public members (WebCrypto's JWK export also carries `key_ops`, `ext`)
    /// and stamps `kid`, `use` and `alg`.
    pub fn published(mut self, alg: SigningAlg) -> Result<Self, JwkError> {
        self.kid = self.thumbprint()?;
        self.key_use = Some("sig".into());
        self.alg = Some(alg.as_str().into());
        Ok(self)
    }
}

impl PublicJwk {
    /// The key as a verifier imports it, if it is a well-formed key for `alg`.
    pub fn verifying_key(&self, alg: SigningAlg) -> Option<VerifyingKey> {
        let decode = |member: &Option<String>| {
            member
                .as_deref()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        };
        match (alg, self.kty.as_str()) {
            (SigningAlg::RS256, "RSA") => Some(VerifyingKey::Rsa {
                n: decode(&self.n)?,
                e: decode(&self.e)?,
            }),
            (SigningAlg::ES256, "EC") if self.crv.as_deref() == Some("P-256") => {
                VerifyingKey::p256(&decode(&self.x)?, &decode(&self.y)?)
            }
            _ => None,
        }
    }
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

impl Jwks {
    pub fn find(&self, kid: &str) -> Option<&PublicJwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // The example key of RFC 7638 §3.1 and its published thumbprint.
        let jwk = PublicJwk {
            kty: "RSA".into(),
            kid: String::new(),
            key_use: None,
            alg: None,
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        };
        assert_eq!(
            jwk.thumbprint().unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn published_strips_private_looking_members_and_sets_kid() {
        let raw = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","ext":true,"key_ops":["verify"]}"#;
        let jwk: PublicJwk = serde_json::from_str(raw).unwrap();
        let published = jwk.published(SigningAlg::ES256).unwrap();
        let json = serde_json::to_value(&published).unwrap();
        assert_eq!(json["alg"], "ES256");
        assert_eq!(json["use"], "sig");
        assert!(json.get("ext").is_none() && json.get("key_ops").is_none());
        assert_eq!(published.kid.len(), 43);
    }

    #[test]
    fn okp_keys_are_refused() {
        let jwk: PublicJwk =
            serde_json::from_str(r#"{"kty":"OKP","crv":"Ed25519","x":"abc"}"#).unwrap();
        assert!(matches!(
            jwk.thumbprint(),
            Err(JwkError::UnsupportedType(_))
        ));
    }
}
