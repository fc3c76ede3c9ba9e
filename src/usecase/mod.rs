//! Use cases: what one request does, between the HTTP layer and storage.
//!
//! A handler parses the request, calls ONE use case with a [`Ctx`] and typed input, and renders
//! the typed outcome (Kanidm's idm layer is the model). A use case asks the pure core
//! (`oidc`, `passkey`, `account`, `admin`, `tenancy`) what to do and calls named storage
//! operations to do it; it never sees a Workers type, so it runs natively against SQLite in
//! tests. Audit entries are written in the same batch as the change they record.
//!
//! Public-key cryptography is the one platform service a use case needs: signing goes through
//! [`Signer`] and verifying through [`SignatureVerifier`] (WebCrypto in the Worker, test keys and
//! the pure-Rust verifiers natively).

use serde_json::Value;

use crate::crypto::jwk::SigningAlg;
use crate::crypto::sealed::Sealer;
use crate::crypto::signature::{SignatureCheck, VerifyingKey};
use crate::error::Result;
use crate::storage::audit::{self, Origin, When};
use crate::storage::backend::LocalFuture;
use crate::storage::db::{Db, Statement};
use crate::tenancy::{SigningKeyRecord, TenantSnapshot};

/// What every tenant use case works with: the database, the tenant, its issuer, the request's
/// time and where the request came from (for audit entries).
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub tenant: &'a TenantSnapshot,
    /// `https://<host>`: the issuer and base of every URL.
    pub issuer: &'a str,
    pub now: i64,
    pub origin: Origin,
    /// Seals what the browser carries between two requests (challenges, parked requests).
    pub sealer: Sealer,
    /// Verifies passkey assertions and id_token_hints.
    pub verifier: &'a dyn SignatureVerifier,
    /// Fetches `private_key_jwt` clients' key sets from their `jwks_uri`.
    pub jwks: &'a dyn JwksFetcher,
}

impl Ctx<'_> {
    pub fn tenant_id(&self) -> &str {
        &self.tenant.tenant.id
    }

    /// Where read-only lookups go: a D1 read replica near the Worker, or the primary when the
    /// tenant asks for strict reads (`TenantSettings::strict_reads`). A replica may lag the
    /// primary by a moment, so a miss there is no proof of absence: callers ask the primary
    /// again (see [`Db::is_replica`]), and writes that depend on what was read re-check it.
    pub fn reader(&self) -> Db {
        if self.tenant.tenant.settings.strict_reads {
            self.db.clone()
        } else {
            self.db.replica_reads()
        }
    }

    /// Reads with `read` from [`Ctx::reader`]; when that is a replica and `found` says it found
    /// nothing, reads again on the primary: a row written a moment ago (a token minted by the
    /// exchange an app just made, a passkey just added) may not have replicated, so only the
    /// primary may declare it absent.
    pub async fn read_fresh<T, F>(
        &self,
        read: impl Fn(Db) -> F,
        found: impl Fn(&T) -> bool,
    ) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        let reader = self.reader();
        let replica = reader.is_replica();
        let first = read(reader).await?;
        if !replica || found(&first) {
            return Ok(first);
        }
        read(self.db.clone()).await
    }
}

/// Who changed something, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A tenant admin API key.
    ApiKey { id: String },
    /// A signed-in tenant admin.
    Admin { user_id: String },
    /// The deployment's operator (the operator API's bearer token).
    Operator,
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::ApiKey { id } => format!("api_key:{id}"),
            Actor::Admin { user_id } => format!("user:{user_id}"),
            Actor::Operator => "operator".to_string(),
        }
    }

    /// The user the entry is about as its author, when a person made the change.
    fn user_id(&self) -> Option<&str> {
        match self {
            Actor::Admin { user_id } => Some(user_id),
            Actor::ApiKey { .. } | Actor::Operator => None,
        }
    }
}

/// The author of a change: who, and from where the request came.
#[derive(Debug, Clone)]
pub struct Author {
    pub actor: Actor,
    pub origin: Origin,
}

/// What an admin use case works with: the database, the tenant, the time, and who is acting
/// (an admin, an API key or the operator) for the audit entries it writes.
pub struct AdminCtx<'a> {
    pub db: &'a Db,
    pub tenant_id: &'a str,
    pub now: i64,
    pub author: Author,
}

impl AdminCtx<'_> {
    /// The audit entry of a change this use case makes (the actor's label is added to the
    /// details), to join the change's batch under `when`: it is written in the same
    /// transaction and exists exactly when the change does.
    pub fn audit(
        &self,
        event: &str,
        client_id: Option<&str>,
        details: Value,
        when: When<'_>,
    ) -> Result<Statement> {
        let mut details = details;
        details["actor"] = Value::String(self.author.actor.label());
        audit::insert_when_statement(
            self.db,
            self.tenant_id,
            event,
            self.author.actor.user_id(),
            client_id,
            &self.author.origin,
            &details,
            self.now,
            when,
        )
    }
}

/// Makes new signing keys (WebCrypto in the Worker, sealed with the master key; a fixed test
/// key natively).
pub trait KeyMaker {
    fn generate(&self, alg: SigningAlg, now: i64) -> LocalFuture<'_, Result<SigningKeyRecord>>;
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
/// Verifies signatures described by the pure core (passkey assertions, id_token_hints).
///
/// In the Worker this is WebCrypto: the pure-Rust P-256 verifier costs ~2 ms of CPU in wasm,
/// WebCrypto's native one ~0.06 ms.
pub trait SignatureVerifier {
    /// Whether `check`'s signature is valid. `Err` only when the verifier itself failed; a
    /// wrong or malformed signature is `Ok(false)`.
    fn verify<'a>(&'a self, check: &'a SignatureCheck) -> LocalFuture<'a, Result<bool>>;

    /// Whether `key` is a usable public key (a point on its curve, a well-formed RSA key):
    /// asked when a passkey is registered, so a key that could never verify is refused then
    /// rather than at its first sign-in.
    fn accepts_key<'a>(&'a self, key: &'a VerifyingKey) -> LocalFuture<'a, Result<bool>>;
}

/// Fetches a JWKS document over https (a `private_key_jwt` client's `jwks_uri`). In the
/// Worker: `fetch`, with a short per-isolate cache; natively: documents a test serves.
pub trait JwksFetcher {
    /// The document at `uri`. `fresh` asks past any cache: the client may have rotated its
    /// keys, and an assertion named a key the cached set lacks.
    fn fetch<'a>(&'a self, uri: &'a str, fresh: bool) -> LocalFuture<'a, Result<String>>;
}

pub mod account;
pub mod api_keys;
pub mod apis;
pub mod authorize;
pub mod backchannel;
pub(crate) mod ceremony;
pub mod client_auth;
pub mod clients;
pub mod device;
pub mod email;
pub mod email_code;
pub mod email_verification;
pub mod end_session;
pub mod groups;
pub mod id_token_hint;
pub mod introspection;
pub mod machine_token;
pub mod maintenance;
pub mod other_device;
pub mod par;
pub mod presented_token;
pub mod recovery;
pub mod request_object;
pub mod revocation;
pub mod sessions;
pub mod settings;
pub mod sign_in_notice;
pub mod signin;
pub mod signup;
pub mod tenants;
pub mod token;
pub mod userinfo;
pub mod users;
