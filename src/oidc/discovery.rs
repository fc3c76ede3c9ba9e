//! PLACEHOLDER until the full module lands.
use serde_json::{json, Value};
pub fn openid_configuration(issuer: &str) -> Value {
    json!({"issuer": issuer, "jwks_uri": format!("{issuer}/.well-known/jwks.json")})
}
pub fn oauth_authorization_server(issuer: &str) -> Value {
    openid_configuration(issuer)
}
