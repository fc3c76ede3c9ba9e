//! The Worker's SMTP transport: a TCP socket from the Workers runtime (`connect()`, with TLS
//! from the start or upgraded by `startTls()`), driving the dialogue of `email::smtp`.

use std::future::Future;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use worker::{SecureTransport, Socket};

use crate::email::config::SmtpServer;
use crate::email::smtp::{self, Dialogue, Envelope, Problem, SmtpError, Stage, TlsMode, Wire};
use crate::error::Result as AppResult;
use crate::http::app::App;
use crate::storage::backend::LocalFuture;
use crate::usecase::email::{Delivery, MailSender, Post};

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

/// Sends through a Workers TCP socket.
pub struct SocketSender;

impl MailSender for SocketSender {
    fn send<'a>(
        &'a self,
        server: &'a SmtpServer,
        client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<(), SmtpError>> {
        Box::pin(async move {
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
            let result =
                result.unwrap_or_else(|| Err(SmtpError::new(dialogue.stage(), Problem::Timeout)));
            if let Some(mut socket) = wire.0.take() {
                let _ = socket.close().await;
            }
            result
        })
    }
}

/// Sends a sign-in's notice after the response, when one is due (`Started::notice`).
pub fn send_notice(
    app: &App,
    post: Post,
    notice: Option<Box<Delivery>>,
    now: i64,
) -> AppResult<()> {
    match notice {
        Some(delivery) => send_after_response(app, post, *delivery, now),
        None => Ok(()),
    }
}

/// Sends `delivery` after the response (the request's `waitUntil`): the person's page never
/// waits for a mail server. The outcome is in the audit log (`usecase::email::deliver`); the
/// console gets what the audit log could not record.
pub fn send_after_response(app: &App, post: Post, delivery: Delivery, now: i64) -> AppResult<()> {
    let db = app.db()?.clone();
    app.after_response(async move {
        match crate::usecase::email::deliver(&db, post.sender.as_ref(), &delivery, now).await {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => worker::console_error!("email not sent: {}", failure.message),
            Err(e) => worker::console_error!("email audit failed: {e}"),
        }
    });
    Ok(())
}
