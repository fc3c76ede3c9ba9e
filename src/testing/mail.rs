//! The SMTP transport of native tests: a plain `std::net::TcpStream` (no TLS), so
//! the dialogue is tested against a real server on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::email::config::{MailServer, SmtpServer};
use crate::email::smtp::{self, Dialogue, Envelope, Problem, SmtpError, Stage, TlsMode, Wire};
use crate::storage::backend::LocalFuture;
use crate::usecase::email::Failure;

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
        server: &'a MailServer,
        client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            match server {
                MailServer::Smtp(smtp) => send_plain(smtp, client_name, envelope, message)
                    .await
                    .map_err(Failure::from),
                MailServer::Cloudflare(_) => Err(Failure::cloudflare(
                    "Cloudflare Email Service is not available natively".into(),
                )),
            }
        })
    }
}

async fn send_plain(
    server: &SmtpServer,
    client_name: &str,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), SmtpError> {
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
}

/// A [`post`] for use cases that take one but send nothing in the test (nothing listens on
/// port 9, the discard port, on the test machine).
pub fn unused_post() -> crate::usecase::email::Post {
    post(9)
}

/// What the native tests send mail with: the plain transport, a fixed master key and the
/// loopback server on `port` as the deployment's default.
pub fn post(port: u16) -> crate::usecase::email::Post {
    crate::usecase::email::Post {
        sender: std::rc::Rc::new(crate::testing::mail::PlainTcpSender),
        master: crate::crypto::envelope::MasterKey::from_base64(&base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [7u8; 32],
        ))
        .unwrap(),
        operator_default: Some(MailServer::Smtp(SmtpServer {
            host: "127.0.0.1".into(),
            port,
            tls: TlsMode::None,
            credentials: None,
            from_address: "id@acme.test".into(),
            from_name: None,
        })),
        retries: None,
    }
}

/// A one-shot SMTP server on loopback: answers a plain dialogue, returns the DATA received.
pub fn loopback_server() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut out = stream;
        out.write_all(b"220 loopback ESMTP\r\n").unwrap();
        let mut data = String::new();
        let mut in_data = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    out.write_all(b"250 queued\r\n").unwrap();
                } else {
                    data.push_str(&line);
                }
                continue;
            }
            let reply: &[u8] = match line.get(..4).unwrap_or("") {
                "EHLO" => b"250-loopback\r\n250 8BITMIME\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    out.write_all(b"221 bye\r\n").unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            out.write_all(reply).unwrap();
        }
        data
    });
    (port, handle)
}

/// A transport that keeps what it is given instead of sending it, and refuses (as a server
/// would at RCPT) every recipient in `refuse`: use-case tests of many mails, and of failures.
#[derive(Default)]
pub struct RecordingSender {
    pub sent: std::cell::RefCell<Vec<(Envelope, Vec<u8>)>>,
    pub refuse: std::cell::RefCell<Vec<String>>,
}

impl RecordingSender {
    /// The recipients of the mails kept so far, in order.
    pub fn recipients(&self) -> Vec<String> {
        self.sent
            .borrow()
            .iter()
            .flat_map(|(e, _)| e.to.clone())
            .collect()
    }

    /// The mails kept so far, parsed (subject, plain text).
    pub fn texts(&self) -> Vec<(String, String)> {
        self.sent
            .borrow()
            .iter()
            .map(|(_, bytes)| {
                let parsed = mail_parser::MessageParser::default()
                    .parse(bytes)
                    .expect("a parsable message");
                (
                    parsed.subject().unwrap_or_default().to_string(),
                    parsed.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

impl crate::usecase::email::MailSender for RecordingSender {
    fn send<'a>(
        &'a self,
        _server: &'a MailServer,
        _client_name: &'a str,
        envelope: &'a Envelope,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<(), Failure>> {
        let refused = envelope
            .to
            .iter()
            .any(|to| self.refuse.borrow().contains(to));
        let result = if refused {
            Err(Failure::from(SmtpError::new(
                Stage::RcptTo,
                Problem::Rejected {
                    code: 550,
                    text: "no such mailbox".into(),
                },
            )))
        } else {
            self.sent
                .borrow_mut()
                .push((envelope.clone(), message.to_vec()));
            Ok(())
        };
        Box::pin(std::future::ready(result))
    }
}

/// A [`MailQueue`](crate::usecase::email::MailQueue) that keeps what it was given, with the
/// delay asked for.
#[derive(Default)]
pub struct RecordingQueue {
    pub queued: std::cell::RefCell<Vec<(crate::usecase::email::MailRetry, u32)>>,
}

impl crate::usecase::email::MailQueue for RecordingQueue {
    fn send<'a>(
        &'a self,
        retry: &'a crate::usecase::email::MailRetry,
        delay_secs: u32,
    ) -> LocalFuture<'a, crate::error::Result<()>> {
        self.queued.borrow_mut().push((retry.clone(), delay_secs));
        Box::pin(async { Ok(()) })
    }
}
