//! base64url as WebAuthn's JSON forms use it (no padding; padding tolerated on input).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::PasskeyError;

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(s: &str) -> Result<Vec<u8>, PasskeyError> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| PasskeyError::Malformed("a field is not base64url"))
}

/// A required base64url string field of a JSON object.
pub fn field(obj: &serde_json::Value, name: &'static str) -> Result<Vec<u8>, PasskeyError> {
    let s = obj
        .get(name)
        .and_then(|v| v.as_str())
        .ok_or(PasskeyError::Malformed(name))?;
    decode(s)
}
