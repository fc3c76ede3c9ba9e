//! APIs (resource servers) and the permissions clients hold at them: the admin API's use
//! cases. Every change is audited in the same batch.

use serde_json::json;

use super::AdminCtx;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::api::{ApiInput, ClientApiGrants};
use crate::storage::apis::{self, ApiView, ApiWrite, GrantView};
use crate::storage::audit::When;
use crate::validation::field_error;

pub async fn list(ctx: &AdminCtx<'_>) -> Result<Vec<ApiView>> {
    apis::list(ctx.db, ctx.tenant_id).await
}

/// An API by id or identifier.
pub async fn get(ctx: &AdminCtx<'_>, id: &str) -> Result<ApiView> {
    apis::find(ctx.db, ctx.tenant_id, id)
        .await?
        .ok_or_else(|| Error::NotFound("This API".into()))
}

pub async fn create(ctx: &AdminCtx<'_>, input: &ApiInput) -> Result<ApiView> {
    input.validate()?;
    let id = random::id();
    let audit = ctx.audit(
        "api_created",
        None,
        json!({ "api_id": id, "identifier": input.identifier, "name": input.name.trim() }),
        When::PreviousChanged,
    )?;
    let write = ApiWrite {
        id: &id,
        identifier: &input.identifier,
        name: input.name.trim(),
        permissions: &input.permissions,
        now: ctx.now,
    };
    apis::create(ctx.db, ctx.tenant_id, &write, audit).await?;
    get(ctx, &id).await
}

/// Renames an API and replaces its permissions. The identifier cannot change: it is the
/// audience of every token issued for the API, and its resource servers compare it as is.
pub async fn update(ctx: &AdminCtx<'_>, id: &str, input: &ApiInput) -> Result<ApiView> {
    input.validate()?;
    let current = get(ctx, id).await?;
    if current.identifier != input.identifier {
        return Err(field_error(
            "identifier",
            "an API's identifier cannot change (it is its tokens' audience): register a new API",
        )
        .into());
    }
    let audit = ctx.audit(
        "api_updated",
        None,
        json!({ "api_id": current.id, "identifier": current.identifier }),
        When::PreviousChanged,
    )?;
    let write = ApiWrite {
        id: &current.id,
        identifier: &current.identifier,
        name: input.name.trim(),
        permissions: &input.permissions,
        now: ctx.now,
    };
    if !apis::update(ctx.db, ctx.tenant_id, &write, audit).await? {
        return Err(Error::NotFound("This API".into()));
    }
    get(ctx, &current.id).await
}

/// Deletes an API and every grant at it. Its JWT access tokens already issued stay valid to
/// offline verifiers until they expire (the revocation trade-off of JWT access tokens).
pub async fn delete(ctx: &AdminCtx<'_>, id: &str) -> Result<()> {
    let current = get(ctx, id).await?;
    let audit = ctx.audit(
        "api_deleted",
        None,
        json!({ "api_id": current.id, "identifier": current.identifier }),
        When::PreviousChanged,
    )?;
    if !apis::delete(ctx.db, ctx.tenant_id, &current.id, audit).await? {
        return Err(Error::NotFound("This API".into()));
    }
    Ok(())
}

pub async fn client_grants(ctx: &AdminCtx<'_>, client_id: &str) -> Result<Vec<GrantView>> {
    crate::storage::clients::find(ctx.db, ctx.tenant_id, client_id)
        .await?
        .ok_or_else(|| Error::NotFound("This client".into()))?;
    apis::client_grants(ctx.db, ctx.tenant_id, client_id).await
}

/// Replaces the APIs a client may get tokens for and the permissions it holds at each. Every
/// API must exist and define every permission granted (a typo is refused, not stored).
pub async fn set_client_grants(
    ctx: &AdminCtx<'_>,
    client_id: &str,
    input: &ClientApiGrants,
) -> Result<Vec<GrantView>> {
    input.validate()?;
    let defined = apis::list(ctx.db, ctx.tenant_id).await?;
    let mut resolved = Vec::new();
    for grant in &input.grants {
        let api = defined
            .iter()
            .find(|a| a.id == grant.api || a.identifier == grant.api)
            .ok_or_else(|| field_error("grants", format!("There is no API {}.", grant.api)))?;
        if let Some(unknown) = grant
            .permissions
            .iter()
            .find(|v| !api.permissions.iter().any(|p| &p.value == *v))
        {
            return Err(field_error(
                "grants",
                format!("{} defines no permission {unknown}.", api.identifier),
            )
            .into());
        }
        if resolved.iter().any(|(id, _)| id == &api.id) {
            return Err(
                field_error("grants", format!("{} is listed twice", api.identifier)).into(),
            );
        }
        let mut permissions = grant.permissions.clone();
        permissions.sort();
        permissions.dedup();
        resolved.push((api.id.clone(), permissions));
    }
    let audit = ctx.audit(
        "client_api_permissions_set",
        Some(client_id),
        json!({ "grants": resolved.iter().map(|(api, p)| json!({ "api_id": api, "permissions": p })).collect::<Vec<_>>() }),
        When::RowExists {
            table: "oidc_clients",
            id: client_id,
        },
    )?;
    if !apis::set_client_grants(ctx.db, ctx.tenant_id, client_id, &resolved, audit).await? {
        return Err(Error::NotFound("This client".into()));
    }
    apis::client_grants(ctx.db, ctx.tenant_id, client_id).await
}
