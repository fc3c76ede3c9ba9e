//! `POST /api/oidc/token`, `/api/oidc/introspect` and `/api/oidc/revoke`: the
//! `Authorization` header and the form body, read as the Worker reads them (client credentials
//! from header or form, then the grant), and the checks a redeemed code and a refresh must pass.
//!
//! Input: the Authorization header value, a newline, then the form body.
#![no_main]

use edge_id::crypto::hash::secret_hash;
use edge_id::oidc::authorize::{AuthorizationRequest, Prompt};
use edge_id::oidc::client::ClientCredentials;
use edge_id::oidc::pkce::{ChallengeMethod, CodeChallenge};
use edge_id::oidc::response_mode::ResponseMode;
use edge_id::oidc::scope::ScopeSet;
use edge_id::oidc::token::{check_code_redemption, refreshed_scope, GrantRequest};
use edge_id_fuzz::{
    check_oauth_error, clients, form_value, split_line, NOW, PKCE_CHALLENGE, PKCE_VERIFIER,
    REDIRECT_URI,
};
use libfuzzer_sys::fuzz_target;

fn parked(challenge: Option<CodeChallenge>) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: "app".into(),
        redirect_uri: REDIRECT_URI.into(),
        scope: ScopeSet::parse_lenient("openid email profile offline_access"),
        state: None,
        nonce: None,
        response_mode: ResponseMode::Query,
        code_challenge: challenge,
        prompt: Prompt::default(),
        max_age: None,
        login_hint: None,
        id_token_hint: None,
        resource: None,
        api_scope: vec![],
    }
}

fuzz_target!(|data: &[u8]| {
    let (header, body) = split_line(data);
    let header = String::from_utf8_lossy(header);
    let authorization = (!header.is_empty()).then_some(header.as_ref());
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();

    match ClientCredentials::from_request(
        authorization,
        form_value(&form, "client_id"),
        form_value(&form, "client_secret"),
    ) {
        Ok(creds) => {
            let accepted = creds.accepted_states();
            assert!(!accepted.is_empty());
            for client in clients() {
                // The one rule: authentication succeeds exactly for the accepted stored states.
                let result = creds.authenticate(&client, NOW);
                assert_eq!(
                    result.is_ok(),
                    accepted.iter().any(|a| a.matches(&client, NOW))
                );
                if let Err(e) = result {
                    check_oauth_error(&e);
                }
            }
        }
        Err(e) => check_oauth_error(&e),
    }

    // Introspection and revocation read these two fields; the token is looked up by hash.
    if let Some(token) = form_value(&form, "token") {
        assert_eq!(secret_hash(token).len(), 43);
    }
    let _hint = form_value(&form, "token_type_hint");

    match GrantRequest::parse(&form) {
        Ok(GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
            ..
        }) => {
            assert!(!code.is_empty());
            let s256 = CodeChallenge::new(PKCE_CHALLENGE, ChallengeMethod::S256).expect("valid");
            let plain = CodeChallenge::new(PKCE_VERIFIER, ChallengeMethod::Plain).expect("valid");
            for challenge in [None, Some(s256), Some(plain)] {
                let with_pkce = challenge.is_some();
                let r = check_code_redemption(
                    &parked(challenge),
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                );
                match r {
                    Ok(()) => {
                        assert_eq!(redirect_uri.as_deref(), Some(REDIRECT_URI));
                        if with_pkce {
                            assert_eq!(code_verifier.as_deref(), Some(PKCE_VERIFIER));
                        } else {
                            assert!(code_verifier.is_none());
                        }
                    }
                    Err(e) => check_oauth_error(&e),
                }
            }
        }
        Ok(GrantRequest::RefreshToken {
            refresh_token,
            scope,
        }) => {
            assert!(!refresh_token.is_empty());
            let granted = ScopeSet::parse_lenient("openid email offline_access");
            match refreshed_scope(&granted, scope.as_ref()) {
                Ok(s) => assert!(s.is_subset_of(&granted)),
                Err(e) => check_oauth_error(&e),
            }
        }
        Ok(GrantRequest::ClientCredentials { resource, scope }) => {
            // One absolute resource without a fragment; requested values sorted, no repeats.
            if let Some(r) = resource {
                assert!(!r.contains('#'));
            }
            if let Some(values) = scope {
                assert!(!values.is_empty());
                assert!(values.windows(2).all(|w| w[0] < w[1]));
                assert!(values.iter().all(|v| !v.is_empty() && !v.contains(' ')));
            }
        }
        Ok(GrantRequest::DeviceCode { device_code }) => assert!(!device_code.is_empty()),
        Err(e) => check_oauth_error(&e),
    }
});
