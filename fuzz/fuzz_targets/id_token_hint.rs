//! `id_token_hint` at `/authorize` and the end-session endpoint: a compact JWS verified against
//! the tenant's published keys (ES256 and RS256; `none` and HMAC refused), then its issuer and
//! subject/audience read.
//!
//! Input: the token text.
#![no_main]

use edge_id::crypto::jwk::Jwks;
use edge_id::crypto::jws;
use edge_id::oidc::logout::Hint;
use edge_id_fuzz::{judge_hint, jwks, ISSUER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let keys = jwks();
    let verified = jws::verify(&token, keys);
    match judge_hint(Some(&token), keys, ISSUER) {
        Hint::Valid { sub, client_id } => {
            let claims = verified.expect("a valid hint has a verified signature");
            assert_eq!(claims["iss"], ISSUER);
            assert_eq!(claims["sub"], sub.as_str());
            let aud = &claims["aud"];
            assert!(aud == client_id.as_str() || aud[0] == client_id.as_str());
        }
        Hint::Invalid => {}
        Hint::Absent => panic!("a token was given"),
    }
    // Without published keys nothing verifies; for another issuer no hint is valid.
    assert!(jws::verify(&token, &Jwks::default()).is_err());
    let other = judge_hint(Some(&token), keys, "https://other.example.com");
    assert!(!matches!(other, Hint::Valid { .. }));
});
