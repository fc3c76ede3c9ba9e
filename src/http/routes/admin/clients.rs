//! `/api/oidc/clients`: create, read, update, delete clients and regenerate their secrets.
//! Secrets are generated (alphanumeric, 48 characters ≈ 285 bits), shown once, stored hashed.

use serde_json::json;
use worker::Response;

use super::record;
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::oidc::client::ClientInput;
use crate::storage::clients::{self, ClientView, SaveMode};

const SECRET_LEN: usize = 48;

fn view_with_secret(view: ClientView, secret: Option<String>) -> serde_json::Value {
    let mut v = serde_json::to_value(view).unwrap_or_default();
    if let Some(s) = secret {
        v["client_secret"] = json!(s);
    }
    v
}

async fn load(req: &TenantRequest<'_>, id: &str) -> Result<ClientView> {
    clients::find(req.app.db()?, &req.tenant.tenant.id, id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::NotFound("This client".into()))
}

pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let rows = clients::list(req.app.db()?, &req.tenant.tenant.id).await?;
    let data: Vec<ClientView> = rows.iter().map(|r| r.view()).collect();
    Ok(json_response(200, &json!({ "data": data })))
}

pub async fn get(req: &TenantRequest<'_>, id: &str) -> Result<Response> {
    Ok(json_response(200, &load(req, id).await?))
}

async fn input(
    req: &mut TenantRequest<'_>,
) -> Result<(ClientInput, crate::crypto::jwk::SigningAlg)> {
    let input: ClientInput = req.incoming.json().await?;
    let alg = input.validate()?;
    Ok((input, alg))
}

/// Validates and creates a client; returns its view with the secret (shown once). Shared by the
/// tenant admin API and the operator API.
pub async fn create_client(
    db: &crate::storage::db::Db,
    tenant_id: &str,
    input: &ClientInput,
    now: i64,
) -> Result<serde_json::Value> {
    let alg = input.validate()?;
    let id = random::alphanumeric(24);
    let secret = (!input.is_public).then(|| random::alphanumeric(SECRET_LEN));
    clients::save(
        db,
        tenant_id,
        &id,
        input,
        alg,
        now,
        SaveMode::Create {
            secret_hash: secret.as_deref().map(secret_hash).as_deref(),
        },
    )
    .await?;
    let view = clients::find(db, tenant_id, &id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::Internal("created client not found".into()))?;
    Ok(view_with_secret(view, secret))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: ClientInput = req.incoming.json().await?;
    let created = create_client(req.app.db()?, &req.tenant.tenant.id, &input, req.now).await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    record(
        &req,
        actor,
        "client_created",
        Some(&id),
        json!({ "name": input.name }),
    )
    .await?;
    Ok(json_response(201, &created))
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let (input, alg) = input(&mut req).await?;
    let before = load(&req, id).await?;
    // A public client made confidential needs a secret: generate one and show it.
    let secret = (before.is_public && !input.is_public).then(|| random::alphanumeric(SECRET_LEN));
    let found = clients::save(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        &input,
        alg,
        req.now,
        SaveMode::Update,
    )
    .await?;
    if !found {
        return Err(Error::NotFound("This client".into()));
    }
    if let Some(s) = &secret {
        clients::set_secret(
            req.app.db()?,
            &req.tenant.tenant.id,
            id,
            &secret_hash(s),
            req.now,
        )
        .await?;
    }
    record(
        &req,
        actor,
        "client_updated",
        Some(id),
        json!({ "name": input.name }),
    )
    .await?;
    let view = load(&req, id).await?;
    Ok(json_response(200, &view_with_secret(view, secret)))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    if !clients::delete(req.app.db()?, &req.tenant.tenant.id, id, req.now).await? {
        return Err(Error::NotFound("This client".into()));
    }
    record(req, actor, "client_deleted", Some(id), json!({})).await?;
    Ok(Response::empty()
        .map_err(|e| Error::Internal(e.to_string()))?
        .with_status(204))
}

pub async fn regenerate_secret(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let secret = random::alphanumeric(SECRET_LEN);
    if !clients::set_secret(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        &secret_hash(&secret),
        req.now,
    )
    .await?
    {
        return Err(Error::NotFound("This confidential client".into()));
    }
    record(req, actor, "client_secret_regenerated", Some(id), json!({})).await?;
    Ok(json_response(
        200,
        &json!({ "client_id": id, "client_secret": secret }),
    ))
}
