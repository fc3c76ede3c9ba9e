//! The Worker's mail transports: SMTP over a TCP socket from the Workers runtime (`connect()`,
//! with TLS from the start or upgraded by `startTls()`) driving the dialogue of `email::smtp`,
//! and Cloudflare Email Service through the `send_email` binding `EMAIL`; and the `MAILS` queue
//! that holds failed mails for another attempt. `http::mail` uses them per request.

use std::future::Future;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use worker::{SecureTransport, Socket};

use crate::email::config::{MailServer, SmtpServer};
use crate::email::smtp::{self, Dialogue, Envelope, Problem, SmtpError, Stage, TlsMode, Wire};
use crate::error::{Error, Result as AppResult};
use crate::storage::backend::LocalFuture;
use crate::usecase::email::{Failure, MailQueue, MailRetry, MailSender};

/// A socket that can be swapped for its TLS upgrade (Workers' `startTls()` consumes it).
struct SocketWire(Option<Socket>);

impl SocketWire {
    fn socket(&mut self) -> Result<&mut Socket, String> {
        self.0
            .as_mut()
            .ok_or_else(|| "the socket is gone".to_string())
    }
}

impl Wire for SocketWire {
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> LocalFuture<'a, Result<usize, String>> {
        Box::pin(async move {
            let socket = self.socket()?;
            socket.read(buf).await.map_err(|e| e.to_string())
        })
    }

    fn write_all<'a>(&'a mut self, bytes: &'a [u8]) -> LocalFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let socket = self.socket()?;
            socket.write_all(bytes).await.map_err(|e| e.to_string())?;
            socket.flush().await.map_err(|e| e.to_string())
        })
    }

    fn start_tls(&mut self) -> LocalFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let plain = self
                .0
                .take()
                .ok_or_else(|| "the socket is gone".to_string())?;
            self.0 = Some(plain.start_tls());
            Ok(())
        })
    }
}

/// How long one message's whole dialogue may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Sends SMTP through a Workers TCP socket, and Cloudflare Email Service mail through the
/// `send_email` binding.
pub struct WorkerMailSender(pub worker::Env);

/// The `send_email` binding (wrangler.toml `[[send_email]]`).
const EMAIL_BINDING: &str = "EMAIL";

impl MailSender for WorkerMailSender {
    fn send<'a>(
        &'a self,
        server: &'a MailServer,
        client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            match server {
                MailServer::Smtp(smtp) => send_smtp(smtp, client_name, envelope, message)
                    .await
                    .map_err(Failure::from),
                MailServer::Cloudflare(_) => send_cloudflare(&self.0, envelope, message).await,
            }
        })
    }
}

/// One message per recipient through Cloudflare Email Service, as the MIME we built (so its
/// parts and headers are the same as over SMTP; Cloudflare adds its Message-ID and DKIM).
async fn send_cloudflare(
    env: &worker::Env,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), Failure> {
    let binding = env.send_email(EMAIL_BINDING).map_err(|e| Failure {
        stage: "cloudflare".into(),
        code: None,
        message: format!("the send_email binding {EMAIL_BINDING} is missing: {e}"),
        transient: false,
    })?;
    // Our MIME is 7-bit (mail-builder encodes every non-ASCII part), so it is a string as is.
    let raw = String::from_utf8_lossy(message);
    for to in &envelope.to {
        let email = worker::EmailMessage::new(&envelope.from, to, &raw)
            .map_err(|e| Failure::cloudflare(js_error(e.into())))?;
        binding
            .send(&email)
            .await
            .map_err(|e| Failure::cloudflare(js_error(e.into())))?;
    }
    Ok(())
}

fn js_error(e: wasm_bindgen::JsValue) -> String {
    js_sys::Error::from(e)
        .message()
        .as_string()
        .unwrap_or_else(|| "Cloudflare Email Service refused the mail".into())
}

async fn send_smtp(
    server: &SmtpServer,
    client_name: &str,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), SmtpError> {
    let mut dialogue = Dialogue::new(
        server.tls,
        client_name,
        server.credentials.clone(),
        envelope.clone(),
        message,
    )?;
    let transport = match server.tls {
        TlsMode::None => SecureTransport::Off,
        TlsMode::StartTls => SecureTransport::StartTls,
        TlsMode::Tls => SecureTransport::On,
    };
    let connect_failed = |e: String| SmtpError::new(Stage::Connect, Problem::Io(e));
    let socket = Socket::builder()
        .secure_transport(transport)
        .connect(server.host.clone(), server.port)
        .map_err(|e| connect_failed(e.to_string()))?;
    // Wait for the connection (and TLS handshake) so a refused connection is reported
    // as a connect failure, not as a missing greeting.
    socket
        .opened()
        .await
        .map_err(|e| connect_failed(e.to_string()))?;
    let mut wire = SocketWire(Some(socket));
    let result = {
        // A server that stops answering must not hold the request (or its waitUntil)
        // until the runtime cuts it: give up after TIMEOUT.
        let mut talk = std::pin::pin!(smtp::converse(&mut wire, &mut dialogue));
        let mut timer = std::pin::pin!(worker::Delay::from(TIMEOUT));
        std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(r) = talk.as_mut().poll(cx) {
                return std::task::Poll::Ready(Some(r));
            }
            timer.as_mut().poll(cx).map(|()| None)
        })
        .await
    };
    let result = result.unwrap_or_else(|| Err(SmtpError::new(dialogue.stage(), Problem::Timeout)));
    if let Some(mut socket) = wire.0.take() {
        let _ = socket.close().await;
    }
    result
}

/// The queue binding of mails waiting for another attempt (wrangler.toml).
pub const MAILS_BINDING: &str = "MAILS";

/// The Worker's [`MailQueue`]: the `MAILS` queue producer.
pub struct WorkerMailQueue(pub worker::Queue);

impl MailQueue for WorkerMailQueue {
    fn send<'a>(&'a self, retry: &'a MailRetry, delay_secs: u32) -> LocalFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let message = worker::MessageBuilder::new(retry.clone())
                .delay_seconds(delay_secs)
                .build();
            self.0
                .send(message)
                .await
                .map_err(|e| Error::Internal(format!("queue send: {e}")))
        })
    }
}
