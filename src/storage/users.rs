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
