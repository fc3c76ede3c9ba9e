//! `/api/oidc/clients`: create, read, update, delete clients and regenerate their secrets.
//! Secrets are generated (alphanumeric, 48 characters ≈ 285 bits), shown once, stored hashed.

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::audit_entry;
use crate::storage::audit::When;

use crate::admin::presets::{self, Credentials, FilledPreset};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::oidc::client::ClientInput;
use crate::oidc::discovery::Endpoints;
use crate::storage::clients::{self, ClientView, SaveMode};
use crate::usecase::clients::{create_client, ClientWithSecret, SECRET_LEN};

fn view_with_secret(view: ClientView, secret: Option<String>) -> serde_json::Value {
    ClientWithSecret { view, secret }.to_json()
}

async fn load(req: &TenantRequest<'_>, id: &str) -> Result<ClientView> {
    clients::find(req.app.db()?, &req.tenant.tenant.id, id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::NotFound("This client".into()))
}

/// `GET /api/oidc/clients?search=&page=&limit=` (everything when no page is asked for).
pub async fn list(req: &TenantRequest<'_>) -> Result<Response> {
    let page = super::page_or_everything(req)?;
    let (rows, total) = clients::list(
        req.app.db()?,
        &req.tenant.tenant.id,
        req.incoming.query_param("search"),
        &page,
    )
    .await?;
    let data: Vec<ClientView> = rows.iter().map(|r| r.view()).collect();
    Ok(super::paged(&data, &page, total))
}

/// `GET /api/oidc/clients/{id}`, with the preset's setup values when it came from one.
pub async fn get(req: &TenantRequest<'_>, id: &str) -> Result<Response> {
    let view = load(req, id).await?;
    let setup = setup_of(req, &view);
    let mut v = serde_json::to_value(&view)?;
    v["setup"] = serde_json::to_value(setup)?;
    Ok(json_response(200, &v))
}

async fn input(
    req: &mut TenantRequest<'_>,
) -> Result<(ClientInput, crate::crypto::jwk::SigningAlg)> {
    let input: ClientInput = req.incoming.json().await?;
    let alg = input.validate()?;
    Ok((input, alg))
}

pub async fn create(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let input: ClientInput = req.incoming.json().await?;
    let created = create_client(&super::admin_ctx(&req, actor)?, &input, json!({})).await?;
    Ok(json_response(201, &created.to_json()))
}

pub async fn update(mut req: TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    let (input, alg) = input(&mut req).await?;
    let before = load(&req, id).await?;
    // A public client made confidential needs a secret: generate one and show it.
    let secret = (before.is_public && !input.is_public).then(|| random::alphanumeric(SECRET_LEN));
    let audit = audit_entry(
        &req,
        actor,
        "client_updated",
        Some(id),
        json!({ "name": input.name }),
        When::PreviousChanged,
    )?;
    let found = clients::save(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        &input,
        alg,
        req.now,
        SaveMode::Update,
        Some(audit),
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
            None,
        )
        .await?;
    }
    let view = load(&req, id).await?;
    Ok(json_response(200, &view_with_secret(view, secret)))
}

pub async fn delete(req: &TenantRequest<'_>, actor: &Actor, id: &str) -> Result<Response> {
    // The audit entry follows the client's DELETE (the batch's third statement).
    let audit = audit_entry(
        req,
        actor,
        "client_deleted",
        Some(id),
        json!({}),
        When::PreviousChanged,
    )?;
    if !clients::delete(req.app.db()?, &req.tenant.tenant.id, id, req.now, audit).await? {
        return Err(Error::NotFound("This client".into()));
    }
    Ok(crate::http::respond::no_content())
}

pub async fn regenerate_secret(
    req: &TenantRequest<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Response> {
    let secret = random::alphanumeric(SECRET_LEN);
    let audit = audit_entry(
        req,
        actor,
        "client_secret_regenerated",
        Some(id),
        json!({}),
        When::PreviousChanged,
    )?;
    if !clients::set_secret(
        req.app.db()?,
        &req.tenant.tenant.id,
        id,
        &secret_hash(&secret),
        req.now,
        Some(audit),
    )
    .await?
    {
        return Err(Error::NotFound("This confidential client".into()));
    }
    Ok(json_response(
        200,
        &json!({ "client_id": id, "client_secret": secret }),
    ))
}

/// The setup values of a client made from a preset (the secret is shown only at creation).
fn setup_of(req: &TenantRequest<'_>, view: &ClientView) -> Option<FilledPreset> {
    let preset = presets::find(view.preset.as_deref()?)?;
    let input = preset.input_from_callback(view.callback_urls.first()?)?;
    let creds = Credentials {
        client_id: &view.id,
        client_secret: None,
    };
    preset
        .fill(
            &input,
            Some(&view.name),
            &Endpoints::for_issuer(&req.issuer),
            Some(&creds),
        )
        .ok()
}

/// `GET /api/oidc/client-presets`: the presets and this tenant's endpoint URLs.
pub fn list_presets(req: &TenantRequest<'_>) -> Response {
    json_response(
        200,
        &json!({ "data": presets::PRESETS, "endpoints": Endpoints::for_issuer(&req.issuer) }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromPreset {
    /// The team name (Cloudflare Access) or the app's URL.
    input: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    allowed_user_groups: Vec<String>,
}

/// `POST /api/oidc/client-presets/{preset}`: creates the client the preset describes and
/// returns it with its secret and the values to paste into the app.
pub async fn create_from_preset(
    mut req: TenantRequest<'_>,
    actor: &Actor,
    preset_id: &str,
) -> Result<Response> {
    let preset = presets::find(preset_id).ok_or_else(|| Error::NotFound("This preset".into()))?;
    let body: FromPreset = req.incoming.json().await?;
    let endpoints = Endpoints::for_issuer(&req.issuer);
    let mut filled = preset.fill(&body.input, body.name.as_deref(), &endpoints, None)?;
    filled.client.allowed_user_groups = body.allowed_user_groups;
    let created = create_client(
        &super::admin_ctx(&req, actor)?,
        &filled.client,
        json!({ "preset": preset.id }),
    )
    .await?
    .to_json();
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let creds = Credentials {
        client_id: &id,
        client_secret: created["client_secret"].as_str(),
    };
    let setup = preset.fill(&body.input, body.name.as_deref(), &endpoints, Some(&creds))?;
    Ok(json_response(
        201,
        &json!({ "client": created, "setup": setup }),
    ))
}
