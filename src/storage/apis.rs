//! APIs (resource servers) and the permissions clients hold at them.

use serde::{Deserialize, Serialize};

use super::db::{changes, first_row, unique_violation, Db, Statement};
use crate::error::Result;
use crate::oidc::api::Permission;
use crate::params;

crate::from_row! {
    /// An API as stored, with its permissions decoded.
    #[derive(Debug, Clone)]
    struct ApiRecord {
        id: String,
        identifier: String,
        name: String,
        permissions: String,
        created_at: i64,
        updated_at: i64,
    }
}

/// The admin API's view of an API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiView {
    pub id: String,
    pub identifier: String,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ApiRecord {
    fn view(self) -> ApiView {
        ApiView {
            permissions: serde_json::from_str(&self.permissions).unwrap_or_default(),
            id: self.id,
            identifier: self.identifier,
            name: self.name,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const API_COLUMNS: &str = "a.id, a.identifier, a.name, a.permissions, a.created_at, a.updated_at";

/// An API to write: its permissions as they are stored.
pub struct ApiWrite<'a> {
    pub id: &'a str,
    pub identifier: &'a str,
    pub name: &'a str,
    pub permissions: &'a [Permission],
    pub now: i64,
}

/// Registers an API with its audit entry in the same transaction; an identifier the tenant
/// already uses is a conflict.
pub async fn create(db: &Db, tenant_id: &str, api: &ApiWrite<'_>, audit: Statement) -> Result<()> {
    db.run_recorded(
        "INSERT INTO apis (id, tenant_id, identifier, name, permissions, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            api.id,
            tenant_id,
            api.identifier,
            api.name,
            serde_json::to_string(api.permissions)?,
            api.now
        ],
        audit,
    )
    .await
    .map_err(unique_violation(format!(
        "An API with the identifier {} exists already.",
        api.identifier
    )))?;
    Ok(())
}

/// Renames an API and replaces its permissions (the identifier is fixed: it is the audience
/// of every token already issued); false when the tenant has no such API.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    api: &ApiWrite<'_>,
    audit: Statement,
) -> Result<bool> {
    let changed = db
        .run_recorded(
            "UPDATE apis SET name = ?3, permissions = ?4, updated_at = ?5 \
             WHERE tenant_id = ?1 AND id = ?2",
            params![
                tenant_id,
                api.id,
                api.name,
                serde_json::to_string(api.permissions)?,
                api.now
            ],
            audit,
        )
        .await?;
    Ok(changed > 0)
}

/// Deletes an API and every client's grant at it; false when the tenant has no such API.
pub async fn delete(db: &Db, tenant_id: &str, id: &str, audit: Statement) -> Result<bool> {
    let results = db
        .batch(vec![
            db.statement(
                "DELETE FROM apis WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, id],
            )?,
            audit,
        ])
        .await?;
    Ok(changes(&results[0]) > 0)
}

pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<ApiView>> {
    let rows: Vec<ApiRecord> = db
        .all(
            &format!("SELECT {API_COLUMNS} FROM apis a WHERE a.tenant_id = ?1 ORDER BY a.name, a.identifier"),
            params![tenant_id],
        )
        .await?;
    Ok(rows.into_iter().map(ApiRecord::view).collect())
}

/// An API by id or identifier.
pub async fn find(db: &Db, tenant_id: &str, id_or_identifier: &str) -> Result<Option<ApiView>> {
    let results = db
        .batch(vec![db.statement(
            &format!(
                "SELECT {API_COLUMNS} FROM apis a WHERE a.tenant_id = ?1 AND (a.id = ?2 OR a.identifier = ?2)"
            ),
            params![tenant_id, id_or_identifier],
        )?])
        .await?;
    Ok(first_row::<ApiRecord>(&results[0])?.map(ApiRecord::view))
}

/// The columns an API-access read selects (`a` the API, `p` the client's grant there, left
/// joined); read back with [`access_from`].
pub(super) const ACCESS_COLUMNS: &str = "a.identifier, a.permissions, p.permissions AS granted";

crate::from_row! {
    struct AccessRow {
        identifier: String,
        permissions: String,
        granted: Option<String>,
    }
}

/// The API and the client's grant there, from a statement selecting [`ACCESS_COLUMNS`].
pub(super) fn access_from(
    result: &super::db::QueryResult,
) -> Result<Option<crate::oidc::resource::ApiAccess>> {
    Ok(first_row::<AccessRow>(result)?.map(|row| {
        let defined: Vec<Permission> = serde_json::from_str(&row.permissions).unwrap_or_default();
        crate::oidc::resource::ApiAccess {
            identifier: row.identifier,
            defined: defined.into_iter().map(|p| p.value).collect(),
            granted: row
                .granted
                .map(|g| serde_json::from_str(&g).unwrap_or_default()),
        }
    }))
}

/// One client's grant at one API, as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GrantView {
    pub api_id: String,
    pub identifier: String,
    pub name: String,
    pub permissions: Vec<String>,
}

crate::from_row! {
    struct GrantRecord {
        api_id: String,
        identifier: String,
        name: String,
        permissions: String,
    }
}

/// The APIs a client holds permissions at.
pub async fn client_grants(db: &Db, tenant_id: &str, client_id: &str) -> Result<Vec<GrantView>> {
    let rows: Vec<GrantRecord> = db
        .all(
            "SELECT a.id AS api_id, a.identifier, a.name, p.permissions FROM client_api_permissions p \
             JOIN apis a ON a.id = p.api_id WHERE p.tenant_id = ?1 AND p.client_id = ?2 ORDER BY a.name",
            params![tenant_id, client_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| GrantView {
            permissions: serde_json::from_str(&r.permissions).unwrap_or_default(),
            api_id: r.api_id,
            identifier: r.identifier,
            name: r.name,
        })
        .collect())
}

/// Replaces every grant of a client (API id, permission values) in one transaction, with
/// its audit entry; false when the tenant has no such client.
pub async fn set_client_grants(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    grants: &[(String, Vec<String>)],
    audit: Statement,
) -> Result<bool> {
    let client_exists = "EXISTS (SELECT 1 FROM oidc_clients WHERE id = ?1 AND tenant_id = ?2)";
    let mut statements = vec![
        db.statement(
            &format!("SELECT 1 AS found WHERE {client_exists}"),
            params![client_id, tenant_id],
        )?,
        db.statement(
            "DELETE FROM client_api_permissions WHERE client_id = ?1 AND tenant_id = ?2",
            params![client_id, tenant_id],
        )?,
    ];
    for (api_id, permissions) in grants {
        statements.push(db.statement(
            &format!(
                "INSERT INTO client_api_permissions (client_id, api_id, tenant_id, permissions) \
                 SELECT ?1, a.id, ?2, ?4 FROM apis a WHERE a.id = ?3 AND a.tenant_id = ?2 AND {client_exists}"
            ),
            params![client_id, tenant_id, api_id.as_str(), serde_json::to_string(permissions)?],
        )?);
    }
    statements.push(audit);
    let results = db.batch(statements).await?;
    Ok(!results[0].rows.is_empty())
}
