//! The JSON bodies of `POST /webauthn/login/finish` and `/webauthn/register/finish`
//! (`{"credential": ..., "next": ..., "name": ...}`): the echoed challenge the Worker reads
//! first, `parse_assertion` + `verify_assertion` against a stored ES256 passkey, and
//! `verify_registration`.
//!
//! Input: the request body.
#![no_main]

use edge_id::passkey::{
    client_data_challenge, parse_assertion, verify_assertion, verify_registration, PublicKey,
    StoredPasskey,
};
use edge_id_fuzz::{rp, stored_passkey_cose, CHALLENGE};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;

/// The Worker's `FinishBody`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct FinishBody {
    credential: Value,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<FinishBody>(data) else {
        return;
    };
    let credential = &body.credential;
    let echoed = client_data_challenge(credential);
    let stored_key = stored_passkey_cose();

    if let Ok(assertion) = parse_assertion(credential) {
        for stored_count in [0, 5] {
            let stored = StoredPasskey {
                public_key_cose: stored_key,
                sign_count: stored_count,
            };
            if let Ok(outcome) = verify_assertion(&rp(), &CHALLENGE, &assertion, stored) {
                assert_eq!(echoed.as_deref().ok(), Some(&CHALLENGE[..]));
                assert!(
                    (outcome.sign_count == 0 && stored_count == 0)
                        || outcome.sign_count > stored_count
                );
            }
        }
    }
    if let Ok(reg) = verify_registration(&rp(), &CHALLENGE, credential) {
        assert_eq!(echoed.as_deref().ok(), Some(&CHALLENGE[..]));
        assert!(PublicKey::from_cose(&reg.public_key_cose).is_ok());
        assert!(reg.transports.len() <= 8);
    }
});
