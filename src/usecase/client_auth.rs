//! Client authentication at the back-channel endpoints (token, introspection, revocation, PAR,
//! device authorization): the stored client, judged by the one rule
//! `ClientCredentials::authenticate`.
//!
//! A `private_key_jwt` assertion (RFC 7523) is checked before the rule can accept it: the
//! client is read (from a replica when the tenant allows it: this costs no primary round trip),
//! its keys found (inline, or fetched from its `jwks_uri`), the assertion's claims and
//! signature verified ([`verify_assertion`]); the credentials then carry what the batch acting
//! on them must spend (the `jti`), so a replayed assertion fails that batch.

use super::Ctx;
use crate::crypto::jwk::Jwks;
use crate::crypto::signature::SignatureCheck;
use crate::error::{Error, Result};
use crate::oidc::client::{AuthMethod, Client, ClientCredentials, ClientKeys};
use crate::oidc::client_assertion::{
    self, AssertionError, Expected, ReadAssertion, FEDERATED_MAX_LIFETIME_SECS,
};
use crate::oidc::discovery::Endpoints;
use crate::oidc::error::OAuthError;
use crate::storage::clients;
use crate::storage::spent::{self, Spend};

/// The client, if `stored` exists and the credentials authenticate it at `now`;
/// `invalid_client` otherwise (an unknown client and a wrong secret look the same).
pub fn judge(
    creds: &ClientCredentials,
    stored: Option<Client>,
    now: i64,
) -> Result<Client, OAuthError> {
    let client =
        stored.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    creds.authenticate(&client, now)?;
    Ok(client)
}

/// What a batch failing on an already spent assertion means to the client.
pub fn replayed_assertion() -> Error {
    OAuthError::from(AssertionError::Replayed).into()
}

/// The credentials ready for a batch: unchanged without an assertion; with one, verified
/// (claims, then signature by one of the client's keys), or refused with `invalid_client`
/// saying why. The batch must still spend it (`storage::codes::spend_assertion`).
pub async fn verify_assertion(
    ctx: &Ctx<'_>,
    creds: &ClientCredentials,
) -> Result<ClientCredentials> {
    let Some(assertion) = &creds.assertion else {
        return Ok(creds.clone());
    };
    let read = client_assertion::read(&assertion.jwt).map_err(OAuthError::from)?;
    let endpoints = Endpoints::for_issuer(ctx.issuer);
    // Another issuer's token: a federated client credential.
    match read.claims.get("iss").and_then(serde_json::Value::as_str) {
        Some(iss) if iss != creds.client_id => {
            let iss = iss.to_string();
            return verify_federated(ctx, creds, &read, &iss, &endpoints).await;
        }
        _ => {}
    }
    let verified = read
        .validate(&creds.client_id, &endpoints.assertion_audiences(), ctx.now)
        .map_err(OAuthError::from)?;
    // The client as the reader has it; a replica may lag a change (a client just created or
    // switched to private_key_jwt, keys just replaced), so a refusal there is asked again on
    // the primary.
    let reader = ctx.reader();
    let stored = clients::find_client(&reader, ctx.tenant_id(), &creds.client_id).await?;
    match verify_signature(ctx, &read, stored).await {
        Err(_) if reader.is_replica() => {
            let stored = clients::find_client(ctx.db, ctx.tenant_id(), &creds.client_id).await?;
            verify_signature(ctx, &read, stored).await?;
        }
        judged => judged?,
    }
    Ok(creds.clone().with_verified_assertion(verified))
}

/// Whether one of `stored`'s keys signed the assertion.
async fn verify_signature(
    ctx: &Ctx<'_>,
    read: &ReadAssertion,
    stored: Option<Client>,
) -> Result<()> {
    let client =
        stored.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Err(OAuthError::invalid_client(
            "this client is not registered for private_key_jwt client authentication",
        )
        .into());
    }
    verify_with_client_keys(ctx, read, &client)
        .await?
        .map_err(|e| OAuthError::from(e).into())
}

/// Whether one of `client`'s registered keys (inline, or from its `jwks_uri`, fetched again
/// once if the cached set has no fitting key: the client may have rotated) signed `read`:
/// client assertions and request objects (`usecase::request_object`) alike. The inner error
/// says why not; the outer one is a failure of the verifier itself.
pub async fn verify_with_client_keys(
    ctx: &Ctx<'_>,
    read: &ReadAssertion,
    client: &Client,
) -> Result<Result<(), AssertionError>> {
    let Some(keys) = client.keys.as_ref() else {
        return Ok(Err(AssertionError::NoKeys));
    };
    let checks = match keys {
        ClientKeys::Inline(text) => match serde_json::from_str::<Jwks>(text) {
            Ok(jwks) => read.checks(&jwks),
            Err(_) => Err(AssertionError::NoKeys),
        },
        ClientKeys::Uri(uri) => match fetch_jwks(ctx, uri, false).await {
            Err(_) => Err(AssertionError::JwksUnavailable),
            Ok(jwks) => match read.checks(&jwks) {
                Err(AssertionError::NoKey) => match fetch_jwks(ctx, uri, true).await {
                    Ok(jwks) => read.checks(&jwks),
                    Err(_) => Err(AssertionError::JwksUnavailable),
                },
                checks => checks,
            },
        },
    };
    match checks {
        Ok(checks) => verify_checks(ctx, &checks).await,
        Err(e) => Ok(Err(e)),
    }
}

/// Whether one of the checks verifies.
async fn verify_checks(
    ctx: &Ctx<'_>,
    checks: &[SignatureCheck],
) -> Result<Result<(), AssertionError>> {
    for check in checks {
        if ctx.verifier.verify(check).await? {
            return Ok(Ok(()));
        }
    }
    Ok(Err(AssertionError::BadSignature))
}

/// A federated client credential: `read` was issued by `iss`, an external issuer the client
/// trusts for the token's subject. The trust is looked up on the reader (the primary when the
/// reader has none: it may lag), the claims checked against it, and the signature against the
/// keys the issuer's discovery document names.
async fn verify_federated(
    ctx: &Ctx<'_>,
    creds: &ClientCredentials,
    read: &ReadAssertion,
    iss: &str,
    endpoints: &Endpoints,
) -> Result<ClientCredentials> {
    let sub = read
        .claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .ok_or(AssertionError::MissingClaim("sub"))
        .map_err(OAuthError::from)?;
    let trust = |stored: Option<Client>| {
        stored
            .filter(|c| c.auth_method == AuthMethod::PrivateKeyJwt)
            .and_then(|c| {
                c.federated
                    .into_iter()
                    .find(|f| f.issuer == iss && f.subject == sub)
            })
    };
    let reader = ctx.reader();
    let mut found = trust(clients::find_client(&reader, ctx.tenant_id(), &creds.client_id).await?);
    if found.is_none() && reader.is_replica() {
        found = trust(clients::find_client(ctx.db, ctx.tenant_id(), &creds.client_id).await?);
    }
    let fc = found.ok_or_else(|| {
        OAuthError::invalid_client(
            "the client trusts no federated credential for this assertion's issuer and subject",
        )
    })?;
    let ours = endpoints.assertion_audiences();
    let configured;
    let audiences: &[&str] = match &fc.audience {
        Some(aud) => {
            configured = [aud.as_str()];
            &configured
        }
        None => &ours,
    };
    let verified = read
        .validate_as(
            &Expected {
                client_id: &creds.client_id,
                issuer: &fc.issuer,
                subject: &fc.subject,
                audiences,
                max_lifetime: FEDERATED_MAX_LIFETIME_SECS,
            },
            ctx.now,
        )
        .map_err(OAuthError::from)?;
    let jwks_uri = issuer_jwks_uri(ctx, &fc.issuer).await?;
    let checks = match read.checks(&fetch_jwks(ctx, &jwks_uri, false).await?) {
        Err(AssertionError::NoKey) => read.checks(&fetch_jwks(ctx, &jwks_uri, true).await?),
        checks => checks,
    }
    .map_err(OAuthError::from)?;
    verify_checks(ctx, &checks)
        .await?
        .map_err(OAuthError::from)?;
    Ok(creds.clone().with_verified_assertion(verified))
}

/// The `jwks_uri` of an external issuer, from its discovery document (which must name the
/// same issuer, and keys at an https URL).
async fn issuer_jwks_uri(ctx: &Ctx<'_>, issuer: &str) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: String,
    }
    let refused = |why: &str| -> Error {
        OAuthError::invalid_client(format!("the federated issuer {issuer}: {why}")).into()
    };
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let body = ctx
        .jwks
        .fetch(&url, false)
        .await
        .map_err(|_| refused("its discovery document could not be fetched"))?;
    let doc: Discovery = serde_json::from_str(&body)
        .map_err(|_| refused("its discovery document has no jwks_uri"))?;
    if doc.issuer != issuer {
        return Err(refused("its discovery document names another issuer"));
    }
    crate::oidc::client::validate_jwks_uri(&doc.jwks_uri)
        .map_err(|_| refused("its jwks_uri is not an https URL"))?;
    Ok(doc.jwks_uri)
}

async fn fetch_jwks(ctx: &Ctx<'_>, uri: &str, fresh: bool) -> Result<Jwks> {
    let body = ctx.jwks.fetch(uri, fresh).await.map_err(|_| {
        Error::from(OAuthError::invalid_client(
            "the client's jwks_uri could not be fetched",
        ))
    })?;
    serde_json::from_str(&body).map_err(|_| {
        OAuthError::invalid_client("the client's jwks_uri does not serve a JWKS").into()
    })
}

/// Spends a verified assertion on its own, for endpoints without a batch to put it in
/// (introspection, revocation, PAR).
async fn spend_alone(ctx: &Ctx<'_>, creds: &ClientCredentials) -> Result<()> {
    if let Some(v) = creds.assertion.as_ref().and_then(|a| a.verified()) {
        let spend = Spend {
            id: &v.spent_id,
            expires_at: v.spent_until,
        };
        spent::spend(ctx.db, ctx.tenant_id(), spend)
            .await
            .map_err(spent::refuse_replay(replayed_assertion))?;
    }
    Ok(())
}

/// Loads the client the credentials name and authenticates it (one round trip; a client
/// assertion costs a replica read and one more trip to spend it).
pub async fn authenticate(ctx: &Ctx<'_>, creds: &ClientCredentials) -> Result<Client> {
    let creds = verify_assertion(ctx, creds).await?;
    spend_alone(ctx, &creds).await?;
    let stored = clients::find_client(ctx.db, ctx.tenant_id(), &creds.client_id).await?;
    Ok(judge(&creds, stored, ctx.now)?)
}

/// [`authenticate`] reading the client from `ctx.reader()` (a read replica near the Worker),
/// for an endpoint that writes nothing (PAR). A replica may lag: a client created or a secret
/// regenerated a moment ago may not be there yet, so a refusal there is asked again on the
/// primary. The other way round, a secret regenerated a moment ago may still be accepted
/// during the lag: what that buys (a pushed request) is worth nothing without the token
/// endpoint, which authenticates on the primary.
pub async fn authenticate_on_reader(ctx: &Ctx<'_>, creds: &ClientCredentials) -> Result<Client> {
    let creds = verify_assertion(ctx, creds).await?;
    spend_alone(ctx, &creds).await?;
    let reader = ctx.reader();
    let stored = clients::find_client(&reader, ctx.tenant_id(), &creds.client_id).await?;
    match judge(&creds, stored, ctx.now) {
        Err(_) if reader.is_replica() => {
            let stored = clients::find_client(ctx.db, ctx.tenant_id(), &creds.client_id).await?;
            Ok(judge(&creds, stored, ctx.now)?)
        }
        judged => Ok(judged?),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::crypto::jwk::PublicJwk;
    use crate::crypto::jws::tests::{es256_key, sign_es256};
    use crate::oidc::api::{ApiGrantInput, ApiInput, ClientApiGrants, Permission};
    use crate::oidc::client_assertion::JWT_BEARER;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::token::{GrantRequest, TokenResponse};
    use crate::storage::db::Db;
    use crate::testing::oidc::{creds, ctx, tenant, TestSigner, ISSUER};
    use crate::testing::{self, run, NOW};
    use crate::usecase::token::{self, TokenKeys};
    use crate::usecase::{apis, introspection, Actor};

    const API: &str = "https://orders.example.com";
    const TOKEN_URL: &str = "https://acme.id.example.com/api/oidc/token";
    const JWKS_URI: &str = "https://machine.example.com/jwks.json";

    /// The client's signing key (fixed P-256, kid "k1").
    fn key() -> (p256::ecdsa::SigningKey, PublicJwk) {
        let (sk, mut jwk) = es256_key();
        jwk.kid = "k1".into();
        // Registered JWKS often carry neither alg nor use.
        jwk.alg = None;
        jwk.key_use = None;
        (sk, jwk)
    }

    fn other_key() -> (p256::ecdsa::SigningKey, PublicJwk) {
        let sk = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
        let (_, mut jwk) = key();
        let point = sk.verifying_key().to_encoded_point(false);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        jwk.x = Some(b64.encode(point.x().unwrap()));
        jwk.y = Some(b64.encode(point.y().unwrap()));
        (sk, jwk)
    }

    fn claims(client_id: &str, jti: &str) -> Value {
        json!({ "iss": client_id, "sub": client_id, "aud": TOKEN_URL, "iat": NOW, "exp": NOW + 60, "jti": jti })
    }

    fn assertion_creds(jwt: &str) -> ClientCredentials {
        ClientCredentials::from_form(None, None, None, Some(JWT_BEARER), Some(jwt)).unwrap()
    }

    fn signed(client_id: &str, jti: &str) -> ClientCredentials {
        let (sk, jwk) = key();
        assertion_creds(&sign_es256(&sk, &jwk, &claims(client_id, jti)))
    }

    /// The orders API with "read", and `client_id` granted it.
    async fn api_for(db: &Db, tenant_id: &str, client_id: &str) {
        let admin = testing::admin_ctx(db, tenant_id, Actor::Operator);
        apis::create(
            &admin,
            &ApiInput {
                identifier: API.into(),
                name: "Orders".into(),
                permissions: vec![Permission {
                    value: "read".into(),
                    description: String::new(),
                }],
            },
        )
        .await
        .unwrap();
        apis::set_client_grants(
            &admin,
            client_id,
            &ClientApiGrants {
                grants: vec![ApiGrantInput {
                    api: API.into(),
                    permissions: vec!["read".into()],
                }],
            },
        )
        .await
        .unwrap();
    }

    async fn machine_token(ctx: &Ctx<'_>, creds: &ClientCredentials) -> Result<TokenResponse> {
        let keys = TokenKeys {
            signer: &TestSigner,
            refresh_successor: [1; 32],
        };
        let request = GrantRequest::ClientCredentials {
            resource: Some(API.into()),
            scope: None,
        };
        token::grant(ctx, &keys, creds, &request).await
    }

    fn refusal(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::OAuth(e)) => {
                assert_eq!(e.code, ErrorCode::InvalidClient, "{e:?}");
                assert_eq!(e.http_status(), 401);
                e.description.to_string()
            }
            other => panic!("expected invalid_client, got {other:?}"),
        }
    }

    #[test]
    fn a_private_key_jwt_client_gets_a_token_with_one_primary_trip_and_each_assertion_once() {
        let (db, dir) = testing::replicated_db("pkjwt");
        run(async {
            let t = tenant(&db).await;
            let (_, jwk) = key();
            let machine = testing::key_client(
                &db,
                &t.tenant.id,
                "machine",
                Some(json!({ "keys": [jwk] })),
                None,
            )
            .await;
            assert!(machine.secrets.is_empty(), "no secret for a key client");
            api_for(&db, &t.tenant.id, &machine.id).await;
            let c = ctx(&db, &t, NOW);
            let first = signed(&machine.id, "j1");
            let trips = db.round_trips();
            let tokens = machine_token(&c, &first).await.unwrap();
            assert_eq!(tokens.scope, "read");
            assert_eq!(
                db.round_trips() - trips,
                1,
                "the client is read on the replica, the assertion spent in the one batch"
            );
            // The same assertion again: a replay, refused, and nothing issued.
            let replay = refusal(machine_token(&c, &first).await);
            assert!(replay.contains("already used"), "{replay}");
            // A new jti works.
            machine_token(&c, &signed(&machine.id, "j2")).await.unwrap();
        });
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn assertions_and_secrets_each_authenticate_only_clients_registered_for_them() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let (_, jwk) = key();
            let machine = testing::key_client(
                &db,
                &t.tenant.id,
                "machine",
                Some(json!({ "keys": [jwk] })),
                None,
            )
            .await;
            api_for(&db, &t.tenant.id, &machine.id).await;
            let secretive =
                testing::client(&db, &t.tenant.id, &testing::client_input("app"), Some("s")).await;
            let c = ctx(&db, &t, NOW);
            // A secret for the key client: refused (it has none, and may not use one).
            refusal(machine_token(&c, &creds(&machine.id, Some("s"))).await);
            refusal(machine_token(&c, &creds(&machine.id, None)).await);
            // An assertion for a secret client, even signed by a key: refused.
            let msg = refusal(machine_token(&c, &signed(&secretive.id, "j1")).await);
            assert!(msg.contains("not registered for private_key_jwt"), "{msg}");
            // Signed by another key with the same kid: the signature fails.
            let (sk, jwk) = other_key();
            let forged = assertion_creds(&sign_es256(&sk, &jwk, &claims(&machine.id, "j3")));
            let msg = refusal(machine_token(&c, &forged).await);
            assert!(msg.contains("signature"), "{msg}");
            // Wrong audience, expired: refused before any key is looked at.
            let (sk, jwk) = key();
            let mut wrong_aud = claims(&machine.id, "j4");
            wrong_aud["aud"] = json!("https://other.example.com/token");
            let msg = refusal(
                machine_token(&c, &assertion_creds(&sign_es256(&sk, &jwk, &wrong_aud))).await,
            );
            assert!(msg.contains("aud"), "{msg}");
            let mut expired = claims(&machine.id, "j5");
            expired["exp"] = json!(NOW - 120);
            let msg = refusal(
                machine_token(&c, &assertion_creds(&sign_es256(&sk, &jwk, &expired))).await,
            );
            assert!(msg.contains("expired"), "{msg}");
            // An unknown client.
            refusal(machine_token(&c, &signed("ghost", "j6")).await);
            // The issuer as audience is fine too.
            let mut to_issuer = claims(&machine.id, "j7");
            to_issuer["aud"] = json!([ISSUER]);
            machine_token(&c, &assertion_creds(&sign_es256(&sk, &jwk, &to_issuer)))
                .await
                .unwrap();
        });
    }

    #[test]
    fn keys_at_a_jwks_uri_are_fetched_and_fetched_again_for_an_unknown_kid() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let (_, old) = other_key();
            let mut old = old;
            old.kid = "old".into();
            testing::serve_jwks(JWKS_URI, &json!({ "keys": [old] }).to_string());
            let machine =
                testing::key_client(&db, &t.tenant.id, "machine", None, Some(JWKS_URI)).await;
            api_for(&db, &t.tenant.id, &machine.id).await;
            let c = ctx(&db, &t, NOW);
            // The client rotated to k1 but the set still lacks it: fetched, fetched again
            // (fresh), still unknown.
            let msg = refusal(machine_token(&c, &signed(&machine.id, "j1")).await);
            assert!(
                msg.contains("none of the client's registered keys"),
                "{msg}"
            );
            assert_eq!(testing::jwks_fetches(JWKS_URI), 2);
            // Once served, the next assertion verifies.
            let (_, k1) = key();
            testing::serve_jwks(JWKS_URI, &json!({ "keys": [old, k1] }).to_string());
            machine_token(&c, &signed(&machine.id, "j2")).await.unwrap();
            // Unreachable: refused with a description saying so.
            let gone = testing::key_client(
                &db,
                &t.tenant.id,
                "gone",
                None,
                Some("https://gone.example/jwks"),
            )
            .await;
            let msg = refusal(machine_token(&c, &signed(&gone.id, "j3")).await);
            assert!(msg.contains("could not be fetched"), "{msg}");
        });
    }

    #[test]
    fn two_secrets_both_work_until_one_expires_or_is_deleted() {
        use crate::usecase::clients::{self as admin_clients, SecretInput};
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let machine = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("machine"),
                Some("first"),
            )
            .await;
            api_for(&db, &t.tenant.id, &machine.id).await;
            let admin = testing::admin_ctx(&db, &t.tenant.id, Actor::Operator);
            let second = admin_clients::add_secret(
                &admin,
                &machine.id,
                &SecretInput {
                    expires_at: Some(NOW + 600),
                },
            )
            .await
            .unwrap();
            let at = |now| ctx(&db, &t, now);
            let with = |secret: &str| creds(&machine.id, Some(secret));
            machine_token(&at(NOW), &with("first")).await.unwrap();
            machine_token(&at(NOW), &with(&second.client_secret))
                .await
                .unwrap();
            machine_token(&at(NOW + 599), &with(&second.client_secret))
                .await
                .unwrap();
            refusal(machine_token(&at(NOW + 600), &with(&second.client_secret)).await);
            machine_token(&at(NOW + 600), &with("first")).await.unwrap();
            // Deleted: refused at once.
            let first_id = machine.secrets[0].id.clone();
            admin_clients::delete_secret(&admin, &machine.id, &first_id)
                .await
                .unwrap();
            refusal(machine_token(&at(NOW), &with("first")).await);
            machine_token(&at(NOW), &with(&second.client_secret))
                .await
                .unwrap();
        });
    }

    #[test]
    fn a_trusted_external_issuers_token_is_a_federated_client_credential() {
        use crate::oidc::client::FederatedCredential;
        const CI: &str = "https://ci.example.com";
        const CI_JWKS: &str = "https://ci.example.com/keys";
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let (sk, ci_key) = key();
            testing::serve_jwks(
                "https://ci.example.com/.well-known/openid-configuration",
                &json!({ "issuer": CI, "jwks_uri": CI_JWKS }).to_string(),
            );
            testing::serve_jwks(CI_JWKS, &json!({ "keys": [ci_key] }).to_string());
            let input = crate::oidc::client::ClientInput {
                token_endpoint_auth_method: Some("private_key_jwt".into()),
                federated_credentials: vec![FederatedCredential {
                    issuer: CI.into(),
                    subject: "repo:acme/app:ref:refs/heads/main".into(),
                    audience: Some("edge-id".into()),
                }],
                ..testing::client_input("deployer")
            };
            let alg = input.validate().unwrap();
            crate::storage::clients::save(
                &db,
                &t.tenant.id,
                "client-deployer",
                &input,
                alg,
                NOW,
                crate::storage::clients::SaveMode::Create { secret: None },
                None,
            )
            .await
            .unwrap();
            api_for(&db, &t.tenant.id, "client-deployer").await;
            let c = ctx(&db, &t, NOW);
            let token = |sub: &str, aud: &str, jti: &str, exp: i64| {
                let claims = json!({ "iss": CI, "sub": sub, "aud": aud, "iat": NOW, "exp": exp, "jti": jti });
                let jwt = sign_es256(&sk, &ci_key, &claims);
                ClientCredentials::from_form(
                    None,
                    Some("client-deployer"),
                    None,
                    Some(JWT_BEARER),
                    Some(&jwt),
                )
                .unwrap()
            };
            let main = "repo:acme/app:ref:refs/heads/main";
            // A CI token for the trusted subject and audience, living longer than a client's
            // own assertion may (CI and Kubernetes tokens do).
            let ok = token(main, "edge-id", "ci-1", NOW + 900);
            machine_token(&c, &ok).await.unwrap();
            let msg = refusal(machine_token(&c, &ok).await);
            assert!(msg.contains("already used"), "{msg}");
            // Another subject (another branch), another audience, too long-lived: refused.
            let msg = refusal(
                machine_token(
                    &c,
                    &token(
                        "repo:acme/app:ref:refs/heads/evil",
                        "edge-id",
                        "ci-2",
                        NOW + 60,
                    ),
                )
                .await,
            );
            assert!(msg.contains("trusts no federated credential"), "{msg}");
            refusal(machine_token(&c, &token(main, TOKEN_URL, "ci-3", NOW + 60)).await);
            refusal(machine_token(&c, &token(main, "edge-id", "ci-4", NOW + 7200)).await);
            // Signed by another key: refused.
            let (other, mut other_jwk) = other_key();
            other_jwk.kid = ci_key.kid.clone();
            let forged = sign_es256(
                &other,
                &other_jwk,
                &json!({ "iss": CI, "sub": main, "aud": "edge-id", "iat": NOW, "exp": NOW + 60, "jti": "ci-5" }),
            );
            let forged = ClientCredentials::from_form(
                None,
                Some("client-deployer"),
                None,
                Some(JWT_BEARER),
                Some(&forged),
            )
            .unwrap();
            let msg = refusal(machine_token(&c, &forged).await);
            assert!(msg.contains("signature"), "{msg}");
            // The same token presented for another client that does not trust the issuer.
            let (_, jwk) = key();
            testing::key_client(
                &db,
                &t.tenant.id,
                "other",
                Some(json!({ "keys": [jwk] })),
                None,
            )
            .await;
            let for_other = {
                let claims = json!({ "iss": CI, "sub": main, "aud": "edge-id", "iat": NOW, "exp": NOW + 60, "jti": "ci-6" });
                let jwt = sign_es256(&sk, &ci_key, &claims);
                ClientCredentials::from_form(
                    None,
                    Some("client-other"),
                    None,
                    Some(JWT_BEARER),
                    Some(&jwt),
                )
                .unwrap()
            };
            refusal(machine_token(&c, &for_other).await);
            // A discovery document naming another issuer: refused.
            testing::serve_jwks(
                "https://ci.example.com/.well-known/openid-configuration",
                &json!({ "issuer": "https://evil.example.com", "jwks_uri": CI_JWKS }).to_string(),
            );
            let msg = refusal(machine_token(&c, &token(main, "edge-id", "ci-7", NOW + 60)).await);
            assert!(msg.contains("another issuer"), "{msg}");
        });
    }

    #[test]
    fn introspection_takes_an_assertion_once() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let (_, jwk) = key();
            let machine = testing::key_client(
                &db,
                &t.tenant.id,
                "machine",
                Some(json!({ "keys": [jwk] })),
                None,
            )
            .await;
            let c = ctx(&db, &t, NOW);
            let (sk, jwk) = key();
            let mut to_introspection = claims(&machine.id, "i1");
            to_introspection["aud"] = json!("https://acme.id.example.com/api/oidc/introspect");
            let creds = assertion_creds(&sign_es256(&sk, &jwk, &to_introspection));
            let answer = introspection::introspect(&c, &creds, Some("nothing"), None)
                .await
                .unwrap();
            assert!(!answer.is_active());
            refusal(introspection::introspect(&c, &creds, Some("nothing"), None).await);
        });
    }
}
