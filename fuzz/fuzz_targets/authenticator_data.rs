//! Authenticator data (WebAuthn §6.1) as both ceremonies carry it: RP ID hash, flags, counter,
//! and with the AT flag the attested credential (AAGUID, credential id, one CBOR COSE key,
//! optional extensions). The attested key goes on to the COSE parser, as in registration.
//!
//! Input: the authenticatorData bytes.
#![no_main]

use edge_id::passkey::{AuthenticatorData, PublicKey, SUPPORTED_ALGORITHMS};
use edge_id_fuzz::rp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ad) = AuthenticatorData::parse(data) else {
        return;
    };
    assert!(data.len() >= 37);
    assert_eq!(&ad.rp_id_hash[..], &data[..32]);
    assert_eq!(ad.flags, data[32]);
    assert_eq!(ad.sign_count.to_be_bytes(), data[33..37]);
    assert!(!ad.backed_up() || ad.backup_eligible());
    if let Err(e) = ad.check(&rp()) {
        assert!(!e.user_message().is_empty());
    }
    match &ad.attested {
        Some(att) => {
            assert!(ad.flags & 0x40 != 0);
            assert!(att.credential_id.len() <= 1023);
            assert_eq!(&att.aaguid[..], &data[37..53]);
            // The credential id and then the key follow the AAGUID and length, in place.
            let id_at = 55;
            let key_at = id_at + att.credential_id.len();
            assert_eq!(&data[id_at..key_at], &att.credential_id[..]);
            assert!(!att.public_key_cose.is_empty());
            assert_eq!(
                &data[key_at..key_at + att.public_key_cose.len()],
                &att.public_key_cose[..]
            );
            if let Ok((_, alg)) = PublicKey::from_cose(&att.public_key_cose) {
                assert!(SUPPORTED_ALGORITHMS.contains(&alg));
            }
        }
        None => assert!(ad.flags & 0x40 == 0),
    }
});
