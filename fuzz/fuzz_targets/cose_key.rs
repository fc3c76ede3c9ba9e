//! Credential public keys (COSE_Key): the registration stores what the authenticator sent,
//! every sign-in parses it again and describes the signature check a verifier makes with it
//! (ES256 DER converted to raw r||s, EdDSA, RS256).
//!
//! Input: a 2-byte big-endian length and the COSE key, then a 2-byte length and the signed
//! message, then the signature.
#![no_main]

use edge_id::crypto::signature::{verify_natively, VerifyingKey};
use edge_id::passkey::{PasskeyError, PublicKey, EDDSA, ES256, RS256};
use edge_id_fuzz::split_prefixed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (key, rest) = split_prefixed(data);
    let (message, signature) = split_prefixed(rest);
    match PublicKey::from_cose(key) {
        Ok((public, alg)) => {
            match (&public.0, alg) {
                (VerifyingKey::P256 { .. }, ES256)
                | (VerifyingKey::Ed25519 { .. }, EDDSA)
                | (VerifyingKey::Rsa { .. }, RS256) => {}
                _ => panic!("key type and algorithm {alg} disagree"),
            }
            match public.signature_check(message.to_vec(), signature) {
                // Whatever a verifier says of it, it must say it without panicking.
                Ok(check) => {
                    let _ = verify_natively(&check);
                }
                Err(e) => assert_eq!(e, PasskeyError::BadSignature),
            }
        }
        Err(e) => assert!(matches!(
            e,
            PasskeyError::Malformed(_) | PasskeyError::UnsupportedAlgorithm
        )),
    }
});
