//! `POST /api/oidc/introspect`: token introspection (RFC 7662) for clients.

use serde_json::json;
use worker::Response;

use super::{authenticated_client, form, form_value};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::oidc::error::OAuthError;
use crate::storage::grants;

/// `POST /api/oidc/introspect`. A client learns about its own tokens only: another client's
/// token is reported inactive, so clients of one tenant cannot probe each other's users.
pub async fn introspect(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let client = authenticated_client(&req, &form).await?;
    let token = form_value(&form, "token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let hash = secret_hash(token);
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let hint = form_value(&form, "token_type_hint");
    let access = if hint == Some("refresh_token") {
        None
    } else {
        let found = grants::find_access_token(db, tenant_id, &hash, req.now).await?;
        found
            .token
            .zip(found.user.map(|u| u.id))
            .map(|(t, u)| (t, u, "access_token"))
    };
    let found = match access {
        Some(a) => Some(a),
        None => grants::find_live_refresh(db, tenant_id, &hash, req.now)
            .await?
            .map(|(t, u)| (t, u, "refresh_token")),
    };
    let body = match found {
        Some((t, sub, kind)) if t.client_id == client.id => json!({
            "active": true,
            "scope": t.scope,
            "client_id": t.client_id,
            "sub": sub,
            "aud": t.client_id,
            "iss": req.issuer,
            "exp": t.expires_at,
            "iat": t.created_at,
            "auth_time": t.auth_time,
            "token_type": if kind == "access_token" { "Bearer" } else { "refresh_token" },
        }),
        _ => json!({ "active": false }),
    };
    Ok(json_response(200, &body))
}
