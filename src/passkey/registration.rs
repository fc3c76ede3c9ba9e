//! Registration ceremony verification (WebAuthn L3 §7.1).

use ciborium::value::Value as Cbor;
use sha2::{Digest, Sha256};

use super::authenticator_data::AuthenticatorData;
use super::b64;
use super::client_data::ClientData;
use super::cose_key::PublicKey;
use super::{PasskeyError, RelyingParty};
use crate::crypto::signature::verify_natively;

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

/// Verifies the attestation statement. We accept `none` and `packed` self-attestation (signed
/// by the credential key itself): we do not restrict which authenticators people use, so a
/// certificate chain would add nothing we act on. Other formats are refused explicitly.
fn verify_attestation(
    obj: &AttestationObject,
    credential_key: &PublicKey,
    algorithm: i64,
    client_data_hash: &[u8],
) -> Result<(), PasskeyError> {
    match obj.fmt.as_str() {
        "none" if obj.att_stmt.is_empty() => Ok(()),
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
            // Registration is rare (once per passkey), so its signature stays on the pure-Rust
            // verifier even in the Worker; only sign-ins go through WebCrypto.
            let check = credential_key
                .signature_check(signed, sig)
                .map_err(|_| PasskeyError::BadAttestation)?;
            if verify_natively(&check) {
                Ok(())
            } else {
                Err(PasskeyError::BadAttestation)
            }
        }
        _ => Err(PasskeyError::UnsupportedAttestation),
    }
}

/// Verifies a `RegistrationResponseJSON` against the challenge this server issued.
pub fn verify_registration(
    rp: &RelyingParty,
    expected_challenge: &[u8],
    credential: &serde_json::Value,
) -> Result<RegisteredPasskey, PasskeyError> {
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
    verify_attestation(&obj, &key, algorithm, &client_data_hash)?;

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
    Ok(RegisteredPasskey {
        credential_id: attested.credential_id,
        public_key_cose: attested.public_key_cose,
        algorithm,
        sign_count: auth_data.sign_count,
        aaguid: attested.aaguid,
        backup_eligible: auth_data.backup_eligible(),
        backed_up: auth_data.backed_up(),
        transports,
        attestation_format: obj.fmt,
    })
}
