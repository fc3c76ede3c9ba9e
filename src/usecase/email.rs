//! Sending mail: the transport port ([`MailSender`]), the tenant's server and sender, the
//! audit entries of every attempt (`email_sent`, `email_failed` with the stage and the SMTP
//! reply code, never a password), another try later for a failure that may pass
//! ([`MailQueue`], `email::retry` has the rules), and the admin's test email.
//!
//! A use case that sends mail on a person's behalf returns a [`Delivery`] instead of waiting
//! for the SMTP dialogue: the HTTP layer answers first and runs [`deliver`] after the response
//! (the Worker's `waitUntil`). The test email waits: the admin wants the verdict.

use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCtx;
use crate::crypto::envelope::MasterKey;
use crate::email::config::{self, ConfigProblem, MailServer};
use crate::email::message::{self, Brand, Mail, MailKind, Sender};
use crate::email::retry::{self, Next};
use crate::email::smtp::{Envelope, SmtpError};
use crate::error::{Error, Result};
use crate::storage::audit::{self, Origin};
use crate::storage::backend::LocalFuture;
use crate::storage::db::Db;
use crate::tenancy::Tenant;

/// Sends one message (the port; in the Worker a Workers TCP socket for SMTP or the
/// `send_email` binding for Cloudflare Email Service, a loopback `TcpStream` in native tests).
pub trait MailSender {
    fn send<'a>(
        &'a self,
        server: &'a MailServer,
        client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, std::result::Result<(), Failure>>;
}

/// Where mails wait for another attempt (the `MAILS` Cloudflare Queue in the Worker).
pub trait MailQueue {
    /// Queues `retry`, to be tried no sooner than `delay_secs` from now.
    fn send<'a>(&'a self, retry: &'a MailRetry, delay_secs: u32) -> LocalFuture<'a, Result<()>>;
}

/// What sending needs besides the tenant: the transport, the master key (which opens the
/// tenant's SMTP password and seals mails waiting for a retry), the operator's default server
/// and, when failed mails are tried again, the queue they wait in.
#[derive(Clone)]
pub struct Post {
    pub sender: Rc<dyn MailSender>,
    pub master: MasterKey,
    pub operator_default: Option<MailServer>,
    pub retries: Option<Rc<dyn MailQueue>>,
}

/// The tenant's look in its mails; links on `issuer`, the host the request came to.
pub fn brand(tenant: &Tenant, issuer: &str) -> Brand {
    Brand {
        tenant_name: tenant.display_name.clone(),
        accent_color: tenant.settings.accent_color.clone(),
        logo_url: tenant.settings.logo_url.clone(),
        base_url: issuer.to_string(),
    }
}

/// A message ready to go, owning everything so it can be sent after the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub server: MailServer,
    pub client_name: String,
    pub envelope: Envelope,
    pub message: Vec<u8>,
    /// The mail it was made from: a retry makes the message again, for the server the tenant
    /// has by then.
    pub mail: Mail,
    pub issuer: String,
    pub tenant_id: String,
    pub user_id: Option<String>,
    pub origin: Origin,
    /// Which attempt this is (1 for the first).
    pub attempt: u32,
    /// Until when another attempt is worth making (`email::retry::deadline`).
    pub deadline: i64,
}

/// The EHLO name: the tenant's host from its issuer URL.
fn client_name(issuer: &str) -> String {
    url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into())
}

/// `mail` for `tenant`'s server (its own, else the operator's default), as bytes.
pub fn prepare(
    tenant: &Tenant,
    issuer: &str,
    post: &Post,
    mail: &Mail,
    user_id: Option<&str>,
    origin: &Origin,
    now: i64,
) -> std::result::Result<Delivery, ConfigProblem> {
    let server = config::resolve(
        tenant.settings.smtp.as_ref(),
        &tenant.id,
        &post.master,
        post.operator_default.as_ref(),
    )?;
    let sender = Sender {
        address: server.from_address().to_string(),
        name: server
            .from_name()
            .map_or_else(|| tenant.display_name.clone(), str::to_string),
    };
    let bytes = message::to_bytes(&sender, mail, now, &crate::crypto::random::token());
    Ok(Delivery {
        envelope: Envelope {
            from: server.from_address().to_string(),
            to: vec![mail.to_address.clone()],
        },
        server,
        client_name: client_name(issuer),
        message: bytes,
        mail: mail.clone(),
        issuer: issuer.to_string(),
        tenant_id: tenant.id.clone(),
        user_id: user_id.map(str::to_string),
        origin: origin.clone(),
        attempt: 1,
        deadline: retry::deadline(mail.kind, now),
    })
}

/// Why a mail was not sent, as the audit log and the admin see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// `config` when no server could be used, `cloudflare` for Cloudflare Email Service's
    /// refusal, else the SMTP stage.
    pub stage: String,
    /// The server's reply code, when it answered with one.
    pub code: Option<u16>,
    pub message: String,
    /// Whether it may pass by itself (`email::retry`): then the mail is tried again.
    #[serde(skip)]
    pub transient: bool,
}

impl Failure {
    /// Cloudflare Email Service's `send()` threw `message`.
    pub fn cloudflare(message: String) -> Self {
        Self {
            stage: "cloudflare".into(),
            code: None,
            transient: retry::cloudflare_transient(&message),
            message,
        }
    }
}

impl From<&SmtpError> for Failure {
    fn from(e: &SmtpError) -> Self {
        Self {
            stage: e.stage.as_str().into(),
            code: e.code(),
            message: e.to_string(),
            transient: retry::smtp_transient(e),
        }
    }
}

impl From<SmtpError> for Failure {
    fn from(e: SmtpError) -> Self {
        Self::from(&e)
    }
}

impl From<&ConfigProblem> for Failure {
    fn from(e: &ConfigProblem) -> Self {
        Self {
            stage: "config".into(),
            code: None,
            message: e.to_string(),
            transient: false,
        }
    }
}

/// An attempt that failed, for the audit log.
struct FailedAttempt<'a> {
    kind: MailKind,
    failure: &'a Failure,
    attempt: u32,
    retry: Retry,
}

/// Whether a failed attempt is followed by another.
enum Retry {
    /// Final (the failure cannot pass, the attempts are used up, or nothing queues retries).
    No,
    /// Queued: the next attempt in this many seconds.
    In(u32),
    /// Worth another try, but the queue refused it: final too, and the log says why.
    QueueFailed(String),
}

async fn record_failed_attempt(
    db: &Db,
    tenant_id: &str,
    user_id: Option<&str>,
    origin: &Origin,
    failed: FailedAttempt<'_>,
    now: i64,
) -> Result<()> {
    let f = failed.failure;
    let (retry_in, retry_error) = match failed.retry {
        Retry::No => (None, None),
        Retry::In(delay) => (Some(delay), None),
        Retry::QueueFailed(e) => (None, Some(e)),
    };
    let entry = audit::insert_statement(
        db,
        tenant_id,
        "email_failed",
        user_id,
        None,
        origin,
        &json!({ "kind": failed.kind.as_str(), "stage": f.stage, "smtp_code": f.code,
                 "error": f.message, "attempt": failed.attempt, "retry_in": retry_in,
                 "retry_error": retry_error }),
        now,
    )?;
    audit::record(db, entry).await
}

/// Records a mail that could not be sent (for lack of a usable server, say).
pub async fn record_failure(
    db: &Db,
    tenant_id: &str,
    kind: MailKind,
    user_id: Option<&str>,
    origin: &Origin,
    failure: &Failure,
    now: i64,
) -> Result<()> {
    let failed = FailedAttempt {
        kind,
        failure,
        attempt: 1,
        retry: Retry::No,
    };
    record_failed_attempt(db, tenant_id, user_id, origin, failed, now).await
}

/// A mail waiting in the queue for another attempt. The mail itself (a sign-in code, a link)
/// travels sealed with the master key, bound to its tenant and person: the queue holds no
/// readable secret, and a message moved to another tenant does not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRetry {
    pub tenant_id: String,
    pub issuer: String,
    pub user_id: Option<String>,
    pub origin: Origin,
    /// The [`Mail`] as JSON, sealed (`MasterKey::seal`).
    pub sealed_mail: String,
    /// The attempt this message is for (2 for the first retry).
    pub attempt: u32,
    pub deadline: i64,
}

fn retry_context(tenant_id: &str, user_id: Option<&str>) -> String {
    format!("mail retry\0{tenant_id}\0{}", user_id.unwrap_or(""))
}

/// Queues attempt `delivery.attempt + 1`; `Err` when the queue refused it.
async fn queue_retry(
    post: &Post,
    queue: &dyn MailQueue,
    delivery: &Delivery,
    delay_secs: u32,
) -> Result<()> {
    let mail = serde_json::to_vec(&delivery.mail).map_err(|e| Error::Internal(e.to_string()))?;
    let retry = MailRetry {
        tenant_id: delivery.tenant_id.clone(),
        issuer: delivery.issuer.clone(),
        user_id: delivery.user_id.clone(),
        origin: delivery.origin.clone(),
        sealed_mail: post.master.seal(
            &retry_context(&delivery.tenant_id, delivery.user_id.as_deref()),
            &mail,
        ),
        attempt: delivery.attempt + 1,
        deadline: delivery.deadline,
    };
    queue.send(&retry, delay_secs).await
}

/// Sends `delivery` and records `email_sent` or `email_failed` (with the stage, the reply
/// code, the attempt and, when the failure may pass and `post` has a queue, when the mail is
/// tried again). Returns what the attempt did; an audit write failure is the only `Err`.
pub async fn deliver(
    db: &Db,
    post: &Post,
    delivery: &Delivery,
    now: i64,
) -> Result<std::result::Result<(), Failure>> {
    let sent = post
        .sender
        .send(
            &delivery.server,
            &delivery.client_name,
            &delivery.envelope,
            &delivery.message,
        )
        .await;
    let user_id = delivery.user_id.as_deref();
    let kind = delivery.mail.kind;
    match sent {
        Ok(()) => {
            let entry = audit::insert_statement(
                db,
                &delivery.tenant_id,
                "email_sent",
                user_id,
                None,
                &delivery.origin,
                &json!({ "kind": kind.as_str(), "server": delivery.server.label(),
                         "attempt": delivery.attempt }),
                now,
            )?;
            audit::record(db, entry).await?;
            Ok(Ok(()))
        }
        Err(failure) => {
            let next = retry::next(failure.transient, delivery.attempt, now, delivery.deadline);
            let retry = match (&post.retries, next) {
                (Some(queue), Next::RetryIn(delay)) => {
                    match queue_retry(post, queue.as_ref(), delivery, delay).await {
                        Ok(()) => Retry::In(delay),
                        Err(e) => Retry::QueueFailed(e.to_string()),
                    }
                }
                _ => Retry::No,
            };
            let failed = FailedAttempt {
                kind,
                failure: &failure,
                attempt: delivery.attempt,
                retry,
            };
            record_failed_attempt(
                db,
                &delivery.tenant_id,
                user_id,
                &delivery.origin,
                failed,
                now,
            )
            .await?;
            Ok(Err(failure))
        }
    }
}

/// What became of a mail that waited for another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retried {
    /// Tried (sent, or failed and recorded, and maybe queued again).
    Attempted,
    /// Nothing can be sent for it: its tenant is gone, or it does not open.
    Dropped(&'static str),
}

/// One more attempt of a mail that waited in the queue: made again for the tenant's server as
/// it is now, sent, recorded, and queued again while the rules allow.
pub async fn retry(db: &Db, post: &Post, waiting: &MailRetry, now: i64) -> Result<Retried> {
    let Some(tenant) = crate::storage::tenants::find(db, &waiting.tenant_id).await? else {
        return Ok(Retried::Dropped("its tenant is gone"));
    };
    let user_id = waiting.user_id.as_deref();
    let Some(mail) = post
        .master
        .open(&retry_context(&tenant.id, user_id), &waiting.sealed_mail)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Mail>(&bytes).ok())
    else {
        return Ok(Retried::Dropped(
            "the mail does not open for its tenant and person",
        ));
    };
    let mut delivery = match prepare(
        &tenant,
        &waiting.issuer,
        post,
        &mail,
        user_id,
        &waiting.origin,
        now,
    ) {
        Ok(d) => d,
        Err(problem) => {
            let failed = FailedAttempt {
                kind: mail.kind,
                failure: &Failure::from(&problem),
                attempt: waiting.attempt,
                retry: Retry::No,
            };
            record_failed_attempt(db, &tenant.id, user_id, &waiting.origin, failed, now).await?;
            return Ok(Retried::Attempted);
        }
    };
    delivery.attempt = waiting.attempt;
    delivery.deadline = waiting.deadline;
    // Sent or not, the attempt is recorded (and queued again when the rules allow).
    let _outcome = deliver(db, post, &delivery, now).await?;
    Ok(Retried::Attempted)
}

/// What a mail an admin waited for did (the test email, a sign-in link, an invitation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailOutcome {
    pub sent: bool,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// Sends the test email to `to` through the tenant's server as D1 holds it now (a cached
/// snapshot may predate the settings just saved), waiting for the verdict.
pub async fn send_test(
    ctx: &AdminCtx<'_>,
    post: &Post,
    issuer: &str,
    to: &str,
    to_name: Option<&str>,
) -> Result<MailOutcome> {
    send_now(ctx, post, issuer, None, |brand| {
        message::test_mail(brand, to, to_name)
    })
    .await
}

/// Sends the mail `compose` makes (for the tenant's brand) on an admin's behalf, waiting for
/// the verdict, which is audited either way; `user_id` is who the mail is about.
pub async fn send_now(
    ctx: &AdminCtx<'_>,
    post: &Post,
    issuer: &str,
    user_id: Option<&str>,
    compose: impl FnOnce(&message::Brand) -> Mail,
) -> Result<MailOutcome> {
    let tenant = crate::storage::tenants::find(ctx.db, ctx.tenant_id)
        .await?
        .ok_or(Error::UnknownTenant)?;
    let mail = compose(&brand(&tenant, issuer));
    let origin = &ctx.author.origin;
    // The admin waits for the verdict and can send again: no retry behind their back.
    let once = Post {
        retries: None,
        ..post.clone()
    };
    let outcome = match prepare(&tenant, issuer, &once, &mail, user_id, origin, ctx.now) {
        Ok(delivery) => deliver(ctx.db, &once, &delivery, ctx.now).await?,
        Err(problem) => {
            let failure = Failure::from(&problem);
            record_failure(
                ctx.db,
                ctx.tenant_id,
                mail.kind,
                user_id,
                origin,
                &failure,
                ctx.now,
            )
            .await?;
            Err(failure)
        }
    };
    Ok(MailOutcome {
        sent: outcome.is_ok(),
        to: mail.to_address.clone(),
        failure: outcome.err(),
    })
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::email::config::CloudflareEmail;
    use crate::testing::mail::{loopback_server, RecordingQueue};
    use crate::testing::{self, db, run, tenant, NOW};

    const ISSUER: &str = "http://acme.localhost:8787";

    fn link_mail(to: &str) -> Mail {
        Mail {
            kind: MailKind::LoginLink,
            to_address: to.into(),
            to_name: None,
            subject: "Your sign-in link".into(),
            text: "Open http://acme.localhost:8787/login/abc".into(),
            html: "<p>Open the link</p>".into(),
        }
    }

    /// The native post with a queue that records, for the loopback server on `port`.
    fn post_with_queue(port: u16) -> (Post, Rc<RecordingQueue>) {
        let queue = Rc::new(RecordingQueue::default());
        let mut post = crate::testing::mail::post(port);
        post.retries = Some(queue.clone() as Rc<dyn MailQueue>);
        (post, queue)
    }

    /// A port nobody listens on.
    fn dead_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    fn failures(events: &[(String, Option<String>, serde_json::Value)]) -> Vec<serde_json::Value> {
        events
            .iter()
            .filter(|(e, _, _)| e == "email_failed")
            .map(|(_, _, d)| d.clone())
            .collect()
    }

    #[test]
    fn a_server_that_is_down_gets_the_mail_again_later_and_the_retry_is_sealed() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let (post, queue) = post_with_queue(dead_port());
            let mail = link_mail("ada@example.com");
            let origin = Origin::default();
            let delivery = prepare(&t, ISSUER, &post, &mail, Some("u1"), &origin, NOW).unwrap();
            let failed = deliver(&db, &post, &delivery, NOW).await.unwrap();
            assert!(failed.unwrap_err().transient);
            let queued = queue.queued.borrow().clone();
            assert_eq!(queued.len(), 1, "one retry queued");
            let (waiting, delay) = &queued[0];
            assert_eq!((*delay, waiting.attempt), (5, 2));
            assert_eq!(waiting.deadline, NOW + 3600);
            assert!(
                !waiting.sealed_mail.contains("sign-in link")
                    && !waiting.sealed_mail.contains("abc"),
                "the queue holds no readable mail"
            );
            let recorded = failures(&testing::audit_events(&db, &t.id).await);
            assert_eq!(recorded.len(), 1);
            assert_eq!(recorded[0]["stage"], "connect");
            assert_eq!(recorded[0]["attempt"], 1);
            assert_eq!(recorded[0]["retry_in"], 5);

            // The server is back: the retry makes the mail again and it arrives.
            let (port, server) = loopback_server();
            let (back, again) = post_with_queue(port);
            let outcome = retry(&db, &back, waiting, NOW + 5).await.unwrap();
            assert_eq!(outcome, Retried::Attempted);
            let received = server.join().unwrap();
            assert!(
                received.contains("Subject: Your sign-in link"),
                "{received}"
            );
            assert!(again.queued.borrow().is_empty());
            let sent: Vec<_> = testing::audit_events(&db, &t.id)
                .await
                .into_iter()
                .filter(|(e, _, _)| e == "email_sent")
                .collect();
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].2["attempt"], 2);
        });
    }

    #[test]
    fn a_retry_opens_only_for_its_tenant_and_person() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let other = tenant(&db, "beta").await;
            let (post, queue) = post_with_queue(dead_port());
            let mail = link_mail("ada@example.com");
            let delivery = prepare(
                &t,
                ISSUER,
                &post,
                &mail,
                Some("u1"),
                &Origin::default(),
                NOW,
            )
            .unwrap();
            deliver(&db, &post, &delivery, NOW)
                .await
                .unwrap()
                .unwrap_err();
            let (waiting, _) = queue.queued.borrow()[0].clone();
            for moved in [
                MailRetry {
                    tenant_id: other.id.clone(),
                    ..waiting.clone()
                },
                MailRetry {
                    user_id: Some("u2".into()),
                    ..waiting.clone()
                },
            ] {
                let outcome = retry(&db, &post, &moved, NOW + 5).await.unwrap();
                assert!(matches!(outcome, Retried::Dropped(_)), "{outcome:?}");
            }
            crate::storage::tenants::delete(&db, &t.id).await.unwrap();
            assert_eq!(
                retry(&db, &post, &waiting, NOW + 5).await.unwrap(),
                Retried::Dropped("its tenant is gone")
            );
        });
    }

    #[test]
    fn the_schedule_ends_and_final_failures_are_not_retried() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let (post, queue) = post_with_queue(dead_port());
            let mail = link_mail("ada@example.com");
            let mut delivery =
                prepare(&t, ISSUER, &post, &mail, None, &Origin::default(), NOW).unwrap();
            // The last attempt: nothing more is queued.
            delivery.attempt = crate::email::retry::MAX_ATTEMPTS;
            deliver(&db, &post, &delivery, NOW)
                .await
                .unwrap()
                .unwrap_err();
            assert!(queue.queued.borrow().is_empty());

            // Cloudflare refusing the sender is final (natively it always refuses).
            let mut cloudflare = post.clone();
            cloudflare.operator_default = Some(MailServer::Cloudflare(CloudflareEmail {
                from_address: "id@mail.test".into(),
            }));
            let delivery = prepare(
                &t,
                ISSUER,
                &cloudflare,
                &mail,
                None,
                &Origin::default(),
                NOW,
            )
            .unwrap();
            let failure = deliver(&db, &cloudflare, &delivery, NOW)
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(failure.stage, "cloudflare");
            assert!(queue.queued.borrow().is_empty());
            let recorded = failures(&testing::audit_events(&db, &t.id).await);
            assert!(
                recorded.iter().all(|f| f["retry_in"].is_null()),
                "{recorded:?}"
            );
        });
    }

    #[test]
    fn mail_an_admin_waits_for_is_not_retried_behind_their_back() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let (post, queue) = post_with_queue(dead_port());
            let ctx = testing::admin_ctx(&db, &t.id, super::super::Actor::Operator);
            // A sign-in link (a kind that would be retried when a person asked for it).
            let outcome = send_now(&ctx, &post, ISSUER, None, |_| link_mail("ada@example.com"))
                .await
                .unwrap();
            assert!(!outcome.sent);
            assert!(queue.queued.borrow().is_empty());
        });
    }
}
