//! When a mail that could not be sent is tried again: which failures are worth another try,
//! how long to wait, and for how long a mail stays worth sending at all.
//!
//! A mail server that is down, slow or greylisting (4xx replies) usually takes the mail a few
//! minutes later; one that refused the recipient or our credentials (5xx replies), or a
//! configuration that cannot work, gives the same answer every time, so those are final.

use super::message::MailKind;
use super::smtp::{Problem, SmtpError};

/// Waits before the second, third... attempt. A sign-in code is asked for by someone waiting
/// at the login page, so the first retry comes soon.
pub const DELAYS_SECS: [u32; 4] = [5, 30, 120, 600];

/// Attempts in all (the first plus one per delay).
pub const MAX_ATTEMPTS: u32 = DELAYS_SECS.len() as u32 + 1;

/// What to do after attempt number `attempt` (1 for the first) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again in this many seconds.
    RetryIn(u32),
    /// Stop: the failure is final, the attempts are used up or the mail is no longer useful.
    GiveUp,
}

/// Until when a mail of `kind` made at `made_at` is worth delivering: a code or link that has
/// expired (or nearly so) by the time it arrives only confuses its reader.
pub fn deadline(kind: MailKind, made_at: i64) -> i64 {
    made_at
        + match kind {
            // Codes live 10 minutes: a mail arriving after 5 leaves too little to use it.
            MailKind::SignInCode => 5 * 60,
            MailKind::Test => 0,
            _ => 60 * 60,
        }
}

/// The next step after a failed attempt.
pub fn next(transient: bool, attempt: u32, now: i64, deadline: i64) -> Next {
    if !transient || attempt >= MAX_ATTEMPTS {
        return Next::GiveUp;
    }
    let delay = DELAYS_SECS[(attempt.max(1) - 1) as usize];
    if now + i64::from(delay) > deadline {
        return Next::GiveUp;
    }
    Next::RetryIn(delay)
}

/// Whether an SMTP failure may go away by itself: the server unreachable, silent or gone
/// mid-dialogue, or a 4xx ("try again later") reply. A 5xx reply and the configuration
/// problems (no STARTTLS, no AUTH, a bad address) are final.
pub fn smtp_transient(e: &SmtpError) -> bool {
    match &e.problem {
        Problem::Rejected { code, .. } => (400..500).contains(code),
        Problem::Io(_) | Problem::Closed | Problem::Timeout => true,
        Problem::StartTlsNotOffered
        | Problem::AuthNeedsTls
        | Problem::AuthNotOffered
        | Problem::Utf8NotSupported
        | Problem::BadAddress
        | Problem::MalformedReply => false,
    }
}

/// Whether an error of Cloudflare's `send_email` binding may go away by itself: rate and daily
/// limits and Cloudflare's own trouble. A sender or recipient it does not accept, or a message
/// it cannot parse, is final.
pub fn cloudflare_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "rate limit",
        "rate_limit",
        "limit exceeded",
        "internal",
        "temporar",
        "unavailable",
        "timeout",
        "timed out",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::smtp::Stage;

    fn rejected(code: u16) -> SmtpError {
        SmtpError::new(
            Stage::RcptTo,
            Problem::Rejected {
                code,
                text: "x".into(),
            },
        )
    }

    #[test]
    fn replies_4xx_and_lost_connections_are_worth_another_try_5xx_are_not() {
        assert!(smtp_transient(&rejected(451)));
        assert!(smtp_transient(&rejected(421)));
        assert!(!smtp_transient(&rejected(550)));
        assert!(!smtp_transient(&rejected(535)));
        assert!(smtp_transient(&SmtpError::new(
            Stage::Connect,
            Problem::Io("refused".into())
        )));
        assert!(smtp_transient(&SmtpError::new(
            Stage::Data,
            Problem::Timeout
        )));
        assert!(smtp_transient(&SmtpError::new(
            Stage::Greeting,
            Problem::Closed
        )));
        assert!(!smtp_transient(&SmtpError::new(
            Stage::StartTls,
            Problem::StartTlsNotOffered
        )));
        assert!(!smtp_transient(&SmtpError::new(
            Stage::Auth,
            Problem::AuthNeedsTls
        )));
    }

    #[test]
    fn cloudflare_limits_and_outages_are_retried_refusals_are_not() {
        assert!(cloudflare_transient("E_RATE_LIMIT_EXCEEDED: slow down"));
        assert!(cloudflare_transient("daily limit exceeded"));
        assert!(cloudflare_transient("E_INTERNAL_SERVER_ERROR"));
        assert!(!cloudflare_transient("E_SENDER_NOT_VERIFIED"));
        assert!(!cloudflare_transient("email to x@y.test not allowed"));
        assert!(!cloudflare_transient("could not parse email: bad header"));
    }

    #[test]
    fn retries_follow_the_schedule_and_stop_after_the_last_attempt() {
        let far = i64::MAX / 2;
        let delays: Vec<Next> = (1..=MAX_ATTEMPTS).map(|a| next(true, a, 0, far)).collect();
        assert_eq!(
            delays,
            vec![
                Next::RetryIn(5),
                Next::RetryIn(30),
                Next::RetryIn(120),
                Next::RetryIn(600),
                Next::GiveUp
            ]
        );
        assert_eq!(next(false, 1, 0, far), Next::GiveUp);
    }

    #[test]
    fn a_mail_past_its_use_is_not_retried() {
        let made = 1_000;
        let code_deadline = deadline(MailKind::SignInCode, made);
        // The 4th attempt would wait 120 s: at made + 200 that still fits in 5 minutes...
        assert_eq!(next(true, 3, made + 150, code_deadline), Next::RetryIn(120));
        // ... at made + 200 it would arrive after the code stopped being worth mailing.
        assert_eq!(next(true, 3, made + 200, code_deadline), Next::GiveUp);
        // The admin's test mail is never retried: the admin saw the verdict.
        assert_eq!(
            next(true, 1, made, deadline(MailKind::Test, made)),
            Next::GiveUp
        );
        // Links live longer: the whole schedule fits in their hour.
        assert_eq!(
            next(
                true,
                4,
                made + 200,
                deadline(MailKind::EmailVerification, made)
            ),
            Next::RetryIn(600)
        );
    }
}
