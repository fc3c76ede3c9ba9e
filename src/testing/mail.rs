//! The SMTP transport of native tests: a plain `std::net::TcpStream` (no TLS), so
//! the dialogue is tested against a real server on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::email::config::SmtpServer;
use crate::email::smtp::{self, Dialogue, Envelope, Problem, SmtpError, Stage, TlsMode, Wire};
use crate::storage::backend::LocalFuture;

struct TcpWire(TcpStream);

impl Wire for TcpWire {
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> LocalFuture<'a, Result<usize, String>> {
        Box::pin(async move { self.0.read(buf).map_err(|e| e.to_string()) })
    }

    fn write_all<'a>(&'a mut self, bytes: &'a [u8]) -> LocalFuture<'a, Result<(), String>> {
        Box::pin(async move { self.0.write_all(bytes).map_err(|e| e.to_string()) })
    }

    fn start_tls(&mut self) -> LocalFuture<'_, Result<(), String>> {
        Box::pin(async { Err("TLS is not available on the native test transport".to_string()) })
    }
}

/// Sends over a plain TCP connection (refuses TLS modes: tests use a loopback server).
pub struct PlainTcpSender;

impl crate::usecase::email::MailSender for PlainTcpSender {
    fn send<'a>(
        &'a self,
        server: &'a SmtpServer,
        client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<(), SmtpError>> {
        Box::pin(async move {
            if server.tls == TlsMode::Tls {
                return Err(SmtpError::new(
                    Stage::Connect,
                    Problem::Io("implicit TLS is not available natively".into()),
                ));
            }
            let mut dialogue = Dialogue::new(
                server.tls,
                client_name,
                server.credentials.clone(),
                envelope.clone(),
                message,
            )?;
            let stream = TcpStream::connect((server.host.as_str(), server.port))
                .map_err(|e| SmtpError::new(Stage::Connect, Problem::Io(e.to_string())))?;
            let timeout = Some(Duration::from_secs(10));
            stream.set_read_timeout(timeout).ok();
            stream.set_write_timeout(timeout).ok();
            smtp::converse(&mut TcpWire(stream), &mut dialogue).await
        })
    }
}
