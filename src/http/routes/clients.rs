//! OIDC client lookups used by pages (the apps a user may launch).

use serde::Deserialize;

use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::params;
use crate::ui::AppTile;

/// Clients with a launch URL that the user may use (no group restriction, or one of theirs).
pub async fn launchable_apps(req: &TenantRequest<'_>, user_id: &str) -> Result<Vec<AppTile>> {
    #[derive(Deserialize)]
    struct Row {
        name: String,
        launch_url: String,
    }
    let rows: Vec<Row> = req
        .app
        .db()?
        .all(
            "SELECT c.name, c.launch_url FROM oidc_clients c WHERE c.tenant_id = ?1 \
             AND c.launch_url IS NOT NULL AND (NOT EXISTS (SELECT 1 FROM oidc_client_groups g WHERE g.client_id = c.id) \
             OR EXISTS (SELECT 1 FROM oidc_client_groups g JOIN user_group_members m ON m.group_id = g.group_id \
             WHERE g.client_id = c.id AND m.user_id = ?2)) ORDER BY c.name",
            params![&req.tenant.tenant.id, user_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AppTile {
            initials: crate::ui::initials(&r.name),
            name: r.name,
            launch_url: r.launch_url,
            logo_url: None,
        })
        .collect())
}
