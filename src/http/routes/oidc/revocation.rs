//! `POST /api/oidc/revoke`: token revocation (RFC 7009) for clients (`usecase::revocation`).

use serde_json::json;
use worker::Response;

use super::{client_credentials, form, form_value};
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::usecase::revocation;

/// `POST /api/oidc/revoke`: ends the grant behind the token. Unknown or foreign tokens get the
/// same 200 (RFC 7009 §2.2), so the endpoint reveals nothing.
pub async fn revoke(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let token = form_value(&form, "token");
    revocation::revoke(&req.ctx()?, &creds, token).await?;
    Ok(json_response(200, &json!({})))
}
