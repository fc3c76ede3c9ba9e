//! `/api/application-configuration`: the tenant's branding and account settings.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::record;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::storage::{tenant_cache, tenants};
use crate::tenancy::{SignupMode, TenantSettings};
use crate::validation::{field_error, plain_text};

pub fn get(req: &TenantRequest<'_>) -> Response {
    let t = &req.tenant.tenant;
    json_response(
        200,
        &json!({ "display_name": t.display_name, "settings": t.settings }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    accent_color: Option<String>,
    #[serde(default)]
    logo_url: Option<Option<String>>,
    #[serde(default)]
    session_lifetime_secs: Option<u64>,
    #[serde(default)]
    signup_mode: Option<SignupMode>,
    #[serde(default)]
    user_editable_fields: Option<Vec<String>>,
    #[serde(default)]
    audit_retention_days: Option<u32>,
}

const EDITABLE: [&str; 5] = [
    "first_name",
    "last_name",
    "display_name",
    "username",
    "email",
];

fn apply(u: Update, name: &mut String, s: &mut TenantSettings) -> Result<()> {
    if let Some(n) = u.display_name {
        let n = n.trim().to_string();
        // Shown on every login and consent page of the tenant.
        plain_text("display_name", &n)?;
        if n.is_empty() || n.chars().count() > 100 {
            return Err(field_error("display_name", "1 to 100 characters").into());
        }
        *name = n;
    }
    if let Some(c) = u.accent_color {
        let ok =
            c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(field_error("accent_color", "a colour like #4f46e5").into());
        }
        s.accent_color = c.to_ascii_lowercase();
    }
    if let Some(logo) = u.logo_url {
        let logo = logo.filter(|l| !l.trim().is_empty());
        if let Some(l) = &logo {
            let ok = url::Url::parse(l).is_ok_and(|u| u.scheme() == "https") && l.len() <= 2000;
            if !ok {
                return Err(field_error("logo_url", "an https URL").into());
            }
            plain_text("logo_url", l)?;
        }
        s.logo_url = logo;
    }
    if let Some(secs) = u.session_lifetime_secs {
        if !(300..=90 * 86400).contains(&secs) {
            return Err(
                field_error("session_lifetime_secs", "between 5 minutes and 90 days").into(),
            );
        }
        s.session_lifetime_secs = secs;
    }
    if let Some(mode) = u.signup_mode {
        s.signup_mode = mode;
    }
    if let Some(fields) = u.user_editable_fields {
        if let Some(bad) = fields.iter().find(|f| !EDITABLE.contains(&f.as_str())) {
            return Err(field_error(
                "user_editable_fields",
                format!("{bad} is not a profile field"),
            )
            .into());
        }
        s.user_editable_fields = fields;
    }
    if let Some(days) = u.audit_retention_days {
        if !(1..=3650).contains(&days) {
            return Err(field_error("audit_retention_days", "between 1 and 3650").into());
        }
        s.audit_retention_days = days;
    }
    Ok(())
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: Update = req.incoming.json().await?;
    let mut tenant = req.tenant.tenant.clone();
    apply(body, &mut tenant.display_name, &mut tenant.settings)?;
    let db = req.app.db()?;
    tenants::update_settings(db, &tenant, req.now).await?;
    // Every host of the tenant serves the new settings at once in this isolate, and within the
    // memory TTL elsewhere.
    let mut hosts = vec![req.incoming.host.name.clone()];
    hosts.extend(tenants::domains(db, &tenant.id).await?);
    hosts.push(format!("{}.{}", tenant.slug, req.app.base_domain));
    tenant_cache::invalidate(&req.app.kv()?, &hosts).await?;
    record(&req, actor, "settings_updated", None, json!({})).await?;
    Ok(json_response(
        200,
        &json!({ "display_name": tenant.display_name, "settings": tenant.settings }),
    ))
}
