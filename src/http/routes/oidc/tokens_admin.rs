//! Token introspection (RFC 7662) and revocation (RFC 7009) for clients.

use serde_json::json;
use worker::Response;

use super::{client_credentials, form, form_value};
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::usecase::{introspection, revocation};

/// `POST /api/oidc/introspect` (`usecase::introspection`).
pub async fn introspect(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let token = form_value(&form, "token");
    let hint = form_value(&form, "token_type_hint");
    let answer = introspection::introspect(&req.ctx()?, &creds, token, hint).await?;
    Ok(json_response(200, &answer))
}

/// `POST /api/oidc/revoke` (`usecase::revocation`): unknown or foreign tokens get the same 200
/// (RFC 7009 §2.2).
pub async fn revoke(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let token = form_value(&form, "token");
    revocation::revoke(&req.ctx()?, &creds, token).await?;
    Ok(json_response(200, &json!({})))
}
