//! The admin REST API's route table and its OpenAPI 3.1 document (`GET /api/openapi.json`).
//! The end-to-end tests walk this table: every documented route must exist, refuse other
//! tenants' keys, and find nothing of another tenant.

use serde_json::{json, Map, Value};

/// One route of the admin API. `{id}`-style segments are path parameters.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The request body's schema (a key of [`schemas`]), if it takes one.
    pub body: Option<&'static str>,
    /// Paged list (`page`, `limit`) with these extra query parameters.
    pub query: &'static [&'static str],
}

const fn route(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
) -> ApiRoute {
    ApiRoute {
        method,
        path,
        tag,
        summary,
        body,
        query: &[],
    }
}

pub const ROUTES: [ApiRoute; 34] = [
    ApiRoute {
        query: &["search", "page", "limit"],
        ..route(
            "get",
            "/api/users",
            "Users",
            "List users (search, paged)",
            None,
        )
    },
    route(
        "post",
        "/api/users",
        "Users",
        "Create a user (without a passkey: send a one-time login link)",
        Some("UserInput"),
    ),
    route(
        "get",
        "/api/users/{id}",
        "Users",
        "A user with groups and passkeys",
        None,
    ),
    route(
        "put",
        "/api/users/{id}",
        "Users",
        "Edit, disable, make admin, set custom claims (left-out fields stay)",
        Some("UserInput"),
    ),
    route(
        "delete",
        "/api/users/{id}",
        "Users",
        "Delete a user with passkeys, sessions, memberships and tokens",
        None,
    ),
    route(
        "put",
        "/api/users/{id}/user-groups",
        "Users",
        "Set the user's groups",
        Some("GroupIds"),
    ),
    route(
        "get",
        "/api/users/{id}/sessions",
        "Users",
        "The user's live browser sessions (IP, browser, times)",
        None,
    ),
    route(
        "delete",
        "/api/users/{id}/sessions",
        "Users",
        "Sign the user out everywhere and revoke their tokens",
        None,
    ),
    route(
        "delete",
        "/api/users/{id}/passkeys/{credential_id}",
        "Users",
        "Remove a passkey",
        None,
    ),
    route(
        "post",
        "/api/users/{id}/one-time-access-token",
        "Users",
        "A one-time login link (recovery, first sign-in)",
        Some("LinkInput"),
    ),
    route(
        "post",
        "/api/signup-tokens",
        "Users",
        "An invitation link that creates one account",
        Some("LinkInput"),
    ),
    route(
        "put",
        "/api/custom-claims/user/{id}",
        "Custom claims",
        "Replace a user's custom claims",
        Some("CustomClaims"),
    ),
    route(
        "put",
        "/api/custom-claims/user-group/{id}",
        "Custom claims",
        "Replace a group's custom claims",
        Some("CustomClaims"),
    ),
    ApiRoute {
        query: &["search", "page", "limit"],
        ..route(
            "get",
            "/api/user-groups",
            "Groups",
            "List groups (search; all of them unless a page is asked for)",
            None,
        )
    },
    route(
        "post",
        "/api/user-groups",
        "Groups",
        "Create a group",
        Some("GroupInput"),
    ),
    route(
        "get",
        "/api/user-groups/{id}",
        "Groups",
        "A group with members and the clients restricted to it",
        None,
    ),
    route(
        "put",
        "/api/user-groups/{id}",
        "Groups",
        "Rename a group or set its custom claims",
        Some("GroupInput"),
    ),
    route(
        "delete",
        "/api/user-groups/{id}",
        "Groups",
        "Delete a group (refused while a client is restricted to it alone)",
        None,
    ),
    route(
        "put",
        "/api/user-groups/{id}/users",
        "Groups",
        "Set the members",
        Some("UserIds"),
    ),
    route(
        "get",
        "/api/oidc/clients",
        "OIDC clients",
        "List clients",
        None,
    ),
    route(
        "post",
        "/api/oidc/clients",
        "OIDC clients",
        "Create a client (the secret is in the response, once)",
        Some("ClientInput"),
    ),
    route(
        "get",
        "/api/oidc/clients/{id}",
        "OIDC clients",
        "A client, with its preset's setup values",
        None,
    ),
    route(
        "put",
        "/api/oidc/clients/{id}",
        "OIDC clients",
        "Replace a client's settings",
        Some("ClientInput"),
    ),
    route(
        "delete",
        "/api/oidc/clients/{id}",
        "OIDC clients",
        "Delete a client and revoke its tokens",
        None,
    ),
    route(
        "post",
        "/api/oidc/clients/{id}/secret",
        "OIDC clients",
        "Generate a new secret (the old one stops working)",
        None,
    ),
    route(
        "get",
        "/api/oidc/client-presets",
        "OIDC clients",
        "Presets for common apps and this tenant's endpoint URLs",
        None,
    ),
    route(
        "post",
        "/api/oidc/client-presets/{preset}",
        "OIDC clients",
        "Create a client from a preset; returns what to paste into the app",
        Some("PresetInput"),
    ),
    ApiRoute {
        query: &["event", "user_id", "client_id", "page", "limit"],
        ..route(
            "get",
            "/api/audit-logs",
            "Audit log",
            "Audit entries, newest first (filter, paged)",
            None,
        )
    },
    route(
        "get",
        "/api/api-keys",
        "API keys",
        "List API keys (never their values)",
        None,
    ),
    route(
        "post",
        "/api/api-keys",
        "API keys",
        "Create an API key (the value is in the response, once)",
        Some("ApiKeyInput"),
    ),
    route(
        "delete",
        "/api/api-keys/{id}",
        "API keys",
        "Delete an API key",
        None,
    ),
    route(
        "get",
        "/api/application-configuration",
        "Settings",
        "Branding and account settings",
        None,
    ),
    route(
        "put",
        "/api/application-configuration",
        "Settings",
        "Change branding and account settings",
        Some("SettingsInput"),
    ),
    route(
        "get",
        "/api/openapi.json",
        "Settings",
        "This document",
        None,
    ),
];

fn string() -> Value {
    json!({ "type": "string" })
}

/// Request body schemas, kept as a JSON file: as data they cost their bytes in the wasm, where
/// `json!` literals of the same would compile to code several times larger.
const SCHEMAS: &str = include_str!("openapi-schemas.json");

fn schemas() -> Map<String, Value> {
    serde_json::from_str(SCHEMAS).unwrap_or_default()
}

fn parameters(r: &ApiRoute) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": string() }))
        .collect();
    out.extend(r.query.iter().map(|name| {
        let schema = if matches!(*name, "page" | "limit") {
            json!({ "type": "integer", "minimum": 1 })
        } else {
            string()
        };
        json!({ "name": name, "in": "query", "schema": schema })
    }));
    out
}

/// The OpenAPI document for a tenant (its issuer is the server URL).
pub fn openapi(issuer: &str) -> Value {
    let mut paths = Map::new();
    for r in &ROUTES {
        let mut op = json!({
            "tags": [r.tag],
            "summary": r.summary,
            "parameters": parameters(r),
            "responses": {
                "200": { "description": "OK" },
                "201": { "description": "Created" },
                "204": { "description": "Deleted" },
                "400": { "description": "Invalid input", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "401": { "description": "No or invalid API key / session" },
                "403": { "description": "Not an admin, or a browser request without the CSRF token" },
                "404": { "description": "Not found in this tenant" },
                "409": { "description": "Conflict (name taken, last admin...)" }
            }
        });
        if let Some(body) = r.body {
            op["requestBody"] = json!({
                "required": r.method != "post" || !body.starts_with("Link"),
                "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } }
            });
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Edge ID tenant admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Per-tenant administration, modelled on Pocket ID's API. Authenticate with an API key in the X-API-KEY header, or as a signed-in admin from the same origin with the X-CSRF-Token header on changes. Lists return {data, pagination}."
        },
        "servers": [{ "url": issuer }],
        "security": [{ "apiKey": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-KEY" } },
            "schemas": schemas()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_parameters_and_body_schema() {
        let doc = openapi("https://acme.id.example.com");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in &ROUTES {
            let op = &doc["paths"][r.path][r.method];
            assert!(op.is_object(), "{} {}", r.method, r.path);
            let params = op["parameters"].as_array().unwrap();
            for name in r
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                assert!(
                    params.iter().any(|p| p["name"] == name),
                    "{name} in {}",
                    r.path
                );
            }
            if let Some(b) = r.body {
                assert!(schemas.contains_key(b), "schema {b}");
            }
        }
        let unique: std::collections::BTreeSet<_> =
            ROUTES.iter().map(|r| (r.method, r.path)).collect();
        assert_eq!(unique.len(), ROUTES.len(), "no route is listed twice");
    }
}
