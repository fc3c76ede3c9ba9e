//! Credential public keys (COSE_Key, RFC 9053) and signature verification for the three
//! algorithms we accept: ES256 (P-256, DER signatures), EdDSA (Ed25519), RS256 (PKCS#1 v1.5).

use coset::iana::{self, EnumI64};
use coset::{CborSerializable, CoseKey, KeyType, Label};

use super::{PasskeyError, EDDSA, ES256, RS256};

pub enum PublicKey {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
    Rs256(rsa::RsaPublicKey),
}

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
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad);
                }
                let point = p256::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
                PublicKey::Es256(
                    p256::ecdsa::VerifyingKey::from_encoded_point(&point).map_err(|_| bad)?,
                )
            }
            (EDDSA, KeyType::Assigned(iana::KeyType::OKP)) => {
                if int_param(&key, -1) != Some(iana::EllipticCurve::Ed25519.to_i64() as i128) {
                    return Err(PasskeyError::UnsupportedAlgorithm);
                }
                let x: [u8; 32] = param(&key, -2)
                    .ok_or(bad.clone())?
                    .try_into()
                    .map_err(|_| bad.clone())?;
                PublicKey::EdDsa(ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|_| bad)?)
            }
            (RS256, KeyType::Assigned(iana::KeyType::RSA)) => {
                let n = rsa::BigUint::from_bytes_be(param(&key, -1).ok_or(bad.clone())?);
                let e = rsa::BigUint::from_bytes_be(param(&key, -2).ok_or(bad.clone())?);
                let public = rsa::RsaPublicKey::new(n, e).map_err(|_| bad)?;
                if rsa::traits::PublicKeyParts::size(&public) < 256 {
                    return Err(PasskeyError::UnsupportedAlgorithm);
                }
                PublicKey::Rs256(public)
            }
            _ => return Err(PasskeyError::UnsupportedAlgorithm),
        };
        Ok((public, alg))
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), PasskeyError> {
        use rsa::signature::Verifier;
        let ok = match self {
            PublicKey::Es256(key) => p256::ecdsa::Signature::from_der(signature)
                .map(|sig| key.verify(message, &sig).is_ok())
                .unwrap_or(false),
            PublicKey::EdDsa(key) => ed25519_dalek::Signature::from_slice(signature)
                .map(|sig| key.verify_strict(message, &sig).is_ok())
                .unwrap_or(false),
            PublicKey::Rs256(key) => {
                let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone());
                rsa::pkcs1v15::Signature::try_from(signature)
                    .map(|sig| verifier.verify(message, &sig).is_ok())
                    .unwrap_or(false)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(PasskeyError::BadSignature)
        }
    }
}
