//! Fixtures for native tests of storage operations and use cases: a fresh SQLite database
//! loaded with `schema.sql`, and the rows most tests start from, written through the storage
//! operations themselves (no fixture SQL that could drift from the real writes).

use std::future::Future;

use crate::account::NewProfile;
use crate::admin::user::AdminFlags;
use crate::oidc::client::ClientInput;
use crate::storage::audit::Origin;
use crate::storage::backend::sqlite::Sqlite;
use crate::storage::db::Db;
use crate::tenancy::{Tenant, TenantSettings, TenantStatus};
use crate::usecase::{Actor, AdminCtx, Author};

/// A fixed "now" for tests (2026-01-01T00:00:00Z), so expiry arithmetic is reproducible.
pub const NOW: i64 = 1_767_225_600;

/// A fresh, private database with the schema loaded.
pub fn db() -> Db {
    Db::new(Sqlite::in_memory().expect("schema.sql loads into SQLite"))
}

/// A database in a scratch file, read through a replica (a second connection to the same file:
/// a replica that has caught up), so round trips to the primary can be counted as in the
/// Worker. Remove the returned directory when done.
pub fn replicated_db(name: &str) -> (Db, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("edge-id-{name}-{}", crate::crypto::random::token()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join("d1.sqlite");
    let db = Db::new(Sqlite::open(&path, true).expect("the primary"))
        .with_replica(Sqlite::open(&path, false).expect("the replica"));
    (db, dir)
}

/// Runs a future to completion on this thread (storage futures are not `Send`).
pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}

/// An active tenant `slug` with default settings and no signing keys (keys are WebCrypto's,
/// and no storage operation needs one).
pub async fn tenant(db: &Db, slug: &str) -> Tenant {
    let tenant = Tenant {
        id: format!("tenant-{slug}"),
        slug: slug.to_string(),
        display_name: format!("{slug} Inc."),
        status: TenantStatus::Active,
        settings: TenantSettings::default(),
        created_at: NOW,
    };
    crate::storage::tenants::create(db, &tenant, &[], &format!("setup-{slug}"), NOW + 3600)
        .await
        .expect("tenant created");
    tenant
}

/// The audit event of rows made by fixtures, so tests can tell them from what they test.
pub const FIXTURE_EVENT: &str = "fixture";

/// A user `username` of the tenant (`username@example.com`); returns the user's id.
pub async fn user(db: &Db, tenant_id: &str, username: &str, is_admin: bool) -> String {
    let id = format!("user-{username}");
    let profile = NewProfile {
        username: username.to_string(),
        email: format!("{username}@example.com"),
        first_name: username.to_string(),
        last_name: None,
    };
    let flags = AdminFlags {
        is_admin: Some(is_admin),
        ..AdminFlags::default()
    };
    let audit = crate::storage::audit::insert_statement(
        db,
        tenant_id,
        FIXTURE_EVENT,
        Some(&id),
        None,
        &Origin::default(),
        &serde_json::json!({}),
        NOW,
    )
    .expect("audit statement");
    crate::storage::users::create(db, tenant_id, &id, &profile, &flags, NOW, audit)
        .await
        .expect("user created");
    id
}

/// A client input with one callback URL, as a form would send it.
pub fn client_input(name: &str) -> ClientInput {
    ClientInput {
        name: name.to_string(),
        callback_urls: vec![format!("https://{name}.example.com/callback")],
        ..ClientInput::default()
    }
}

/// An admin use case's context at [`NOW`], acting as `actor` from 192.0.2.7.
pub fn admin_ctx<'a>(db: &'a Db, tenant_id: &'a str, actor: Actor) -> AdminCtx<'a> {
    AdminCtx {
        db,
        tenant_id,
        now: NOW,
        author: Author {
            actor,
            origin: Origin {
                ip: Some("192.0.2.7".into()),
                ..Origin::default()
            },
        },
    }
}

/// A passkey `credential_id` of the user, stored as a finished registration stores it
/// (placeholder key material: storage never reads it).
pub async fn passkey(db: &Db, tenant_id: &str, user_id: &str, credential_id: &str) {
    let new = crate::storage::passkeys::NewPasskey {
        credential_id,
        name: "Passkey",
        public_key: "pQECAyYgASFYIA",
        algorithm: -7,
        sign_count: 0,
        backup_eligible: true,
        backup_state: true,
        transports: "[]",
        aaguid: "00000000-0000-0000-0000-000000000000",
    };
    let entry = crate::storage::audit::insert_statement(
        db,
        tenant_id,
        FIXTURE_EVENT,
        Some(user_id),
        None,
        &Origin::default(),
        &serde_json::json!({}),
        NOW,
    )
    .expect("audit statement");
    crate::storage::passkeys::add(db, tenant_id, user_id, &new, NOW, entry, spend(NOW))
        .await
        .expect("passkey stored");
}

/// Makes placeholder signing keys (`kid` numbered in order), for use cases that create keys.
#[derive(Default)]
pub struct TestKeyMaker {
    made: std::cell::Cell<u32>,
}

impl crate::usecase::KeyMaker for TestKeyMaker {
    fn generate(
        &self,
        alg: crate::crypto::jwk::SigningAlg,
        now: i64,
    ) -> crate::storage::backend::LocalFuture<
        '_,
        crate::error::Result<crate::tenancy::SigningKeyRecord>,
    > {
        self.made.set(self.made.get() + 1);
        let kid = format!("test-key-{}", self.made.get());
        let status = crate::tenancy::KeyStatus::Current;
        let key = crate::tenancy::keys::tests::key(&kid, alg, status, now);
        Box::pin(std::future::ready(Ok(key)))
    }
}

// ---- OpenID Provider fixtures (authorize, token, end-session, introspection, revocation) ----

/// A client of the tenant created as an admin would: confidential with `secret`, or public
/// (PKCE required) when `secret` is `None`.
pub async fn client(
    db: &Db,
    tenant_id: &str,
    input: &ClientInput,
    secret: Option<&str>,
) -> crate::oidc::client::Client {
    let id = format!("client-{}", input.name);
    let mut input = input.clone();
    input.is_public = secret.is_none();
    let alg = input.validate().expect("a valid client input");
    let hash = secret.map(crate::crypto::hash::secret_hash);
    let secret_id = format!("secret-{}", input.name);
    let mode = crate::storage::clients::SaveMode::Create {
        secret: hash
            .as_deref()
            .map(|hash| crate::storage::clients::NewSecret {
                id: &secret_id,
                hash,
                expires_at: None,
            }),
    };
    crate::storage::clients::save(db, tenant_id, &id, &input, alg, NOW, mode, None)
        .await
        .expect("client saved");
    crate::storage::clients::find_client(db, tenant_id, &id)
        .await
        .expect("client read")
        .expect("client exists")
}

/// A confidential client that authenticates with `private_key_jwt` (no secret), its keys
/// inline (`jwks`) or at `jwks_uri`.
pub async fn key_client(
    db: &Db,
    tenant_id: &str,
    name: &str,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<&str>,
) -> crate::oidc::client::Client {
    let id = format!("client-{name}");
    let input = ClientInput {
        token_endpoint_auth_method: Some("private_key_jwt".into()),
        jwks,
        jwks_uri: jwks_uri.map(str::to_string),
        ..client_input(name)
    };
    let alg = input.validate().expect("a valid client input");
    let mode = crate::storage::clients::SaveMode::Create { secret: None };
    crate::storage::clients::save(db, tenant_id, &id, &input, alg, NOW, mode, None)
        .await
        .expect("client saved");
    crate::storage::clients::find_client(db, tenant_id, &id)
        .await
        .expect("client read")
        .expect("client exists")
}

/// A group of the tenant with these members; returns its id.
pub async fn group(db: &Db, tenant_id: &str, name: &str, members: &[String]) -> String {
    let id = format!("group-{name}");
    let audit = || {
        crate::storage::audit::insert_statement(
            db,
            tenant_id,
            "group_changed",
            None,
            None,
            &Origin::default(),
            &serde_json::json!({}),
            NOW,
        )
        .expect("audit statement")
    };
    let group = crate::storage::groups::NewGroup {
        id: &id,
        name,
        friendly_name: name,
        custom_claims: &serde_json::Map::new(),
    };
    crate::storage::groups::create(db, tenant_id, &group, NOW, audit())
        .await
        .expect("group created");
    crate::storage::groups::set_members(db, tenant_id, &id, members, audit())
        .await
        .expect("members set");
    id
}

/// A signed-in session of the user, created at `now` for an hour; returns the cookie value.
pub async fn session(db: &Db, tenant_id: &str, user_id: &str, now: i64) -> String {
    let session = crate::storage::sessions::NewSession {
        method: crate::oidc::amr::SignInMethod::Passkey { synced: true },
        id: crate::crypto::random::token(),
        user_id: user_id.to_string(),
        created_at: now,
        expires_at: now + 3600,
        ip: None,
        user_agent: None,
        browser_hash: None,
    };
    let created = crate::storage::sessions::create(
        db,
        tenant_id,
        crate::storage::sessions::SignIn::plain(&session),
    )
    .await
    .expect("session stored");
    assert!(created.created, "the user can sign in");
    session.id
}

/// Every grant of the tenant, oldest first, for assertions about what a request left behind.
pub async fn grants(db: &Db, tenant_id: &str) -> Vec<crate::storage::grants::GrantState> {
    crate::storage::grants::states_of_tenant(db, tenant_id)
        .await
        .expect("grants read")
}

pub use crate::storage::inspection::*;

/// A fresh single-use id to spend (for storage operations that finish a ceremony).
pub fn spend(now: i64) -> crate::storage::spent::Spend<'static> {
    crate::storage::spent::Spend {
        id: Box::leak(crate::crypto::random::token().into_boxed_str()),
        expires_at: now + 300,
    }
}

/// The browser-state sealer of the test deployment (a fixed master key).
pub fn sealer() -> crate::crypto::sealed::Sealer {
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
    crate::crypto::sealed::Sealer::new(
        &crate::crypto::envelope::MasterKey::from_base64(&key).expect("a 32-byte key"),
    )
}

/// Verifies signatures with the pure-Rust verifiers, as the Worker's WebCrypto does natively.
pub struct NativeVerifier;

impl crate::usecase::SignatureVerifier for NativeVerifier {
    fn verify<'a>(
        &'a self,
        check: &'a crate::crypto::signature::SignatureCheck,
    ) -> crate::storage::backend::LocalFuture<'a, crate::error::Result<bool>> {
        Box::pin(std::future::ready(Ok(
            crate::crypto::signature::verify_natively(check),
        )))
    }

    fn accepts_key<'a>(
        &'a self,
        key: &'a crate::crypto::signature::VerifyingKey,
    ) -> crate::storage::backend::LocalFuture<'a, crate::error::Result<bool>> {
        Box::pin(std::future::ready(Ok(
            crate::crypto::signature::key_is_valid_natively(key),
        )))
    }
}

pub mod mail;
thread_local! {
    /// The JWKS documents [`ServedJwks`] answers with, by URL, and how often each was fetched.
    static SERVED_JWKS: std::cell::RefCell<std::collections::HashMap<String, (String, usize)>> =
        Default::default();
}

/// Serves `body` at `uri` to this thread's [`ServedJwks`] (replacing what was there).
pub fn serve_jwks(uri: &str, body: &str) {
    SERVED_JWKS.with(|m| {
        let mut m = m.borrow_mut();
        let fetched = m.get(uri).map_or(0, |(_, n)| *n);
        m.insert(uri.to_string(), (body.to_string(), fetched));
    });
}

/// How often `uri` was fetched through [`ServedJwks`].
pub fn jwks_fetches(uri: &str) -> usize {
    SERVED_JWKS.with(|m| m.borrow().get(uri).map_or(0, |(_, n)| *n))
}

/// The native `jwks_uri` fetcher: the documents tests serve with [`serve_jwks`] (no cache, so a
/// test sees every fetch); an unknown URL fails as an unreachable one would.
pub struct ServedJwks;

impl crate::usecase::JwksFetcher for ServedJwks {
    fn fetch<'a>(
        &'a self,
        uri: &'a str,
        _fresh: bool,
    ) -> crate::storage::backend::LocalFuture<'a, crate::error::Result<String>> {
        let body = SERVED_JWKS.with(|m| {
            m.borrow_mut().get_mut(uri).map(|(body, n)| {
                *n += 1;
                body.clone()
            })
        });
        Box::pin(std::future::ready(body.ok_or_else(|| {
            crate::error::Error::Internal(format!("{uri} unreachable"))
        })))
    }
}

pub mod oidc;
mod requests;
pub use requests::*;
