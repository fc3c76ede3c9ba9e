//! OpenID Connect Back-Channel Logout 1.0: telling relying parties that a session ended.
//!
//! The operations that end sessions (end-session, sign out everywhere, disabling or deleting a
//! user) read, in their own batch, the clients holding live grants of what ended
//! (`storage::backchannel`); [`notify`] turns those into one [`LogoutMessage`] per client (and
//! session) on the [`LogoutQueue`]. The queue's consumer calls [`deliver`] per message: it
//! signs a fresh logout token, POSTs it through a [`LogoutTransport`], writes the result to the
//! audit log and says whether to try again later (`oidc::backchannel` has the rules).
//!
//! Messages carry no token: a token signed at logout time could expire while a delivery is
//! retried, so each attempt signs its own.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Signer;
use crate::crypto::random;
use crate::error::Result;
use crate::oidc::amr;
use crate::oidc::backchannel::{self as rules, LoggedOut, Verdict};
use crate::storage::audit::{self, Origin};
use crate::storage::backchannel::{self, LogoutTarget};
use crate::storage::backend::LocalFuture;
use crate::storage::db::Db;

/// Audit events of deliveries.
pub const DELIVERED: &str = "backchannel_logout.delivered";
pub const FAILED: &str = "backchannel_logout.failed";
pub const GAVE_UP: &str = "backchannel_logout.gave_up";

/// One logout to tell one client about, as the queue carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutMessage {
    pub tenant_id: String,
    /// The issuer the client knows the tenant by (the host the logout happened on).
    pub issuer: String,
    pub client_id: String,
    /// The user (`sub`).
    pub sub: String,
    /// The session (`sid`), when the logout is about one the client's grant began in.
    pub sid: Option<String>,
    /// Which delivery this is: 1 for the first.
    pub attempt: u32,
}

/// Where logout messages wait for delivery (a Cloudflare Queue in the Worker).
pub trait LogoutQueue {
    /// Queues `messages`, each to be delivered no sooner than `delay_secs` from now.
    fn send<'a>(
        &'a self,
        messages: &'a [LogoutMessage],
        delay_secs: u32,
    ) -> LocalFuture<'a, Result<()>>;
}

/// POSTs a logout token to a relying party (`fetch` in the Worker, with a timeout).
pub trait LogoutTransport {
    /// POSTs `body` as `application/x-www-form-urlencoded` to `uri`; the HTTP status, or why
    /// no response came (network error, timeout).
    fn post<'a>(
        &'a self,
        uri: &'a str,
        body: &'a str,
    ) -> LocalFuture<'a, std::result::Result<u16, String>>;
}

/// Where logouts go and the issuer they happen under: what the operations that end sessions
/// need to notify clients.
#[derive(Clone, Copy)]
pub struct Logouts<'a> {
    pub queue: &'a dyn LogoutQueue,
    pub issuer: &'a str,
}

/// The messages for the clients `targets` names; clients that need a `sid` the logout cannot
/// give get none (`oidc::backchannel::wants_logout`).
pub fn messages_for(tenant_id: &str, issuer: &str, targets: &[LogoutTarget]) -> Vec<LogoutMessage> {
    targets
        .iter()
        .filter(|t| rules::wants_logout(t.session_required, t.session_id.is_some()))
        .map(|t| LogoutMessage {
            tenant_id: tenant_id.to_string(),
            issuer: issuer.to_string(),
            client_id: t.client_id.clone(),
            sub: t.user_id.clone(),
            sid: t.session_id.as_deref().map(amr::sid),
            attempt: 1,
        })
        .collect()
}

/// Queues the logouts of `targets`. The sessions have already ended when this runs, so a queue
/// that refuses the messages does not fail the request: each undeliverable logout is written
/// to the audit log as given up instead.
pub async fn notify(
    db: &Db,
    logouts: &Logouts<'_>,
    tenant_id: &str,
    targets: &[LogoutTarget],
    origin: &Origin,
    now: i64,
) -> Result<()> {
    let messages = messages_for(tenant_id, logouts.issuer, targets);
    if messages.is_empty() {
        return Ok(());
    }
    let Err(e) = logouts.queue.send(&messages, 0).await else {
        return Ok(());
    };
    let entries = messages
        .iter()
        .map(|m| {
            audit::insert_statement(
                db,
                tenant_id,
                GAVE_UP,
                Some(&m.sub),
                Some(&m.client_id),
                origin,
                &json!({ "attempt": 0, "sid": m.sid, "error": format!("not queued: {e}") }),
                now,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    db.batch(entries).await?;
    Ok(())
}

/// What the queue should do with a message after [`deliver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Delivered, refused for good, given up, or nothing to deliver any more: acknowledge it.
    Done,
    /// Queue this message (the next attempt) to be delivered after `delay_secs`.
    Retry {
        message: LogoutMessage,
        delay_secs: u32,
    },
}

/// What a delivery works with.
pub struct Delivery<'a> {
    pub db: &'a Db,
    pub signer: &'a dyn Signer,
    pub transport: &'a dyn LogoutTransport,
    pub now: i64,
}

/// Delivers one logout: a fresh logout token for the client as it is now, POSTed to its
/// `backchannel_logout_uri`, with the result in the audit log.
pub async fn deliver(d: &Delivery<'_>, m: &LogoutMessage) -> Result<Next> {
    let facts = backchannel::delivery_facts(d.db, &m.tenant_id, &m.client_id).await?;
    // A tenant or client deleted since, a suspended tenant, or a client that no longer takes
    // logout tokens: nothing to tell anyone.
    let (Some(tenant), Some(client)) = (facts.tenant, facts.client) else {
        return Ok(Next::Done);
    };
    let Some(uri) = client.backchannel_logout_uri.as_deref() else {
        return Ok(Next::Done);
    };
    if !tenant.is_active() {
        return Ok(Next::Done);
    }
    let who = LoggedOut {
        sub: &m.sub,
        sid: m.sid.as_deref(),
    };
    let claims = rules::logout_token_claims(&m.issuer, &client.id, &who, d.now, &random::id());
    let token = d
        .signer
        .sign_jwt(&tenant, client.id_token_alg, rules::TYP, &claims)
        .await?;
    let answer = d.transport.post(uri, &rules::form_body(&token)).await;
    let (status, error) = match &answer {
        Ok(status) => (Some(*status), None),
        Err(e) => (None, Some(e.chars().take(200).collect::<String>())),
    };
    let verdict = rules::judge(status);
    let details = json!({ "attempt": m.attempt, "status": status, "error": error, "sid": m.sid });
    let retry = match verdict {
        Verdict::TryAgain => rules::retry_delay(m.attempt),
        Verdict::Delivered | Verdict::Refused => None,
    };
    let mut events = vec![if verdict == Verdict::Delivered {
        DELIVERED
    } else {
        FAILED
    }];
    if verdict != Verdict::Delivered && retry.is_none() {
        events.push(GAVE_UP);
    }
    let entries = events
        .into_iter()
        .map(|event| {
            audit::insert_statement(
                d.db,
                &m.tenant_id,
                event,
                Some(&m.sub),
                Some(&m.client_id),
                &Origin::default(),
                &details,
                d.now,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    d.db.batch(entries).await?;
    Ok(match retry {
        Some(delay_secs) => Next::Retry {
            message: LogoutMessage {
                attempt: m.attempt + 1,
                ..m.clone()
            },
            delay_secs,
        },
        None => Next::Done,
    })
}

/// A queue and a transport for native tests: the queue records what was sent, the transport
/// answers from a script and records what was POSTed.
#[cfg(test)]
pub mod recording {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    /// A queue that takes every message and forgets it, for tests about something else.
    pub struct DiscardingQueue;

    impl LogoutQueue for DiscardingQueue {
        fn send<'a>(&'a self, _: &'a [LogoutMessage], _: u32) -> LocalFuture<'a, Result<()>> {
            Box::pin(std::future::ready(Ok(())))
        }
    }

    pub const NOWHERE: Logouts<'static> = Logouts {
        queue: &DiscardingQueue,
        issuer: crate::testing::oidc::ISSUER,
    };

    #[derive(Default)]
    pub struct RecordingQueue {
        pub sent: RefCell<Vec<(LogoutMessage, u32)>>,
        /// Refuse every message (a queue that is down).
        pub broken: bool,
    }

    impl RecordingQueue {
        pub fn messages(&self) -> Vec<LogoutMessage> {
            self.sent.borrow().iter().map(|(m, _)| m.clone()).collect()
        }
    }

    impl LogoutQueue for RecordingQueue {
        fn send<'a>(
            &'a self,
            messages: &'a [LogoutMessage],
            delay_secs: u32,
        ) -> LocalFuture<'a, Result<()>> {
            if self.broken {
                return Box::pin(std::future::ready(Err(crate::error::Error::Internal(
                    "the queue is down".into(),
                ))));
            }
            self.sent
                .borrow_mut()
                .extend(messages.iter().map(|m| (m.clone(), delay_secs)));
            Box::pin(std::future::ready(Ok(())))
        }
    }

    /// Answers each POST with the next scripted result (200 once the script is used up).
    #[derive(Default)]
    pub struct ScriptedTransport {
        pub answers: RefCell<VecDeque<std::result::Result<u16, String>>>,
        pub posted: RefCell<Vec<(String, String)>>,
    }

    impl ScriptedTransport {
        pub fn answering(answers: &[std::result::Result<u16, &str>]) -> Self {
            Self {
                answers: RefCell::new(answers.iter().map(|a| a.map_err(str::to_string)).collect()),
                posted: RefCell::default(),
            }
        }
    }

    impl LogoutTransport for ScriptedTransport {
        fn post<'a>(
            &'a self,
            uri: &'a str,
            body: &'a str,
        ) -> LocalFuture<'a, std::result::Result<u16, String>> {
            self.posted
                .borrow_mut()
                .push((uri.to_string(), body.to_string()));
            let answer = self.answers.borrow_mut().pop_front().unwrap_or(Ok(200));
            Box::pin(std::future::ready(answer))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::recording::{RecordingQueue, ScriptedTransport};
    use super::*;
    use crate::crypto::jws;
    use crate::oidc::backchannel::{EVENT, MAX_ATTEMPTS};
    use crate::oidc::client::Client;
    use crate::storage::inspection::audit_events;
    use crate::storage::sessions::{self, SessionWithUser};
    use crate::tenancy::TenantSnapshot;
    use crate::testing::oidc::{code, creds, ctx, store_keys, tenant, TestSigner, ISSUER, SECRET};
    use crate::testing::{self, run, user, NOW};
    use crate::usecase::end_session::{self, EndSession};
    use crate::usecase::token::{self, TokenKeys};
    use crate::usecase::{Actor, AdminCtx};
    use serde_json::Value;

    /// A client taking logout tokens at `https://<name>.example.com/bc` (or none).
    async fn client(db: &Db, t: &TenantSnapshot, name: &str, bc: bool, needs_sid: bool) -> Client {
        let mut input = testing::client_input(name);
        if bc {
            input.backchannel_logout_uri = Some(format!("https://{name}.example.com/bc"));
        }
        input.backchannel_logout_session_required = needs_sid;
        testing::client(db, &t.tenant.id, &input, Some(SECRET)).await
    }

    /// A session of `user`, with a grant (tokens) for each of `clients` issued through it.
    async fn signed_in(
        db: &Db,
        t: &TenantSnapshot,
        user: &str,
        clients: &[&Client],
    ) -> SessionWithUser {
        let cookie = testing::session(db, &t.tenant.id, user, NOW).await;
        let c = ctx(db, t, NOW);
        for app in clients {
            let code = code(&c, app, &cookie, &[]).await;
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
            token::grant(&c, &keys, &creds(&app.id, Some(SECRET)), &request)
                .await
                .unwrap();
        }
        sessions::find(db, &t.tenant.id, &cookie, NOW)
            .await
            .unwrap()
            .unwrap()
    }

    fn logout(session: &SessionWithUser) -> EndSession<'_> {
        EndSession {
            session: Some(session),
            id_token_hint: None,
            request: crate::oidc::logout::LogoutRequest {
                post_logout_redirect_uri: None,
                state: None,
                client_id: None,
            },
            confirmed: true,
        }
    }

    fn sent_to(queue: &RecordingQueue) -> Vec<(String, String, Option<String>)> {
        let mut v: Vec<_> = queue
            .messages()
            .into_iter()
            .map(|m| (m.client_id, m.sub, m.sid))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn end_session_tells_exactly_the_clients_of_that_session_in_no_extra_round_trip() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let bob = user(&db, &t.tenant.id, "bob", false).await;
            let wiki = client(&db, &t, "wiki", true, false).await;
            let chat = client(&db, &t, "chat", true, true).await;
            let quiet = client(&db, &t, "quiet", false, false).await;
            let here = signed_in(&db, &t, &alice, &[&wiki, &chat, &quiet]).await;
            let elsewhere = signed_in(&db, &t, &alice, &[&wiki]).await;
            let bobs = signed_in(&db, &t, &bob, &[&wiki, &chat]).await;
            let c = ctx(&db, &t, NOW + 10);
            let queue = RecordingQueue::default();
            let trips = db.round_trips();
            end_session::end_session(&c, &logout(&here), &queue)
                .await
                .unwrap();
            assert_eq!(
                db.round_trips() - trips,
                1,
                "read in the batch that ends it"
            );
            let sid = Some(amr::sid(&here.id_hash));
            assert_eq!(
                sent_to(&queue),
                vec![
                    (chat.id.clone(), alice.clone(), sid.clone()),
                    (wiki.id.clone(), alice.clone(), sid.clone()),
                ]
            );
            assert!(queue
                .messages()
                .iter()
                .all(|m| m.issuer == ISSUER && m.tenant_id == t.tenant.id && m.attempt == 1));
            assert!(queue.sent.borrow().iter().all(|(_, delay)| *delay == 0));

            // Signing out everywhere tells the clients of the sessions still live, not again
            // those of the ended one; bob's clients hear nothing.
            let admin: AdminCtx = testing::admin_ctx(&db, &t.tenant.id, Actor::Operator);
            let everywhere = RecordingQueue::default();
            let logouts = Logouts {
                queue: &everywhere,
                issuer: ISSUER,
            };
            crate::usecase::users::sign_out_everywhere(&admin, &alice, &logouts)
                .await
                .unwrap();
            assert_eq!(
                sent_to(&everywhere),
                vec![(
                    wiki.id.clone(),
                    alice.clone(),
                    Some(amr::sid(&elsewhere.id_hash))
                )]
            );

            // Disabling bob tells his clients, once each, in the admin's batch.
            let disabled = RecordingQueue::default();
            let logouts = Logouts {
                queue: &disabled,
                issuer: ISSUER,
            };
            let input: crate::admin::user::AdminUserInput =
                serde_json::from_value(json!({ "disabled": true })).unwrap();
            crate::usecase::users::update(&admin, &bob, &input, &logouts)
                .await
                .unwrap();
            let sid = Some(amr::sid(&bobs.id_hash));
            assert_eq!(
                sent_to(&disabled),
                vec![
                    (chat.id.clone(), bob.clone(), sid.clone()),
                    (wiki.id.clone(), bob.clone(), sid.clone()),
                ]
            );
            // Nothing live is left to tell anyone about.
            let again = RecordingQueue::default();
            let logouts = Logouts {
                queue: &again,
                issuer: ISSUER,
            };
            crate::usecase::users::delete(&admin, &bob, &logouts)
                .await
                .unwrap();
            assert!(again.messages().is_empty());
        });
    }

    #[test]
    fn deleting_a_user_tells_their_clients_and_a_refused_delete_tells_none() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let root = user(&db, &t.tenant.id, "root", true).await;
            testing::passkey(&db, &t.tenant.id, &root, "root-key").await;
            let carol = user(&db, &t.tenant.id, "carol", false).await;
            let wiki = client(&db, &t, "wiki", true, false).await;
            signed_in(&db, &t, &carol, &[&wiki]).await;
            signed_in(&db, &t, &root, &[&wiki]).await;
            let admin = testing::admin_ctx(&db, &t.tenant.id, Actor::Operator);
            let queue = RecordingQueue::default();
            let logouts = Logouts {
                queue: &queue,
                issuer: ISSUER,
            };
            assert!(crate::usecase::users::delete(&admin, &root, &logouts)
                .await
                .is_err());
            assert!(queue.messages().is_empty(), "the last admin stays");
            crate::usecase::users::delete(&admin, &carol, &logouts)
                .await
                .unwrap();
            assert_eq!(sent_to(&queue).len(), 1);
            assert_eq!(queue.messages()[0].sub, carol);
        });
    }

    #[test]
    fn a_client_that_needs_a_sid_hears_nothing_without_one() {
        let target = |session_id: Option<&str>, session_required| LogoutTarget {
            client_id: "app".into(),
            user_id: "u".into(),
            session_id: session_id.map(str::to_string),
            session_required,
        };
        let m = messages_for(
            "t",
            ISSUER,
            &[
                target(None, true),
                target(None, false),
                target(Some("h"), true),
            ],
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].sid, None);
        assert_eq!(m[1].sid, Some(amr::sid("h")));
    }

    #[test]
    fn a_queue_that_is_down_does_not_fail_the_logout_and_is_recorded() {
        let db = testing::db();
        run(async {
            let t = tenant(&db).await;
            let alice = user(&db, &t.tenant.id, "alice", false).await;
            let wiki = client(&db, &t, "wiki", true, false).await;
            let here = signed_in(&db, &t, &alice, &[&wiki]).await;
            let c = ctx(&db, &t, NOW + 10);
            let queue = RecordingQueue {
                broken: true,
                ..Default::default()
            };
            end_session::end_session(&c, &logout(&here), &queue)
                .await
                .unwrap();
            let events = audit_events(&db, &t.tenant.id).await;
            let (event, user, details) = events.last().unwrap();
            assert_eq!(event, GAVE_UP);
            assert_eq!(user.as_deref(), Some(alice.as_str()));
            assert!(details["error"].as_str().unwrap().contains("not queued"));
        });
    }

    /// A tenant with stored keys, alice, and the message end-session queued for `wiki`.
    async fn queued(db: &Db) -> (TenantSnapshot, Client, LogoutMessage) {
        let t = tenant(db).await;
        store_keys(db, &t).await;
        let alice = user(db, &t.tenant.id, "alice", false).await;
        let wiki = client(db, &t, "wiki", true, false).await;
        let here = signed_in(db, &t, &alice, &[&wiki]).await;
        let queue = RecordingQueue::default();
        end_session::end_session(&ctx(db, &t, NOW), &logout(&here), &queue)
            .await
            .unwrap();
        let m = queue.messages().pop().unwrap();
        (t, wiki, m)
    }

    fn delivery<'a>(db: &'a Db, transport: &'a ScriptedTransport, now: i64) -> Delivery<'a> {
        Delivery {
            db,
            signer: &TestSigner,
            transport,
            now,
        }
    }

    fn deliveries(events: &[(String, Option<String>, Value)]) -> Vec<(String, Value, Value)> {
        events
            .iter()
            .filter(|(e, _, _)| e.starts_with("backchannel_logout."))
            .map(|(e, _, d)| (e.clone(), d["attempt"].clone(), d["status"].clone()))
            .collect()
    }

    #[test]
    fn a_delivery_posts_a_signed_logout_token_signed_when_sent() {
        let db = testing::db();
        run(async {
            let (t, wiki, m) = queued(&db).await;
            let transport = ScriptedTransport::answering(&[Ok(204)]);
            let later = NOW + 600;
            let next = deliver(&delivery(&db, &transport, later), &m)
                .await
                .unwrap();
            assert_eq!(next, Next::Done);
            let posted = transport.posted.borrow().clone();
            assert_eq!(posted.len(), 1);
            assert_eq!(posted[0].0, "https://wiki.example.com/bc");
            let token = posted[0].1.strip_prefix("logout_token=").unwrap();
            let claims = jws::verify(token, &t.jwks(NOW)).expect("signed with the tenant's key");
            assert_eq!(claims["iss"], ISSUER);
            assert_eq!(claims["aud"], wiki.id.as_str());
            assert_eq!(claims["sub"], m.sub.as_str());
            assert_eq!(claims["sid"], m.sid.clone().unwrap().as_str());
            assert_eq!(claims["iat"], later, "signed at delivery, not at logout");
            assert_eq!(claims["events"], json!({ EVENT: {} }));
            assert!(claims.get("nonce").is_none());
            let header: Value = serde_json::from_slice(
                &base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    token.split('.').next().unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            assert_eq!(header["typ"], "logout+jwt");
            let events = audit_events(&db, &t.tenant.id).await;
            assert_eq!(
                deliveries(&events),
                vec![(DELIVERED.to_string(), json!(1), json!(204))]
            );
        });
    }

    #[test]
    fn a_failed_delivery_is_retried_later_and_then_delivered() {
        let db = testing::db();
        run(async {
            let (t, _, m) = queued(&db).await;
            let transport =
                ScriptedTransport::answering(&[Ok(500), Err("connection refused"), Ok(200)]);
            let first = deliver(&delivery(&db, &transport, NOW), &m).await.unwrap();
            let Next::Retry {
                message: second,
                delay_secs,
            } = first
            else {
                panic!("{first:?}")
            };
            assert_eq!((second.attempt, delay_secs), (2, 5));
            let Next::Retry {
                message: third,
                delay_secs,
            } = deliver(&delivery(&db, &transport, NOW + 5), &second)
                .await
                .unwrap()
            else {
                panic!("retried again")
            };
            assert_eq!((third.attempt, delay_secs), (3, 15));
            assert_eq!(
                deliver(&delivery(&db, &transport, NOW + 20), &third)
                    .await
                    .unwrap(),
                Next::Done
            );
            let events = audit_events(&db, &t.tenant.id).await;
            assert_eq!(
                deliveries(&events),
                vec![
                    (FAILED.to_string(), json!(1), json!(500)),
                    (FAILED.to_string(), json!(2), Value::Null),
                    (DELIVERED.to_string(), json!(3), json!(200)),
                ]
            );
            let failed = events.iter().find(|(e, _, _)| e == FAILED).unwrap();
            assert_eq!(failed.1.as_deref(), Some(m.sub.as_str()));
        });
    }

    #[test]
    fn the_last_attempt_and_a_refusal_give_up() {
        let db = testing::db();
        run(async {
            let (t, _, m) = queued(&db).await;
            let transport = ScriptedTransport::answering(&[Ok(503), Ok(400)]);
            let last = LogoutMessage {
                attempt: MAX_ATTEMPTS,
                ..m.clone()
            };
            assert_eq!(
                deliver(&delivery(&db, &transport, NOW), &last)
                    .await
                    .unwrap(),
                Next::Done
            );
            assert_eq!(
                deliver(&delivery(&db, &transport, NOW), &m).await.unwrap(),
                Next::Done,
                "a 400 is not retried"
            );
            let events = audit_events(&db, &t.tenant.id).await;
            assert_eq!(
                deliveries(&events),
                vec![
                    (FAILED.to_string(), json!(MAX_ATTEMPTS), json!(503)),
                    (GAVE_UP.to_string(), json!(MAX_ATTEMPTS), json!(503)),
                    (FAILED.to_string(), json!(1), json!(400)),
                    (GAVE_UP.to_string(), json!(1), json!(400)),
                ]
            );
        });
    }

    #[test]
    fn nothing_is_sent_for_a_client_that_no_longer_takes_logout_tokens() {
        let db = testing::db();
        run(async {
            let (t, wiki, m) = queued(&db).await;
            let mut input = testing::client_input("wiki");
            input.backchannel_logout_uri = None;
            crate::storage::clients::save(
                &db,
                &t.tenant.id,
                &wiki.id,
                &input,
                wiki.id_token_alg,
                NOW,
                crate::storage::clients::SaveMode::Update { new_secret: None },
                None,
            )
            .await
            .unwrap();
            let transport = ScriptedTransport::default();
            assert_eq!(
                deliver(&delivery(&db, &transport, NOW), &m).await.unwrap(),
                Next::Done
            );
            let gone = LogoutMessage {
                client_id: "client-gone".into(),
                ..m.clone()
            };
            assert_eq!(
                deliver(&delivery(&db, &transport, NOW), &gone)
                    .await
                    .unwrap(),
                Next::Done
            );
            let other_tenant = LogoutMessage {
                tenant_id: "tenant-other".into(),
                ..m
            };
            assert_eq!(
                deliver(&delivery(&db, &transport, NOW), &other_tenant)
                    .await
                    .unwrap(),
                Next::Done
            );
            assert!(transport.posted.borrow().is_empty());
        });
    }
}
