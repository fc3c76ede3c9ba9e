//! `POST /api/oidc/revoke`: token revocation (RFC 7009) for clients.

use serde_json::json;
use worker::Response;

use super::{authenticated_client, form, form_value};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::oidc::error::OAuthError;
use crate::storage::grants;

/// `POST /api/oidc/revoke`: ends the grant behind the token. Unknown or foreign tokens get the
/// same 200 (RFC 7009 §2.2), so the endpoint reveals nothing.
pub async fn revoke(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let client = authenticated_client(&req, &form).await?;
    let token = form_value(&form, "token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    grants::revoke_token(
        req.app.db()?,
        &req.tenant.tenant.id,
        &client.id,
        &secret_hash(token),
        req.now,
    )
    .await?;
    Ok(json_response(200, &json!({})))
}
