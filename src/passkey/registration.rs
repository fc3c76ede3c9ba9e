//! Registration ceremony verification (WebAuthn L3 §7.1).

use ciborium::value::Value as Cbor;
use sha2::{Digest, Sha256};

use super::authenticator_data::AuthenticatorData;
use super::b64;
use super::client_data::ClientData;
use super::cose_key::PublicKey;
use super::{PasskeyError, RelyingParty};
use crate::crypto::signature::{SignatureCheck, VerifyingKey};

/// What to store for a newly registered passkey.
#[derive(Debug, Clone)]
pub struct RegisteredPasskey {
    pub credential_id: Vec<u8>,
    pub public_key_cose: Vec<u8>,
    pub algorithm: i64,
    pub sign_count: u32,
    pub aaguid: [u8; 16],
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub transports: Vec<String>,
    pub attestation_format: String,
}

/// A decoded `attestationObject` (WebAuthn §6.5): format, statement and authenticator data.
#[derive(Debug, Clone)]
pub struct AttestationObject {
    pub fmt: String,
    pub att_stmt: Vec<(Cbor, Cbor)>,
    pub auth_data: Vec<u8>,
}

/// Decodes the CBOR `attestationObject` a registration response carries.
pub fn parse_attestation_object(bytes: &[u8]) -> Result<AttestationObject, PasskeyError> {
    let bad = PasskeyError::Malformed("attestationObject");
    let value: Cbor = ciborium::de::from_reader(bytes).map_err(|_| bad.clone())?;
    let map = value.into_map().map_err(|_| bad.clone())?;
    let (mut fmt, mut att_stmt, mut auth_data) = (None, None, None);
    for (k, v) in map {
        match k.as_text() {
            Some("fmt") => fmt = v.into_text().ok(),
            Some("attStmt") => att_stmt = v.into_map().ok(),
            Some("authData") => auth_data = v.into_bytes().ok(),
            _ => {}
        }
    }
    Ok(AttestationObject {
        fmt: fmt.ok_or(bad.clone())?,
        att_stmt: att_stmt.ok_or(bad.clone())?,
        auth_data: auth_data.ok_or(bad)?,
    })
}

/// Checks the attestation statement and returns the signature it needs verified, if any. We
/// accept `none` and `packed` self-attestation (signed by the credential key itself): we do not
/// restrict which authenticators people use, so a certificate chain would add nothing we act
/// on. Other formats are refused explicitly.
fn check_attestation(
    obj: &AttestationObject,
    credential_key: &PublicKey,
    algorithm: i64,
    client_data_hash: &[u8],
) -> Result<Option<SignatureCheck>, PasskeyError> {
    match obj.fmt.as_str() {
        "none" if obj.att_stmt.is_empty() => Ok(None),
        "none" => Err(PasskeyError::BadAttestation),
        "packed" => {
            let get = |name: &str| {
                obj.att_stmt
                    .iter()
                    .find(|(k, _)| k.as_text() == Some(name))
                    .map(|(_, v)| v)
            };
            if get("x5c").is_some() {
                return Err(PasskeyError::UnsupportedAttestation);
            }
            let alg = get("alg")
                .and_then(|v| v.as_integer())
                .and_then(|i| i64::try_from(i).ok())
                .ok_or(PasskeyError::BadAttestation)?;
            if alg != algorithm {
                return Err(PasskeyError::BadAttestation);
            }
            let sig = get("sig")
                .and_then(|v| v.as_bytes())
                .ok_or(PasskeyError::BadAttestation)?;
            let mut signed = obj.auth_data.clone();
            signed.extend_from_slice(client_data_hash);
            credential_key
                .signature_check(signed, sig)
                .map(Some)
                .map_err(|_| PasskeyError::BadAttestation)
        }
        _ => Err(PasskeyError::UnsupportedAttestation),
    }
}

/// A registration checked in everything but public-key arithmetic, which the caller's verifier
/// does (WebCrypto in the Worker): whether the credential key is a valid key, and the
/// attestation signature when there is one.
#[derive(Debug, Clone)]
pub struct CheckedRegistration {
    passkey: RegisteredPasskey,
    key: VerifyingKey,
    attestation: Option<SignatureCheck>,
}

impl CheckedRegistration {
    /// The credential public key, which the verifier must accept (a point on its curve, a
    /// well-formed RSA key) for the passkey to be stored.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The `packed` self-attestation signature that must verify; `None` for `none` attestation.
    pub fn attestation_signature(&self) -> Option<&SignatureCheck> {
        self.attestation.as_ref()
    }

    /// The passkey to store, given whether the verifier accepted [`key`](Self::key) and its
    /// verdict on [`attestation_signature`](Self::attestation_signature) (`None` when there is
    /// none to verify).
    pub fn conclude(
        self,
        key_accepted: bool,
        attestation_verified: Option<bool>,
    ) -> Result<RegisteredPasskey, PasskeyError> {
        if !key_accepted {
            return Err(PasskeyError::Malformed("COSE key parameters"));
        }
        match (self.attestation.is_some(), attestation_verified) {
            (false, None) | (true, Some(true)) => Ok(self.passkey),
            _ => Err(PasskeyError::BadAttestation),
        }
    }
}

/// Verifies a registration completely with the pure-Rust verifiers: for native callers and
/// tests. The Worker runs [`check_registration`], then WebCrypto, then
/// [`CheckedRegistration::conclude`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_registration(
    rp: &RelyingParty,
    expected_challenge: &[u8],
    credential: &serde_json::Value,
) -> Result<RegisteredPasskey, PasskeyError> {
    use crate::crypto::signature::{key_is_valid_natively, verify_natively};
    let checked = check_registration(rp, expected_challenge, credential)?;
    let key_accepted = key_is_valid_natively(checked.key());
    let attestation_verified = checked.attestation_signature().map(verify_natively);
    checked.conclude(key_accepted, attestation_verified)
}

/// Checks a `RegistrationResponseJSON` against the challenge this server issued, all but the
/// public-key arithmetic (see [`CheckedRegistration`]).
pub fn check_registration(
    rp: &RelyingParty,
    expected_challenge: &[u8],
    credential: &serde_json::Value,
) -> Result<CheckedRegistration, PasskeyError> {
    if credential.get("type").and_then(|t| t.as_str()) != Some("public-key") {
        return Err(PasskeyError::Malformed("type"));
    }
    let response = credential
        .get("response")
        .ok_or(PasskeyError::Malformed("response"))?;
    let client_data_json = b64::field(response, "clientDataJSON")?;
    ClientData::parse(&client_data_json)?.check("webauthn.create", expected_challenge, rp)?;

    let obj = parse_attestation_object(&b64::field(response, "attestationObject")?)?;
    let auth_data = AuthenticatorData::parse(&obj.auth_data)?;
    auth_data.check(rp)?;
    let attested = auth_data
        .attested
        .clone()
        .ok_or(PasskeyError::Malformed("no attested credential data"))?;
    let raw_id = b64::field(credential, "rawId")?;
    if raw_id != attested.credential_id {
        return Err(PasskeyError::CredentialMismatch);
    }
    let (key, algorithm) = PublicKey::from_cose(&attested.public_key_cose)?;
    let client_data_hash = Sha256::digest(&client_data_json);
    let attestation = check_attestation(&obj, &key, algorithm, &client_data_hash)?;

    let transports = response
        .get("transports")
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .take(8)
                .collect()
        })
        .unwrap_or_default();
    let passkey = RegisteredPasskey {
        credential_id: attested.credential_id,
        public_key_cose: attested.public_key_cose,
        algorithm,
        sign_count: auth_data.sign_count,
        aaguid: attested.aaguid,
        backup_eligible: auth_data.backup_eligible(),
        backed_up: auth_data.backed_up(),
        transports,
        attestation_format: obj.fmt,
    };
    Ok(CheckedRegistration {
        passkey,
        key: key.0,
        attestation,
    })
}
