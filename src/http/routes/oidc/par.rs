//! `POST /api/oidc/par`: pushed authorization requests (RFC 9126, `usecase::par`).

use worker::Response;

use super::{client_credentials, form};
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::{json, set_header};
use crate::usecase::par;

/// `POST /api/oidc/par`: 201 with the request_uri and its lifetime (RFC 9126 §2.2).
pub async fn push(mut req: TenantRequest<'_>) -> Result<Response> {
    let form = form(&mut req).await?;
    let creds = client_credentials(&req, &form)?;
    let pushed = par::push(&req.ctx()?, &creds, &form).await?;
    let mut resp = json(201, &pushed);
    // The request_uri stands for the request: no cache may keep or replay it.
    set_header(&mut resp, "Cache-Control", "no-store");
    Ok(resp)
}
