//! Fixtures for native tests of the use cases: a tenant with real signing keys (generated in
//! the test; the private halves live in a native [`Signer`]), a context to run use cases in,
//! and the steps most tests start from (a client, a signed-in user, a code).

use std::sync::OnceLock;

use p256::ecdsa::signature::Signer as _;
use serde_json::{Map, Value};

use crate::crypto::jwk::{Jwks, PublicJwk, SigningAlg};
use crate::crypto::jws;
use crate::error::Result;
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::token::{GrantRequest, TokenResponse};
use crate::storage::audit::Origin;
use crate::storage::backend::LocalFuture;
use crate::storage::db::Db;
use crate::tenancy::{KeyStatus, SigningKeyRecord, TenantSnapshot};
use crate::testing::{self, NOW};
use crate::usecase::authorize::{self, Browser, Outcome};
use crate::usecase::token::{self, TokenKeys};
use crate::usecase::{Ctx, Signer};

pub const ISSUER: &str = "https://acme.id.example.com";
/// The browser id every test request presents (the `eid_browser` cookie).
pub const BROWSER: &str = "browser-of-the-test";
pub const SECRET: &str = "s3cret";

/// The test keys: RSA-2048 (generated once per test run) and a fixed P-256 key.
struct Keys {
    rsa: (rsa::RsaPrivateKey, PublicJwk),
    es: (p256::ecdsa::SigningKey, PublicJwk),
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: jws::tests::rsa_key(),
        es: jws::tests::es256_key(),
    })
}

/// Signs with the test keys, exactly as WebCrypto would with the tenant's current keys.
pub struct TestSigner;

impl Signer for TestSigner {
    fn sign_jwt<'a>(
        &'a self,
        tenant: &'a TenantSnapshot,
        alg: SigningAlg,
        typ: &'a str,
        claims: &'a Value,
    ) -> LocalFuture<'a, Result<String>> {
        let key = tenant
            .current_key(alg)
            .expect("the tenant has a current key");
        let input = jws::signing_input(alg, &key.kid, typ, claims);
        let signature = match alg {
            SigningAlg::RS256 => {
                let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(keys().rsa.0.clone());
                rsa::signature::SignatureEncoding::to_vec(&sk.sign(input.as_bytes()))
            }
            SigningAlg::ES256 => {
                let sig: p256::ecdsa::Signature = keys().es.0.sign(input.as_bytes());
                sig.to_bytes().to_vec()
            }
        };
        Box::pin(std::future::ready(Ok(jws::compact(&input, &signature))))
    }
}

/// A tenant "acme" in the database and its snapshot with the test keys as current keys.
pub async fn tenant(db: &Db) -> TenantSnapshot {
    let tenant = testing::tenant(db, "acme").await;
    let record = |(alg, jwk): (SigningAlg, &PublicJwk)| SigningKeyRecord {
        kid: jwk.kid.clone(),
        alg,
        public_jwk: jwk.clone(),
        sealed_private_key: String::new(),
        status: KeyStatus::Current,
        created_at: NOW - 86_400,
        expires_at: None,
        overlap_secs: None,
    };
    TenantSnapshot {
        tenant,
        keys: vec![
            record((SigningAlg::RS256, &keys().rsa.1)),
            record((SigningAlg::ES256, &keys().es.1)),
        ],
    }
}

pub fn ctx<'a>(db: &'a Db, tenant: &'a TenantSnapshot, now: i64) -> Ctx<'a> {
    Ctx {
        db,
        tenant,
        issuer: ISSUER,
        now,
        verifier: &crate::testing::NativeVerifier,
        jwks: &crate::testing::ServedJwks,
        origin: Origin::default(),
        sealer: crate::testing::sealer(),
    }
}

/// Stores the snapshot's keys, for use cases that load the tenant themselves (the queue
/// consumer has no request to bring a snapshot).
pub async fn store_keys(db: &Db, tenant: &TenantSnapshot) {
    let changes: Vec<_> = tenant
        .keys
        .iter()
        .map(|k| crate::tenancy::keys::KeyChange::Insert(Box::new(k.clone())))
        .collect();
    crate::storage::tenants::apply_key_changes(db, &tenant.tenant.id, &changes)
        .await
        .expect("keys stored");
}

/// The claims of an id_token, after checking its signature against the tenant's JWKS.
pub fn verify_id_token(tenant: &TenantSnapshot, token: &str) -> Map<String, Value> {
    let jwks: Jwks = tenant.jwks(NOW);
    jws::verify(token, &jwks).expect("the id_token verifies with the tenant's published key")
}

/// `client_secret_post` credentials (or `none` without a secret).
pub fn creds(client_id: &str, secret: Option<&str>) -> ClientCredentials {
    ClientCredentials::from_request(None, Some(client_id), secret).expect("credentials")
}

/// A confidential client "app" (secret [`SECRET`]).
pub async fn confidential(db: &Db, tenant_id: &str) -> Client {
    testing::client(db, tenant_id, &testing::client_input("app"), Some(SECRET)).await
}

/// An authorization request's parameters for the client, with extra ones.
pub fn authorize_params(client: &Client, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uris[0].as_str()),
        ("scope", "openid email profile"),
    ];
    pairs.extend_from_slice(extra);
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The browser of a signed-in user.
pub fn browser(session: &str) -> Browser<'_> {
    Browser {
        session: Some(session),
        id: BROWSER,
    }
}

/// A code issued at `/authorize` to the signed-in `session` for the client.
pub async fn code(ctx: &Ctx<'_>, client: &Client, session: &str, extra: &[(&str, &str)]) -> String {
    code_for(ctx, &authorize_params(client, extra), session).await
}

/// A code issued at `/authorize` to the signed-in `session` for exactly these parameters.
pub async fn code_for(ctx: &Ctx<'_>, pairs: &[(String, String)], session: &str) -> String {
    match authorize::authorize(ctx, pairs, browser(session))
        .await
        .expect("authorize")
    {
        Outcome::Respond(r) => r
            .params
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no code: {:?}", r.params)),
        other => panic!("expected a code, got {other:?}"),
    }
}

/// Alice signed in, the confidential client "app", and the tokens a code issued to her for it
/// (refresh successors derived with the key `[1; 32]`).
pub async fn issued(db: &Db) -> (TenantSnapshot, Client, TokenResponse) {
    let t = tenant(db).await;
    let alice = testing::user(db, &t.tenant.id, "alice", false).await;
    let app = confidential(db, &t.tenant.id).await;
    let session = testing::session(db, &t.tenant.id, &alice, NOW).await;
    let c = ctx(db, &t, NOW);
    let code = code(&c, &app, &session, &[("nonce", "n-1")]).await;
    let request = GrantRequest::AuthorizationCode {
        code,
        redirect_uri: Some(app.redirect_uris[0].clone()),
        code_verifier: None,
        resource: None,
    };
    let keys = TokenKeys {
        signer: &TestSigner,
        refresh_successor: [1; 32],
    };
    let tokens = token::grant(&c, &keys, &creds(&app.id, Some(SECRET)), &request)
        .await
        .expect("tokens");
    (t, app, tokens)
}
