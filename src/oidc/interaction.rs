//! What an authorization request needs before a code can be issued: a sign-in, consent, or
//! nothing (OIDC Core §3.1.2.3 and the `prompt`, `max_age` and `id_token_hint` rules).
//!
//! Pure: the route gathers the facts (session, stored consent, group membership) and acts on
//! the [`Next`] step returned here.

use super::authorize::AuthorizationRequest;
use super::error::{ErrorCode, OAuthError};

/// The signed-in user, as far as the decision is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub user_id: String,
    pub auth_time: i64,
}

/// Everything the decision depends on.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub request: &'a AuthorizationRequest,
    pub session: Option<SessionFacts>,
    /// `sub` of a verified `id_token_hint`, if one was sent.
    pub hinted_subject: Option<String>,
    /// When this interaction began, for a request resumed after sign-in or consent: a sign-in
    /// at or after this moment satisfies `prompt=login`, `max_age` and `select_account`.
    pub started_at: Option<i64>,
    /// The client demands consent (per-client setting) and the user has not given it yet for
    /// these scopes.
    pub consent_missing: bool,
    /// The user gave consent during this interaction.
    pub consented_now: bool,
    /// The user is in one of the client's allowed groups (or the client is open to all).
    pub has_access: bool,
    pub now: i64,
}

/// Whether a fresh request needs nothing but a live session of a user with access to the
/// client to be answered with a code: no prompt that asks for more, no `max_age` or
/// `id_token_hint` that depends on who signed in when, no consent page. Then the code can be
/// issued in the same round trip that reads the session: [`decide`] on that read says `Issue`
/// exactly when the session is live and the user has access (the test below holds it to that).
pub fn needs_only_a_session(
    request: &AuthorizationRequest,
    hinted_subject: Option<&str>,
    consent_required: bool,
) -> bool {
    let p = request.prompt;
    !p.login
        && !p.select_account
        && !p.consent
        && request.max_age.is_none()
        && hinted_subject.is_none()
        && !consent_required
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Show the sign-in page, then resume.
    Login,
    /// Show the consent page, then resume.
    Consent,
    /// The user may not use this client: explain, do not redirect.
    NoAccess,
    /// Issue a code for this user.
    Issue { user_id: String, auth_time: i64 },
    /// Send this error back to the client.
    Fail(OAuthError),
}

pub fn decide(f: &Facts<'_>) -> Next {
    let prompt = f.request.prompt;
    let interactive = |next: Next, code: ErrorCode, why: &str| {
        if prompt.none {
            Next::Fail(OAuthError::new(code, why))
        } else {
            next
        }
    };
    let Some(session) = &f.session else {
        return interactive(
            Next::Login,
            ErrorCode::LoginRequired,
            "the user is not signed in",
        );
    };
    let fresh = f.started_at.is_some_and(|t| session.auth_time >= t);
    if !fresh {
        if prompt.login || prompt.select_account {
            return Next::Login;
        }
        if let Some(max_age) = f.request.max_age {
            if f.now - session.auth_time > max_age {
                return interactive(
                    Next::Login,
                    ErrorCode::LoginRequired,
                    "the sign-in is older than max_age",
                );
            }
        }
        if f.hinted_subject
            .as_ref()
            .is_some_and(|sub| sub != &session.user_id)
        {
            return interactive(
                Next::Login,
                ErrorCode::LoginRequired,
                "a different user is signed in than id_token_hint names",
            );
        }
    }
    if !f.has_access {
        return Next::NoAccess;
    }
    if (f.consent_missing || prompt.consent) && !f.consented_now {
        return interactive(
            Next::Consent,
            ErrorCode::ConsentRequired,
            "the user has not consented to this application",
        );
    }
    Next::Issue {
        user_id: session.user_id.clone(),
        auth_time: session.auth_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::authorize::Prompt;
    use crate::oidc::response_mode::ResponseMode;
    use crate::oidc::scope::ScopeSet;

    fn request(prompt: Prompt, max_age: Option<i64>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "app".into(),
            redirect_uri: "https://app/cb".into(),
            scope: ScopeSet::parse_lenient("openid"),
            state: None,
            nonce: None,
            response_mode: ResponseMode::Query,
            code_challenge: None,
            prompt,
            max_age,
            login_hint: None,
            id_token_hint: None,
            resource: None,
            api_scope: vec![],
        }
    }

    fn facts(r: &AuthorizationRequest, session: Option<i64>) -> Facts<'_> {
        Facts {
            request: r,
            session: session.map(|auth_time| SessionFacts {
                user_id: "u1".into(),
                auth_time,
            }),
            hinted_subject: None,
            started_at: None,
            consent_missing: false,
            consented_now: false,
            has_access: true,
            now: 1000,
        }
    }

    const NONE: Prompt = Prompt {
        none: true,
        login: false,
        consent: false,
        select_account: false,
    };

    /// For every combination of prompts, max_age, hint, consent and session state: when a
    /// request `needs_only_a_session`, `decide` issues exactly when a session is live and its
    /// user has access (what the speculative code's SQL conditions check, see
    /// `storage::codes::issue_statements`). If `decide` grows a rule the shortcut does not
    /// know, this fails.
    #[test]
    fn a_request_that_needs_only_a_session_issues_exactly_for_a_session_with_access() {
        let mut shortcuts = 0;
        for bits in 0..(1u32 << 9) {
            let bit = |i: u32| bits & (1 << i) != 0;
            let prompt = Prompt {
                none: bit(0),
                login: bit(1),
                consent: bit(2),
                select_account: bit(3),
            };
            let r = request(prompt, bit(4).then_some(50));
            let hinted = bit(5).then(|| "u2".to_string());
            let consent_required = bit(6);
            if !needs_only_a_session(&r, hinted.as_deref(), consent_required) {
                continue;
            }
            shortcuts += 1;
            for session in [None, Some(1), Some(999)] {
                let mut f = facts(&r, session);
                f.hinted_subject = hinted.clone();
                f.has_access = bit(7);
                f.consent_missing = consent_required && !bit(8);
                let issues = matches!(decide(&f), Next::Issue { .. });
                assert_eq!(
                    issues,
                    session.is_some() && f.has_access,
                    "{prompt:?} session {session:?} access {}",
                    f.has_access
                );
            }
        }
        assert_eq!(
            shortcuts,
            2 * 4,
            "prompt=none or not, access, consent given or not"
        );
    }

    #[test]
    fn no_session_means_login_or_login_required() {
        let r = request(Prompt::default(), None);
        assert_eq!(decide(&facts(&r, None)), Next::Login);
        let r = request(NONE, None);
        match decide(&facts(&r, None)) {
            Next::Fail(e) => assert_eq!(e.code, ErrorCode::LoginRequired),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_session_issues_silently() {
        let r = request(NONE, None);
        assert_eq!(
            decide(&facts(&r, Some(900))),
            Next::Issue {
                user_id: "u1".into(),
                auth_time: 900
            }
        );
    }

    #[test]
    fn prompt_login_needs_a_sign_in_during_this_interaction() {
        let r = request(
            Prompt {
                login: true,
                ..Prompt::default()
            },
            None,
        );
        assert_eq!(decide(&facts(&r, Some(900))), Next::Login);
        let mut f = facts(&r, Some(990));
        f.started_at = Some(980);
        assert!(matches!(decide(&f), Next::Issue { .. }));
        f.started_at = Some(995);
        assert_eq!(decide(&f), Next::Login);
    }

    #[test]
    fn max_age() {
        let r = request(Prompt::default(), Some(10_000));
        assert!(matches!(decide(&facts(&r, Some(900))), Next::Issue { .. }));
        let r = request(Prompt::default(), Some(1));
        assert_eq!(decide(&facts(&r, Some(900))), Next::Login);
        let mut f = facts(&r, Some(950));
        f.started_at = Some(940);
        assert!(matches!(decide(&f), Next::Issue { .. }));
    }

    #[test]
    fn id_token_hint_of_another_user() {
        let r = request(NONE, None);
        let mut f = facts(&r, Some(900));
        f.hinted_subject = Some("u1".into());
        assert!(matches!(decide(&f), Next::Issue { .. }));
        f.hinted_subject = Some("u2".into());
        assert!(matches!(decide(&f), Next::Fail(_)));
    }

    #[test]
    fn group_access_and_consent() {
        let r = request(Prompt::default(), None);
        let mut f = facts(&r, Some(900));
        f.has_access = false;
        assert_eq!(decide(&f), Next::NoAccess);
        f.has_access = true;
        f.consent_missing = true;
        assert_eq!(decide(&f), Next::Consent);
        f.consented_now = true;
        assert!(matches!(decide(&f), Next::Issue { .. }));
        let r = request(NONE, None);
        let mut f = facts(&r, Some(900));
        f.consent_missing = true;
        assert!(matches!(decide(&f), Next::Fail(e) if e.code == ErrorCode::ConsentRequired));
    }
}
