//! `/api/application-configuration`: the tenant's branding and account settings.

use serde_json::json;
use worker::Response;

use super::audit_entry;
use crate::admin::settings::SettingsInput;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::storage::audit::When;
use crate::storage::{tenant_cache, tenants};

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
    let db = req.app.db()?;
    let tenant = &req.tenant.tenant;
    // Which settings changed, for the audit log (written in the update's own batch).
    let mut fields: Vec<&str> = change.patch.keys().map(String::as_str).collect();
    if change.display_name.is_some() {
        fields.insert(0, "display_name");
    }
    let audit = audit_entry(
        &req,
        actor,
        "settings_updated",
        None,
        json!({ "fields": fields }),
        When::PreviousChanged,
    )?;
    let updated = tenants::update_settings(db, &tenant.id, &change, req.now, audit)
        .await?
        .ok_or(Error::UnknownTenant)?;
    // Every host of the tenant serves the new settings at once in this isolate, and within the
    // memory TTL elsewhere.
    let mut hosts = vec![req.incoming.host.name.clone()];
    hosts.extend(updated.domains);
    hosts.push(format!("{}.{}", tenant.slug, req.app.base_domain));
    tenant_cache::invalidate(&req.app.kv()?, &hosts).await?;
    Ok(json_response(
        200,
        &json!({ "display_name": updated.display_name, "settings": updated.settings }),
    ))
}
