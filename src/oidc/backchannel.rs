//! OpenID Connect Back-Channel Logout 1.0: the logout token a client receives when a session of
//! one of its users ends, what counts as delivered, and when to try again.
//!
//! The token is signed at delivery time (not when the logout happens), so a retry minutes
//! later still carries a fresh `iat`/`exp`: its lifetime is short because it is a bearer proof
//! that a session ended, and it never carries a `nonce` (§2.4: that would let it pass for an
//! id_token).

use serde_json::{json, Value};

/// The event a logout token announces (§2.4 `events`).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The JWT `typ` of logout tokens (§2.4, "explicit typing" of RFC 8725 §3.11), so a logout
/// token cannot be replayed as an id_token or an access token.
pub const TYP: &str = "logout+jwt";

/// Seconds a logout token is valid after it is signed: enough for the POST it travels in.
pub const LIFETIME_SECS: i64 = 120;

/// The most deliveries tried for one logout (the first and the retries).
pub const MAX_ATTEMPTS: u32 = 6;

/// The delay before the first retry; each later retry waits three times longer, up to
/// [`MAX_RETRY_DELAY_SECS`]: 5 s, 15 s, 45 s, 135 s, 300 s (about 8 minutes in all), enough
/// for an app restarting or a deployment rolling out, short enough that a logout still matters.
pub const FIRST_RETRY_DELAY_SECS: u32 = 5;
pub const MAX_RETRY_DELAY_SECS: u32 = 300;

/// Whose session ended, as the logout token names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedOut<'a> {
    /// The user (`sub` of their id_tokens).
    pub sub: &'a str,
    /// The session (`sid` of the id_tokens issued in it), when the logout is about one.
    pub sid: Option<&'a str>,
}

/// The claims of a logout token for `client_id` (§2.4): `iss`, `aud`, `iat`, `exp`, `jti`,
/// `events`, `sub` and, when known, `sid`. Never a `nonce`.
pub fn logout_token_claims(
    issuer: &str,
    client_id: &str,
    who: &LoggedOut<'_>,
    now: i64,
    jti: &str,
) -> Value {
    let mut claims = json!({
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LIFETIME_SECS,
        "jti": jti,
        "events": { EVENT: {} },
        "sub": who.sub,
    });
    if let Some(sid) = who.sid {
        claims["sid"] = json!(sid);
    }
    claims
}

/// Whether a client gets a logout token for this logout at all: one that registered
/// `backchannel_logout_session_required` needs a `sid` (§2.2), which a logout of a grant
/// issued outside any browser session cannot give.
pub fn wants_logout(session_required: bool, sid_known: bool) -> bool {
    sid_known || !session_required
}

/// What the relying party's answer (or its absence) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 200 OK, or 204 No Content that some frameworks send instead (§2.8).
    Delivered,
    /// Worth trying again: no answer, a timeout, a server error, 408 or 429.
    TryAgain,
    /// The relying party refused the token (400 and other client errors) or answered with
    /// something no retry will change (a redirect: the URI is wrong).
    Refused,
}

/// Judges the HTTP status of a delivery; `None` when no response came (network error,
/// timeout).
pub fn judge(status: Option<u16>) -> Verdict {
    match status {
        Some(200 | 204) => Verdict::Delivered,
        None | Some(408 | 429) => Verdict::TryAgain,
        Some(s) if s >= 500 => Verdict::TryAgain,
        Some(_) => Verdict::Refused,
    }
}

/// The delay before the attempt after `attempt` (1 = the first delivery), or `None` when
/// `attempt` was the last one allowed.
pub fn retry_delay(attempt: u32) -> Option<u32> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 3u32.saturating_pow(attempt.saturating_sub(1));
    Some(
        FIRST_RETRY_DELAY_SECS
            .saturating_mul(factor)
            .min(MAX_RETRY_DELAY_SECS),
    )
}

/// The form body of a delivery (§2.5): `logout_token=<jwt>`, form-urlencoded.
pub fn form_body(logout_token: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", logout_token)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_names_the_event_the_session_and_never_a_nonce() {
        let who = LoggedOut {
            sub: "user-1",
            sid: Some("s1"),
        };
        let c = logout_token_claims("https://acme.example", "app", &who, 1000, "j1");
        assert_eq!(c["iss"], "https://acme.example");
        assert_eq!(c["aud"], "app");
        assert_eq!(c["iat"], 1000);
        assert_eq!(c["exp"], 1000 + LIFETIME_SECS);
        assert_eq!(c["jti"], "j1");
        assert_eq!(c["sub"], "user-1");
        assert_eq!(c["sid"], "s1");
        assert_eq!(c["events"], json!({ EVENT: {} }));
        assert!(c.get("nonce").is_none());
        let without = logout_token_claims(
            "https://acme.example",
            "app",
            &LoggedOut {
                sub: "user-1",
                sid: None,
            },
            1000,
            "j2",
        );
        assert!(without.get("sid").is_none());
        assert_eq!(without["sub"], "user-1");
        assert_eq!(TYP, "logout+jwt");
    }

    #[test]
    fn a_client_that_needs_sessions_gets_tokens_only_with_a_sid() {
        assert!(wants_logout(false, false));
        assert!(wants_logout(false, true));
        assert!(wants_logout(true, true));
        assert!(!wants_logout(true, false));
    }

    #[test]
    fn only_200_and_204_are_deliveries_and_server_trouble_is_retried() {
        assert_eq!(judge(Some(200)), Verdict::Delivered);
        assert_eq!(judge(Some(204)), Verdict::Delivered);
        for s in [None, Some(500), Some(502), Some(503), Some(408), Some(429)] {
            assert_eq!(judge(s), Verdict::TryAgain, "{s:?}");
        }
        for s in [201, 202, 301, 302, 400, 401, 404] {
            assert_eq!(judge(Some(s)), Verdict::Refused, "{s}");
        }
    }

    #[test]
    fn retries_back_off_exponentially_and_stop() {
        let delays: Vec<_> = (1..=MAX_ATTEMPTS).map(retry_delay).collect();
        assert_eq!(
            delays,
            vec![Some(5), Some(15), Some(45), Some(135), Some(300), None]
        );
        assert_eq!(retry_delay(MAX_ATTEMPTS + 5), None);
        assert_eq!(retry_delay(0), Some(5));
    }

    #[test]
    fn the_body_is_one_form_field() {
        assert_eq!(form_body("a.b-c_d"), "logout_token=a.b-c_d");
        assert_eq!(form_body("a+b/c="), "logout_token=a%2Bb%2Fc%3D");
    }
}
