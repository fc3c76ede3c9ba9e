//! `/api/application-configuration`: the tenant's branding and account settings.

use serde_json::json;
use worker::Response;

use crate::admin::settings::SettingsInput;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;

pub fn get(req: &TenantRequest<'_>) -> Response {
    let t = &req.tenant.tenant;
    json_response(
        200,
        &json!({ "display_name": t.display_name, "settings": t.settings }),
    )
}

/// Changes only the settings sent. The change is applied to the row in D1 (never to the
/// cached snapshot this request was served from, which may be older than another admin's
/// change), and the answer is what D1 holds after the write.
pub async fn update(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: SettingsInput = req.incoming.json().await?;
    let change = body.validate()?;
    let tenant = &req.tenant.tenant;
    let hosts = vec![
        req.incoming.host.name.clone(),
        format!("{}.{}", tenant.slug, req.app.base_domain),
    ];
    let ctx = super::admin_ctx(&req, actor)?;
    let updated = crate::usecase::settings::update(&ctx, &req.app.kv()?, &change, hosts).await?;
    Ok(json_response(
        200,
        &json!({ "display_name": updated.display_name, "settings": updated.settings }),
    ))
}
