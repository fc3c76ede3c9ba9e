//! Proof Key for Code Exchange (RFC 7636).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::error::OAuthError;
use crate::crypto::hash::{secrets_equal, sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeMethod {
    S256,
    #[serde(rename = "plain")]
    Plain,
}

impl ChallengeMethod {
    /// RFC 7636 §4.3: a challenge without a method means `plain`.
    pub fn parse(raw: Option<&str>) -> Result<Self, OAuthError> {
        match raw {
            Some("S256") => Ok(ChallengeMethod::S256),
            Some("plain") | None => Ok(ChallengeMethod::Plain),
            Some(other) => Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other} is not supported (use S256)"
            ))),
        }
    }
}

/// A code challenge from an authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge {
    pub challenge: String,
    pub method: ChallengeMethod,
}

/// `code-verifier = 43*128unreserved` (RFC 7636 §4.1); challenges share the syntax.
fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

impl CodeChallenge {
    pub fn new(challenge: &str, method: ChallengeMethod) -> Result<Self, OAuthError> {
        if !well_formed(challenge) {
            return Err(OAuthError::invalid_request(
                "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
            ));
        }
        Ok(Self {
            challenge: challenge.to_string(),
            method,
        })
    }

    /// Checks a token request's `code_verifier` against this challenge.
    pub fn verify(&self, verifier: Option<&str>) -> Result<(), OAuthError> {
        let verifier = verifier
            .ok_or_else(|| OAuthError::invalid_grant("code_verifier is required for this code"))?;
        if !well_formed(verifier) {
            return Err(OAuthError::invalid_grant("code_verifier is malformed"));
        }
        let derived = match self.method {
            ChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes())),
            ChallengeMethod::Plain => verifier.to_string(),
        };
        if secrets_equal(&derived, &self.challenge) {
            Ok(())
        } else {
            Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_example_verifies() {
        let c = CodeChallenge::new(CHALLENGE, ChallengeMethod::S256).unwrap();
        c.verify(Some(VERIFIER)).unwrap();
    }

    #[test]
    fn wrong_or_missing_verifier_is_invalid_grant() {
        let c = CodeChallenge::new(CHALLENGE, ChallengeMethod::S256).unwrap();
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx";
        assert_eq!(
            c.verify(Some(wrong)).unwrap_err().code.as_str(),
            "invalid_grant"
        );
        assert!(c.verify(None).is_err());
        assert!(c.verify(Some("short")).is_err());
    }

    #[test]
    fn plain_compares_directly_and_method_defaults_to_plain() {
        assert_eq!(
            ChallengeMethod::parse(None).unwrap(),
            ChallengeMethod::Plain
        );
        assert!(ChallengeMethod::parse(Some("S512")).is_err());
        let c = CodeChallenge::new(VERIFIER, ChallengeMethod::Plain).unwrap();
        c.verify(Some(VERIFIER)).unwrap();
    }

    #[test]
    fn malformed_challenges_are_refused() {
        assert!(CodeChallenge::new("abc", ChallengeMethod::S256).is_err());
        let bad = format!("{}!", &CHALLENGE[..43]);
        assert!(CodeChallenge::new(&bad, ChallengeMethod::S256).is_err());
    }
}
