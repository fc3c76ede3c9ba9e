//! The admin REST API's OpenAPI 3.1 document (`GET /api/openapi.json`), derived from the
//! routes of [`crate::route_table`] that carry an [`ApiDoc`]. The end-to-end tests walk this
//! document: every documented route must exist, refuse other tenants' keys, and find nothing
//! of another tenant.

use serde_json::{json, Map, Value};

use crate::route_table::{documented, ApiDoc, Method, PathPattern};

fn string() -> Value {
    json!({ "type": "string" })
}

/// Request body schemas, kept as a JSON file: as data they cost their bytes in the wasm, where
/// `json!` literals of the same would compile to code several times larger.
const SCHEMAS: &str = include_str!("openapi-schemas.json");

fn schemas() -> Map<String, Value> {
    serde_json::from_str(SCHEMAS).unwrap_or_default()
}

fn parameters(path: PathPattern, doc: &ApiDoc) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .param_names()
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": string() }))
        .collect();
    out.extend(doc.query.iter().map(|name| {
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
    for (route, doc) in documented() {
        let op = json!({
            "tags": [doc.tag],
            "summary": doc.summary,
            "parameters": parameters(route.path, doc),
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
        let entry = paths
            .entry(route.path.as_str().to_string())
            .or_insert_with(|| json!({}));
        for method in route.methods {
            let mut op = op.clone();
            if let Some(body) = doc.body {
                // A link's input is optional (defaults apply); every other body is required.
                op["requestBody"] = json!({
                    "required": *method != Method::Post || !body.starts_with("Link"),
                    "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } }
                });
            }
            entry[method.openapi_name()] = op;
        }
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
#[path = "api_schema_check.rs"]
mod schema_check;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request body's schema lists exactly the fields its Rust type accepts, and the
    /// type refuses others as the schema says (`additionalProperties: false`).
    #[test]
    fn request_schemas_match_the_types_that_parse_the_bodies() {
        use super::schema_check::fields_of;
        let types: Vec<(&str, Vec<&str>)> = vec![
            (
                "UserInput",
                fields_of::<crate::admin::user::AdminUserInput>(),
            ),
            (
                "GroupInput",
                fields_of::<crate::usecase::groups::GroupInput>(),
            ),
            ("GroupIds", fields_of::<crate::admin::requests::GroupIds>()),
            ("UserIds", fields_of::<crate::admin::requests::UserIds>()),
            (
                "LinkInput",
                fields_of::<crate::admin::requests::LinkInput>(),
            ),
            (
                "ClientInput",
                fields_of::<crate::oidc::client::ClientInput>(),
            ),
            ("ApiInput", fields_of::<crate::oidc::api::ApiInput>()),
            (
                "ClientApiGrants",
                fields_of::<crate::oidc::api::ClientApiGrants>(),
            ),
            (
                "SecretInput",
                fields_of::<crate::usecase::clients::SecretInput>(),
            ),
            (
                "PresetInput",
                fields_of::<crate::usecase::clients::FromPreset>(),
            ),
            (
                "ApiKeyInput",
                fields_of::<crate::admin::requests::ApiKeyInput>(),
            ),
            (
                "InvitationInput",
                fields_of::<crate::admin::requests::InvitationInput>(),
            ),
            (
                "SettingsInput",
                fields_of::<crate::admin::settings::SettingsInput>(),
            ),
            (
                "TestEmailInput",
                fields_of::<crate::admin::settings::TestEmailInput>(),
            ),
        ];
        let schemas = schemas();
        for (name, fields) in &types {
            let schema = &schemas[*name];
            let mut documented: Vec<&str> = schema["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{name} has properties"))
                .keys()
                .map(String::as_str)
                .collect();
            documented.sort_unstable();
            assert_eq!(&documented, fields, "{name}: schema vs type");
            assert_eq!(schema["additionalProperties"], json!(false), "{name}");
        }
        // Every body schema a route names is one of those checked (or free-form claims).
        for route in crate::route_table::ROUTES {
            if let Some(body) = route.doc.and_then(|d| d.body) {
                assert!(
                    body == "CustomClaims" || types.iter().any(|(n, _)| *n == body),
                    "{body} is not checked against a type"
                );
            }
        }
    }

    #[test]
    fn every_route_is_documented_with_its_parameters_and_body_schema() {
        let doc = openapi("https://acme.id.example.com");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut operations = 0;
        for (route, api) in documented() {
            let path = route.path.as_str();
            for method in route.methods {
                let op = &doc["paths"][path][method.openapi_name()];
                assert!(op.is_object(), "{method:?} {path}");
                assert_eq!(op["summary"], api.summary, "{method:?} {path}");
                let params = op["parameters"].as_array().unwrap();
                for name in route.path.param_names().chain(api.query.iter().copied()) {
                    assert!(params.iter().any(|p| p["name"] == name), "{name} in {path}");
                }
                match api.body {
                    Some(b) => {
                        assert!(schemas.contains_key(b), "schema {b}");
                        assert_eq!(
                            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                            format!("#/components/schemas/{b}")
                        );
                    }
                    None => assert!(op["requestBody"].is_null(), "{method:?} {path}"),
                }
                operations += 1;
            }
        }
        let listed: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|ops| ops.as_object().unwrap().len())
            .sum();
        assert_eq!(
            listed, operations,
            "the document lists the documented routes only"
        );
        assert!(operations >= 34, "{operations} operations");
    }
}
