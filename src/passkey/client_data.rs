//! `CollectedClientData` (WebAuthn §5.8.1): what the browser says it did, and for whom.

use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::b64;
use super::{PasskeyError, RelyingParty};

#[derive(Debug, Deserialize)]
pub struct ClientData {
    #[serde(rename = "type")]
    pub kind: String,
    pub challenge: String,
    pub origin: String,
    #[serde(rename = "crossOrigin", default)]
    pub cross_origin: bool,
}

impl ClientData {
    pub fn parse(json: &[u8]) -> Result<Self, PasskeyError> {
        serde_json::from_slice(json).map_err(|_| PasskeyError::Malformed("clientDataJSON"))
    }

    /// Steps 7–10 of §7.1 / 11–14 of §7.2: type, challenge, origin, not cross-origin.
    pub fn check(
        &self,
        expected_type: &str,
        expected_challenge: &[u8],
        rp: &RelyingParty,
    ) -> Result<(), PasskeyError> {
        if self.kind != expected_type {
            return Err(PasskeyError::WrongType);
        }
        let challenge = b64::decode(&self.challenge)?;
        if challenge.len() != expected_challenge.len()
            || !bool::from(challenge.ct_eq(expected_challenge))
        {
            return Err(PasskeyError::ChallengeMismatch);
        }
        if self.origin != rp.origin {
            return Err(PasskeyError::OriginMismatch);
        }
        if self.cross_origin {
            return Err(PasskeyError::CrossOrigin);
        }
        Ok(())
    }
}

/// The challenge a response echoes, so the server can find and consume the challenge it issued
/// before verifying anything else.
pub fn client_data_challenge(credential: &serde_json::Value) -> Result<Vec<u8>, PasskeyError> {
    let response = credential
        .get("response")
        .ok_or(PasskeyError::Malformed("response"))?;
    let json = b64::field(response, "clientDataJSON")?;
    b64::decode(&ClientData::parse(&json)?.challenge)
}
