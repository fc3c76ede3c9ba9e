//! User groups and their members.

use serde::Serialize;

use super::db::{Db, Statement};
use crate::error::{Error, Result};
use crate::params;

crate::from_row! {
    #[derive(Debug, Clone, Serialize)]
    pub struct GroupRow {
        pub id: String,
        pub name: String,
        pub friendly_name: String,
        pub custom_claims: serde_json::Map<String, serde_json::Value>,
        pub member_count: i64,
        pub created_at: i64,
    }
}

/// A page of the tenant's groups, searched by name or display name, with the total count.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    search: Option<&str>,
    page: &crate::admin::paging::Page,
) -> Result<(Vec<GroupRow>, i64)> {
    let filter = format!(
        "g.tenant_id = ?1 AND {}",
        super::db::contains_search(&["g.name", "g.friendly_name"], 2)
    );
    db.page(
        &format!(
            "SELECT g.id, g.name, g.friendly_name, g.custom_claims, \
             (SELECT COUNT(*) FROM user_group_members m WHERE m.group_id = g.id) AS member_count, g.created_at \
             FROM user_groups g WHERE {filter} ORDER BY g.name LIMIT ?3 OFFSET ?4"
        ),
        &format!("SELECT COUNT(*) AS n FROM user_groups g WHERE {filter}"),
        params![tenant_id, super::db::search_text(search)],
        page,
    )
    .await
}

/// Creates a group; a name the tenant already uses is a conflict (the UNIQUE constraint).
/// A group about to be created.
pub struct NewGroup<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub friendly_name: &'a str,
    pub custom_claims: &'a serde_json::Map<String, serde_json::Value>,
}

pub async fn create(
    db: &Db,
    tenant_id: &str,
    group: &NewGroup<'_>,
    now: i64,
    audit: Statement,
) -> Result<()> {
    let name = group.name;
    db.run_recorded(
        "INSERT INTO user_groups (id, tenant_id, name, friendly_name, custom_claims, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            group.id,
            tenant_id,
            name,
            group.friendly_name,
            serde_json::Value::Object(group.custom_claims.clone()).to_string(),
            now
        ],
        audit,
    )
    .await
    .map_err(super::db::unique_violation(format!(
        "A group named {name} exists already."
    )))?;
    Ok(())
}

/// Replaces the members of a group with these users (all of this tenant), atomically.
/// Returns false when the group does not exist in the tenant.
pub async fn set_members(
    db: &Db,
    tenant_id: &str,
    group_id: &str,
    user_ids: &[String],
    audit: Statement,
) -> Result<bool> {
    if !db.all_exist("users", tenant_id, user_ids).await? {
        return Err(Error::Invalid {
            field: "user_ids",
            message: "some users do not exist".into(),
        });
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
                params![group_id, tenant_id, serde_json::to_string(user_ids)?],
            )?,
            db.statement(
                &format!("SELECT 1 AS n WHERE {exists}"),
                params![group_id, tenant_id],
            )?,
            // The caller's entry, recorded only when the group exists (`When::RowExists`).
            audit,
        ])
        .await?;
    Ok(super::db::first_row::<serde_json::Value>(&results[2])?.is_some())
}

crate::from_row! {
    /// A member or an allowed client, as listed on a group.
    #[derive(Debug, Clone, Serialize)]
    pub struct NamedRef {
        pub id: String,
        pub name: String,
    }
}

/// A group with its members and the clients restricted to it (among others).
pub async fn find(
    db: &Db,
    tenant_id: &str,
    group_id: &str,
) -> Result<Option<(GroupRow, Vec<NamedRef>, Vec<NamedRef>)>> {
    let results = db
        .batch(vec![
            db.statement(
                "SELECT g.id, g.name, g.friendly_name, g.custom_claims, \
                 (SELECT COUNT(*) FROM user_group_members m WHERE m.group_id = g.id) AS member_count, g.created_at \
                 FROM user_groups g WHERE g.tenant_id = ?1 AND g.id = ?2",
                params![tenant_id, group_id],
            )?,
            db.statement(
                "SELECT u.id, u.username AS name FROM users u JOIN user_group_members m ON m.user_id = u.id \
                 WHERE u.tenant_id = ?1 AND m.group_id = ?2 ORDER BY u.username",
                params![tenant_id, group_id],
            )?,
            db.statement(
                "SELECT c.id, c.name FROM oidc_clients c JOIN oidc_client_groups cg ON cg.client_id = c.id \
                 WHERE c.tenant_id = ?1 AND cg.group_id = ?2 ORDER BY c.name",
                params![tenant_id, group_id],
            )?,
        ])
        .await?;
    let Some(group) = super::db::first_row::<GroupRow>(&results[0])? else {
        return Ok(None);
    };
    Ok(Some((
        group,
        super::db::rows(&results[1])?,
        super::db::rows(&results[2])?,
    )))
}

/// Renames a group and/or replaces its custom claims; false when it is not in the tenant.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    group_id: &str,
    name: Option<&str>,
    friendly_name: Option<&str>,
    custom_claims: Option<&serde_json::Map<String, serde_json::Value>>,
    audit: Statement,
) -> Result<bool> {
    let claims = custom_claims.map(|c| serde_json::Value::Object(c.clone()).to_string());
    let changed = db
        .run_recorded(
            "UPDATE user_groups SET name = COALESCE(?3, name), friendly_name = COALESCE(?4, friendly_name), \
             custom_claims = COALESCE(?5, custom_claims) WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, group_id, name, friendly_name, claims],
            audit,
        )
        .await
        .map_err(super::db::unique_violation(
            "A group with that name exists already.",
        ))?;
    Ok(changed == 1)
}

/// Clients whose only allowed group is this one. Deleting the group would leave them with no
/// restriction, and a client with none is open to every user: the route refuses that.
pub async fn clients_restricted_only_to(
    db: &Db,
    tenant_id: &str,
    group_id: &str,
) -> Result<Vec<NamedRef>> {
    db.all(
        "SELECT c.id, c.name FROM oidc_clients c JOIN oidc_client_groups cg ON cg.client_id = c.id \
         WHERE c.tenant_id = ?1 AND cg.group_id = ?2 \
         AND (SELECT COUNT(*) FROM oidc_client_groups o WHERE o.client_id = c.id) = 1 ORDER BY c.name",
        params![tenant_id, group_id],
    )
    .await
}

/// Deletes a group; its memberships and client restrictions go by the schema's
/// `ON DELETE CASCADE`. False when the group is not in the tenant, or when a client is
/// restricted to it alone (checked inside the DELETE, so a restriction added meanwhile cannot
/// slip through and leave that client open to everyone). `audit` (written only if the group
/// went) joins the same batch.
pub async fn delete(db: &Db, tenant_id: &str, group_id: &str, audit: Statement) -> Result<bool> {
    // RETURNING, not meta.changes: D1 reports 0 changes for a delete that cascaded.
    let results = db
        .batch(vec![
            db.statement(
                "DELETE FROM user_groups WHERE id = ?1 AND tenant_id = ?2 AND NOT EXISTS ( \
                   SELECT 1 FROM oidc_client_groups cg WHERE cg.group_id = ?1 \
                   AND (SELECT COUNT(*) FROM oidc_client_groups o WHERE o.client_id = cg.client_id) = 1) \
                 RETURNING id",
                params![group_id, tenant_id],
            )?,
            audit,
        ])
        .await?;
    Ok(super::db::first_row::<serde_json::Value>(&results[0])?.is_some())
}
