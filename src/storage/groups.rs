//! User groups and their members.

use serde::{Deserialize, Serialize};

use super::db::Db;
use crate::error::{Error, Result};
use crate::params;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub friendly_name: String,
    pub custom_claims: String,
    pub member_count: i64,
    pub created_at: i64,
}

pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<GroupRow>> {
    db.all(
        "SELECT g.id, g.name, g.friendly_name, g.custom_claims, \
         (SELECT COUNT(*) FROM user_group_members m WHERE m.group_id = g.id) AS member_count, g.created_at \
         FROM user_groups g WHERE g.tenant_id = ?1 ORDER BY g.name",
        params![tenant_id],
    )
    .await
}

pub async fn create(
    db: &Db,
    tenant_id: &str,
    id: &str,
    name: &str,
    friendly_name: &str,
    now: i64,
) -> Result<()> {
    let taken: Option<GroupRow> = db
        .first(
            "SELECT id, name, friendly_name, custom_claims, 0 AS member_count, created_at \
             FROM user_groups WHERE tenant_id = ?1 AND name = ?2",
            params![tenant_id, name],
        )
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict(format!(
            "A group named {name} exists already."
        )));
    }
    db.run(
        "INSERT INTO user_groups (id, tenant_id, name, friendly_name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, tenant_id, name, friendly_name, now],
    )
    .await?;
    Ok(())
}

/// Replaces the members of a group with these users (all of this tenant), atomically.
/// Returns false when the group does not exist in the tenant.
pub async fn set_members(
    db: &Db,
    tenant_id: &str,
    group_id: &str,
    user_ids: &[String],
) -> Result<bool> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let found: Option<Count> = db
        .first(
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            params![tenant_id, serde_json::to_string(user_ids)?],
        )
        .await?;
    let mut unique = user_ids.to_vec();
    unique.sort();
    unique.dedup();
    if found.map_or(0, |c| c.n) != unique.len() as i64 {
        return Err(Error::BadRequest(
            "user_ids: some users do not exist".into(),
        ));
    }
    let exists = "EXISTS (SELECT 1 FROM user_groups WHERE id = ?1 AND tenant_id = ?2)";
    let results = db
        .batch(vec![
            db.statement(
                &format!("DELETE FROM user_group_members WHERE group_id = ?1 AND {exists}"),
                params![group_id, tenant_id],
            )?,
            db.statement(
                &format!(
                    "INSERT INTO user_group_members (group_id, user_id) \
                     SELECT ?1, u.id FROM users u WHERE u.tenant_id = ?2 AND u.id IN (SELECT value FROM json_each(?3)) AND {exists}"
                ),
                params![group_id, tenant_id, serde_json::to_string(&unique)?],
            )?,
            db.statement(
                &format!("SELECT 1 AS n WHERE {exists}"),
                params![group_id, tenant_id],
            )?,
        ])
        .await?;
    Ok(!super::db::rows::<Count>(&results[2])?.is_empty())
}
