//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): what to do with a request to
//! the end-session endpoint.
//!
//! The rule that matters for security: the provider redirects only to a
//! `post_logout_redirect_uri` registered for the client that an `id_token_hint` WE signed names.
//! Anything else (unregistered URI, altered URI, no hint, a hint we did not sign) never
//! redirects, so the endpoint cannot be used as an open redirector.

use super::client::Client;

/// What the `id_token_hint` turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    Absent,
    /// Signed by this tenant's key (expiry is irrelevant for a hint).
    Valid {
        sub: String,
        client_id: String,
    },
    /// Unsigned, signed by someone else, or malformed.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutPlan {
    /// End the session and send the user to this URL.
    Redirect { url: String },
    /// End the session and show the signed-out page.
    SignOut,
    /// Ask the user to confirm (a bare request could be a cross-site trick to sign them out).
    Confirm,
    /// Refuse with this explanation; nothing is redirected.
    Refuse(&'static str),
}

/// Decides the logout. `client` is the client the hint's `aud` names (looked up by the caller).
pub fn plan(
    req: &LogoutRequest,
    hint: &Hint,
    client: Option<&Client>,
    session_user: Option<&str>,
) -> LogoutPlan {
    let hinted = match hint {
        Hint::Invalid => {
            return LogoutPlan::Refuse(
                "The sign-out request carries an id_token_hint this service did not issue.",
            )
        }
        Hint::Absent => None,
        Hint::Valid { sub, client_id } => Some((sub, client_id)),
    };
    if let (Some((_, hinted_client)), Some(asked)) = (hinted, req.client_id.as_deref()) {
        if asked != hinted_client {
            return LogoutPlan::Refuse("The client_id does not match the id_token_hint.");
        }
    }
    // A hint for another user than the one signed in here is not proof the user wants out.
    let hint_matches_session = hinted.is_some_and(|(sub, _)| session_user.is_none_or(|u| u == sub));
    match (&req.post_logout_redirect_uri, hinted) {
        (Some(_), None) => LogoutPlan::Confirm,
        (Some(uri), Some(_)) => {
            let registered = client.is_some_and(|c| c.post_logout_uri_registered(uri));
            if !registered {
                return LogoutPlan::Refuse(
                    "The application asked to return you to an address it has not registered.",
                );
            }
            if !hint_matches_session {
                return LogoutPlan::Confirm;
            }
            let url = match url::Url::parse(uri) {
                Ok(mut u) => {
                    if let Some(state) = &req.state {
                        u.query_pairs_mut().append_pair("state", state);
                    }
                    u.to_string()
                }
                Err(_) => return LogoutPlan::Refuse("The registered address is not a URL."),
            };
            LogoutPlan::Redirect { url }
        }
        (None, Some(_)) if hint_matches_session => LogoutPlan::SignOut,
        (None, _) if session_user.is_none() => LogoutPlan::SignOut,
        (None, _) => LogoutPlan::Confirm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jwk::SigningAlg;

    fn client() -> Client {
        Client {
            id: "app".into(),
            name: "App".into(),
            secrets: vec![],
            is_public: true,
            pkce_required: true,
            allow_plain_pkce: false,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec!["https://app/bye".into()],
            claims_in_id_token: false,
            id_token_alg: SigningAlg::RS256,
            require_consent: false,
            allowed_groups: vec![],
            tokens: Default::default(),
            require_pushed_requests: false,
            auth_method: crate::oidc::client::AuthMethod::None,
            keys: None,
            federated: vec![],
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }

    fn req(uri: Option<&str>, state: Option<&str>) -> LogoutRequest {
        LogoutRequest {
            post_logout_redirect_uri: uri.map(str::to_string),
            state: state.map(str::to_string),
            client_id: None,
        }
    }

    fn valid() -> Hint {
        Hint::Valid {
            sub: "u1".into(),
            client_id: "app".into(),
        }
    }

    #[test]
    fn registered_uri_with_hint_redirects_with_state() {
        let c = client();
        let p = plan(
            &req(Some("https://app/bye"), Some("xyz")),
            &valid(),
            Some(&c),
            Some("u1"),
        );
        assert_eq!(
            p,
            LogoutPlan::Redirect {
                url: "https://app/bye?state=xyz".into()
            }
        );
    }

    #[test]
    fn never_redirects_to_unverified_targets() {
        let c = client();
        for uri in [
            "https://evil/bye",
            "https://app/bye?x=1",
            "https://app/bye/x",
        ] {
            assert!(matches!(
                plan(&req(Some(uri), None), &valid(), Some(&c), Some("u1")),
                LogoutPlan::Refuse(_)
            ));
        }
        assert_eq!(
            plan(
                &req(Some("https://app/bye"), None),
                &Hint::Absent,
                Some(&c),
                Some("u1")
            ),
            LogoutPlan::Confirm
        );
        assert!(matches!(
            plan(
                &req(Some("https://app/bye"), None),
                &Hint::Invalid,
                Some(&c),
                Some("u1")
            ),
            LogoutPlan::Refuse(_)
        ));
    }

    #[test]
    fn without_a_redirect() {
        assert_eq!(
            plan(&req(None, None), &valid(), None, Some("u1")),
            LogoutPlan::SignOut
        );
        assert_eq!(
            plan(&req(None, Some("s")), &Hint::Absent, None, Some("u1")),
            LogoutPlan::Confirm
        );
        assert_eq!(
            plan(&req(None, None), &Hint::Absent, None, None),
            LogoutPlan::SignOut
        );
        let other = Hint::Valid {
            sub: "u2".into(),
            client_id: "app".into(),
        };
        assert_eq!(
            plan(&req(None, None), &other, None, Some("u1")),
            LogoutPlan::Confirm
        );
    }

    #[test]
    fn client_id_must_agree_with_the_hint() {
        let mut r = req(None, None);
        r.client_id = Some("other".into());
        assert!(matches!(
            plan(&r, &valid(), None, Some("u1")),
            LogoutPlan::Refuse(_)
        ));
    }
}
