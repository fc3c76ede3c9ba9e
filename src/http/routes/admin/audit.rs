//! `GET /api/audit-logs`: sign-ins, failures, token grants and admin changes, newest first,
//! filtered by event, user or client, paged.

use worker::Response;

use super::paged;
use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::storage::audit::{self, AuditFilter};

pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let page = super::page(req)?;
    let param = |name: &str| {
        req.incoming
            .query_param(name)
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(100).collect::<String>())
    };
    let filter = AuditFilter {
        event: param("event"),
        user_id: param("user_id"),
        client_id: param("client_id"),
    };
    let (rows, total) = audit::list(req.app.db()?, &req.tenant.tenant.id, &filter, &page).await?;
    let data: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            v["details"] = serde_json::from_str(&r.details).unwrap_or_default();
            v
        })
        .collect();
    Ok(paged(&data, &page, total))
}
