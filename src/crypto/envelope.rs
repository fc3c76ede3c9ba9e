//! Encryption at rest for tenant signing keys (AES-256-GCM under the deployment's master key).
//!
//! The master key is a Worker secret, never in D1 or KV, so a copy of the database alone does
//! not yield signing keys. The key id is bound in as associated data: a ciphertext moved onto
//! another key's row fails to decrypt instead of silently signing as the wrong key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

const VERSION_PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the master key must be 32 bytes of base64")]
    BadMasterKey,
    #[error("the sealed value is not in the v1 envelope format")]
    Malformed,
    #[error("the sealed value does not decrypt under this master key and key id")]
    Undecryptable,
}

/// The deployment master key, parsed from its base64 secret form.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    /// The raw key, kept only to derive purpose-bound subkeys (never used directly as a key).
    raw: [u8; 32],
}

impl MasterKey {
    pub fn from_base64(secret: &str) -> Result<Self, EnvelopeError> {
        let raw = STANDARD
            .decode(secret.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(secret.trim()))
            .map_err(|_| EnvelopeError::BadMasterKey)?;
        let cipher = Aes256Gcm::new_from_slice(&raw).map_err(|_| EnvelopeError::BadMasterKey)?;
        let raw: [u8; 32] = raw.try_into().map_err(|_| EnvelopeError::BadMasterKey)?;
        Ok(Self { cipher, raw })
    }

    /// A 256-bit subkey for one purpose (HMAC-SHA256 of the purpose label under the master
    /// key): each use of the master key gets its own key, so no two purposes share one.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.raw)
            .expect("HMAC takes keys of any length");
        mac.update(b"edge-id subkey\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Seals `plaintext`, binding it to `context` (the key id). Output: `v1.<b64url(nonce|ct)>`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let nonce_bytes = super::random::bytes::<12>();
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("{VERSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, EnvelopeError> {
        let body = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(EnvelopeError::Malformed)?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| EnvelopeError::Malformed)?;
        if raw.len() < 12 + 16 {
            return Err(EnvelopeError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| EnvelopeError::Malformed)?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| EnvelopeError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn round_trip() {
        let k = key(7);
        let sealed = k.seal("kid-1", b"private key bytes");
        assert!(sealed.starts_with("v1."));
        assert_eq!(k.open("kid-1", &sealed).unwrap(), b"private key bytes");
    }

    #[test]
    fn wrong_context_or_key_fails() {
        let sealed = key(7).seal("kid-1", b"secret");
        assert_eq!(
            key(7).open("kid-2", &sealed),
            Err(EnvelopeError::Undecryptable)
        );
        assert_eq!(
            key(8).open("kid-1", &sealed),
            Err(EnvelopeError::Undecryptable)
        );
    }

    #[test]
    fn tampering_and_garbage_fail() {
        let k = key(1);
        let mut sealed = k.seal("c", b"secret").into_bytes();
        let last = sealed.len() - 1;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        let sealed = String::from_utf8(sealed).unwrap();
        assert!(k.open("c", &sealed).is_err());
        assert_eq!(k.open("c", "v2.xyz"), Err(EnvelopeError::Malformed));
        assert_eq!(k.open("c", "v1.AAAA"), Err(EnvelopeError::Malformed));
    }

    #[test]
    fn subkeys_differ_per_purpose_and_master_key() {
        assert_eq!(key(1).derive("a"), key(1).derive("a"));
        assert_ne!(key(1).derive("a"), key(1).derive("b"));
        assert_ne!(key(1).derive("a"), key(2).derive("a"));
    }

    #[test]
    fn master_key_must_be_32_bytes() {
        assert!(MasterKey::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
