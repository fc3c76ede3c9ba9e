//! `POST /api/oidc/introspect`: token introspection (RFC 7662) for clients
//! (`usecase::introspection`).

use worker::Response;

use super::{client_credentials, form, form_value};
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::usecase::introspection;

/// `POST /api/oidc/introspect`. A client learns about its own tokens only: another client's
/// token is reported inactive, so clients of one tenant cannot probe each other's users.
pub async fn introspect(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let token = form_value(&form, "token");
    let hint = form_value(&form, "token_type_hint");
    let answer = introspection::introspect(&req.ctx()?, &creds, token, hint).await?;
    Ok(json_response(200, &answer))
}
