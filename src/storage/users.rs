//! Users, their groups and their passkeys in D1.

use serde::Deserialize;

use super::db::Db;
use crate::error::Result;
use crate::params;

/// A user row. Booleans are SQLite integers.
// Mirrors the table's columns; some are read only by the OIDC claims (issue 4).
#[allow(dead_code)]
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
        self.claims(&[]).name()
    }
}

/// A group the user belongs to, with its custom claims (JSON object).
#[derive(Debug, Clone, Deserialize)]
pub struct GroupClaimsRow {
    pub name: String,
    pub custom_claims: String,
}

impl UserRow {
    /// The protocol's view of the user: group custom claims first, the user's own win.
    pub fn claims(&self, groups: &[GroupClaimsRow]) -> crate::oidc::claims::UserClaims {
        let mut custom = serde_json::Map::new();
        let objects = groups
            .iter()
            .map(|g| g.custom_claims.as_str())
            .chain(std::iter::once(self.custom_claims.as_str()));
        for raw in objects {
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(raw) {
                custom.extend(map);
            }
        }
        crate::oidc::claims::UserClaims {
            sub: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified != 0,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            display_name: self.display_name.clone(),
            picture: self.picture.clone(),
            locale: None,
            groups: groups.iter().map(|g| g.name.clone()).collect(),
            custom,
        }
    }
}

pub const USER_COLUMNS: &str = "id, username, email, email_verified, first_name, last_name, \
    display_name, picture, is_admin, disabled, custom_claims, created_at";

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

/// Users of a tenant, optionally filtered by a search over username, email and names.
pub async fn list(db: &Db, tenant_id: &str, search: Option<&str>) -> Result<Vec<UserRow>> {
    let pattern = format!(
        "%{}%",
        search
            .unwrap_or_default()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    db.all(
        &format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND (username LIKE ?2 ESCAPE '\\' \
             OR email LIKE ?2 ESCAPE '\\' OR first_name LIKE ?2 ESCAPE '\\' OR last_name LIKE ?2 ESCAPE '\\') \
             ORDER BY username LIMIT 200"
        ),
        params![tenant_id, pattern],
    )
    .await
}
