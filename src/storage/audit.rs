//! The audit log: who did what, from where (Cloudflare's free `request.cf` geo data).

use super::db::{Db, Statement};
use crate::crypto::random;
use crate::error::Result;
use crate::params;

/// Where a request came from, as Cloudflare reports it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub asn: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
pub fn insert_statement(
    db: &Db,
    tenant_id: &str,
    event: &str,
    user_id: Option<&str>,
    client_id: Option<&str>,
    origin: &Origin,
    details: &serde_json::Value,
    now: i64,
) -> Result<Statement> {
    db.statement(
        "INSERT INTO audit_logs (id, tenant_id, event, user_id, client_id, ip, user_agent, country, city, asn, details, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            random::id(),
            tenant_id,
            event,
            user_id,
            client_id,
            origin.ip.clone(),
            origin.user_agent.clone(),
            origin.country.clone(),
            origin.city.clone(),
            origin.asn,
            details.to_string(),
            now
        ],
    )
}
