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

/// Applies a validated profile change. A username or email that another account holds is a
/// conflict reported on that field.
pub async fn update_profile(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    change: &crate::account::ProfileChange,
    now: i64,
) -> Result<()> {
    if change.username.is_some() || change.email.is_some() {
        #[derive(Deserialize)]
        struct Taken {
            field: String,
        }
        let taken: Option<Taken> = db
            .first(
                "SELECT CASE WHEN username = ?3 THEN 'username' ELSE 'email' END AS field FROM users \
                 WHERE tenant_id = ?1 AND id != ?2 AND (username = ?3 OR email = ?4) LIMIT 1",
                params![tenant_id, user_id, change.username.clone(), change.email.clone()],
            )
            .await?;
        if let Some(t) = taken {
            let field = if t.field == "username" {
                "username"
            } else {
                "email"
            };
            return Err(crate::error::Error::Invalid {
                field,
                message: format!("That {} is already in use.", field.replace('_', " ")),
            });
        }
    }
    // COALESCE keeps fields not in the change; the *_set flags distinguish "clear" from "keep".
    db.run(
        "UPDATE users SET \
           first_name = CASE WHEN ?3 THEN ?4 ELSE first_name END, \
           last_name = CASE WHEN ?5 THEN ?6 ELSE last_name END, \
           display_name = CASE WHEN ?7 THEN ?8 ELSE display_name END, \
           username = COALESCE(?9, username), \
           email = COALESCE(?10, email), \
           email_verified = CASE WHEN ?10 IS NOT NULL AND ?10 != email THEN 0 ELSE email_verified END, \
           updated_at = ?11 \
         WHERE tenant_id = ?1 AND id = ?2",
        params![
            tenant_id,
            user_id,
            change.first_name.is_some(),
            change.first_name.clone().flatten(),
            change.last_name.is_some(),
            change.last_name.clone().flatten(),
            change.display_name.is_some(),
            change.display_name.clone().flatten(),
            change.username.clone(),
            change.email.clone(),
            now
        ],
    )
    .await?;
    Ok(())
}

pub async fn find(db: &Db, tenant_id: &str, user_id: &str) -> Result<Option<UserRow>> {
    db.first(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
        params![tenant_id, user_id],
    )
    .await
}
