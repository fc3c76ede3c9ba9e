//! `GET|POST /authorize`: the query string (or form body) as the Worker reads it
//! (`url::form_urlencoded` pairs, duplicates kept), through both validation stages, the
//! interaction decision and the redirect the response is delivered by.
//!
//! Input: one byte choosing the registered client (confidential / public / plain PKCE), then
//! the query string.
#![no_main]

use edge_id::oidc::authorize::{self, AuthorizationRequest, Params};
use edge_id::oidc::interaction::{decide, Facts, Next, SessionFacts};
use edge_id::oidc::response::AuthorizationResponse;
use edge_id::oidc::response_mode::ResponseMode;
use edge_id::oidc::scope::Scope;
use edge_id_fuzz::{clients, ISSUER};
use libfuzzer_sys::fuzz_target;

fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("redirect_url() yields a URL when the registered URI is one")
        .query_pairs()
        .into_owned()
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, query)) = data.split_first() else {
        return;
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query).into_owned().collect();
    let params = Params::new(&pairs);
    let target = match authorize::target(&params) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.message.is_empty());
            return;
        }
    };
    let mut client = clients()[usize::from(selector) % 3].clone();
    if authorize::check_target(&target, Some(&client)).is_err() {
        // The Worker stops here with an error page. Keep fuzzing stage two anyway, as if the
        // URI were registered (registration only accepts absolute URLs).
        if url::Url::parse(&target.redirect_uri).is_err() {
            return;
        }
        client.redirect_uris.push(target.redirect_uri.clone());
        authorize::check_target(&target, Some(&client)).expect("now registered");
    }
    assert!(authorize::check_target(&target, None).is_err());

    match authorize::parse(&params, &target, &client) {
        Ok(req) => {
            assert_eq!(req.redirect_uri, target.redirect_uri);
            assert_eq!(req.client_id, target.client_id);
            assert!(req.scope.contains(Scope::Openid));
            assert!(!client.requires_pkce() || req.code_challenge.is_some());
            assert!(!(req.prompt.none && (req.prompt.login || req.prompt.consent)));
            assert!(req.max_age.is_none_or(|m| m >= 0));
            // The request is parked in D1 as JSON and read back after sign-in.
            let json = serde_json::to_string(&req).expect("serialises");
            let back: AuthorizationRequest = serde_json::from_str(&json).expect("reads back");
            assert_eq!(back, req);

            let resp = AuthorizationResponse::success(&req, "c0de", ISSUER);
            assert_eq!(resp.mode, req.response_mode);
            if resp.mode == ResponseMode::Query {
                let q = query_pairs(&resp.redirect_url());
                assert_eq!(q.last(), Some(&("iss".to_string(), ISSUER.to_string())));
                assert!(q.contains(&("code".into(), "c0de".into())));
                if let Some(state) = &req.state {
                    assert!(q.contains(&("state".into(), state.clone())));
                }
            }

            for (session, started_at, consent_missing) in [
                (None, None, false),
                (Some(100), None, true),
                (Some(100), Some(50), false),
                (Some(0), None, false),
            ] {
                let next = decide(&Facts {
                    request: &req,
                    session: session.map(|t| SessionFacts {
                        user_id: "user-1".into(),
                        auth_time: t,
                    }),
                    hinted_subject: req.id_token_hint.as_ref().map(|_| "user-2".into()),
                    started_at,
                    consent_missing,
                    consented_now: false,
                    has_access: true,
                    now: 1_000,
                });
                if req.prompt.none {
                    assert!(!matches!(next, Next::Login | Next::Consent), "{next:?}");
                }
                if let Next::Issue { user_id, .. } = next {
                    assert_eq!(user_id, "user-1");
                }
            }
        }
        Err(e) => {
            assert_eq!(e.redirect_uri, target.redirect_uri);
            let resp = AuthorizationResponse::error(&e, ISSUER);
            if resp.mode == ResponseMode::Query {
                let q = query_pairs(&resp.redirect_url());
                assert!(q.contains(&("error".into(), e.error.code.as_str().into())));
                if let Some(state) = &e.state {
                    assert!(q.contains(&("state".into(), state.clone())));
                }
            }
        }
    }
});
