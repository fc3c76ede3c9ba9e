//! Rendering a page: the tenant's brand, a template to an HTML response, a message page.
//! Handlers share these; they are not routes.

use askama::Template;
use worker::Response;

use crate::error::{Error, Result};
use crate::http::request::TenantRequest;
use crate::http::respond::html;
use crate::ui::{self, ErrorPage, TenantBrand};

pub fn brand(req: &TenantRequest<'_>) -> TenantBrand {
    let t = &req.tenant.tenant;
    TenantBrand::new(
        &t.display_name,
        t.settings.logo_url.clone(),
        &t.settings.accent_color,
    )
}

pub fn render(page: &impl Template) -> Result<Response> {
    let body = page
        .render()
        .map_err(|e| Error::Internal(format!("template: {e}")))?;
    Ok(html(200, &body))
}

pub fn message(
    req: &TenantRequest<'_>,
    title: &str,
    message: &str,
    back_url: Option<&str>,
) -> Result<Response> {
    render(&ErrorPage {
        tenant: Some(brand(req)),
        asset_version: ui::asset_version(),
        title: title.into(),
        message: message.into(),
        detail: None,
        back_url: back_url.map(str::to_string),
    })
}
