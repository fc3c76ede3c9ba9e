//! The table's rules, walked route by route.

use super::*;

fn describe(r: &Route) -> String {
    format!("{:?} {:?} {}", r.site, r.methods, r.path.as_str())
}

#[test]
fn every_admin_api_route_asks_for_an_admin_and_is_documented() {
    for r in ROUTES {
        let is_admin_api = matches!(r.id, RouteId::Admin(_));
        assert_eq!(is_admin_api, r.caller == Caller::Admin, "{}", describe(r));
        if is_admin_api {
            assert!(r.doc.is_some(), "{} has no OpenAPI entry", describe(r));
            assert_eq!(r.methods.len(), 1, "{}: one operation each", describe(r));
        }
        if r.doc.is_some() {
            assert_eq!(r.site, Site::Tenant, "{}", describe(r));
            assert_eq!(r.errors, ErrorStyle::Api, "{}", describe(r));
        }
    }
}

/// (That every body schema named exists is checked where the schemas are, in `admin::api`,
/// which depends on this table and not the other way round.)
#[test]
fn documented_parameters_are_named_once() {
    for (r, doc) in documented() {
        let mut names: Vec<&str> = r
            .path
            .param_names()
            .chain(doc.query.iter().copied())
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            count,
            "{}: a parameter named twice",
            describe(r)
        );
    }
}

#[test]
fn only_the_operator_api_is_on_the_platform_host_and_it_asks_for_the_operator() {
    for r in ROUTES {
        let is_operator_api = matches!(r.id, RouteId::Operator(_));
        assert_eq!(
            is_operator_api,
            r.caller == Caller::Operator,
            "{}",
            describe(r)
        );
        if is_operator_api {
            assert_eq!(r.site, Site::Platform, "{}", describe(r));
            assert_eq!(r.errors, ErrorStyle::Api, "{}", describe(r));
        }
    }
}

/// Without a tenant there is no session, client or admin to check: the routes served without
/// one (the platform's, and those of every host) are open or the operator's.
#[test]
fn routes_without_a_tenant_are_open_or_the_operators() {
    for r in ROUTES.iter().filter(|r| r.site != Site::Tenant) {
        assert!(
            matches!(r.caller, Caller::Anyone | Caller::Operator),
            "{}",
            describe(r)
        );
        assert!(r.limit.is_none() && !r.cors, "{}", describe(r));
    }
}

/// A route that changes something names who may call it. The exceptions are the OIDC
/// front-channel endpoints relying parties post browsers to from their own origin.
#[test]
fn state_changing_routes_declare_their_caller() {
    for r in ROUTES {
        let changes = r.methods.iter().any(|m| *m != Method::Get);
        if changes && r.caller == Caller::Anyone {
            assert!(
                matches!(r.id, RouteId::Authorize | RouteId::EndSession),
                "{} changes state and lets anyone call it",
                describe(r)
            );
        }
    }
}

#[test]
fn no_two_routes_can_match_the_same_request() {
    let overlap = |a: PathPattern, b: PathPattern| {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.0.split('/').collect(), b.0.split('/').collect());
        a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'))
    };
    for (i, a) in ROUTES.iter().enumerate() {
        for b in &ROUTES[i + 1..] {
            let same_host = a.site.serves(b.site) || b.site.serves(a.site);
            let same_method = a.methods.iter().any(|m| b.methods.contains(m));
            assert!(
                !(same_host && same_method && overlap(a.path, b.path)),
                "{} and {} overlap",
                describe(a),
                describe(b)
            );
        }
    }
}

#[test]
fn every_route_has_its_own_id() {
    for (i, a) in ROUTES.iter().enumerate() {
        for b in &ROUTES[i + 1..] {
            assert_ne!(a.id, b.id, "{} and {}", describe(a), describe(b));
        }
    }
}

/// Error style and CORS are decided from the path alone (before the request is even parsed),
/// so all routes at one path must agree on them.
#[test]
fn routes_at_one_path_agree_on_errors_and_cors() {
    for a in ROUTES {
        for b in ROUTES.iter().filter(|b| b.path == a.path) {
            assert_eq!((a.errors, a.cors), (b.errors, b.cors), "{}", describe(a));
        }
    }
}

#[test]
fn cors_routes_answer_in_oauth_json() {
    for r in ROUTES.iter().filter(|r| r.cors) {
        assert_eq!(r.errors, ErrorStyle::OAuth, "{}", describe(r));
        assert_ne!(
            r.caller,
            Caller::SignedInUser,
            "{}: CORS takes no cookies",
            describe(r)
        );
    }
}

#[test]
fn the_back_channel_token_endpoints_are_rate_limited() {
    for r in ROUTES {
        let path = r.path.as_str();
        let token_endpoint = [
            "/api/oidc/token",
            "/api/oidc/par",
            "/api/oidc/introspect",
            "/api/oidc/revoke",
            "/api/oidc/device/authorize",
        ]
        .contains(&path);
        assert_eq!(
            token_endpoint,
            r.limit == Some(Limit::Token),
            "{}",
            describe(r)
        );
        if r.limit.is_some() {
            // Limits count per tenant.
            assert_eq!(r.site, Site::Tenant, "{}", describe(r));
        }
        if r.limit == Some(Limit::SignIn) {
            // The origin is checked before the attempt counts, as it always was.
            assert_eq!(r.caller, Caller::SameOriginBrowser, "{}", describe(r));
        }
    }
    for id in [
        RouteId::PasskeyLoginStart,
        RouteId::PasskeyRegisterStart,
        RouteId::OneTimeLogin,
        RouteId::RecoveryCodeSignIn,
        RouteId::OtherDeviceDecision,
        RouteId::EmailCodeRequest,
        RouteId::EmailCodeSignIn,
        RouteId::DeviceCode,
        RouteId::DeviceDecision,
    ] {
        let r = ROUTES.iter().find(|r| r.id == id).unwrap();
        assert_eq!(r.limit, Some(Limit::SignIn), "{}", describe(r));
    }
}

/// The error style by path before the table existed: the table must keep it.
fn legacy_error_style(path: &str) -> ErrorStyle {
    if matches!(
        path,
        "/api/oidc/token"
            | "/api/oidc/par"
            | "/api/oidc/userinfo"
            | "/api/oidc/introspect"
            | "/api/oidc/revoke"
            | "/api/oidc/device/authorize"
    ) {
        ErrorStyle::OAuth
    } else if path == "/api/oidc/end-session" {
        ErrorStyle::Page
    } else if path.starts_with("/api/")
        || path.starts_with("/operator/api/")
        || path.starts_with("/.well-known/")
    {
        ErrorStyle::Api
    } else {
        ErrorStyle::Page
    }
}

#[test]
fn error_style_and_cors_of_every_path_are_as_before() {
    let mut paths: Vec<String> = ROUTES
        .iter()
        .map(|r| r.path.as_str().replace('{', "x").replace('}', ""))
        .collect();
    paths.extend(
        [
            "/nope",
            "/api/nope",
            "/api/users/a/b/c",
            "/operator/api/x",
            "/.well-known/x",
            "/static/app.js",
            "/setup/",
            "/api/oidc/end-session",
            "/healthz/x",
        ]
        .map(String::from),
    );
    for path in &paths {
        let facts = path_facts(path);
        assert_eq!(facts.errors, legacy_error_style(path), "{path}");
        let legacy_cors = matches!(
            path.as_str(),
            "/api/oidc/token"
                | "/api/oidc/par"
                | "/api/oidc/userinfo"
                | "/api/oidc/revoke"
                | "/api/oidc/device/authorize"
        );
        assert_eq!(facts.cors, legacy_cors, "{path}");
    }
}

#[test]
fn matching_finds_the_route_and_its_parameters() {
    let Lookup::Found(m) = match_route(Site::Tenant, Method::Delete, "/api/users/u1/passkeys/c1")
    else {
        panic!("no match");
    };
    assert_eq!(m.route.id, RouteId::Admin(AdminRoute::DeleteUserPasskey));
    assert_eq!(
        (m.params.get("id"), m.params.get("credential_id")),
        ("u1", "c1")
    );
    // Workers Static Assets serves /static/ before the Worker runs: a file it does not have
    // reaches the Worker, which has no route for it (a 404 page).
    assert!(matches!(
        match_route(Site::Tenant, Method::Get, "/static/unknown.js"),
        Lookup::NotFound
    ));
    let Lookup::Found(m) = match_route(
        Site::Platform,
        Method::Post,
        "/operator/api/tenants/acme/keys/rotate",
    ) else {
        panic!("no match");
    };
    assert_eq!(m.route.id, RouteId::Operator(OperatorRoute::RotateKeys));
    assert_eq!(m.params.get("slug"), "acme");
}

#[test]
fn a_route_serves_its_host_methods_and_shape_only() {
    use Method::{Get, Post};
    use Site::{Platform, Tenant};
    let cases = [
        (Tenant, Get, "/healthz", Some(RouteId::HealthCheck)),
        (Platform, Get, "/healthz", Some(RouteId::HealthCheck)),
        (Tenant, Get, "/operator/api/tenants", None),
        (Platform, Get, "/.well-known/jwks.json", None),
        (Tenant, Get, "/api/oidc/token", None),
        (Tenant, Get, "/api/users/", None), // an empty id
        (Tenant, Get, "/api/users/a/b", None),
        (Tenant, Get, "/", Some(RouteId::Home)),
        (Platform, Get, "/", Some(RouteId::PlatformHome)),
        (Tenant, Post, "/authorize", Some(RouteId::Authorize)),
    ];
    for (site, method, path, expected) in cases {
        let found = match match_route(site, method, path) {
            Lookup::Found(m) => Some(m.route.id),
            _ => None,
        };
        assert_eq!(found, expected, "{site:?} {method:?} {path}");
    }
}

#[test]
fn options_at_a_cors_route_is_its_preflight() {
    assert_eq!(
        match_route(Site::Tenant, Method::Options, "/api/oidc/token"),
        Lookup::Preflight
    );
    assert_eq!(
        match_route(Site::Tenant, Method::Options, "/api/oidc/introspect"),
        Lookup::NotFound
    );
    assert_eq!(
        match_route(Site::Platform, Method::Options, "/api/oidc/token"),
        Lookup::NotFound
    );
}

#[test]
fn unserved_paths_fall_back_to_their_area() {
    let admin = fallback(Site::Tenant, "/api/users/u1/nothing");
    assert_eq!(
        (admin.caller, admin.missing),
        (Caller::Admin, "This API route")
    );
    assert_eq!(
        fallback(Site::Tenant, "/api/audit-logs/x").caller,
        Caller::Anyone
    );
    assert_eq!(fallback(Site::Tenant, "/api/usersx").caller, Caller::Anyone);
    let operator = fallback(Site::Platform, "/operator/api/nothing");
    assert_eq!(operator.caller, Caller::Operator);
    assert_eq!(
        fallback(Site::Tenant, "/operator/api/tenants").missing,
        "This page"
    );
    assert_eq!(
        fallback(Site::Tenant, "/api/account/passkeys/x/y").missing,
        "This API route"
    );
}
