//! Verifying signatures through WebCrypto (`crypto.subtle.verify`): native code, where the
//! pure-Rust verifiers cost ~2 ms of CPU per P-256 signature in wasm.
//!
//! Imported public keys are cached per isolate, keyed by the key material itself (not a kid or
//! credential id, which another tenant could reuse for a different key): a tenant's JWKS keys
//! and a returning user's passkey are then imported once per isolate.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use js_sys::{Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use super::webcrypto::{js_error, object, subtle, usages};
use crate::crypto::signature::{SignatureCheck, VerifyingKey};
use crate::error::Result;

/// Enough for every key of the tenants an isolate serves plus recent passkeys; when full the
/// cache starts over rather than tracking recency (an import costs microseconds).
const CACHE_CAPACITY: usize = 512;

thread_local! {
    static IMPORTED: RefCell<HashMap<Vec<u8>, CryptoKey>> = RefCell::new(HashMap::new());
}

/// The algorithm parameters for `importKey` and for `verify` of a key kind.
fn import_algorithm(key: &VerifyingKey) -> Result<Object> {
    match key {
        VerifyingKey::P256 { .. } => {
            object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])
        }
        VerifyingKey::Rsa { .. } => object(&[
            ("name", "RSASSA-PKCS1-v1_5".into()),
            ("hash", "SHA-256".into()),
        ]),
        VerifyingKey::Ed25519 { .. } => object(&[("name", "Ed25519".into())]),
    }
}

fn verify_algorithm(key: &VerifyingKey) -> Result<Object> {
    match key {
        VerifyingKey::P256 { .. } => {
            object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())])
        }
        VerifyingKey::Rsa { .. } => object(&[("name", "RSASSA-PKCS1-v1_5".into())]),
        VerifyingKey::Ed25519 { .. } => object(&[("name", "Ed25519".into())]),
    }
}

async fn import(key: &VerifyingKey) -> Result<CryptoKey> {
    let id = key.cache_id();
    if let Some(found) = IMPORTED.with(|m| m.borrow().get(&id).cloned()) {
        return Ok(found);
    }
    let subtle = subtle()?;
    let algorithm = import_algorithm(key)?;
    let verify = usages(&["verify"]);
    let promise = match key {
        VerifyingKey::P256 { point } => {
            let raw = Uint8Array::from(&point[..]);
            subtle.import_key_with_object("raw", &raw.into(), &algorithm, false, &verify)
        }
        VerifyingKey::Ed25519 { key } => {
            let raw = Uint8Array::from(&key[..]);
            subtle.import_key_with_object("raw", &raw.into(), &algorithm, false, &verify)
        }
        // RSA public keys import as "spki" or "jwk"; the JWK needs no DER encoder.
        VerifyingKey::Rsa { n, e } => {
            let jwk = object(&[
                ("kty", "RSA".into()),
                ("n", URL_SAFE_NO_PAD.encode(n).into()),
                ("e", URL_SAFE_NO_PAD.encode(e).into()),
            ])?;
            subtle.import_key_with_object("jwk", &jwk, &algorithm, false, &verify)
        }
    }
    .map_err(js_error)?;
    let imported: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(js_error)?
        .unchecked_into();
    IMPORTED.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= CACHE_CAPACITY {
            m.clear();
        }
        m.insert(id, imported.clone());
    });
    Ok(imported)
}

/// Whether WebCrypto imports `key`: it refuses points off their curve and malformed RSA keys.
/// The imported key stays cached for the passkey's first sign-in.
pub async fn accepts_key(key: &VerifyingKey) -> Result<bool> {
    Ok(import(key).await.is_ok())
}

/// Whether `check` holds, verified by WebCrypto. A key WebCrypto refuses to import (it
/// validates points and moduli) is an error of the verifier, reported as such.
pub async fn verify(check: &SignatureCheck) -> Result<bool> {
    let key = import(&check.key).await?;
    let verdict = JsFuture::from(
        subtle()?
            .verify_with_object_and_u8_array_and_u8_array(
                &verify_algorithm(&check.key)?,
                &key,
                &check.signature,
                &check.message,
            )
            .map_err(js_error)?,
    )
    .await
    .map_err(js_error)?;
    Ok(verdict == JsValue::TRUE)
}
