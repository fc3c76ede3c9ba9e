//! Opening a request object (RFC 9101) sent by a known client: read it, check its signature
//! against the client's registered keys (the client-assertion key selection and the cached
//! `jwks_uri` fetch, `client_auth::verify_with_client_keys`), then its claims
//! (`oidc::request_object`). The client comes from the caller (already read from a replica by
//! /authorize, authenticated by the PAR endpoint): opening costs no database round trip.

use super::{client_auth, Ctx};
use crate::error::Result;
use crate::oidc::client::Client;
use crate::oidc::request_object::{self, RequestObjectError};

/// The authorization parameters of `jwt`, a request object `client` signed; the inner error
/// says why it is refused (`invalid_request_object`), the outer one is an infrastructure
/// failure.
pub async fn open(
    ctx: &Ctx<'_>,
    client: &Client,
    jwt: &str,
) -> Result<Result<Vec<(String, String)>, RequestObjectError>> {
    let read = match request_object::read(jwt) {
        Ok(read) => read,
        Err(e) => return Ok(Err(e)),
    };
    // Signature first: the claims of an object nobody vouches for say nothing.
    if let Err(e) = client_auth::verify_with_client_keys(ctx, &read, client).await? {
        return Ok(Err(e.into()));
    }
    Ok(request_object::authorization_params(
        &read.claims,
        &client.id,
        ctx.issuer,
        ctx.now,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::crypto::jwk::PublicJwk;
    use crate::crypto::jws::tests::{es256_key, sign_es256};
    use crate::oidc::client::ClientCredentials;
    use crate::oidc::client_assertion::JWT_BEARER;
    use crate::oidc::error::{ErrorCode, OAuthError};
    use crate::oidc::response::AuthorizationResponse;
    use crate::storage::db::Db;
    use crate::testing::oidc::{browser, ctx, tenant, ISSUER};
    use crate::testing::{self, run, user, NOW};
    use crate::usecase::authorize::{authorize, Outcome};
    use crate::usecase::par;

    const CALLBACK: &str = "https://app.example.com/callback";

    fn key() -> (p256::ecdsa::SigningKey, PublicJwk) {
        let (sk, mut jwk) = es256_key();
        jwk.kid = "k1".into();
        (sk, jwk)
    }

    async fn key_app(db: &Db, tenant_id: &str) -> Client {
        let (_, jwk) = key();
        testing::key_client(db, tenant_id, "app", Some(json!({ "keys": [jwk] })), None).await
    }

    fn object_claims(client: &Client) -> Value {
        json!({
            "iss": client.id, "aud": ISSUER, "client_id": client.id,
            "exp": NOW + 300, "iat": NOW,
            "response_type": "code", "redirect_uri": client.redirect_uris[0],
            "scope": "openid email", "state": "from-the-object", "nonce": "n1",
        })
    }

    fn signed(claims: &Value) -> String {
        let (sk, jwk) = key();
        sign_es256(&sk, &jwk, claims)
    }

    fn param<'a>(r: &'a AuthorizationResponse, name: &str) -> Option<&'a str> {
        r.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `/authorize?client_id=…&request=…` plus `extra` query parameters.
    fn query(client: &Client, jwt: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("client_id".to_string(), client.id.clone()),
            ("request".to_string(), jwt.to_string()),
        ];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        pairs
    }

    fn refused_page(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Stop {
                status: 400,
                message,
            } => {
                assert!(message.contains("invalid_request_object"), "{message}");
                message.clone()
            }
            other => panic!("expected the invalid_request_object page, got {other:?}"),
        }
    }

    #[test]
    fn a_signed_object_drives_the_code_flow_without_a_new_primary_trip() {
        let (db, dir) = testing::replicated_db("jar");
        run(async {
            let t = tenant(&db).await;
            let app = key_app(&db, &t.tenant.id).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let jwt = signed(&object_claims(&app));
            // The query's own parameters (but client_id) are ignored (RFC 9101 §5), an
            // unregistered redirect_uri included.
            let pairs = query(
                &app,
                &jwt,
                &[
                    ("redirect_uri", "https://evil.example.com/cb"),
                    ("state", "from-the-query"),
                    ("scope", "openid"),
                ],
            );
            let before = db.round_trips();
            let Outcome::Respond(r) = authorize(&c, &pairs, browser(&session)).await.unwrap()
            else {
                panic!("a code");
            };
            assert_eq!(db.round_trips() - before, 1, "as without a request object");
            assert_eq!(r.redirect_uri, CALLBACK);
            assert_eq!(param(&r, "state"), Some("from-the-object"));
            let code = param(&r, "code").expect("a code").to_string();
            // Tokens for the object's scope, the client authenticating with its key.
            let keys = crate::usecase::token::TokenKeys {
                signer: &crate::testing::oidc::TestSigner,
                refresh_successor: [1; 32],
            };
            let grant = crate::oidc::token::GrantRequest::AuthorizationCode {
                code,
                redirect_uri: Some(CALLBACK.into()),
                code_verifier: None,
                resource: None,
            };
            let tokens = crate::usecase::token::grant(&c, &keys, &assertion(&app, "t1"), &grant)
                .await
                .unwrap();
            assert_eq!(tokens.scope, "openid email");
            assert!(tokens.id_token.is_some());
        });
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn refused_objects_are_pages_never_redirects() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let app = key_app(&db, &t.tenant.id).await;
            let plain = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("plain"),
                Some("s"),
            )
            .await;
            let c = ctx(&db, &t, NOW);
            let b = browser("no-session");
            let mut wrong_aud = object_claims(&app);
            wrong_aud["aud"] = json!("https://other.example.com");
            let msg = refused_page(
                &authorize(&c, &query(&app, &signed(&wrong_aud), &[]), b)
                    .await
                    .unwrap(),
            );
            assert!(msg.contains("aud"), "{msg}");
            let mut expired = object_claims(&app);
            expired["exp"] = json!(NOW - 120);
            let msg = refused_page(
                &authorize(&c, &query(&app, &signed(&expired), &[]), b)
                    .await
                    .unwrap(),
            );
            assert!(msg.contains("expired"), "{msg}");
            // Signed by another key than the client's.
            let other = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
            let (_, jwk) = key();
            let forged = sign_es256(&other, &jwk, &object_claims(&app));
            let msg = refused_page(&authorize(&c, &query(&app, &forged, &[]), b).await.unwrap());
            assert!(msg.contains("signature"), "{msg}");
            // A client without keys cannot send request objects.
            let mut for_plain = object_claims(&plain);
            for_plain["redirect_uri"] = json!(plain.redirect_uris[0]);
            let msg = refused_page(
                &authorize(&c, &query(&plain, &signed(&for_plain), &[]), b)
                    .await
                    .unwrap(),
            );
            assert!(msg.contains("no registered keys"), "{msg}");
            // An object of one client sent under another client's id.
            let msg = refused_page(
                &authorize(&c, &query(&plain, &signed(&object_claims(&app)), &[]), b)
                    .await
                    .unwrap(),
            );
            assert!(!msg.is_empty());
            // Unknown client.
            let mut ghost = query(&app, &signed(&object_claims(&app)), &[]);
            ghost[0].1 = "ghost".into();
            refused_page(&authorize(&c, &ghost, b).await.unwrap());
        });
    }

    #[test]
    fn a_verified_object_with_a_bad_parameter_answers_the_client() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let app = key_app(&db, &t.tenant.id).await;
            let c = ctx(&db, &t, NOW);
            let mut bad_scope = object_claims(&app);
            bad_scope["scope"] = json!("email");
            let Outcome::Respond(r) =
                authorize(&c, &query(&app, &signed(&bad_scope), &[]), browser("x"))
                    .await
                    .unwrap()
            else {
                panic!("an error for the client");
            };
            assert_eq!(r.redirect_uri, CALLBACK);
            assert_eq!(param(&r, "error"), Some("invalid_scope"));
            assert_eq!(param(&r, "state"), Some("from-the-object"));
        });
    }

    fn assertion(client: &Client, jti: &str) -> ClientCredentials {
        let claims = json!({
            "iss": client.id, "sub": client.id, "aud": ISSUER,
            "iat": NOW, "exp": NOW + 60, "jti": jti,
        });
        ClientCredentials::from_form(None, None, None, Some(JWT_BEARER), Some(&signed(&claims)))
            .unwrap()
    }

    #[test]
    fn a_pushed_object_is_opened_at_the_push_and_its_request_uri_yields_a_code() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let app = key_app(&db, &t.tenant.id).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let session = testing::session(&db, &t.tenant.id, &alice, NOW).await;
            let c = ctx(&db, &t, NOW);
            let form = vec![
                ("request".to_string(), signed(&object_claims(&app))),
                ("state".to_string(), "ignored".to_string()),
            ];
            let pushed = par::push(&c, &assertion(&app, "j1"), &form).await.unwrap();
            let pairs = vec![
                ("client_id".to_string(), app.id.clone()),
                ("request_uri".to_string(), pushed.request_uri),
            ];
            let Outcome::Respond(r) = authorize(&c, &pairs, browser(&session)).await.unwrap()
            else {
                panic!("a code");
            };
            assert!(param(&r, "code").is_some());
            assert_eq!(param(&r, "state"), Some("from-the-object"));
            // A bad object is refused to the pushing client as JSON.
            let mut expired = object_claims(&app);
            expired["exp"] = json!(NOW - 120);
            let form = vec![("request".to_string(), signed(&expired))];
            match par::push(&c, &assertion(&app, "j2"), &form).await {
                Err(crate::error::Error::OAuth(OAuthError { code, .. })) => {
                    assert_eq!(code, ErrorCode::InvalidRequestObject)
                }
                other => panic!("expected invalid_request_object, got {other:?}"),
            }
        });
    }
}
