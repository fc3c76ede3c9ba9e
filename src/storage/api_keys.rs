//! API keys for a tenant's admin REST API. Only the SHA-256 of a key is stored.

use serde::Deserialize;

use super::db::{Db, Statement};
use crate::crypto::hash::secret_hash;
use crate::error::Result;
use crate::params;

#[derive(Debug, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
}

/// A new key's value: a prefix that secret scanners can match, then 256 random bits.
pub fn generate() -> String {
    format!("eid_{}", crate::crypto::random::token())
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

/// An API key as listed (never its value).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<ApiKeyView>> {
    db.all(
        "SELECT id, name, created_by, created_at, expires_at, last_used_at FROM api_keys \
         WHERE tenant_id = ?1 ORDER BY created_at DESC",
        params![tenant_id],
    )
    .await
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub created_by: &'a str,
    pub expires_at: Option<i64>,
}

/// Stores a new API key (hashed); `audit`, when given, joins the same batch.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    new: &NewApiKey<'_>,
    now: i64,
    audit: Option<Statement>,
) -> Result<()> {
    let insert = db.statement(
        "INSERT INTO api_keys (id, tenant_id, name, key_hash, created_by, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.id,
            tenant_id,
            new.name,
            secret_hash(new.key),
            new.created_by,
            now,
            new.expires_at
        ],
    )?;
    db.batch(std::iter::once(insert).chain(audit).collect())
        .await?;
    Ok(())
}

/// Deletes an API key; `audit` (written only if the key went) joins the same batch.
pub async fn delete(db: &Db, tenant_id: &str, id: &str, audit: Statement) -> Result<bool> {
    Ok(db
        .run_recorded(
            "DELETE FROM api_keys WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, id],
            audit,
        )
        .await?
        == 1)
}
