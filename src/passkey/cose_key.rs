//! Credential public keys (COSE_Key, RFC 9053) for the three algorithms we accept: ES256
//! (P-256, DER signatures), EdDSA (Ed25519), RS256 (PKCS#1 v1.5). Verifying a signature is not
//! done here: [`PublicKey::signature_check`] describes it for a verifier (WebCrypto in the
//! Worker, the pure-Rust verifiers natively).
//!
//! Parsing checks only the form of a key (lengths, sizes, exponent). Whether its numbers make a
//! key (a point on the curve, a modulus) is the verifier's to judge:
//! [`SignatureVerifier::accepts_key`](crate::usecase::SignatureVerifier::accepts_key) at
//! registration, so the Worker needs no big-number arithmetic of its own.

use coset::iana::{self, EnumI64};
use coset::{CborSerializable, CoseKey, KeyType, Label};

use super::{PasskeyError, EDDSA, ES256, RS256};
use crate::crypto::signature::{der_to_p1363, SignatureCheck, VerifyingKey};

/// A credential public key, checked to be the kind of key its COSE algorithm needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(pub VerifyingKey);

fn param(key: &CoseKey, label: i64) -> Option<&[u8]> {
    key.params.iter().find_map(|(l, v)| match l {
        Label::Int(i) if *i == label => v.as_bytes().map(|b| b.as_slice()),
        _ => None,
    })
}

fn int_param(key: &CoseKey, label: i64) -> Option<i128> {
    key.params.iter().find_map(|(l, v)| match l {
        Label::Int(i) if *i == label => v.as_integer().map(i128::from),
        _ => None,
    })
}

/// RSA keys below 2048 bits are refused as unsupported; above 4096 bits as malformed (the
/// `rsa` crate's and WebCrypto's limit).
const MIN_RSA_MODULUS_BYTES: usize = 256;
const MAX_RSA_MODULUS_BYTES: usize = 512;

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// An RSA public exponent is odd, at least 3 and (for the `rsa` crate and WebCrypto) fits in
/// 33 bits; `e` is big-endian without leading zeros.
fn rsa_exponent_is_plausible(e: &[u8]) -> bool {
    let fits = e.len() <= 5 && (e.len() < 5 || e[0] <= 1);
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    fits && odd && e != [1]
}

impl PublicKey {
    /// Parses a COSE key and returns it with its algorithm; the key type must match the
    /// algorithm (an RSA key claiming ES256 is refused).
    pub fn from_cose(bytes: &[u8]) -> Result<(Self, i64), PasskeyError> {
        let key = CoseKey::from_slice(bytes).map_err(|_| PasskeyError::Malformed("COSE key"))?;
        let alg = match &key.alg {
            Some(coset::RegisteredLabelWithPrivate::Assigned(a)) => a.to_i64(),
            _ => return Err(PasskeyError::UnsupportedAlgorithm),
        };
        let bad = PasskeyError::Malformed("COSE key parameters");
        let public = match (alg, &key.kty) {
            (ES256, KeyType::Assigned(iana::KeyType::EC2)) => {
                if int_param(&key, -1) != Some(iana::EllipticCurve::P_256.to_i64() as i128) {
                    return Err(PasskeyError::UnsupportedAlgorithm);
                }
                let (x, y) = (
                    param(&key, -2).ok_or(bad.clone())?,
                    param(&key, -3).ok_or(bad.clone())?,
                );
                VerifyingKey::p256(x, y).ok_or(bad)?
            }
            (EDDSA, KeyType::Assigned(iana::KeyType::OKP)) => {
                if int_param(&key, -1) != Some(iana::EllipticCurve::Ed25519.to_i64() as i128) {
                    return Err(PasskeyError::UnsupportedAlgorithm);
                }
                let x: [u8; 32] = param(&key, -2)
                    .ok_or(bad.clone())?
                    .try_into()
                    .map_err(|_| bad)?;
                VerifyingKey::Ed25519 { key: x }
            }
            (RS256, KeyType::Assigned(iana::KeyType::RSA)) => {
                let (n, e) = (
                    param(&key, -1).ok_or(bad.clone())?,
                    param(&key, -2).ok_or(bad.clone())?,
                );
                let (n, e) = (without_leading_zeros(n), without_leading_zeros(e));
                if n.len() > MAX_RSA_MODULUS_BYTES || !rsa_exponent_is_plausible(e) {
                    return Err(bad);
                }
                if n.len() < MIN_RSA_MODULUS_BYTES {
                    return Err(PasskeyError::UnsupportedAlgorithm);
                }
                VerifyingKey::Rsa {
                    n: n.to_vec(),
                    e: e.to_vec(),
                }
            }
            _ => return Err(PasskeyError::UnsupportedAlgorithm),
        };
        Ok((PublicKey(public), alg))
    }

    /// What must verify for `signature` (as the authenticator sent it) over `message`. ES256
    /// signatures arrive DER-encoded and are converted to the raw `r || s` verifiers take; one
    /// that is not strict DER is a bad signature.
    pub fn signature_check(
        &self,
        message: Vec<u8>,
        signature: &[u8],
    ) -> Result<SignatureCheck, PasskeyError> {
        let signature = match self.0 {
            VerifyingKey::P256 { .. } => der_to_p1363(signature)
                .ok_or(PasskeyError::BadSignature)?
                .to_vec(),
            VerifyingKey::Ed25519 { .. } | VerifyingKey::Rsa { .. } => signature.to_vec(),
        };
        Ok(SignatureCheck {
            key: self.0.clone(),
            message,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_exponents() {
        assert!(rsa_exponent_is_plausible(&[1, 0, 1]));
        assert!(rsa_exponent_is_plausible(&[3]));
        assert!(rsa_exponent_is_plausible(&[1, 0xff, 0xff, 0xff, 0xff]));
        // Even, one, empty, beyond 33 bits.
        assert!(!rsa_exponent_is_plausible(&[1, 0, 0]));
        assert!(!rsa_exponent_is_plausible(&[1]));
        assert!(!rsa_exponent_is_plausible(&[]));
        assert!(!rsa_exponent_is_plausible(&[2, 0, 0, 0, 1]));
        assert!(!rsa_exponent_is_plausible(&[1, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn leading_zeros_do_not_count_towards_a_modulus() {
        assert_eq!(without_leading_zeros(&[0, 0, 5, 0]), &[5, 0]);
        assert_eq!(without_leading_zeros(&[0, 0]), &[] as &[u8]);
    }
}
