//! API keys for a tenant's admin REST API. Only the SHA-256 of a key is stored.

use serde::Deserialize;

use super::db::Db;
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

#[derive(Debug, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
}

/// The live key with this value in this tenant; records its use in the same statement.
pub async fn authenticate(
    db: &Db,
    tenant_id: &str,
    key: &str,
    now: i64,
) -> Result<Option<ApiKeyRow>> {
    db.first(
        "UPDATE api_keys SET last_used_at = ?3 WHERE key_hash = ?1 AND tenant_id = ?2 \
         AND (expires_at IS NULL OR expires_at > ?3) RETURNING id",
        params![secret_hash(key), tenant_id, now],
    )
    .await
}
