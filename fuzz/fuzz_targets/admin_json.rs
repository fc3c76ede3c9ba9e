//! The admin API's and account page's JSON bodies, deserialised into the types the Worker uses
//! and validated by the pure functions it delegates to: clients (`ClientInput`), users
//! (`AdminUserInput`), custom claims, profiles (`ProfileInput` at sign-up and on the account
//! page), client presets; and the admin lists' `page`/`limit` query parameters.
//!
//! Input: a request body (every type is tried on it; `deny_unknown_fields` sorts them out),
//! also read as a query string for paging.
#![no_main]

use edge_id::account::{NewProfile, ProfileChange, ProfileInput};
use edge_id::admin::custom_claims::{self, CustomClaimsInput, MAX_CLAIMS, MAX_JSON_BYTES};
use edge_id::admin::paging::{Page, MAX_LIMIT};
use edge_id::admin::presets::{Credentials, PRESETS};
use edge_id::admin::user::{AdminUserInput, PROFILE_FIELDS};
use edge_id::oidc::claims::is_provider_claim;
use edge_id::oidc::client::{AuthMethod, ClientInput, ClientKeys};
use edge_id::oidc::discovery::Endpoints;
use edge_id_fuzz::{form_value, ISSUER};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The body of `POST /api/oidc/client-presets/{preset}` (the Worker's `FromPreset`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromPreset {
    input: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    allowed_user_groups: Vec<String>,
}

fn check_claims(map: &Map<String, Value>) {
    assert!(map.len() <= MAX_CLAIMS);
    assert!(Value::Object(map.clone()).to_string().len() <= MAX_JSON_BYTES);
    for (k, v) in map {
        assert!(
            !is_provider_claim(k) && !k.is_empty() && k.len() <= 64,
            "{k}"
        );
        assert!(!v.is_null());
    }
}

fn check_profile(p: &NewProfile) {
    assert!((2..=32).contains(&p.username.len()));
    assert_eq!(p.username, p.username.to_ascii_lowercase());
    assert_eq!(p.email.matches('@').count(), 1);
    assert!(!p.first_name.is_empty() && p.first_name.chars().count() <= 64);
    assert!(!p.display_name().is_empty());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(client) = serde_json::from_slice::<ClientInput>(data) {
        if client.validate().is_ok() {
            let name = client.name.trim();
            assert!(!name.is_empty() && name.chars().count() <= 100);
            // A confidential client may have none (a machine client); a public one needs one.
            assert!(!client.is_public || !client.callback_urls.is_empty());
            assert!(client.callback_urls.len() <= 20);
            for uri in client
                .callback_urls
                .iter()
                .chain(&client.logout_callback_urls)
            {
                let url = url::Url::parse(uri).expect("validated callback URLs parse");
                assert!(url.fragment().is_none());
                assert!(!matches!(
                    url.scheme(),
                    "javascript" | "data" | "file" | "vbscript"
                ));
            }
            // Client authentication: public exactly when "none"; keys exactly for
            // private_key_jwt, a JWKS that parses or an https (loopback http) URL.
            let (method, keys) = client.auth_settings().expect("validated");
            assert_eq!(client.is_public, method == AuthMethod::None);
            assert!(keys.is_none() || method == AuthMethod::PrivateKeyJwt);
            let federated = &client.federated_credentials;
            assert!(federated.is_empty() || method == AuthMethod::PrivateKeyJwt);
            assert!(federated.len() <= 10);
            assert!(method != AuthMethod::PrivateKeyJwt || keys.is_some() || !federated.is_empty());
            match keys {
                Some(ClientKeys::Inline(jwks)) => {
                    let set: edge_id::crypto::jwk::Jwks =
                        serde_json::from_str(&jwks).expect("a validated JWKS parses");
                    assert!(!set.keys.is_empty() && set.keys.len() <= 10);
                }
                Some(ClientKeys::Uri(uri)) => {
                    let url = url::Url::parse(&uri).expect("a validated jwks_uri parses");
                    assert!(
                        url.scheme() == "https"
                            || (url.scheme() == "http"
                                && matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")))
                    );
                }
                None => {}
            }
            // Logout tokens go over https, or plain http to this machine only.
            if let Some(uri) = client
                .backchannel_logout_uri
                .as_deref()
                .filter(|u| !u.is_empty())
            {
                let url = url::Url::parse(uri).expect("a validated back-channel URI parses");
                assert!(url.fragment().is_none() && url.password().is_none());
                let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
                assert!(
                    url.scheme() == "https" || (url.scheme() == "http" && loopback),
                    "{uri}"
                );
            }
        }
    }

    if let Ok(user) = serde_json::from_slice::<AdminUserInput>(data) {
        if let Ok((profile, flags)) = user.validate_new() {
            check_profile(&profile);
            if let Some(c) = &flags.custom_claims {
                check_claims(c);
            }
        }
        if let Ok((change, flags)) = user.validate_change() {
            assert_eq!(change.username.is_some(), user.username.is_some());
            if let Some(c) = &flags.custom_claims {
                check_claims(c);
            }
        }
    }

    if let Ok(claims) = serde_json::from_slice::<CustomClaimsInput>(data) {
        if let Ok(map) = custom_claims::validate(claims) {
            check_claims(&map);
        }
    }

    if let Ok(profile) = serde_json::from_slice::<ProfileInput>(data) {
        if let Ok(p) = NewProfile::validate(&profile) {
            check_profile(&p);
        }
        // What each tenant setting lets users edit: nothing, some, everything.
        let all: Vec<String> = PROFILE_FIELDS.iter().map(|f| f.to_string()).collect();
        for editable in [&all[..0], &all[..2], &all[..]] {
            if let Ok(change) = ProfileChange::validate(&profile, editable) {
                if change.email.is_some() {
                    assert!(editable.iter().any(|f| f == "email"));
                }
            }
        }
    }

    if let Ok(body) = serde_json::from_slice::<FromPreset>(data) {
        let endpoints = Endpoints::for_issuer(ISSUER);
        let creds = Credentials {
            client_id: "generated-id",
            client_secret: Some("generated-secret"),
        };
        for preset in &PRESETS {
            let Ok(filled) = preset.fill(&body.input, body.name.as_deref(), &endpoints, None)
            else {
                continue;
            };
            // The client a preset produces passes the same validation as a hand-made one
            // (with a name that fits; the admin's name is checked there).
            let mut client = filled.client.clone();
            client.name = "x".into();
            client.allowed_user_groups = body.allowed_user_groups.clone();
            client
                .validate()
                .expect("a filled preset is a valid client");
            assert!(
                preset.input_from_callback(&filled.callback_url).is_some(),
                "{}",
                filled.callback_url
            );
            let again = preset
                .fill(&body.input, body.name.as_deref(), &endpoints, Some(&creds))
                .expect("same input, same answer");
            assert_eq!(again.callback_url, filled.callback_url);
        }
    }

    // Paging, from the list endpoints' query string.
    let query: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let (page, limit) = (form_value(&query, "page"), form_value(&query, "limit"));
    if let Ok(p) = Page::parse(page, limit) {
        assert!(p.page >= 1 && (1..=MAX_LIMIT).contains(&p.limit));
        assert!(p.offset() >= 0);
        let d = p.describe(i64::from(u32::MAX));
        assert!(d.total_pages >= 1);
    }
    if let Ok(p) = Page::parse_or_everything(page, limit) {
        assert!(p.page >= 1 && p.limit >= 1);
    }
});
