//! Signatures to verify, described as plain data, so that the expensive part (the public-key
//! arithmetic) can run wherever it is cheapest: WebCrypto in the Worker (native code, ~0.06 ms
//! for P-256) or the pure-Rust verifiers here (native tests, and ~2 ms for P-256 in wasm).
//!
//! The pure checks of a ceremony or token produce a [`SignatureCheck`]; a verifier answers
//! yes or no. Signatures are kept in the form WebCrypto takes: ECDSA as raw `r || s`
//! (IEEE P1363), which is what a JWS carries; WebAuthn's DER-encoded ECDSA signatures are
//! converted with [`der_to_p1363`] when the check is built.
//!
//! The pure-Rust verifiers (p256, rsa, ed25519-dalek) are native-only: the Worker verifies and
//! validates keys with WebCrypto, and leaving them out of the wasm saves ~34 KB of gzip
//! (~80 KB raw).

/// A public key, as the bytes a verifier imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// ECDSA P-256 with SHA-256: the uncompressed SEC1 point `0x04 || x || y`, already checked
    /// to lie on the curve.
    P256 { point: [u8; 65] },
    /// RSASSA-PKCS1-v1_5 with SHA-256: big-endian modulus and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Ed25519: the 32-byte public key.
    Ed25519 { key: [u8; 32] },
}

impl VerifyingKey {
    /// A P-256 key from its affine coordinates; `None` when they are not 32 bytes each. Whether
    /// the point lies on the curve is the verifier's to judge ([`SignatureVerifier::accepts_key`](
    /// crate::usecase::SignatureVerifier::accepts_key)), as WebCrypto's import does.
    pub fn p256(x: &[u8], y: &[u8]) -> Option<Self> {
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = [0u8; 65];
        point[0] = 0x04;
        point[1..33].copy_from_slice(x);
        point[33..].copy_from_slice(y);
        Some(VerifyingKey::P256 { point })
    }

    /// A stable byte string naming this key (for caches of imported keys): the kind and the
    /// key material, so two different keys never share a name.
    pub fn cache_id(&self) -> Vec<u8> {
        match self {
            VerifyingKey::P256 { point } => [&b"p256:"[..], point].concat(),
            VerifyingKey::Ed25519 { key } => [&b"ed25519:"[..], key].concat(),
            VerifyingKey::Rsa { n, e } => {
                let mut id = b"rsa:".to_vec();
                id.extend_from_slice(&(n.len() as u32).to_be_bytes());
                id.extend_from_slice(n);
                id.extend_from_slice(e);
                id
            }
        }
    }
}

/// One signature to verify: `signature` over `message` by `key` (ECDSA in P1363 form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    pub key: VerifyingKey,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The length of a P-256 signature as raw `r || s`.
pub const P256_SIGNATURE_LEN: usize = 64;

/// Converts a DER `ECDSA-Sig-Value` (SEQUENCE of two INTEGERs, as WebAuthn's ES256 signatures
/// are encoded) into raw `r || s` with each half left-padded to 32 bytes (IEEE P1363, what
/// WebCrypto's ECDSA `verify` takes). Strict DER: minimal lengths and integers, positive
/// values, nothing trailing; `None` otherwise.
pub fn der_to_p1363(der: &[u8]) -> Option<[u8; P256_SIGNATURE_LEN]> {
    let body = match der {
        // Short-form length only: a P-256 signature is at most 72 bytes.
        [0x30, len, body @ ..] if usize::from(*len) == body.len() && *len < 0x80 => body,
        _ => return None,
    };
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; P256_SIGNATURE_LEN];
    out[32 - r.len()..32].copy_from_slice(r);
    out[64 - s.len()..].copy_from_slice(s);
    Some(out)
}

/// One DER INTEGER holding a positive value of at most 32 bytes: returns its magnitude
/// (without the sign-padding zero) and what follows it.
fn der_integer(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let [0x02, len, rest @ ..] = input else {
        return None;
    };
    let len = usize::from(*len);
    if len == 0 || len > 33 || rest.len() < len {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    let magnitude = match value {
        // A leading zero is only allowed (and then required) before a byte with its high bit
        // set, which would otherwise read as negative.
        [0x00, next, ..] if next & 0x80 != 0 => &value[1..],
        [0x00, _, ..] => return None,
        [first, ..] if first & 0x80 != 0 => return None,
        _ => value,
    };
    if magnitude.len() > 32 {
        return None;
    }
    Some((magnitude, rest))
}

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{key_is_valid_natively, verify_natively};

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn signing_key(seed: u8) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    #[test]
    fn der_to_p1363_matches_p256_for_many_signatures() {
        // Across 300 signatures some r or s have their high bit set (DER adds a zero byte) and
        // some are shorter than 32 bytes (P1363 pads them): both must come out as p256 has it.
        let (mut padded, mut short) = (0, 0);
        for i in 0..300u32 {
            let sig: p256::ecdsa::Signature = signing_key(3).sign(&i.to_be_bytes());
            let der = sig.to_der();
            let raw = sig.to_bytes();
            padded += usize::from(raw[0] & 0x80 != 0 || raw[32] & 0x80 != 0);
            short += usize::from(raw[0] == 0 || raw[32] == 0);
            assert_eq!(
                der_to_p1363(der.as_bytes()).unwrap()[..],
                raw[..],
                "message {i}"
            );
        }
        assert!(padded > 0, "some signature needed a sign-padding zero");
        assert!(short > 0, "some signature had a short integer");
    }

    fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, r.len() as u8];
        body.extend_from_slice(r);
        body.extend_from_slice(&[0x02, s.len() as u8]);
        body.extend_from_slice(s);
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    #[test]
    fn der_to_p1363_handles_leading_zeros() {
        // r has its high bit set: DER carries 33 bytes with a zero in front.
        let mut r = vec![0x00, 0x80];
        r.extend([0x11; 31]);
        // s is a small number: one byte, padded to 32.
        let out = der_to_p1363(&der(&r, &[0x05])).unwrap();
        assert_eq!(out[0], 0x80);
        assert_eq!(out[1..32], [0x11; 31]);
        assert_eq!(out[32..63], [0u8; 31]);
        assert_eq!(out[63], 0x05);
    }

    #[test]
    fn der_to_p1363_refuses_non_der() {
        let ok = [0x42u8; 32];
        assert!(der_to_p1363(&der(&ok, &ok)).is_some());
        // Non-minimal: a zero before a byte without its high bit.
        assert!(der_to_p1363(&der(&[0x00, 0x01], &ok)).is_none());
        // Negative integer.
        assert!(der_to_p1363(&der(&[0x80; 32], &ok)).is_none());
        // Too long for P-256.
        assert!(der_to_p1363(&der(&[0x01; 33], &ok)).is_none());
        // Empty integer.
        assert!(der_to_p1363(&der(&[], &ok)).is_none());
        // Trailing bytes, inside and after the sequence.
        let mut inner = der(&ok, &ok);
        inner.push(0);
        assert!(der_to_p1363(&inner).is_none());
        let mut wrong_len = der(&ok, &ok);
        wrong_len[1] += 1;
        wrong_len.push(0);
        assert!(der_to_p1363(&wrong_len).is_none());
        // Not a sequence; truncated; raw P1363 passed by mistake.
        assert!(der_to_p1363(&[0x31, 0x00]).is_none());
        assert!(der_to_p1363(&der(&ok, &ok)[..40]).is_none());
        assert!(der_to_p1363(&[0x30; 64]).is_none());
    }

    fn p256_check(message: &[u8]) -> SignatureCheck {
        let sk = signing_key(9);
        let point = sk.verifying_key().to_encoded_point(false);
        let sig: p256::ecdsa::Signature = sk.sign(message);
        SignatureCheck {
            key: VerifyingKey::p256(point.x().unwrap(), point.y().unwrap()).unwrap(),
            message: message.to_vec(),
            signature: sig.to_bytes().to_vec(),
        }
    }

    #[test]
    fn native_p256_verifies_and_refuses_tampering() {
        let check = p256_check(b"hello");
        assert!(verify_natively(&check));
        let mut other = check.clone();
        other.message = b"hellp".to_vec();
        assert!(!verify_natively(&other));
        let mut der = check.clone();
        der.signature = p256::ecdsa::Signature::from_slice(&check.signature)
            .unwrap()
            .to_der()
            .as_bytes()
            .to_vec();
        assert!(!verify_natively(&der), "the verifier takes P1363, not DER");
    }

    #[test]
    fn p256_key_must_be_on_the_curve() {
        assert!(VerifyingKey::p256(&[1; 31], &[2; 32]).is_none());
        let off_curve = VerifyingKey::p256(&[1; 32], &[2; 32]).unwrap();
        assert!(!key_is_valid_natively(&off_curve));
        assert!(key_is_valid_natively(&p256_check(b"x").key));
    }

    #[test]
    fn ed25519_key_must_decompress() {
        // y = 2 has no x on the curve (2 is not a square root candidate): no point.
        let mut y = [0u8; 32];
        y[0] = 2;
        assert!(!key_is_valid_natively(&VerifyingKey::Ed25519 { key: y }));
        let valid = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
        assert!(key_is_valid_natively(&VerifyingKey::Ed25519 {
            key: valid.to_bytes()
        }));
    }

    #[test]
    fn cache_ids_differ_per_key() {
        let a = VerifyingKey::Rsa {
            n: vec![1, 2],
            e: vec![3],
        };
        let b = VerifyingKey::Rsa {
            n: vec![1],
            e: vec![2, 3],
        };
        assert_ne!(a.cache_id(), b.cache_id());
        assert_ne!(
            p256_check(b"x").key.cache_id(),
            VerifyingKey::Ed25519 { key: [4; 32] }.cache_id()
        );
    }
}
