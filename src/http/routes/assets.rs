//! Static files for the pages (`/static/...`, immutable, versioned by a query string) and the
//! per-tenant stylesheet with the tenant's accent colour (`/theme.css`).

use worker::Response;

use crate::error::{Error, Result};
use crate::http::request::TenantRequest;
use crate::http::respond::{set_header, text};
use crate::ui;

pub fn static_asset(path: &str) -> Result<Response> {
    let asset = ui::asset(path).ok_or_else(|| Error::NotFound("This file".into()))?;
    let mut resp = text(200, asset.content_type, asset.body);
    set_header(
        &mut resp,
        "Cache-Control",
        "public, max-age=31536000, immutable",
    );
    Ok(resp)
}

pub fn theme(req: &TenantRequest<'_>) -> Response {
    let mut resp = text(
        200,
        "text/css; charset=utf-8",
        &ui::theme_css(&req.tenant.tenant.settings.accent_color),
    );
    set_header(&mut resp, "Cache-Control", "public, max-age=300");
    resp
}
