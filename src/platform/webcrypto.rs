//! Signing keys through WebCrypto (`crypto.subtle`).
//!
//! Measured in workerd: RS256 in pure Rust costs ~8 ms of CPU per signature (the free plan allows
//! 10 ms per request), WebCrypto ~0.5 ms including import. So keys are generated, exported and
//! used here; only the sealing (AES-GCM) and JWK handling happen in the pure core.
//!
//! Imported private keys are cached per isolate by kid: importing a PKCS#8 RSA key is most of the
//! cost of a cold signature, and an isolate serves many requests.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

use crate::crypto::envelope::MasterKey;
use crate::crypto::jwk::{PublicJwk, SigningAlg};
use crate::error::{Error, Result};
use crate::tenancy::{KeyStatus, SigningKeyRecord};

thread_local! {
    static IMPORTED: RefCell<HashMap<String, CryptoKey>> = RefCell::new(HashMap::new());
}

pub(super) fn subtle() -> Result<SubtleCrypto> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    Ok(scope.crypto().map_err(js_error)?.subtle())
}

pub(super) fn js_error(e: JsValue) -> Error {
    Error::Internal(format!("WebCrypto: {e:?}"))
}

pub(super) fn object(pairs: &[(&str, JsValue)]) -> Result<Object> {
    let obj = Object::new();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), v).map_err(js_error)?;
    }
    Ok(obj)
}

/// The WebCrypto algorithm parameters for generating/importing a key of `alg`.
fn key_algorithm(alg: SigningAlg) -> Result<Object> {
    match alg {
        SigningAlg::RS256 => object(&[
            ("name", "RSASSA-PKCS1-v1_5".into()),
            ("hash", "SHA-256".into()),
            ("modulusLength", 2048.into()),
            ("publicExponent", Uint8Array::from(&[1u8, 0, 1][..]).into()),
        ]),
        SigningAlg::ES256 => object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]),
    }
}

/// The WebCrypto parameters for `sign()`. ECDSA yields raw `r||s`, which is already the JWS
/// signature format (RFC 7518 §3.4), so no DER conversion is needed.
fn sign_algorithm(alg: SigningAlg) -> Result<Object> {
    match alg {
        SigningAlg::RS256 => object(&[("name", "RSASSA-PKCS1-v1_5".into())]),
        SigningAlg::ES256 => object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]),
    }
}

pub(super) fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

fn string_field(obj: &JsValue, name: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

/// Generates a new signing key, returning it sealed under the master key as a `current` key.
pub async fn generate_signing_key(
    alg: SigningAlg,
    master: &MasterKey,
    now: i64,
) -> Result<SigningKeyRecord> {
    let subtle = subtle()?;
    let pair = JsFuture::from(
        subtle
            .generate_key_with_object(&key_algorithm(alg)?, true, &usages(&["sign", "verify"]))
            .map_err(js_error)?,
    )
    .await
    .map_err(js_error)?;
    let private: CryptoKey = Reflect::get(&pair, &"privateKey".into())
        .map_err(js_error)?
        .unchecked_into();
    let public: CryptoKey = Reflect::get(&pair, &"publicKey".into())
        .map_err(js_error)?
        .unchecked_into();

    let jwk = JsFuture::from(subtle.export_key("jwk", &public).map_err(js_error)?)
        .await
        .map_err(js_error)?;
    let public_jwk = PublicJwk {
        kty: string_field(&jwk, "kty").unwrap_or_default(),
        kid: String::new(),
        key_use: None,
        alg: None,
        n: string_field(&jwk, "n"),
        e: string_field(&jwk, "e"),
        crv: string_field(&jwk, "crv"),
        x: string_field(&jwk, "x"),
        y: string_field(&jwk, "y"),
    }
    .published(alg)
    .map_err(|e| Error::Internal(e.to_string()))?;

    let pkcs8 = JsFuture::from(subtle.export_key("pkcs8", &private).map_err(js_error)?)
        .await
        .map_err(js_error)?;
    let pkcs8 = Uint8Array::new(&pkcs8).to_vec();
    let kid = public_jwk.kid.clone();
    Ok(SigningKeyRecord {
        sealed_private_key: master.seal(&kid, &pkcs8),
        kid,
        alg,
        public_jwk,
        status: KeyStatus::Current,
        created_at: now,
        expires_at: None,
        overlap_secs: None,
    })
}

async fn private_key(record: &SigningKeyRecord, master: &MasterKey) -> Result<CryptoKey> {
    if let Some(key) = IMPORTED.with(|m| m.borrow().get(&record.kid).cloned()) {
        return Ok(key);
    }
    let pkcs8 = master.open(&record.kid, &record.sealed_private_key)?;
    let data = Uint8Array::from(pkcs8.as_slice());
    let key = JsFuture::from(
        subtle()?
            .import_key_with_object(
                "pkcs8",
                &data.into(),
                &key_algorithm(record.alg)?,
                false,
                &usages(&["sign"]),
            )
            .map_err(js_error)?,
    )
    .await
    .map_err(js_error)?;
    let key: CryptoKey = key.unchecked_into();
    IMPORTED.with(|m| m.borrow_mut().insert(record.kid.clone(), key.clone()));
    Ok(key)
}

/// Signs `data` with a tenant key (RSASSA-PKCS1-v1_5/SHA-256 or ECDSA P-256/SHA-256).
pub async fn sign(record: &SigningKeyRecord, master: &MasterKey, data: &[u8]) -> Result<Vec<u8>> {
    let key = private_key(record, master).await?;
    let signature = JsFuture::from(
        subtle()?
            .sign_with_object_and_u8_array(&sign_algorithm(record.alg)?, &key, data)
            .map_err(js_error)?,
    )
    .await
    .map_err(js_error)?;
    Ok(Uint8Array::new(&signature).to_vec())
}
