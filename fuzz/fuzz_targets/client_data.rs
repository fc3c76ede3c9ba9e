//! `clientDataJSON` (WebAuthn §5.8.1) from both ceremonies: parsed, checked against the
//! issued challenge and the tenant's origin, and the echoed challenge the Worker reads first
//! to find the ceremony.
//!
//! Input: the clientDataJSON bytes.
#![no_main]

use edge_id::passkey::{client_data_challenge, ClientData, PasskeyError};
use edge_id_fuzz::{b64url, rp, CHALLENGE, ORIGIN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let echoed = client_data_challenge(&serde_json::json!({
        "response": { "clientDataJSON": b64url(data) }
    }));
    let parsed = ClientData::parse(data);
    match &parsed {
        Ok(cd) => {
            if let Ok(challenge) = &echoed {
                assert_eq!(b64url(challenge), cd.challenge.trim_end_matches('='));
            }
            for kind in ["webauthn.create", "webauthn.get"] {
                match cd.check(kind, &CHALLENGE, &rp()) {
                    Ok(()) => {
                        assert_eq!(cd.kind, kind);
                        assert_eq!(cd.origin, ORIGIN);
                        assert!(!cd.cross_origin);
                        assert_eq!(echoed.as_deref().ok(), Some(&CHALLENGE[..]));
                    }
                    Err(e) => assert!(!e.user_message().is_empty()),
                }
            }
        }
        Err(e) => {
            assert_eq!(*e, PasskeyError::Malformed("clientDataJSON"));
            assert!(echoed.is_err());
        }
    }
});
