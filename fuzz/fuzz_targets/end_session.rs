//! `GET|POST /api/oidc/end-session`: the parameters (query or form) as the Worker reads them,
//! the `id_token_hint` verified against the tenant's keys, and the logout plan. The plan may
//! only redirect to a post-logout URI the hinted client registered, with `state` appended.
//!
//! Input: one byte choosing the signed-in user (none / the hinted user / another), then the
//! query string.
#![no_main]

use edge_id::oidc::logout::{plan, Hint, LogoutPlan, LogoutRequest};
use edge_id_fuzz::{clients, judge_hint, jwks, ISSUER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, query)) = data.split_first() else {
        return;
    };
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query).into_owned().collect();
    // The Worker's `get`: the first value, absent when empty.
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let hint = judge_hint(get("id_token_hint").as_deref(), jwks(), ISSUER);
    let client = match &hint {
        Hint::Valid { client_id, .. } => clients().into_iter().find(|c| &c.id == client_id),
        _ => None,
    };
    let session_user = match selector % 3 {
        0 => None,
        1 => Some("user-1"),
        _ => Some("user-2"),
    };
    let request = LogoutRequest {
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        client_id: get("client_id"),
    };
    match plan(&request, &hint, client.as_ref(), session_user) {
        LogoutPlan::Redirect { url } => {
            let Hint::Valid { sub, client_id } = &hint else {
                panic!("redirect without a verified hint");
            };
            assert!(session_user.is_none_or(|u| u == sub));
            assert!(request.client_id.as_ref().is_none_or(|c| c == client_id));
            let client = client.expect("redirect without a client");
            let asked = request.post_logout_redirect_uri.as_deref().expect("uri");
            assert!(client.post_logout_uri_registered(asked));
            // The target is the registered URI plus at most a trailing `state` parameter.
            let mut got = url::Url::parse(&url).expect("redirect target is a URL");
            let registered = url::Url::parse(asked).expect("registered URIs are URLs");
            let mut pairs: Vec<(String, String)> = got.query_pairs().into_owned().collect();
            if let Some(state) = &request.state {
                assert_eq!(pairs.pop(), Some(("state".into(), state.clone())));
            }
            let want: Vec<(String, String)> = registered.query_pairs().into_owned().collect();
            assert_eq!(pairs, want);
            got.set_query(None);
            let mut base = registered.clone();
            base.set_query(None);
            assert_eq!(got, base);
        }
        LogoutPlan::Refuse(why) => assert!(!why.is_empty()),
        LogoutPlan::SignOut | LogoutPlan::Confirm => {}
    }
});
