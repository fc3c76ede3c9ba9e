//! The device authorization grant (RFC 8628): user codes, the device authorization response,
//! and what a poll of the token endpoint answers.
//!
//! A device (a TV, a CLI) asks for a device code and a user code; the person types the user
//! code at `/device` on a phone or computer, signs in with a passkey and approves; meanwhile the
//! device polls the token endpoint with the device code. The rules of the poll live here, free
//! of storage: the storage batch reads the row as it was before the poll and changes it under
//! the same conditions, and [`judge_poll`] turns what was read into the RFC's answer.

use serde::Serialize;

use super::error::{ErrorCode, OAuthError};

/// How long a device code and its user code live (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_CODE_TTL: i64 = 10 * 60;
/// The polling interval a client starts with (RFC 8628 §3.2: 5 s when absent).
pub const POLL_INTERVAL: i64 = 5;
/// What each `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: i64 = 5;
/// Wrong user codes a signed-in person may enter per window before the page stops checking.
pub const MAX_WRONG_USER_CODES: i64 = 5;
/// The window the wrong user codes are counted in.
pub const WRONG_CODE_WINDOW: i64 = 15 * 60;

/// The grant type of a poll at the token endpoint.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// User code characters (RFC 8628 §6.1): consonants only, so no vowels spell words and none
/// is confused with a digit (no I, O, U, Y, A, E). 20 symbols, 8 of them: about 34.6 bits.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

/// A fresh user code, `XXXX-XXXX`, uniform over the alphabet (rejection sampling).
pub fn new_user_code(random: impl Fn() -> [u8; 32]) -> String {
    let mut chars = Vec::with_capacity(USER_CODE_LEN);
    while chars.len() < USER_CODE_LEN {
        for b in random() {
            // 20 * 12 = 240: bytes >= 240 would favour the first symbols.
            if b < 240 && chars.len() < USER_CODE_LEN {
                chars.push(ALPHABET[usize::from(b % 20)] as char);
            }
        }
    }
    let (a, b) = chars.split_at(USER_CODE_LEN / 2);
    format!(
        "{}-{}",
        a.iter().collect::<String>(),
        b.iter().collect::<String>()
    )
}

/// The canonical form of what a person typed: case-insensitive, dashes and spaces ignored
/// (RFC 8628 §6.1). `None` when it cannot be a user code at all (wrong length or characters):
/// such input is refused without a database lookup, and is not counted as a guess.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let canonical: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        canonical.len() == USER_CODE_LEN && canonical.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(canonical)
}

/// The user code as people read it: `XXXX-XXXX`.
pub fn display_user_code(canonical: &str) -> String {
    match canonical.get(..4).zip(canonical.get(4..)) {
        Some((a, b)) => format!("{a}-{b}"),
        None => canonical.to_string(),
    }
}

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

impl DeviceAuthorizationResponse {
    pub fn new(issuer: &str, device_code: String, user_code: String) -> Self {
        let verification_uri = verification_uri(issuer);
        let verification_uri_complete = format!("{verification_uri}?user_code={user_code}");
        Self {
            device_code,
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in: DEVICE_CODE_TTL,
            interval: POLL_INTERVAL,
        }
    }
}

/// Where the person goes: `<issuer>/device`.
pub fn verification_uri(issuer: &str) -> String {
    format!("{issuer}/device")
}

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Denied,
    /// Tokens were issued for it: the device code is spent.
    Redeemed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Redeemed => "redeemed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Pending,
            Status::Approved,
            Status::Denied,
            Status::Redeemed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A device authorization as a poll found it, before the poll changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolledState {
    pub status: Status,
    pub interval_secs: i64,
    pub last_polled_at: Option<i64>,
    pub expires_at: i64,
}

impl PolledState {
    /// Polled again before the interval passed (RFC 8628 §3.5 `slow_down`). The storage batch
    /// bumps the interval under this same condition.
    pub fn too_fast(&self, now: i64) -> bool {
        self.last_polled_at
            .is_some_and(|last| now - last < self.interval_secs)
    }
}

/// What a poll answers, short of tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAnswer {
    /// The person approved and this poll redeemed the device code: issue the tokens.
    Issue,
    Refuse(PollRefusal),
}

/// The RFC 8628 §3.5 error answers (and RFC 6749's `invalid_grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollRefusal {
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    /// Unknown, another client's, or already redeemed.
    InvalidGrant,
}

impl From<PollRefusal> for OAuthError {
    fn from(r: PollRefusal) -> Self {
        match r {
            PollRefusal::AuthorizationPending => OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the user has not yet approved the request",
            ),
            PollRefusal::SlowDown => OAuthError::new(
                ErrorCode::SlowDown,
                "polling too fast: wait 5 more seconds between requests",
            ),
            PollRefusal::AccessDenied => {
                OAuthError::new(ErrorCode::AccessDenied, "the user denied the request")
            }
            PollRefusal::ExpiredToken => OAuthError::new(
                ErrorCode::ExpiredToken,
                "the device code has expired: start again",
            ),
            PollRefusal::InvalidGrant => {
                OAuthError::invalid_grant("the device code is invalid or was already used")
            }
        }
    }
}

/// The answer to a poll of a device authorization found as `state` (`None`: no such device
/// code for this client). `redeemed_now` says whether this poll's batch redeemed it (exactly
/// one poll of an approved authorization does).
pub fn judge_poll(state: Option<&PolledState>, now: i64, redeemed_now: bool) -> PollAnswer {
    use PollRefusal::*;
    let Some(state) = state else {
        return PollAnswer::Refuse(InvalidGrant);
    };
    if state.status == Status::Redeemed {
        return PollAnswer::Refuse(InvalidGrant);
    }
    if state.expires_at <= now {
        return PollAnswer::Refuse(ExpiredToken);
    }
    match state.status {
        Status::Approved if redeemed_now => PollAnswer::Issue,
        // Approved, but a concurrent poll redeemed it first.
        Status::Approved | Status::Redeemed => PollAnswer::Refuse(InvalidGrant),
        Status::Denied => PollAnswer::Refuse(AccessDenied),
        Status::Pending if state.too_fast(now) => PollAnswer::Refuse(SlowDown),
        Status::Pending => PollAnswer::Refuse(AuthorizationPending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn state(status: Status, last: Option<i64>) -> PolledState {
        PolledState {
            status,
            interval_secs: 5,
            last_polled_at: last,
            expires_at: NOW + 60,
        }
    }

    #[test]
    fn user_codes_are_short_unambiguous_and_uniformish() {
        for _ in 0..200 {
            let code = new_user_code(crate::crypto::random::bytes::<32>);
            assert_eq!(code.len(), 9);
            assert_eq!(&code[4..5], "-");
            assert!(code
                .bytes()
                .filter(|b| *b != b'-')
                .all(|b| ALPHABET.contains(&b)));
            assert_eq!(
                normalize_user_code(&code).map(|c| display_user_code(&c)),
                Some(code)
            );
        }
        // Bytes at or above 240 are skipped, never mapped.
        let code = new_user_code(|| {
            let mut b = [255u8; 32];
            b[20..28].copy_from_slice(&[0, 1, 2, 3, 19, 20, 39, 239]);
            b
        });
        assert_eq!(code, "BCDF-ZBZZ");
    }

    #[test]
    fn typed_codes_are_case_insensitive_and_the_dash_is_optional() {
        for typed in [
            "BCDF-GHJK",
            "bcdf-ghjk",
            "bcdfghjk",
            " BcDf ghjk",
            "BCDF - GHJK",
        ] {
            assert_eq!(
                normalize_user_code(typed).as_deref(),
                Some("BCDFGHJK"),
                "{typed}"
            );
        }
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "BCDF-GHJA",
            "BCDF-GH1K",
            "BCDF_GHJK",
        ] {
            assert_eq!(normalize_user_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_response_points_at_the_device_page() {
        let r = DeviceAuthorizationResponse::new(
            "https://acme.example",
            "dc".into(),
            "BCDF-GHJK".into(),
        );
        assert_eq!(r.verification_uri, "https://acme.example/device");
        assert_eq!(
            r.verification_uri_complete,
            "https://acme.example/device?user_code=BCDF-GHJK"
        );
        assert_eq!((r.expires_in, r.interval), (600, 5));
    }

    #[test]
    fn polls_answer_as_rfc_8628_says() {
        use PollAnswer::*;
        use PollRefusal::*;
        let cases = [
            (None, false, Refuse(InvalidGrant)),
            (
                Some(state(Status::Pending, None)),
                false,
                Refuse(AuthorizationPending),
            ),
            (
                Some(state(Status::Pending, Some(NOW - 5))),
                false,
                Refuse(AuthorizationPending),
            ),
            (
                Some(state(Status::Pending, Some(NOW - 4))),
                false,
                Refuse(SlowDown),
            ),
            (
                Some(state(Status::Denied, None)),
                false,
                Refuse(AccessDenied),
            ),
            (Some(state(Status::Approved, None)), true, Issue),
            (
                Some(state(Status::Approved, None)),
                false,
                Refuse(InvalidGrant),
            ),
            (
                Some(state(Status::Redeemed, None)),
                false,
                Refuse(InvalidGrant),
            ),
        ];
        for (s, redeemed, expected) in cases {
            assert_eq!(judge_poll(s.as_ref(), NOW, redeemed), expected, "{s:?}");
        }
        for status in [Status::Pending, Status::Approved, Status::Denied] {
            let mut s = state(status, None);
            s.expires_at = NOW;
            assert_eq!(judge_poll(Some(&s), NOW, false), Refuse(ExpiredToken));
        }
        let mut spent = state(Status::Redeemed, None);
        spent.expires_at = NOW - 1;
        assert_eq!(
            judge_poll(Some(&spent), NOW, false),
            Refuse(InvalidGrant),
            "a reused device code is invalid_grant, even late"
        );
    }
}
