//! Credential public keys (COSE_Key, RFC 9053) for the three algorithms we accept: ES256
//! (P-256, DER signatures), EdDSA (Ed25519), RS256 (PKCS#1 v1.5). Verifying a signature is not
//! done here: [`PublicKey::signature_check`] describes it for a verifier (WebCrypto in the
//! Worker, the pure-Rust verifiers natively).

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
                    .map_err(|_| bad.clone())?;
                // Checked here as the other kinds are: a point that does not decompress is a
                // malformed key, not a bad signature.
                ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|_| bad)?;
                VerifyingKey::Ed25519 { key: x }
            }
            (RS256, KeyType::Assigned(iana::KeyType::RSA)) => {
                let (n, e) = (
                    param(&key, -1).ok_or(bad.clone())?,
                    param(&key, -2).ok_or(bad.clone())?,
                );
                let public = rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(n),
                    rsa::BigUint::from_bytes_be(e),
                )
                .map_err(|_| bad)?;
                if rsa::traits::PublicKeyParts::size(&public) < 256 {
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
