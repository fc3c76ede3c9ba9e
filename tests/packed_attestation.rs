//! `packed` self-attestation at registration, made here with p256 (the software authenticator
//! only gives `none` attestation): its signature and its key must be checked, and an altered one
//! refused. The Worker runs the same checks through WebCrypto (tests/e2e/signatures.test.mjs).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ciborium::value::Value as Cbor;
use edge_id::passkey::{verify_registration, PasskeyError, RelyingParty};
use p256::ecdsa::signature::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const CHALLENGE: [u8; 32] = [9; 32];

fn rp() -> RelyingParty {
    RelyingParty {
        id: "acme.id.example.com".into(),
        name: "Acme".into(),
        origin: "https://acme.id.example.com".into(),
    }
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

enum Tamper {
    Nothing,
    Signature,
    /// The key is no P-256 point; sent with `none` attestation, so only the key check refuses it.
    OffCurve,
}

fn registration(tamper: Tamper) -> Value {
    let key = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let (mut x, mut y) = (point.x().unwrap().to_vec(), point.y().unwrap().to_vec());
    if let Tamper::OffCurve = tamper {
        (x, y) = (vec![1; 32], vec![2; 32]);
    }
    let cose_key = cbor(&Cbor::Map(vec![
        (1.into(), 2.into()),
        (3.into(), (-7).into()),
        ((-1).into(), 1.into()),
        ((-2).into(), Cbor::Bytes(x)),
        ((-3).into(), Cbor::Bytes(y)),
    ]));
    let credential_id = [7u8; 16];
    let mut auth_data = Sha256::digest(rp().id.as_bytes()).to_vec();
    auth_data.push(0x45); // UP, UV, AT
    auth_data.extend_from_slice(&[0; 4 + 16]); // sign count, AAGUID
    auth_data.extend_from_slice(&[0, credential_id.len() as u8]);
    auth_data.extend_from_slice(&credential_id);
    auth_data.extend_from_slice(&cose_key);
    let client_data = json!({
        "type": "webauthn.create",
        "challenge": URL_SAFE_NO_PAD.encode(CHALLENGE),
        "origin": rp().origin,
        "crossOrigin": false,
    })
    .to_string();
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
    let signature: p256::ecdsa::Signature = key.sign(&signed);
    let mut sig = signature.to_der().as_bytes().to_vec();
    if let Tamper::Signature = tamper {
        *sig.last_mut().unwrap() ^= 1;
    }
    let (fmt, att_stmt) = match tamper {
        Tamper::OffCurve => ("none", vec![]),
        _ => (
            "packed",
            vec![
                ("alg".into(), (-7).into()),
                ("sig".into(), Cbor::Bytes(sig)),
            ],
        ),
    };
    let attestation_object = cbor(&Cbor::Map(vec![
        ("fmt".into(), fmt.into()),
        ("attStmt".into(), Cbor::Map(att_stmt)),
        ("authData".into(), Cbor::Bytes(auth_data)),
    ]));
    json!({
        "id": URL_SAFE_NO_PAD.encode(credential_id),
        "rawId": URL_SAFE_NO_PAD.encode(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            "attestationObject": URL_SAFE_NO_PAD.encode(attestation_object),
        },
    })
}

#[test]
fn genuine_packed_self_attestation_registers() {
    let registered = verify_registration(&rp(), &CHALLENGE, &registration(Tamper::Nothing))
        .expect("a genuine packed self-attestation verifies");
    assert_eq!(registered.attestation_format, "packed");
    assert_eq!(registered.credential_id, [7u8; 16]);
}

#[test]
fn altered_attestation_signature_is_refused() {
    assert_eq!(
        verify_registration(&rp(), &CHALLENGE, &registration(Tamper::Signature)).unwrap_err(),
        PasskeyError::BadAttestation
    );
}

#[test]
fn key_off_the_curve_is_refused_as_malformed() {
    assert_eq!(
        verify_registration(&rp(), &CHALLENGE, &registration(Tamper::OffCurve)).unwrap_err(),
        PasskeyError::Malformed("COSE key parameters")
    );
}
