//! `GET|POST /api/oidc/userinfo` (OIDC Core §5.3): the claims the access token's scopes
//! release. The token comes in the `Authorization: Bearer` header or, for POST, in the
//! `access_token` form field (RFC 6750 §2.1, §2.2) — never both.

use worker::{Method, Response};

use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::json;
use crate::oidc::error::OAuthError;

/// The bearer token of a protected-resource request.
pub async fn bearer_token(req: &mut TenantRequest<'_>) -> Result<String> {
    let header = req
        .incoming
        .header("authorization")
        .and_then(|h| {
            h.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim().to_string())
        })
        .filter(|t| !t.is_empty());
    let body = if req.incoming.method == Method::Post
        && req
            .incoming
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        let form = req.incoming.form().await?;
        super::form_value(&form, "access_token").map(str::to_string)
    } else {
        None
    };
    match (header, body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the access token in the header or the body, not both",
        )
        .into()),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(OAuthError::invalid_token("an access token is required").into()),
    }
}

pub async fn userinfo(mut req: TenantRequest<'_>) -> Result<Response> {
    let token = bearer_token(&mut req).await?;
    let claims = crate::usecase::userinfo::claims_for(&req.ctx()?, &token).await?;
    Ok(json(200, &claims))
}
