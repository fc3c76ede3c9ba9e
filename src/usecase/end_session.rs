//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): `oidc::logout::plan` decides
//! from the verified `id_token_hint`, the client it names and the signed-in user; this use case
//! gathers those facts and ends the session (with the grants issued through it) when the plan
//! says so, then queues back-channel logout tokens for the clients that held grants of the
//! session (`usecase::backchannel`).

use super::backchannel::LogoutQueue;
use super::id_token_hint;
use super::Ctx;
use crate::error::Result;
use crate::oidc::logout::{self, Hint, LogoutPlan, LogoutRequest};
use crate::storage::{clients, sessions::SessionWithUser};

pub struct EndSession<'a> {
    /// The browser's live session, if any.
    pub session: Option<&'a SessionWithUser>,
    pub id_token_hint: Option<&'a str>,
    pub request: LogoutRequest,
    /// The user confirmed on our own confirmation form (the caller checked its origin and
    /// CSRF token).
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was done; explain why.
    Refused(&'static str),
    /// Ask the signed-in user to confirm (nothing was done yet).
    Confirm,
    /// Signed out (when there was a session); send the browser to this verified URL.
    Redirect { url: String },
    /// Signed out (when there was a session); show the signed-out page.
    SignedOut,
}

pub async fn end_session(
    ctx: &Ctx<'_>,
    input: &EndSession<'_>,
    queue: &dyn LogoutQueue,
) -> Result<Outcome> {
    let hint = id_token_hint::verify(ctx, input.id_token_hint).await?;
    let client = match &hint {
        Hint::Valid { client_id, .. } => {
            clients::find_client(ctx.db, ctx.tenant_id(), client_id).await?
        }
        _ => None,
    };
    let plan = logout::plan(
        &input.request,
        &hint,
        client.as_ref(),
        input.session.map(|s| s.user.id.as_str()),
    );
    Ok(match plan {
        LogoutPlan::Refuse(why) => Outcome::Refused(why),
        LogoutPlan::Confirm if !input.confirmed && input.session.is_some() => Outcome::Confirm,
        LogoutPlan::Redirect { url } => {
            sign_out(ctx, input.session, queue).await?;
            Outcome::Redirect { url }
        }
        LogoutPlan::SignOut | LogoutPlan::Confirm => {
            sign_out(ctx, input.session, queue).await?;
            Outcome::SignedOut
        }
    })
}

/// Ends the browser's session, when it has one (see `sessions::sign_out`).
async fn sign_out(
    ctx: &Ctx<'_>,
    session: Option<&SessionWithUser>,
    queue: &dyn LogoutQueue,
) -> Result<()> {
    match session {
        Some(s) => super::sessions::sign_out(ctx, s, queue).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::db::Db;
    use crate::storage::sessions;
    use crate::tenancy::TenantSnapshot;
    use crate::testing;
    use crate::testing::oidc::{code, creds, ctx, tenant, TestSigner, SECRET};
    use crate::testing::{grants, run, user, NOW};
    use crate::usecase::backchannel::recording::RecordingQueue;
    use crate::usecase::token::{self, TokenKeys};
    use crate::usecase::userinfo;

    const BYE: &str = "https://app.example.com/bye";

    struct Signed {
        t: TenantSnapshot,
        cookie: String,
        session: SessionWithUser,
        id_token: String,
        access_token: String,
    }

    /// Alice signed in, with tokens for a client that registered [`BYE`] for logout.
    async fn signed_in(db: &Db) -> Signed {
        let t = tenant(db).await;
        let alice = user(db, &t.tenant.id, "alice", false).await;
        let mut input = testing::client_input("app");
        input.logout_callback_urls = vec![BYE.into()];
        let app = testing::client(db, &t.tenant.id, &input, Some(SECRET)).await;
        let cookie = testing::session(db, &t.tenant.id, &alice, NOW).await;
        let c = ctx(db, &t, NOW);
        let code = code(&c, &app, &cookie, &[]).await;
        let request = crate::oidc::token::GrantRequest::AuthorizationCode {
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
            .unwrap();
        let session = sessions::find(db, &t.tenant.id, &cookie, NOW)
            .await
            .unwrap()
            .unwrap();
        Signed {
            t,
            cookie,
            session,
            id_token: tokens.id_token.unwrap(),
            access_token: tokens.access_token,
        }
    }

    fn request(uri: Option<&str>, state: Option<&str>) -> LogoutRequest {
        LogoutRequest {
            post_logout_redirect_uri: uri.map(str::to_string),
            state: state.map(str::to_string),
            client_id: None,
        }
    }

    async fn still_signed_in(db: &Db, s: &Signed) -> bool {
        sessions::find(db, &s.t.tenant.id, &s.cookie, NOW)
            .await
            .unwrap()
            .is_some()
    }

    #[test]
    fn a_bare_request_asks_first_and_the_confirmation_signs_out_and_revokes() {
        let db = testing::db();
        run(async {
            let s = signed_in(&db).await;
            let c = ctx(&db, &s.t, NOW);
            let mut input = EndSession {
                session: Some(&s.session),
                id_token_hint: None,
                request: request(None, None),
                confirmed: false,
            };
            assert_eq!(
                end_session(&c, &input, &RecordingQueue::default())
                    .await
                    .unwrap(),
                Outcome::Confirm
            );
            assert!(still_signed_in(&db, &s).await, "asking changes nothing");
            assert!(userinfo::claims_for(&c, &s.access_token).await.is_ok());
            input.confirmed = true;
            assert_eq!(
                end_session(&c, &input, &RecordingQueue::default())
                    .await
                    .unwrap(),
                Outcome::SignedOut
            );
            assert!(!still_signed_in(&db, &s).await);
            assert!(userinfo::claims_for(&c, &s.access_token).await.is_err());
            assert!(grants(&db, &s.t.tenant.id)
                .await
                .iter()
                .all(|g| g.revoked_at == Some(NOW)));
        });
    }

    #[test]
    fn a_hint_we_signed_and_a_registered_uri_redirect_with_state() {
        let db = testing::db();
        run(async {
            let s = signed_in(&db).await;
            let c = ctx(&db, &s.t, NOW);
            let input = EndSession {
                session: Some(&s.session),
                id_token_hint: Some(&s.id_token),
                request: request(Some(BYE), Some("xyz")),
                confirmed: false,
            };
            assert_eq!(
                end_session(&c, &input, &RecordingQueue::default())
                    .await
                    .unwrap(),
                Outcome::Redirect {
                    url: format!("{BYE}?state=xyz")
                }
            );
            assert!(!still_signed_in(&db, &s).await);
            assert!(userinfo::claims_for(&c, &s.access_token).await.is_err());
        });
    }

    #[test]
    fn a_forged_hint_or_an_unregistered_uri_is_refused_and_changes_nothing() {
        let db = testing::db();
        run(async {
            let s = signed_in(&db).await;
            let c = ctx(&db, &s.t, NOW);
            // One signature character changed (not the last: it carries only two bits).
            let mut forged: Vec<char> = s.id_token.chars().collect();
            let i = forged.len() - 10;
            forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
            let forged: String = forged.into_iter().collect();
            for (hint, uri) in [
                (forged.as_str(), BYE),
                (s.id_token.as_str(), "https://evil.example.com/"),
            ] {
                let input = EndSession {
                    session: Some(&s.session),
                    id_token_hint: Some(hint),
                    request: request(Some(uri), None),
                    confirmed: true,
                };
                assert!(matches!(
                    end_session(&c, &input, &RecordingQueue::default())
                        .await
                        .unwrap(),
                    Outcome::Refused(_)
                ));
            }
            assert!(still_signed_in(&db, &s).await);
            assert!(grants(&db, &s.t.tenant.id).await[0].revoked_at.is_none());
        });
    }

    #[test]
    fn without_a_session_there_is_nothing_to_end() {
        let db = testing::db();
        run(async {
            let s = signed_in(&db).await;
            let c = ctx(&db, &s.t, NOW);
            let input = EndSession {
                session: None,
                id_token_hint: None,
                request: request(None, None),
                confirmed: false,
            };
            assert_eq!(
                end_session(&c, &input, &RecordingQueue::default())
                    .await
                    .unwrap(),
                Outcome::SignedOut
            );
            assert!(
                still_signed_in(&db, &s).await,
                "another browser's session is untouched"
            );
        });
    }

    #[test]
    fn signing_out_on_the_account_page_ends_the_sessions_grants_as_logout_does() {
        let db = testing::db();
        run(async {
            let s = signed_in(&db).await;
            let c = ctx(&db, &s.t, NOW);
            let queue = RecordingQueue::default();
            crate::usecase::sessions::sign_out(&c, &s.session, &queue)
                .await
                .unwrap();
            assert!(!still_signed_in(&db, &s).await);
            assert!(
                userinfo::claims_for(&c, &s.access_token).await.is_err(),
                "the tokens issued through the session are revoked"
            );
            assert!(grants(&db, &s.t.tenant.id)
                .await
                .iter()
                .all(|g| g.revoked_at.is_some()));
        });
    }
}
