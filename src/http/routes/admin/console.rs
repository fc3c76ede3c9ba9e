//! `GET /admin`: the admin console. The page is a shell; `static/admin.js` drives the same
//! REST API that scripts use, with the admin's session and CSRF token.

use worker::Response;

use crate::error::{Error, Result};
use crate::http::render::{brand, render};
use crate::http::request::TenantRequest;
use crate::http::respond::redirect;
use crate::http::session;
use crate::ui::{self, AdminPage};

pub async fn page(req: TenantRequest<'_>) -> Result<Response> {
    let Some(current) = session::current(&req).await? else {
        return Ok(redirect("/login?next=/admin"));
    };
    if !current.user.is_admin {
        return Err(Error::Forbidden(
            "The admin console is for this tenant's administrators.".into(),
        ));
    }
    render(&AdminPage {
        tenant: brand(&req),
        asset_version: ui::asset_version(),
        issuer: req.issuer.clone(),
        admin_id: current.user.id.clone(),
        admin_name: current.user.full_name(),
        csrf_token: session::csrf_token(&current),
    })
}
