//! Credential public keys (COSE_Key): the registration stores what the authenticator sent,
//! every sign-in parses it again and verifies a signature with it (ES256 DER, EdDSA, RS256).
//!
//! Input: a 2-byte big-endian length and the COSE key, then a 2-byte length and the signed
//! message, then the signature.
#![no_main]

use edge_id::passkey::{PasskeyError, PublicKey, EDDSA, ES256, RS256};
use edge_id_fuzz::split_prefixed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (key, rest) = split_prefixed(data);
    let (message, signature) = split_prefixed(rest);
    match PublicKey::from_cose(key) {
        Ok((public, alg)) => {
            match (&public, alg) {
                (PublicKey::Es256(_), ES256)
                | (PublicKey::EdDsa(_), EDDSA)
                | (PublicKey::Rs256(_), RS256) => {}
                _ => panic!("key type and algorithm {alg} disagree"),
            }
            match public.verify(message, signature) {
                Ok(()) => {}
                Err(e) => assert_eq!(e, PasskeyError::BadSignature),
            }
        }
        Err(e) => assert!(matches!(
            e,
            PasskeyError::Malformed(_) | PasskeyError::UnsupportedAlgorithm
        )),
    }
});
