//! Authenticator data (WebAuthn §6.1): RP ID hash, flags, counter, and on registration the
//! attested credential data (AAGUID, credential id, COSE public key).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{PasskeyError, RelyingParty};

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;
const FLAG_BS: u8 = 0x10;
const FLAG_AT: u8 = 0x40;

/// Credential ids longer than this are refused (WebAuthn L3 §7.1 step 24).
const MAX_CREDENTIAL_ID_LEN: usize = 1023;

#[derive(Debug, Clone)]
pub struct AttestedCredential {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    pub public_key_cose: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct AuthenticatorData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential>,
}

impl AuthenticatorData {
    pub fn parse(bytes: &[u8]) -> Result<Self, PasskeyError> {
        const TOO_SHORT: PasskeyError = PasskeyError::Malformed("authenticatorData too short");
        if bytes.len() < 37 {
            return Err(TOO_SHORT);
        }
        let rp_id_hash: [u8; 32] = bytes[..32].try_into().map_err(|_| TOO_SHORT)?;
        let flags = bytes[32];
        let sign_count = u32::from_be_bytes(bytes[33..37].try_into().map_err(|_| TOO_SHORT)?);
        let attested = if flags & FLAG_AT != 0 {
            let rest = &bytes[37..];
            if rest.len() < 18 {
                return Err(TOO_SHORT);
            }
            let aaguid: [u8; 16] = rest[..16].try_into().map_err(|_| TOO_SHORT)?;
            let id_len = u16::from_be_bytes([rest[16], rest[17]]) as usize;
            if id_len > MAX_CREDENTIAL_ID_LEN {
                return Err(PasskeyError::Malformed("credential id too long"));
            }
            let rest = &rest[18..];
            if rest.len() < id_len {
                return Err(TOO_SHORT);
            }
            let credential_id = rest[..id_len].to_vec();
            let key_and_ext = &rest[id_len..];
            // The COSE key is one CBOR item; extensions may follow it. Decode one item and
            // measure how many bytes it used.
            let mut cursor = std::io::Cursor::new(key_and_ext);
            let _: ciborium::value::Value = ciborium::de::from_reader(&mut cursor)
                .map_err(|_| PasskeyError::Malformed("credential public key"))?;
            let used = cursor.position() as usize;
            Some(AttestedCredential {
                aaguid,
                credential_id,
                public_key_cose: key_and_ext[..used].to_vec(),
            })
        } else {
            None
        };
        let data = Self {
            rp_id_hash,
            flags,
            sign_count,
            attested,
        };
        if data.backed_up() && !data.backup_eligible() {
            return Err(PasskeyError::Malformed(
                "backup state without backup eligibility",
            ));
        }
        Ok(data)
    }

    pub fn user_present(&self) -> bool {
        self.flags & FLAG_UP != 0
    }
    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }
    pub fn backup_eligible(&self) -> bool {
        self.flags & FLAG_BE != 0
    }
    pub fn backed_up(&self) -> bool {
        self.flags & FLAG_BS != 0
    }

    /// RP ID hash, user presence and user verification: common to both ceremonies.
    pub fn check(&self, rp: &RelyingParty) -> Result<(), PasskeyError> {
        let expected = Sha256::digest(rp.id.as_bytes());
        if !bool::from(self.rp_id_hash.ct_eq(&expected[..])) {
            return Err(PasskeyError::RpIdMismatch);
        }
        if !self.user_present() {
            return Err(PasskeyError::UserNotPresent);
        }
        if !self.user_verified() {
            return Err(PasskeyError::UserNotVerified);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn build(rp_id: &str, flags: u8, count: u32) -> Vec<u8> {
        let mut v = Sha256::digest(rp_id.as_bytes()).to_vec();
        v.push(flags);
        v.extend_from_slice(&count.to_be_bytes());
        v
    }

    fn rp() -> RelyingParty {
        RelyingParty {
            id: "acme.localhost".into(),
            name: "Acme".into(),
            origin: "http://acme.localhost:8787".into(),
        }
    }

    #[test]
    fn flags_are_enforced() {
        let ok = AuthenticatorData::parse(&build("acme.localhost", 0x05, 1)).unwrap();
        ok.check(&rp()).unwrap();
        let no_uv = AuthenticatorData::parse(&build("acme.localhost", 0x01, 1)).unwrap();
        assert_eq!(no_uv.check(&rp()), Err(PasskeyError::UserNotVerified));
        let no_up = AuthenticatorData::parse(&build("acme.localhost", 0x04, 1)).unwrap();
        assert_eq!(no_up.check(&rp()), Err(PasskeyError::UserNotPresent));
        let other = AuthenticatorData::parse(&build("beta.localhost", 0x05, 1)).unwrap();
        assert_eq!(other.check(&rp()), Err(PasskeyError::RpIdMismatch));
    }

    #[test]
    fn backup_state_requires_eligibility() {
        assert!(AuthenticatorData::parse(&build("a", 0x05 | FLAG_BS, 0)).is_err());
        let synced = AuthenticatorData::parse(&build("a", 0x05 | FLAG_BS | FLAG_BE, 0)).unwrap();
        assert!(synced.backed_up() && synced.backup_eligible());
    }

    #[test]
    fn truncated_data_is_malformed() {
        assert!(AuthenticatorData::parse(&[0; 36]).is_err());
        assert!(AuthenticatorData::parse(&build("a", 0x45, 0)).is_err());
    }
}
