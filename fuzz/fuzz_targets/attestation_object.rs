//! The CBOR `attestationObject` of a registration: decoded (`fmt`, `attStmt`, `authData`),
//! then the whole registration verified as `POST /webauthn/register/finish` does, with a valid
//! clientDataJSON and the credential id the authenticator data names, so the fuzzer reaches the
//! attestation statement checks (`none`, `packed` self-attestation).
//!
//! Input: the attestationObject bytes.
#![no_main]

use edge_id::passkey::{
    parse_attestation_object, verify_registration, AuthenticatorData, PasskeyError, PublicKey,
};
use edge_id_fuzz::{b64url, client_data_json, rp, CHALLENGE, ORIGIN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw_id = parse_attestation_object(data)
        .ok()
        .and_then(|obj| AuthenticatorData::parse(&obj.auth_data).ok())
        .and_then(|ad| ad.attested)
        .map(|att| att.credential_id)
        .unwrap_or_default();
    let credential = serde_json::json!({
        "id": b64url(&raw_id),
        "rawId": b64url(&raw_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(&client_data_json("webauthn.create", &CHALLENGE, ORIGIN)),
            "attestationObject": b64url(data),
            "transports": ["usb", "nfc", "ble", "internal", "hybrid", "smart-card", "x", "y", "z"],
        },
    });
    match verify_registration(&rp(), &CHALLENGE, &credential) {
        Ok(reg) => {
            let obj = parse_attestation_object(data).expect("verified, so it parsed");
            assert!(reg.attestation_format == "none" || reg.attestation_format == "packed");
            assert_eq!(reg.attestation_format, obj.fmt);
            assert_eq!(reg.credential_id, raw_id);
            assert!(reg.transports.len() <= 8);
            let (_, alg) = PublicKey::from_cose(&reg.public_key_cose).expect("stored key parses");
            assert_eq!(alg, reg.algorithm);
            assert!(!reg.backed_up || reg.backup_eligible);
        }
        Err(e) => {
            assert!(!matches!(
                e,
                PasskeyError::WrongType
                    | PasskeyError::ChallengeMismatch
                    | PasskeyError::OriginMismatch
            ));
            assert!(!e.user_message().is_empty());
        }
    }
});
