//! Use cases: what one request does, between the HTTP layer and storage.
//!
//! A handler parses the request, calls ONE use case with a [`Ctx`] and typed input, and renders
//! the typed outcome (Kanidm's idm layer is the model). A use case asks the pure core
//! (`oidc`, `passkey`, `account`, `admin`, `tenancy`) what to do and calls named storage
//! operations to do it; it never sees a Workers type, so it runs natively against SQLite in
//! tests. Audit entries are written in the same batch as the change they record.
//!
//! Signing is the one platform service a use case needs: it goes through [`Signer`]
//! (WebCrypto in the Worker, a test key natively).

use serde_json::Value;

use crate::crypto::jwk::SigningAlg;
use crate::error::Result;
use crate::storage::audit::Origin;
use crate::storage::backend::LocalFuture;
use crate::storage::db::Db;
use crate::tenancy::TenantSnapshot;

/// What every tenant use case works with: the database, the tenant, its issuer, the request's
/// time and where the request came from (for audit entries).
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub tenant: &'a TenantSnapshot,
    /// `https://<host>`: the issuer and base of every URL.
    pub issuer: &'a str,
    pub now: i64,
    pub origin: Origin,
}

impl Ctx<'_> {
    pub fn tenant_id(&self) -> &str {
        &self.tenant.tenant.id
    }
}

/// Signs JWTs with the tenant's current key for an algorithm.
pub trait Signer {
    /// `claims` as a compact JWS with header `typ`, signed by the tenant's current `alg` key.
    fn sign_jwt<'a>(
        &'a self,
        tenant: &'a TenantSnapshot,
        alg: SigningAlg,
        typ: &'a str,
        claims: &'a Value,
    ) -> LocalFuture<'a, Result<String>>;
}
pub mod authorize;
pub mod client_auth;
pub mod end_session;
pub mod introspection;
pub mod revocation;
#[cfg(test)]
pub mod testing;
pub mod token;
pub mod userinfo;
