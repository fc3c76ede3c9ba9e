//! The apps a user may launch, as the account page shows them.

use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::storage::clients;
use crate::ui::AppTile;

/// Clients with a launch URL that the user may use (no group restriction, or one of theirs).
pub async fn launchable_apps(req: &TenantRequest<'_>, user_id: &str) -> Result<Vec<AppTile>> {
    let apps = clients::launchable_by(req.app.db()?, &req.tenant.tenant.id, user_id).await?;
    Ok(apps
        .into_iter()
        .map(|a| AppTile {
            initials: crate::ui::initials(&a.name),
            name: a.name,
            launch_url: a.launch_url,
            logo_url: None,
        })
        .collect())
}
