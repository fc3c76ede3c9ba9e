//! The SMTP client dialogue (RFC 5321), without I/O: fed the server's replies, it says what to
//! write next. The driver ([`converse`]) moves bytes between it and a [`Wire`] (a Workers TCP
//! socket in the Worker, a `std::net::TcpStream` in native tests), so every rule here is tested
//! natively against scripted replies.
//!
//! Rules that protect the tenant's mail account and its recipients:
//! * STARTTLS is required when the mode says so: a server that does not offer it (or a
//!   man-in-the-middle who stripped it from the EHLO reply) ends the dialogue before anything
//!   else is said, never a fallback to clear text.
//! * Credentials are sent only over TLS (implicit, or after STARTTLS).
//! * Envelope addresses with characters that could end a command (CR, LF, `<`, `>`, spaces,
//!   controls) are refused, so no address can inject a command.
//! * The message's line endings are normalised to CRLF before dot-stuffing, so no bare LF or CR
//!   sequence can end the DATA early (SMTP smuggling).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// A future the [`Wire`] returns (single-threaded: the Worker's socket is not `Send`).
pub type LocalFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Clear text all along (a local relay or test server only: no credentials are sent).
    None,
    /// Clear text, upgraded with STARTTLS before anything else (submission, port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (implicit TLS, port 465).
    Tls,
}

impl TlsMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" => Some(TlsMode::None),
            "starttls" | "start_tls" => Some(TlsMode::StartTls),
            "tls" | "on" | "implicit" => Some(TlsMode::Tls),
            _ => None,
        }
    }
}

/// Where the dialogue was when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Connect,
    Greeting,
    Hello,
    StartTls,
    Auth,
    MailFrom,
    RcptTo,
    Data,
    /// The message itself, after it was sent (the server's verdict on it).
    Message,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Greeting => "greeting",
            Stage::Hello => "hello",
            Stage::StartTls => "starttls",
            Stage::Auth => "auth",
            Stage::MailFrom => "mail_from",
            Stage::RcptTo => "rcpt_to",
            Stage::Data => "data",
            Stage::Message => "message",
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The server answered with an error (or unexpected) code.
    Rejected { code: u16, text: String },
    /// STARTTLS was required and the server did not offer it.
    StartTlsNotOffered,
    /// Credentials are configured but the connection is not encrypted: they are not sent.
    AuthNeedsTls,
    /// Credentials are configured and the server offers neither AUTH PLAIN nor LOGIN.
    AuthNotOffered,
    /// An address is not ASCII and the server does not announce SMTPUTF8.
    Utf8NotSupported,
    /// An envelope address holds characters that could end a command.
    BadAddress,
    /// The server's reply is not SMTP.
    MalformedReply,
    /// The connection closed before the server's reply.
    Closed,
    /// The socket failed (connection refused, TLS handshake failed...).
    Io(String),
    /// The server did not answer in time.
    Timeout,
}

/// A failed dialogue: the stage and the problem, for the audit log and the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpError {
    pub stage: Stage,
    pub problem: Problem,
}

impl SmtpError {
    pub fn new(stage: Stage, problem: Problem) -> Self {
        Self { stage, problem }
    }

    /// The server's reply code, when it answered with one.
    pub fn code(&self) -> Option<u16> {
        match &self.problem {
            Problem::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = self.stage.as_str();
        match &self.problem {
            Problem::Rejected { code, text } => {
                write!(f, "the server refused at {stage}: {code} {text}")
            }
            Problem::StartTlsNotOffered => write!(
                f,
                "the server does not offer STARTTLS, which the TLS mode requires"
            ),
            Problem::AuthNeedsTls => write!(
                f,
                "a username is set but the connection is not encrypted: choose STARTTLS or TLS"
            ),
            Problem::AuthNotOffered => {
                write!(f, "the server offers neither AUTH PLAIN nor AUTH LOGIN")
            }
            Problem::Utf8NotSupported => write!(
                f,
                "an address is not ASCII and the server does not support SMTPUTF8"
            ),
            Problem::BadAddress => write!(f, "an address is not a valid mailbox"),
            Problem::MalformedReply => write!(f, "the server's reply at {stage} is not SMTP"),
            Problem::Closed => write!(f, "the server closed the connection at {stage}"),
            Problem::Io(e) => write!(f, "connection failed at {stage}: {e}"),
            Problem::Timeout => write!(f, "the server did not answer in time at {stage}"),
        }
    }
}

impl std::error::Error for SmtpError {}

/// One reply: its code and text lines (a multi-line reply has several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        let mut text = self.lines.join(" ");
        // Server text goes to the audit log and the admin: keep it short and printable.
        text.retain(|c| !c.is_control());
        text.chars().take(200).collect()
    }

    fn is(&self, class: u16) -> bool {
        self.code / 100 == class
    }
}

/// Longest reply line accepted (RFC 5321 allows 512 octets; servers exceed it in text).
const MAX_LINE: usize = 4096;
/// Most lines in one reply (EHLO replies are the longest, a dozen lines).
const MAX_LINES: usize = 128;

/// Collects the bytes read from the server into complete replies.
#[derive(Debug, Default)]
pub struct ReplyReader {
    buf: Vec<u8>,
    lines: Vec<String>,
    code: Option<u16>,
}

impl ReplyReader {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete reply, if the bytes fed so far hold one.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, Problem> {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_LINE {
                    return Err(Problem::MalformedReply);
                }
                return Ok(None);
            };
            let raw: Vec<u8> = self.buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.len() > MAX_LINE || line.len() < 3 {
                return Err(Problem::MalformedReply);
            }
            let (code, rest) = line.split_at(3);
            let code: u16 = code
                .parse()
                .ok()
                .filter(|c| (200..600).contains(c))
                .ok_or(Problem::MalformedReply)?;
            if self.code.is_some_and(|c| c != code) {
                return Err(Problem::MalformedReply);
            }
            self.code = Some(code);
            let (more, text) = match rest.as_bytes().first() {
                Some(b'-') => (true, &rest[1..]),
                Some(b' ') => (false, &rest[1..]),
                None => (false, ""),
                Some(_) => return Err(Problem::MalformedReply),
            };
            self.lines.push(text.to_string());
            if self.lines.len() > MAX_LINES {
                return Err(Problem::MalformedReply);
            }
            if !more {
                self.code = None;
                return Ok(Some(Reply {
                    code,
                    lines: std::mem::take(&mut self.lines),
                }));
            }
        }
    }
}

/// The account the client signs in with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password, not even in a debug log.
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Who the message is from and to, as the SMTP envelope says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

/// An envelope address may go into a command: no whitespace, controls or angle brackets,
/// one `@` with text on both sides.
pub fn address_fits_command(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && address.len() <= 254
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// What the dialogue wants done next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes, then feed the server's next reply.
    Send(Vec<u8>),
    /// Upgrade the connection to TLS, then call [`Dialogue::tls_started`].
    StartTls,
    /// The message was accepted and QUIT answered (or the server hung up after accepting).
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Hello,
    StartTls,
    AuthPlain,
    AuthLoginUser,
    AuthLoginPassword,
    AuthLoginDone,
    MailFrom,
    RcptTo(usize),
    Data,
    Message,
    Quit,
    Finished,
}

/// What the server announced in its EHLO reply.
#[derive(Debug, Default, Clone)]
struct Extensions {
    starttls: bool,
    auth_plain: bool,
    auth_login: bool,
    smtputf8: bool,
}

impl Extensions {
    fn parse(reply: &Reply) -> Self {
        let mut ext = Extensions::default();
        // The first line is the server's greeting name; the rest are extensions.
        for line in reply.lines.iter().skip(1) {
            let upper = line.to_ascii_uppercase();
            let mut words = upper.split_whitespace();
            match words.next() {
                Some("STARTTLS") => ext.starttls = true,
                Some("SMTPUTF8") => ext.smtputf8 = true,
                Some("AUTH") => {
                    for mechanism in words {
                        match mechanism {
                            "PLAIN" => ext.auth_plain = true,
                            "LOGIN" => ext.auth_login = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        ext
    }
}

/// One message's dialogue with one server.
#[derive(Debug)]
pub struct Dialogue {
    state: State,
    mode: TlsMode,
    secure: bool,
    client_name: String,
    credentials: Option<Credentials>,
    envelope: Envelope,
    data: Vec<u8>,
    extensions: Extensions,
    accepted: bool,
}

fn line(text: &str) -> Step {
    Step::Send(format!("{text}\r\n").into_bytes())
}

impl Dialogue {
    /// A dialogue to send `message` (RFC 5322 bytes) to `envelope`'s recipients, introducing
    /// the client as `client_name` (a host name). With [`TlsMode::Tls`] the wire is secure
    /// before the greeting.
    pub fn new(
        mode: TlsMode,
        client_name: &str,
        credentials: Option<Credentials>,
        envelope: Envelope,
        message: &[u8],
    ) -> Result<Self, SmtpError> {
        let fits = address_fits_command(&envelope.from)
            && !envelope.to.is_empty()
            && envelope.to.iter().all(|a| address_fits_command(a));
        if !fits {
            return Err(SmtpError::new(Stage::MailFrom, Problem::BadAddress));
        }
        let client_name = if !client_name.is_empty()
            && client_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            client_name.to_string()
        } else {
            "localhost".to_string()
        };
        Ok(Self {
            state: State::Greeting,
            mode,
            secure: mode == TlsMode::Tls,
            client_name,
            credentials,
            envelope,
            data: dot_stuff(message),
            extensions: Extensions::default(),
            accepted: false,
        })
    }

    /// The stage the dialogue is at (where a socket failure happened).
    pub fn stage(&self) -> Stage {
        match self.state {
            State::Greeting => Stage::Greeting,
            State::Hello => Stage::Hello,
            State::StartTls => Stage::StartTls,
            State::AuthPlain
            | State::AuthLoginUser
            | State::AuthLoginPassword
            | State::AuthLoginDone => Stage::Auth,
            State::MailFrom => Stage::MailFrom,
            State::RcptTo(_) => Stage::RcptTo,
            State::Data => Stage::Data,
            State::Message | State::Quit | State::Finished => Stage::Message,
        }
    }

    /// Whether the server accepted the message (what follows, QUIT, cannot undo that).
    pub fn accepted(&self) -> bool {
        self.accepted
    }

    fn refused(&self, reply: &Reply) -> SmtpError {
        SmtpError::new(
            self.stage(),
            Problem::Rejected {
                code: reply.code,
                text: reply.text(),
            },
        )
    }

    fn ehlo(&self) -> Step {
        line(&format!("EHLO {}", self.client_name))
    }

    /// The wire is now TLS: say hello again (RFC 3207 §4.2: forget what was announced).
    pub fn tls_started(&mut self) -> Step {
        self.secure = true;
        self.extensions = Extensions::default();
        self.state = State::Hello;
        self.ehlo()
    }

    fn needs_utf8(&self) -> bool {
        !self.envelope.from.is_ascii() || self.envelope.to.iter().any(|a| !a.is_ascii())
    }

    fn mail_from(&mut self) -> Result<Step, SmtpError> {
        let utf8 = if self.needs_utf8() {
            if !self.extensions.smtputf8 {
                return Err(SmtpError::new(Stage::MailFrom, Problem::Utf8NotSupported));
            }
            " SMTPUTF8"
        } else {
            ""
        };
        self.state = State::MailFrom;
        Ok(line(&format!("MAIL FROM:<{}>{utf8}", self.envelope.from)))
    }

    fn after_hello(&mut self) -> Result<Step, SmtpError> {
        if self.mode == TlsMode::StartTls && !self.secure {
            if !self.extensions.starttls {
                return Err(SmtpError::new(Stage::StartTls, Problem::StartTlsNotOffered));
            }
            self.state = State::StartTls;
            return Ok(line("STARTTLS"));
        }
        let Some(credentials) = &self.credentials else {
            return self.mail_from();
        };
        if !self.secure {
            return Err(SmtpError::new(Stage::Auth, Problem::AuthNeedsTls));
        }
        if self.extensions.auth_plain {
            let mut token = Vec::new();
            token.push(0);
            token.extend_from_slice(credentials.username.as_bytes());
            token.push(0);
            token.extend_from_slice(credentials.password.as_bytes());
            self.state = State::AuthPlain;
            Ok(line(&format!("AUTH PLAIN {}", STANDARD.encode(token))))
        } else if self.extensions.auth_login {
            self.state = State::AuthLoginUser;
            Ok(line("AUTH LOGIN"))
        } else {
            Err(SmtpError::new(Stage::Auth, Problem::AuthNotOffered))
        }
    }

    /// The server's next reply: what to do now.
    pub fn on_reply(&mut self, reply: &Reply) -> Result<Step, SmtpError> {
        match self.state {
            State::Greeting => {
                if reply.code != 220 {
                    return Err(self.refused(reply));
                }
                self.state = State::Hello;
                Ok(self.ehlo())
            }
            State::Hello => {
                if reply.code != 250 {
                    return Err(self.refused(reply));
                }
                self.extensions = Extensions::parse(reply);
                self.after_hello()
            }
            State::StartTls => {
                if reply.code != 220 {
                    return Err(self.refused(reply));
                }
                Ok(Step::StartTls)
            }
            State::AuthPlain | State::AuthLoginDone => {
                if reply.code != 235 {
                    return Err(self.refused(reply));
                }
                self.mail_from()
            }
            State::AuthLoginUser | State::AuthLoginPassword => {
                if reply.code != 334 {
                    return Err(self.refused(reply));
                }
                let credentials = self
                    .credentials
                    .as_ref()
                    .expect("AUTH LOGIN starts only with credentials");
                let (next, value) = if self.state == State::AuthLoginUser {
                    (State::AuthLoginPassword, &credentials.username)
                } else {
                    (State::AuthLoginDone, &credentials.password)
                };
                let encoded = STANDARD.encode(value.as_bytes());
                self.state = next;
                Ok(line(&encoded))
            }
            State::MailFrom => {
                if !reply.is(2) {
                    return Err(self.refused(reply));
                }
                self.state = State::RcptTo(0);
                Ok(line(&format!("RCPT TO:<{}>", self.envelope.to[0])))
            }
            State::RcptTo(i) => {
                if !reply.is(2) {
                    return Err(self.refused(reply));
                }
                let next = i + 1;
                if let Some(to) = self.envelope.to.get(next) {
                    self.state = State::RcptTo(next);
                    Ok(line(&format!("RCPT TO:<{to}>")))
                } else {
                    self.state = State::Data;
                    Ok(line("DATA"))
                }
            }
            State::Data => {
                if reply.code != 354 {
                    return Err(self.refused(reply));
                }
                self.state = State::Message;
                Ok(Step::Send(std::mem::take(&mut self.data)))
            }
            State::Message => {
                if !reply.is(2) {
                    return Err(self.refused(reply));
                }
                self.accepted = true;
                self.state = State::Quit;
                Ok(line("QUIT"))
            }
            State::Quit | State::Finished => {
                self.state = State::Finished;
                Ok(Step::Done)
            }
        }
    }
}

/// The DATA payload: `message` with every line ending made CRLF, every line that starts with
/// a dot given another (RFC 5321 §4.5.2), ending in CRLF `.` CRLF.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut at_line_start = true;
    let mut i = 0;
    while i < message.len() {
        let b = message[i];
        match b {
            b'\r' | b'\n' => {
                // CRLF, a bare CR or a bare LF: each is one line ending.
                if b == b'\r' && message.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                if at_line_start && b == b'.' {
                    out.push(b'.');
                }
                out.push(b);
                at_line_start = false;
            }
        }
        i += 1;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A connection to an SMTP server, as the driver needs it.
pub trait Wire {
    /// Reads what the server sent; `Ok(0)` when it closed the connection.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> LocalFuture<'a, Result<usize, String>>;
    fn write_all<'a>(&'a mut self, bytes: &'a [u8]) -> LocalFuture<'a, Result<(), String>>;
    /// Upgrades the connection to TLS (STARTTLS).
    fn start_tls(&mut self) -> LocalFuture<'_, Result<(), String>>;
}

/// Runs `dialogue` over `wire` to the end (borrowed, so a caller that gives up waiting can
/// still ask it which stage it reached).
pub async fn converse(wire: &mut dyn Wire, dialogue: &mut Dialogue) -> Result<(), SmtpError> {
    let mut reader = ReplyReader::default();
    let mut buf = vec![0u8; 4096];
    loop {
        let reply = loop {
            match reader.next_reply() {
                Ok(Some(reply)) => break reply,
                Ok(None) => {}
                Err(problem) => return Err(SmtpError::new(dialogue.stage(), problem)),
            }
            match wire.read(&mut buf).await {
                Ok(0) if dialogue.accepted() => return Ok(()),
                Ok(0) => return Err(SmtpError::new(dialogue.stage(), Problem::Closed)),
                Ok(n) => reader.feed(&buf[..n]),
                Err(_) if dialogue.accepted() => return Ok(()),
                Err(e) => return Err(SmtpError::new(dialogue.stage(), Problem::Io(e))),
            }
        };
        let mut step = dialogue.on_reply(&reply)?;
        if step == Step::StartTls {
            wire.start_tls()
                .await
                .map_err(|e| SmtpError::new(Stage::StartTls, Problem::Io(e)))?;
            // Anything the server sent before the handshake must not be read as after it.
            reader = ReplyReader::default();
            step = dialogue.tls_started();
        }
        match step {
            Step::Send(bytes) => {
                if let Err(e) = wire.write_all(&bytes).await {
                    if dialogue.accepted() {
                        return Ok(());
                    }
                    return Err(SmtpError::new(dialogue.stage(), Problem::Io(e)));
                }
            }
            Step::Done => return Ok(()),
            Step::StartTls => unreachable!("handled above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A server that answers from a script: each entry is what it says after the client's
    /// next write (the first, before any: the greeting). Records what the client wrote.
    struct Scripted {
        replies: VecDeque<Vec<u8>>,
        pending: Vec<u8>,
        written: Vec<String>,
        tls_started: bool,
        fail_tls: bool,
    }

    impl Scripted {
        fn new(replies: &[&str]) -> Self {
            let mut replies: VecDeque<Vec<u8>> =
                replies.iter().map(|r| r.as_bytes().to_vec()).collect();
            let pending = replies.pop_front().unwrap_or_default();
            Self {
                replies,
                pending,
                written: Vec::new(),
                tls_started: false,
                fail_tls: false,
            }
        }
    }

    impl Wire for Scripted {
        fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> LocalFuture<'a, Result<usize, String>> {
            Box::pin(async move {
                // Hand the reply over in small pieces: replies split across reads must work.
                let n = self.pending.len().min(buf.len()).min(7);
                buf[..n].copy_from_slice(&self.pending[..n]);
                self.pending.drain(..n);
                Ok(n)
            })
        }

        fn write_all<'a>(&'a mut self, bytes: &'a [u8]) -> LocalFuture<'a, Result<(), String>> {
            Box::pin(async move {
                self.written
                    .push(String::from_utf8_lossy(bytes).into_owned());
                if let Some(next) = self.replies.pop_front() {
                    self.pending.extend_from_slice(&next);
                }
                Ok(())
            })
        }

        fn start_tls(&mut self) -> LocalFuture<'_, Result<(), String>> {
            Box::pin(async move {
                if self.fail_tls {
                    return Err("handshake failed".into());
                }
                self.tls_started = true;
                Ok(())
            })
        }
    }

    fn envelope() -> Envelope {
        Envelope {
            from: "id@acme.test".into(),
            to: vec!["ada@example.com".into()],
        }
    }

    fn credentials() -> Option<Credentials> {
        Some(Credentials {
            username: "mailer".into(),
            password: "hunter2".into(),
        })
    }

    fn run(
        mode: TlsMode,
        credentials: Option<Credentials>,
        script: &mut Scripted,
    ) -> Result<(), SmtpError> {
        let mut dialogue = Dialogue::new(
            mode,
            "acme.id.test",
            credentials,
            envelope(),
            b"Subject: hi\r\n\r\nHello\r\n",
        )
        .unwrap();
        crate::testing::run(converse(script, &mut dialogue))
    }

    const EHLO_PLAIN: &str = "250-smtp.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";

    #[test]
    fn a_plain_dialogue_sends_the_message_and_quits() {
        let mut s = Scripted::new(&[
            "220 smtp.test ESMTP\r\n",
            EHLO_PLAIN,
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go ahead\r\n",
            "250 queued as 1\r\n",
            "221 bye\r\n",
        ]);
        run(TlsMode::None, None, &mut s).unwrap();
        assert_eq!(
            s.written,
            vec![
                "EHLO acme.id.test\r\n",
                "MAIL FROM:<id@acme.test>\r\n",
                "RCPT TO:<ada@example.com>\r\n",
                "DATA\r\n",
                "Subject: hi\r\n\r\nHello\r\n.\r\n",
                "QUIT\r\n",
            ]
        );
    }

    #[test]
    fn starttls_then_auth_plain_over_tls_with_a_multi_line_ehlo() {
        let mut s = Scripted::new(&[
            "220 smtp.test\r\n",
            "250-smtp.test\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n",
            "220 ready for TLS\r\n",
            "250-smtp.test\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1\r\n",
            "235 ok\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 ok\r\n",
            "221 bye\r\n",
        ]);
        run(TlsMode::StartTls, credentials(), &mut s).unwrap();
        assert!(s.tls_started);
        assert_eq!(s.written[1], "STARTTLS\r\n");
        assert_eq!(
            s.written[2], "EHLO acme.id.test\r\n",
            "hello again over TLS"
        );
        let plain = STANDARD.encode(b"\0mailer\0hunter2");
        assert_eq!(s.written[3], format!("AUTH PLAIN {plain}\r\n"));
        // The password went out only after the upgrade.
        assert!(!s.written[..3].iter().any(|w| w.contains(&plain)));
    }

    #[test]
    fn auth_login_when_plain_is_not_offered() {
        let mut s = Scripted::new(&[
            "220 smtp.test\r\n",
            "250-smtp.test\r\n250 AUTH LOGIN\r\n",
            "334 VXNlcm5hbWU6\r\n",
            "334 UGFzc3dvcmQ6\r\n",
            "235 ok\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 ok\r\n",
            "221 bye\r\n",
        ]);
        run(TlsMode::Tls, credentials(), &mut s).unwrap();
        assert_eq!(s.written[1], "AUTH LOGIN\r\n");
        assert_eq!(s.written[2], format!("{}\r\n", STANDARD.encode("mailer")));
        assert_eq!(s.written[3], format!("{}\r\n", STANDARD.encode("hunter2")));
    }

    #[test]
    fn starttls_required_but_not_offered_ends_before_anything_is_said() {
        let mut s = Scripted::new(&["220 smtp.test\r\n", EHLO_PLAIN]);
        let err = run(TlsMode::StartTls, credentials(), &mut s).unwrap_err();
        assert_eq!(
            err,
            SmtpError::new(Stage::StartTls, Problem::StartTlsNotOffered)
        );
        assert_eq!(s.written, vec!["EHLO acme.id.test\r\n"]);
    }

    #[test]
    fn credentials_are_never_sent_in_clear() {
        let mut s = Scripted::new(&["220 smtp.test\r\n", "250-smtp.test\r\n250 AUTH PLAIN\r\n"]);
        let err = run(TlsMode::None, credentials(), &mut s).unwrap_err();
        assert_eq!(err.problem, Problem::AuthNeedsTls);
        assert!(!s.written.iter().any(|w| w.contains("AUTH")));
        let mut s = Scripted::new(&["220 smtp.test\r\n", EHLO_PLAIN]);
        let err = run(TlsMode::Tls, credentials(), &mut s).unwrap_err();
        assert_eq!(err.problem, Problem::AuthNotOffered);
    }

    #[test]
    fn every_stage_reports_the_servers_refusal() {
        let ok = "250 ok\r\n";
        let cases: Vec<(Vec<&str>, Stage, u16)> = vec![
            (vec!["554 go away\r\n"], Stage::Greeting, 554),
            (vec!["220 hi\r\n", "502 no EHLO\r\n"], Stage::Hello, 502),
            (
                vec![
                    "220 hi\r\n",
                    "250-x\r\n250 STARTTLS\r\n",
                    "454 TLS not available\r\n",
                ],
                Stage::StartTls,
                454,
            ),
            (
                vec![
                    "220 hi\r\n",
                    "250-x\r\n250 AUTH PLAIN\r\n",
                    "535 5.7.8 bad credentials\r\n",
                ],
                Stage::Auth,
                535,
            ),
            (
                vec![
                    "220 hi\r\n",
                    "250-x\r\n250 AUTH PLAIN\r\n",
                    "235 ok\r\n",
                    "553 sender refused\r\n",
                ],
                Stage::MailFrom,
                553,
            ),
            (
                vec![
                    "220 hi\r\n",
                    "250-x\r\n250 AUTH PLAIN\r\n",
                    "235 ok\r\n",
                    ok,
                    "550 no such user\r\n",
                ],
                Stage::RcptTo,
                550,
            ),
            (
                vec![
                    "220 hi\r\n",
                    "250-x\r\n250 AUTH PLAIN\r\n",
                    "235 ok\r\n",
                    ok,
                    ok,
                    "451 later\r\n",
                ],
                Stage::Data,
                451,
            ),
            (
                vec![
                    "220 hi\r\n",
                    "250-x\r\n250 AUTH PLAIN\r\n",
                    "235 ok\r\n",
                    ok,
                    ok,
                    "354 go\r\n",
                    "552 too big\r\n",
                ],
                Stage::Message,
                552,
            ),
        ];
        for (script, stage, code) in cases {
            let mut s = Scripted::new(&script);
            let mode = if stage == Stage::StartTls {
                TlsMode::StartTls
            } else {
                TlsMode::Tls
            };
            let err = run(mode, credentials(), &mut s).unwrap_err();
            assert_eq!(err.stage, stage, "{err}");
            assert_eq!(err.code(), Some(code), "{err}");
            assert!(!err.to_string().contains("hunter2"));
        }
    }

    #[test]
    fn a_dropped_connection_or_garbage_is_a_clear_error() {
        let mut s = Scripted::new(&["220 hi\r\n"]);
        let err = run(TlsMode::None, None, &mut s).unwrap_err();
        assert_eq!(err, SmtpError::new(Stage::Hello, Problem::Closed));
        let mut s = Scripted::new(&["HTTP/1.1 400 Bad Request\r\n"]);
        let err = run(TlsMode::None, None, &mut s).unwrap_err();
        assert_eq!(err.problem, Problem::MalformedReply);
        let mut s = Scripted::new(&["220 hi\r\n", "250-x\r\n251 mixed codes\r\n"]);
        assert_eq!(
            run(TlsMode::None, None, &mut s).unwrap_err().problem,
            Problem::MalformedReply
        );
        let mut s = Scripted::new(&["220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "220 go\r\n"]);
        s.fail_tls = true;
        let err = run(TlsMode::StartTls, None, &mut s).unwrap_err();
        assert_eq!(err.stage, Stage::StartTls);
        assert!(matches!(err.problem, Problem::Io(_)));
        // Hanging up after the message was accepted (instead of answering QUIT) is a success.
        let mut s = Scripted::new(&[
            "220 hi\r\n",
            EHLO_PLAIN,
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 queued\r\n",
        ]);
        run(TlsMode::None, None, &mut s).unwrap();
    }

    #[test]
    fn addresses_that_could_inject_a_command_are_refused() {
        for bad in [
            "ada@example.com>\r\nRCPT TO:<eve@evil.test",
            "ada@example.com\nDATA",
            "a da@example.com",
            "<ada@example.com>",
            "no-at-sign",
        ] {
            let env = Envelope {
                from: "id@acme.test".into(),
                to: vec![bad.into()],
            };
            let err = Dialogue::new(TlsMode::None, "x", None, env, b"").unwrap_err();
            assert_eq!(err.problem, Problem::BadAddress, "{bad:?}");
        }
        // A client name that is not a host name is replaced.
        let d = Dialogue::new(TlsMode::None, "evil\r\nQUIT", None, envelope(), b"").unwrap();
        assert_eq!(d.ehlo(), line("EHLO localhost"));
    }

    #[test]
    fn non_ascii_addresses_need_smtputf8() {
        let env = Envelope {
            from: "id@acme.test".into(),
            to: vec!["zoë@example.com".into()],
        };
        let start = |ehlo: &str| {
            let mut s = Scripted::new(&[
                "220 hi\r\n",
                ehlo,
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "250 ok\r\n",
                "221 bye\r\n",
            ]);
            let mut d = Dialogue::new(TlsMode::None, "x", None, env.clone(), b"x").unwrap();
            let result = crate::testing::run(converse(&mut s, &mut d));
            (result, s.written)
        };
        let (result, _) = start(EHLO_PLAIN);
        assert_eq!(result.unwrap_err().problem, Problem::Utf8NotSupported);
        let (result, written) = start("250-x\r\n250 SMTPUTF8\r\n");
        result.unwrap();
        assert_eq!(written[1], "MAIL FROM:<id@acme.test> SMTPUTF8\r\n");
    }

    #[test]
    fn dot_stuffing_and_line_endings() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b".start"), b"..start\r\n.\r\n");
        assert_eq!(
            dot_stuff(b"a\r\n.\r\nMAIL FROM:<x>"),
            b"a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n"
        );
        // Bare LF and CR are line endings too: "\n.\n" cannot end the DATA (SMTP smuggling).
        assert_eq!(dot_stuff(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\r.\rb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
    }
}
