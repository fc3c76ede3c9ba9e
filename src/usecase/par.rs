//! Pushed authorization requests (RFC 9126): the push at `/api/oidc/par`, and taking a pushed
//! request at `/authorize`.
//!
//! Nothing is stored at the push: the request_uri IS the validated request, sealed
//! (`crate::crypto::sealed`) for this tenant and the pushing client, for
//! [`PUSHED_REQUEST_TTL`] seconds. So a push costs no D1 round trip beyond reading the client
//! (from a replica). /authorize opens it only with the same client_id, and spends it on the
//! primary (`spent_tokens`) before using it: a request_uri concludes at most one
//! authorization request, whatever the browser does next.

use super::{client_auth, request_object, Ctx};
use crate::crypto::sealed::{Binding, SealedKind};
use crate::error::Result;
use crate::oidc::authorize::Params;
use crate::oidc::client::ClientCredentials;
use crate::oidc::error::OAuthError;
use crate::oidc::par::{self, PushResponse, PushedRequest, PUSHED_REQUEST_TTL};
use crate::storage::spent::{self, Spend};

/// `POST /api/oidc/par`: authenticates the client, validates the authorization parameters in
/// `form` as /authorize would, and answers the request_uri that stands for them.
pub async fn push(
    ctx: &Ctx<'_>,
    creds: &ClientCredentials,
    form: &[(String, String)],
) -> Result<PushResponse> {
    let client = client_auth::authenticate_on_reader(ctx, creds).await?;
    // A request object (RFC 9101, RFC 9126 §3): only its verified parameters are pushed; the
    // form's others (client authentication aside) are ignored.
    let opened;
    let form = match Params::new(form).get("request")? {
        Some(jwt) => {
            opened = request_object::open(ctx, &client, jwt)
                .await?
                .map_err(OAuthError::from)?;
            opened.as_slice()
        }
        None => form,
    };
    let (pushed, _) = par::pushed_request(form, &client)?;
    let sealed = ctx.sealer.seal_text(
        SealedKind::PushedRequest,
        &binding(ctx, &client.id),
        ctx.now,
        PUSHED_REQUEST_TTL,
        &pushed,
    );
    Ok(PushResponse {
        request_uri: par::request_uri(&sealed),
        expires_in: PUSHED_REQUEST_TTL,
    })
}

/// Who may open a pushed request: the client that pushed it, on this tenant.
fn binding<'a>(ctx: &'a Ctx<'_>, client_id: &'a str) -> Binding<'a> {
    Binding {
        tenant_id: ctx.tenant_id(),
        holder: client_id,
    }
}

/// What /authorize works from.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// No request_uri of ours: the request's own parameters (a request_uri of any other form
    /// is refused by `oidc::authorize::parse` as unsupported).
    Plain,
    /// A pushed request, now spent: its parameters replace the request's (RFC 9126 §4).
    Pushed(Vec<(String, String)>),
    /// A request_uri of ours that cannot be used (`invalid_request_uri`): not this client's,
    /// expired, already used, or not one we issued. Its redirect_uri is unknown or not to be
    /// trusted, so this is an error page.
    Refused,
}

/// The pushed request `pairs` names with `client_id` and `request_uri`, spent; other
/// parameters of the request are ignored (RFC 9126 §4).
pub async fn take(ctx: &Ctx<'_>, pairs: &[(String, String)]) -> Result<Taken> {
    let params = Params::new(pairs);
    // A repeated or overlong request_uri is the plain path's error to report.
    let Some(sealed) = params
        .get("request_uri")
        .ok()
        .flatten()
        .and_then(par::sealed_part)
    else {
        return Ok(Taken::Plain);
    };
    let Ok(Some(client_id)) = params.get("client_id") else {
        return Ok(Taken::Refused);
    };
    let Ok(opened) = ctx.sealer.open_text::<PushedRequest>(
        SealedKind::PushedRequest,
        &binding(ctx, client_id),
        ctx.now,
        sealed,
    ) else {
        return Ok(Taken::Refused);
    };
    let spend = Spend {
        id: &opened.id,
        expires_at: opened.expires_at,
    };
    match spent::spend(ctx.db, ctx.tenant_id(), spend).await {
        Ok(()) => Ok(Taken::Pushed(opened.body.params)),
        Err(e) if spent::replayed(&e) => Ok(Taken::Refused),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::oidc::client::Client;
    use crate::oidc::error::{ErrorCode, OAuthError};
    use crate::oidc::token::GrantRequest;
    use crate::storage::db::Db;
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::{authorize_params, browser, creds, ctx, tenant, TestSigner, SECRET};
    use crate::testing::{self, run, user, NOW};
    use crate::usecase::authorize::{authorize, Outcome};
    use crate::usecase::token::{self, TokenKeys};

    /// A tenant with alice signed in and two confidential clients, "app" and "other".
    async fn setup(db: &Db, require_par: bool) -> (TenantSnapshot, Client, Client, String) {
        let t = tenant(db).await;
        let alice = user(db, &t.tenant.id, "alice", false).await;
        let mut input = testing::client_input("app");
        input.require_pushed_authorization_requests = require_par;
        let app = testing::client(db, &t.tenant.id, &input, Some(SECRET)).await;
        let other = testing::client(
            db,
            &t.tenant.id,
            &testing::client_input("other"),
            Some(SECRET),
        )
        .await;
        let session = testing::session(db, &t.tenant.id, &alice, NOW).await;
        (t, app, other, session)
    }

    /// The request_uri of a push of the client's authorization request (with `extra`).
    async fn pushed(c: &Ctx<'_>, client: &Client, extra: &[(&str, &str)]) -> String {
        let mut form = authorize_params(client, extra);
        form.push(("client_secret".into(), SECRET.into()));
        let answer = push(c, &creds(&client.id, Some(SECRET)), &form)
            .await
            .expect("a push");
        assert_eq!(answer.expires_in, 60);
        assert!(answer
            .request_uri
            .starts_with("urn:ietf:params:oauth:request_uri:"));
        answer.request_uri
    }

    /// `/authorize?client_id=…&request_uri=…` (plus `extra`, which a pushed request ignores).
    async fn authorize_pushed(
        c: &Ctx<'_>,
        client_id: &str,
        request_uri: &str,
        session: &str,
        extra: &[(&str, &str)],
    ) -> Outcome {
        let mut pairs = vec![
            ("client_id".to_string(), client_id.to_string()),
            ("request_uri".to_string(), request_uri.to_string()),
        ];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        authorize(c, &pairs, browser(session)).await.unwrap()
    }

    fn param(outcome: &Outcome, name: &str) -> Option<String> {
        let Outcome::Respond(r) = outcome else {
            panic!("a response to the client, got {outcome:?}")
        };
        r.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn refused(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Stop { status: 400, message } if message.contains("invalid_request_uri"))
    }

    #[test]
    fn a_pushed_request_works_once_at_authorize_and_yields_tokens() {
        let (db, dir) = testing::replicated_db("par");
        run(async {
            let (t, app, _, session) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let before = db.round_trips();
            let uri = pushed(&c, &app, &[("state", "pushed-state"), ("nonce", "n-1")]).await;
            assert_eq!(
                db.round_trips(),
                before,
                "a push reads the client from a replica"
            );
            // Parameters outside the pushed request are ignored (RFC 9126 §4), client_id aside.
            let outcome = authorize_pushed(
                &c,
                &app.id,
                &uri,
                &session,
                &[
                    ("state", "smuggled"),
                    ("redirect_uri", "https://evil.example.com/cb"),
                ],
            )
            .await;
            assert_eq!(param(&outcome, "state").as_deref(), Some("pushed-state"));
            let Outcome::Respond(r) = &outcome else {
                unreachable!()
            };
            assert_eq!(r.redirect_uri, app.redirect_uris[0]);
            let code = param(&outcome, "code").expect("a code");
            let keys = TokenKeys {
                signer: &TestSigner,
                refresh_successor: [1; 32],
            };
            let grant = GrantRequest::AuthorizationCode {
                code,
                redirect_uri: Some(app.redirect_uris[0].clone()),
                code_verifier: None,
                resource: None,
            };
            let tokens = token::grant(&c, &keys, &creds(&app.id, Some(SECRET)), &grant).await;
            assert!(tokens.is_ok(), "{tokens:?}");
            // Used once: a replay is refused on a page, and issues nothing.
            let again = authorize_pushed(&c, &app.id, &uri, &session, &[]).await;
            assert!(refused(&again), "{again:?}");
            assert_eq!(
                testing::count_rows(&db, "authorization_codes", &t.tenant.id).await,
                1
            );
        });
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn another_client_cannot_use_it_and_it_expires() {
        let db = testing::db();
        run(async {
            let (t, app, other, session) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let uri = pushed(&c, &app, &[]).await;
            let stolen = authorize_pushed(&c, &other.id, &uri, &session, &[]).await;
            assert!(refused(&stolen), "{stolen:?}");
            // Neither did the attempt spend it.
            let at_the_deadline = ctx(&db, &t, NOW + 59);
            let own = authorize_pushed(&at_the_deadline, &app.id, &uri, &session, &[]).await;
            assert!(param(&own, "code").is_some());
            let late_uri = pushed(&c, &app, &[]).await;
            let expired = ctx(&db, &t, NOW + 60);
            let late = authorize_pushed(&expired, &app.id, &late_uri, &session, &[]).await;
            assert!(refused(&late), "{late:?}");
            // Not ours, or no client_id to open it with: refused too.
            let forged = authorize_pushed(
                &c,
                &app.id,
                "urn:ietf:params:oauth:request_uri:AAAA",
                &session,
                &[],
            )
            .await;
            assert!(refused(&forged));
            let fresh = pushed(&c, &app, &[]).await;
            let pairs = vec![("request_uri".to_string(), fresh)];
            assert!(refused(
                &authorize(&c, &pairs, browser(&session)).await.unwrap()
            ));
            // Any other request_uri stays unsupported, as before PAR.
            let https = authorize(
                &c,
                &authorize_params(&app, &[("request_uri", "https://x.example/r")]),
                browser(&session),
            )
            .await
            .unwrap();
            assert_eq!(
                param(&https, "error").as_deref(),
                Some("request_uri_not_supported")
            );
        });
    }

    #[test]
    fn a_client_that_requires_par_is_refused_without_it() {
        let db = testing::db();
        run(async {
            let (t, app, _, session) = setup(&db, true).await;
            let c = ctx(&db, &t, NOW);
            let plain = authorize(
                &c,
                &authorize_params(&app, &[("state", "s1")]),
                browser(&session),
            )
            .await
            .unwrap();
            assert_eq!(param(&plain, "error").as_deref(), Some("invalid_request"));
            assert_eq!(param(&plain, "state").as_deref(), Some("s1"));
            assert_eq!(param(&plain, "code"), None);
            let uri = pushed(&c, &app, &[]).await;
            let outcome = authorize_pushed(&c, &app.id, &uri, &session, &[]).await;
            assert!(param(&outcome, "code").is_some(), "{outcome:?}");
        });
    }

    #[test]
    fn a_client_the_replica_has_not_seen_yet_is_authenticated_on_the_primary() {
        use crate::storage::backend::sqlite::Sqlite;
        let dir = std::env::temp_dir().join(format!(
            "edge-id-par-lag-{}",
            crate::crypto::random::token()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let primary_path = dir.join("primary.sqlite");
        let replica_path = dir.join("replica.sqlite");
        let primary = Db::new(Sqlite::open(&primary_path, true).unwrap());
        let t = run(tenant(&primary));
        // The replica is a copy taken now: it lags the client created next.
        std::fs::copy(&primary_path, &replica_path).unwrap();
        let db = primary.with_replica(Sqlite::open(&replica_path, false).unwrap());
        run(async {
            let app = testing::client(
                &db,
                &t.tenant.id,
                &testing::client_input("app"),
                Some(SECRET),
            )
            .await;
            let c = ctx(&db, &t, NOW);
            let (primary_before, replica_before) = (db.round_trips(), db.replica_round_trips());
            pushed(&c, &app, &[]).await;
            assert_eq!(
                db.replica_round_trips() - replica_before,
                1,
                "the replica first"
            );
            assert_eq!(
                db.round_trips() - primary_before,
                1,
                "the primary on the refusal"
            );
        });
        std::fs::remove_dir_all(dir).ok();
    }

    fn oauth_code(result: Result<PushResponse>) -> ErrorCode {
        match result {
            Err(Error::OAuth(OAuthError { code, .. })) => code,
            other => panic!("an OAuth error, got {other:?}"),
        }
    }

    #[test]
    fn a_push_is_authenticated_and_validated_like_authorize() {
        let db = testing::db();
        run(async {
            let (t, app, _, _) = setup(&db, false).await;
            let c = ctx(&db, &t, NOW);
            let form = authorize_params(&app, &[]);
            for bad in [
                creds(&app.id, Some("wrong")),
                creds(&app.id, None),
                creds("no-such-client", Some(SECRET)),
            ] {
                assert_eq!(
                    oauth_code(push(&c, &bad, &form).await),
                    ErrorCode::InvalidClient
                );
            }
            let good = creds(&app.id, Some(SECRET));
            let unregistered = authorize_params(&app, &[]);
            let unregistered: Vec<_> = unregistered
                .into_iter()
                .map(|(k, v)| {
                    let v = if k == "redirect_uri" {
                        "https://evil.example.com/cb".to_string()
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect();
            assert_eq!(
                oauth_code(push(&c, &good, &unregistered).await),
                ErrorCode::InvalidRequest
            );
            let mut no_openid = authorize_params(&app, &[]);
            no_openid.retain(|(k, _)| k != "scope");
            no_openid.push(("scope".into(), "email".into()));
            assert_eq!(
                oauth_code(push(&c, &good, &no_openid).await),
                ErrorCode::InvalidScope
            );
        });
    }
}
