//! The per-tenant stylesheet with the tenant's accent colour (`/theme.css`). The pages' static
//! files (`/static/...`) never reach the Worker: Workers Static Assets serves them
//! (`src/ui/assets.rs`).

use worker::Response;

use crate::http::request::TenantRequest;
use crate::http::respond::{set_header, text};
use crate::ui;

pub fn theme(req: &TenantRequest<'_>) -> Response {
    let mut resp = text(
        200,
        "text/css; charset=utf-8",
        &ui::theme_css(&req.tenant.tenant.settings.accent_color),
    );
    set_header(&mut resp, "Cache-Control", "public, max-age=300");
    resp
}
