//! Sending mail: the transport port ([`MailSender`]), the tenant's server and sender, the
//! audit entries of every attempt (`email_sent`, `email_failed` with the stage and the SMTP
//! reply code, never a password), and the admin's test email.
//!
//! A use case that sends mail on a person's behalf returns a [`Delivery`] instead of waiting
//! for the SMTP dialogue: the HTTP layer answers first and runs [`deliver`] after the response
//! (the Worker's `waitUntil`). The test email waits: the admin wants the verdict.

use std::rc::Rc;

use serde::Serialize;
use serde_json::json;

use super::AdminCtx;
use crate::crypto::envelope::MasterKey;
use crate::email::config::{self, ConfigProblem, SmtpServer};
use crate::email::message::{self, Brand, Mail, MailKind, Sender};
use crate::email::smtp::{Envelope, SmtpError};
use crate::error::{Error, Result};
use crate::storage::audit::{self, Origin};
use crate::storage::backend::LocalFuture;
use crate::storage::db::Db;
use crate::tenancy::Tenant;

/// Sends one message over SMTP (the port; a Workers TCP socket in the Worker, a loopback
/// `TcpStream` or a recorder in native tests).
pub trait MailSender {
    fn send<'a>(
        &'a self,
        server: &'a SmtpServer,
        client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, std::result::Result<(), SmtpError>>;
}

/// What sending needs besides the tenant: the transport, the master key (which opens the
/// tenant's SMTP password) and the operator's default server.
#[derive(Clone)]
pub struct Post {
    pub sender: Rc<dyn MailSender>,
    pub master: MasterKey,
    pub operator_default: Option<SmtpServer>,
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
    pub server: SmtpServer,
    pub client_name: String,
    pub envelope: Envelope,
    pub message: Vec<u8>,
    pub kind: MailKind,
    pub tenant_id: String,
    pub user_id: Option<String>,
    pub origin: Origin,
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
        address: server.from_address.clone(),
        name: server
            .from_name
            .clone()
            .unwrap_or_else(|| tenant.display_name.clone()),
    };
    let bytes = message::to_bytes(&sender, mail, now, &crate::crypto::random::token());
    Ok(Delivery {
        envelope: Envelope {
            from: server.from_address.clone(),
            to: vec![mail.to_address.clone()],
        },
        server,
        client_name: client_name(issuer),
        message: bytes,
        kind: mail.kind,
        tenant_id: tenant.id.clone(),
        user_id: user_id.map(str::to_string),
        origin: origin.clone(),
    })
}

/// Why a mail was not sent, as the audit log and the admin see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// `config` when no server could be used, else the SMTP stage.
    pub stage: String,
    /// The server's reply code, when it answered with one.
    pub code: Option<u16>,
    pub message: String,
}

impl From<&SmtpError> for Failure {
    fn from(e: &SmtpError) -> Self {
        Self {
            stage: e.stage.as_str().into(),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<&ConfigProblem> for Failure {
    fn from(e: &ConfigProblem) -> Self {
        Self {
            stage: "config".into(),
            code: None,
            message: e.to_string(),
        }
    }
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
    let entry = audit::insert_statement(
        db,
        tenant_id,
        "email_failed",
        user_id,
        None,
        origin,
        &json!({ "kind": kind.as_str(), "stage": failure.stage, "smtp_code": failure.code,
                 "error": failure.message }),
        now,
    )?;
    audit::record(db, entry).await
}

/// Sends `delivery` and records `email_sent` or `email_failed` (with the stage and the reply
/// code). Returns what the SMTP dialogue said; an audit write failure is the only `Err`.
pub async fn deliver(
    db: &Db,
    sender: &dyn MailSender,
    delivery: &Delivery,
    now: i64,
) -> Result<std::result::Result<(), Failure>> {
    let sent = sender
        .send(
            &delivery.server,
            &delivery.client_name,
            &delivery.envelope,
            &delivery.message,
        )
        .await;
    let user_id = delivery.user_id.as_deref();
    match &sent {
        Ok(()) => {
            let entry = audit::insert_statement(
                db,
                &delivery.tenant_id,
                "email_sent",
                user_id,
                None,
                &delivery.origin,
                &json!({ "kind": delivery.kind.as_str(), "server": delivery.server.host }),
                now,
            )?;
            audit::record(db, entry).await?;
            Ok(Ok(()))
        }
        Err(e) => {
            let failure = Failure::from(e);
            record_failure(
                db,
                &delivery.tenant_id,
                delivery.kind,
                user_id,
                &delivery.origin,
                &failure,
                now,
            )
            .await?;
            Ok(Err(failure))
        }
    }
}

/// What the admin's test email did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestOutcome {
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
) -> Result<TestOutcome> {
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
) -> Result<TestOutcome> {
    let tenant = crate::storage::tenants::find(ctx.db, ctx.tenant_id)
        .await?
        .ok_or(Error::UnknownTenant)?;
    let mail = compose(&brand(&tenant, issuer));
    let origin = &ctx.author.origin;
    let outcome = match prepare(&tenant, issuer, post, &mail, user_id, origin, ctx.now) {
        Ok(delivery) => deliver(ctx.db, post.sender.as_ref(), &delivery, ctx.now).await?,
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
    Ok(TestOutcome {
        sent: outcome.is_ok(),
        to: mail.to_address.clone(),
        failure: outcome.err(),
    })
}
