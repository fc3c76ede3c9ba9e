//! Users, their groups and their passkeys in D1.

use serde::Deserialize;

use super::db::Db;
use crate::error::Result;
use crate::params;

/// A user row. Booleans are SQLite integers.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub picture: Option<String>,
    pub is_admin: i64,
    pub disabled: i64,
    pub custom_claims: String,
    pub created_at: i64,
}

impl UserRow {
    /// The name shown in the UI and the `name` claim.
    pub fn full_name(&self) -> String {
        if let Some(d) = self.display_name.as_deref().filter(|d| !d.is_empty()) {
            return d.to_string();
        }
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.username.clone()
        } else {
            parts.join(" ")
        }
    }
}

pub const USER_COLUMNS: &str = "id, username, email, email_verified, first_name, last_name, \
    display_name, picture, is_admin, disabled, custom_claims, created_at";

pub async fn find(db: &Db, tenant_id: &str, user_id: &str) -> Result<Option<UserRow>> {
    db.first(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
        params![tenant_id, user_id],
    )
    .await
}

/// A group as the claims need it.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub custom_claims: String,
}

pub async fn groups_of(db: &Db, tenant_id: &str, user_id: &str) -> Result<Vec<GroupRow>> {
    db.all(
        "SELECT g.id, g.name, g.custom_claims FROM user_groups g \
         JOIN user_group_members m ON m.group_id = g.id \
         WHERE g.tenant_id = ?1 AND m.user_id = ?2 ORDER BY g.name",
        params![tenant_id, user_id],
    )
    .await
}

/// The profile fields a signup form or the account page provides.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ProfileInput {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

pub async fn username_or_email_taken(
    db: &Db,
    tenant_id: &str,
    username: &str,
    email: Option<&str>,
) -> Result<bool> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    Ok(db
        .first::<Count>(
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1 AND (username = ?2 OR email = ?3)",
            params![tenant_id, username, email],
        )
        .await?
        .is_some_and(|c| c.n > 0))
}

pub async fn update_profile(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
    display_name: Option<&str>,
    now: i64,
) -> Result<()> {
    db.run(
        "UPDATE users SET first_name = ?3, last_name = ?4, display_name = ?5, updated_at = ?6 \
         WHERE tenant_id = ?1 AND id = ?2",
        params![tenant_id, user_id, first_name, last_name, display_name, now],
    )
    .await?;
    Ok(())
}
