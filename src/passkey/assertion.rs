//! Authentication ceremony verification (WebAuthn L3 §7.2).

use sha2::{Digest, Sha256};

use super::authenticator_data::AuthenticatorData;
use super::b64;
use super::client_data::ClientData;
use super::cose_key::PublicKey;
use super::{PasskeyError, RelyingParty};
use crate::crypto::signature::SignatureCheck;

/// An `AuthenticationResponseJSON`, decoded but not yet verified.
#[derive(Debug, Clone)]
pub struct ParsedAssertion {
    pub credential_id: Vec<u8>,
    pub user_handle: Option<Vec<u8>>,
    client_data_json: Vec<u8>,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
}

/// The stored credential an assertion is checked against.
pub struct StoredPasskey<'a> {
    pub public_key_cose: &'a [u8],
    pub sign_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionOutcome {
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

pub fn parse_assertion(credential: &serde_json::Value) -> Result<ParsedAssertion, PasskeyError> {
    if credential.get("type").and_then(|t| t.as_str()) != Some("public-key") {
        return Err(PasskeyError::Malformed("type"));
    }
    let response = credential
        .get("response")
        .ok_or(PasskeyError::Malformed("response"))?;
    let user_handle = match response.get("userHandle").and_then(|h| h.as_str()) {
        Some(h) if !h.is_empty() => Some(b64::decode(h)?),
        _ => None,
    };
    Ok(ParsedAssertion {
        credential_id: b64::field(credential, "rawId")?,
        user_handle,
        client_data_json: b64::field(response, "clientDataJSON")?,
        authenticator_data: b64::field(response, "authenticatorData")?,
        signature: b64::field(response, "signature")?,
    })
}

/// An assertion whose client data and authenticator data passed every check, waiting only for
/// its signature: the caller has [`signature`](Self::signature) verified (WebCrypto in the
/// Worker) and hands the answer to [`conclude`](Self::conclude).
#[derive(Debug, Clone)]
pub struct CheckedAssertion {
    signature: SignatureCheck,
    sign_count: u32,
    stored_sign_count: u32,
    backup_eligible: bool,
    backed_up: bool,
}

/// Checks an assertion for a stored credential, all but its signature (WebAuthn L3 §7.2 steps
/// on client data, RP ID hash and flags). The caller has already looked the credential up by id
/// within the tenant and consumed the challenge.
pub fn check_assertion(
    rp: &RelyingParty,
    expected_challenge: &[u8],
    assertion: &ParsedAssertion,
    stored: StoredPasskey<'_>,
) -> Result<CheckedAssertion, PasskeyError> {
    ClientData::parse(&assertion.client_data_json)?.check(
        "webauthn.get",
        expected_challenge,
        rp,
    )?;
    let auth_data = AuthenticatorData::parse(&assertion.authenticator_data)?;
    auth_data.check(rp)?;

    let (key, _alg) = PublicKey::from_cose(stored.public_key_cose)?;
    let mut signed = assertion.authenticator_data.clone();
    signed.extend_from_slice(&Sha256::digest(&assertion.client_data_json));
    Ok(CheckedAssertion {
        signature: key.signature_check(signed, &assertion.signature)?,
        sign_count: auth_data.sign_count,
        stored_sign_count: stored.sign_count,
        backup_eligible: auth_data.backup_eligible(),
        backed_up: auth_data.backed_up(),
    })
}

impl CheckedAssertion {
    /// The signature that must verify: over `authenticatorData || SHA-256(clientDataJSON)` by
    /// the stored credential key.
    pub fn signature(&self) -> &SignatureCheck {
        &self.signature
    }

    /// The outcome, given whether [`signature`](Self::signature) verified. The counter is
    /// judged only for a genuine assertion, so a forged one never reads as a cloned passkey.
    pub fn conclude(self, signature_verified: bool) -> Result<AssertionOutcome, PasskeyError> {
        if !signature_verified {
            return Err(PasskeyError::BadSignature);
        }
        // Counters: many passkeys (synced ones) always report 0. If either side is non-zero the
        // new value must grow, otherwise the credential may have been cloned (§6.1.1).
        if (self.sign_count != 0 || self.stored_sign_count != 0)
            && self.sign_count <= self.stored_sign_count
        {
            return Err(PasskeyError::CounterRegression);
        }
        Ok(AssertionOutcome {
            sign_count: self.sign_count,
            backup_eligible: self.backup_eligible,
            backed_up: self.backed_up,
        })
    }
}

/// Verifies an assertion completely with the pure-Rust signature verifier: for native callers
/// and tests. The Worker splits this in two ([`check_assertion`], then WebCrypto, then
/// [`CheckedAssertion::conclude`]) because the pure-Rust P-256 verification costs ~2 ms in wasm.
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_assertion(
    rp: &RelyingParty,
    expected_challenge: &[u8],
    assertion: &ParsedAssertion,
    stored: StoredPasskey<'_>,
) -> Result<AssertionOutcome, PasskeyError> {
    let checked = check_assertion(rp, expected_challenge, assertion, stored)?;
    let verified = crate::crypto::signature::verify_natively(checked.signature());
    checked.conclude(verified)
}
