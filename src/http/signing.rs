//! Signing JWTs with a tenant's current key (the pure core assembles, WebCrypto signs), and
//! verifying signatures the pure core describes (WebCrypto verifies).

use serde_json::Value;

use crate::crypto::jwk::SigningAlg;
use crate::crypto::jws;
use crate::crypto::signature::{SignatureCheck, VerifyingKey};
use crate::error::{Error, Result};
use crate::http::app::App;
use crate::platform::{webcrypto, webcrypto_verify};
use crate::tenancy::TenantSnapshot;

/// Signs `claims` as a compact JWS with the tenant's current key for `alg`.
pub async fn sign_jwt(
    app: &App,
    tenant: &TenantSnapshot,
    alg: SigningAlg,
    typ: &str,
    claims: &Value,
) -> Result<String> {
    let key = tenant
        .current_key(alg)
        .ok_or_else(|| Error::Internal(format!("tenant has no current {} key", alg.as_str())))?;
    let input = jws::signing_input(alg, &key.kid, typ, claims);
    let start = crate::platform::clock::now_ms();
    let signature = webcrypto::sign(key, &app.master_key()?, input.as_bytes()).await?;
    app.record_sign_ms(crate::platform::clock::now_ms() - start);
    Ok(jws::compact(&input, &signature))
}

/// The Worker's [`Signer`](crate::usecase::Signer): WebCrypto with the tenant's sealed keys.
pub struct WebCryptoSigner<'a>(pub &'a App);

impl crate::usecase::Signer for WebCryptoSigner<'_> {
    fn sign_jwt<'a>(
        &'a self,
        tenant: &'a TenantSnapshot,
        alg: SigningAlg,
        typ: &'a str,
        claims: &'a Value,
    ) -> crate::storage::backend::LocalFuture<'a, Result<String>> {
        Box::pin(sign_jwt(self.0, tenant, alg, typ, claims))
    }
}

/// The Worker's [`KeyMaker`](crate::usecase::KeyMaker): WebCrypto key generation, the private
/// key sealed with the deployment's master key.
pub struct WebCryptoKeyMaker<'a>(pub &'a App);

impl crate::usecase::KeyMaker for WebCryptoKeyMaker<'_> {
    fn generate(
        &self,
        alg: SigningAlg,
        now: i64,
    ) -> crate::storage::backend::LocalFuture<'_, Result<crate::tenancy::SigningKeyRecord>> {
        Box::pin(
            async move { webcrypto::generate_signing_key(alg, &self.0.master_key()?, now).await },
        )
    }
}

/// The Worker's [`SignatureVerifier`](crate::usecase::SignatureVerifier): WebCrypto's native
/// `verify` for passkey attestations, assertions and id_token_hints; its `importKey` judges
/// passkey keys.
pub struct WebCryptoVerifier;

impl crate::usecase::SignatureVerifier for WebCryptoVerifier {
    fn verify<'a>(
        &'a self,
        check: &'a SignatureCheck,
    ) -> crate::storage::backend::LocalFuture<'a, Result<bool>> {
        Box::pin(webcrypto_verify::verify(check))
    }

    fn accepts_key<'a>(
        &'a self,
        key: &'a VerifyingKey,
    ) -> crate::storage::backend::LocalFuture<'a, Result<bool>> {
        Box::pin(webcrypto_verify::accepts_key(key))
    }
}
