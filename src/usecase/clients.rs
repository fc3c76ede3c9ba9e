//! OIDC clients: the one "create a client" the admin API, its presets and the operator API all
//! use. Secrets are generated (alphanumeric, 48 characters, about 285 bits), shown once and
//! stored hashed.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCtx;
use crate::admin::paging::Page;
use crate::admin::presets::{self, Credentials, FilledPreset};
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::client::ClientInput;
use crate::oidc::discovery::Endpoints;
use crate::storage::audit::When;
use crate::storage::clients::{self, ClientView, SaveMode};

pub const SECRET_LEN: usize = 48;

/// A client with, when one was just generated, its secret (shown once).
#[derive(Debug)]
pub struct ClientWithSecret {
    pub view: ClientView,
    pub secret: Option<String>,
}

impl ClientWithSecret {
    /// The API's JSON for it: the view with `client_secret` when there is one.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.view).unwrap_or_default();
        if let Some(s) = &self.secret {
            v["client_secret"] = json!(s);
        }
        v
    }
}

/// Validates and creates a client in the tenant, with its audit entry (`client_created`, whose
/// details are `details` plus the name and the author) in the same batch.
pub async fn create_client(
    ctx: &AdminCtx<'_>,
    input: &ClientInput,
    details: serde_json::Value,
) -> Result<ClientWithSecret> {
    let alg = input.validate()?;
    let id = random::alphanumeric(24);
    let secret = (!input.is_public).then(|| random::alphanumeric(SECRET_LEN));
    let mut details = details;
    details["name"] = json!(input.name);
    let audit = ctx.audit("client_created", Some(&id), details, When::PreviousChanged)?;
    clients::save(
        ctx.db,
        ctx.tenant_id,
        &id,
        input,
        alg,
        ctx.now,
        SaveMode::Create {
            secret_hash: secret.as_deref().map(secret_hash).as_deref(),
        },
        Some(audit),
    )
    .await?;
    let view = clients::find(ctx.db, ctx.tenant_id, &id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::Internal("created client not found".into()))?;
    Ok(ClientWithSecret { view, secret })
}

async fn load(ctx: &AdminCtx<'_>, id: &str) -> Result<ClientView> {
    clients::find(ctx.db, ctx.tenant_id, id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::NotFound("This client".into()))
}

/// A page of the tenant's clients, searched by name or client id, with the total count.
pub async fn list(
    ctx: &AdminCtx<'_>,
    search: Option<&str>,
    page: &Page,
) -> Result<(Vec<ClientView>, i64)> {
    let (rows, total) = clients::list(ctx.db, ctx.tenant_id, search, page).await?;
    Ok((rows.iter().map(|r| r.view()).collect(), total))
}

/// A client with, when it came from a preset, the values to paste into the app (without the
/// secret, which is shown only at creation).
#[derive(Debug, Serialize)]
pub struct ClientDetail {
    #[serde(flatten)]
    pub view: ClientView,
    pub setup: Option<FilledPreset>,
}

pub async fn get(ctx: &AdminCtx<'_>, issuer: &str, id: &str) -> Result<ClientDetail> {
    let view = load(ctx, id).await?;
    let setup = setup_of(issuer, &view);
    Ok(ClientDetail { view, setup })
}

fn setup_of(issuer: &str, view: &ClientView) -> Option<FilledPreset> {
    let preset = presets::find(view.preset.as_deref()?)?;
    let input = preset.input_from_callback(view.callback_urls.first()?)?;
    let creds = Credentials {
        client_id: &view.id,
        client_secret: None,
    };
    let endpoints = Endpoints::for_issuer(issuer);
    preset
        .fill(&input, Some(&view.name), &endpoints, Some(&creds))
        .ok()
}

/// Replaces a client's settings. A public client made confidential gets a secret, set in the
/// same write and shown this once.
pub async fn update(ctx: &AdminCtx<'_>, id: &str, input: &ClientInput) -> Result<ClientWithSecret> {
    let alg = input.validate()?;
    let secret = (!input.is_public).then(|| random::alphanumeric(SECRET_LEN));
    let hash = secret.as_deref().map(secret_hash);
    let audit = ctx.audit(
        "client_updated",
        Some(id),
        json!({ "name": input.name }),
        When::PreviousChanged,
    )?;
    let mode = SaveMode::Update {
        new_secret_hash: hash.as_deref(),
    };
    if !clients::save(
        ctx.db,
        ctx.tenant_id,
        id,
        input,
        alg,
        ctx.now,
        mode,
        Some(audit),
    )
    .await?
    {
        return Err(Error::NotFound("This client".into()));
    }
    let row = clients::find(ctx.db, ctx.tenant_id, id)
        .await?
        .ok_or_else(|| Error::NotFound("This client".into()))?;
    // Shown only if this update is what set it (the client had none: it was public).
    let secret = secret.filter(|_| row.secret_hash == hash);
    Ok(ClientWithSecret {
        view: row.view(),
        secret,
    })
}

/// Deletes a client and revokes everything issued to it.
pub async fn delete(ctx: &AdminCtx<'_>, id: &str) -> Result<()> {
    let audit = ctx.audit("client_deleted", Some(id), json!({}), When::PreviousChanged)?;
    if !clients::delete(ctx.db, ctx.tenant_id, id, ctx.now, audit).await? {
        return Err(Error::NotFound("This client".into()));
    }
    Ok(())
}

/// A confidential client's new secret, shown this once; the old one stops working at once.
pub async fn regenerate_secret(ctx: &AdminCtx<'_>, id: &str) -> Result<String> {
    let secret = random::alphanumeric(SECRET_LEN);
    let audit = ctx.audit(
        "client_secret_regenerated",
        Some(id),
        json!({}),
        When::PreviousChanged,
    )?;
    let hash = secret_hash(&secret);
    if !clients::set_secret(ctx.db, ctx.tenant_id, id, &hash, ctx.now, Some(audit)).await? {
        return Err(Error::NotFound("This confidential client".into()));
    }
    Ok(secret)
}

/// What a preset asks for: the team name (Cloudflare Access) or the app's URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromPreset {
    pub input: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub allowed_user_groups: Vec<String>,
}

/// A client made from a preset, with the values to paste into the app (secret included).
#[derive(Debug)]
pub struct PresetClient {
    pub client: ClientWithSecret,
    pub setup: FilledPreset,
}

/// Creates the client a preset describes for the app `body` names.
pub async fn create_from_preset(
    ctx: &AdminCtx<'_>,
    issuer: &str,
    preset_id: &str,
    body: &FromPreset,
) -> Result<PresetClient> {
    let preset = presets::find(preset_id).ok_or_else(|| Error::NotFound("This preset".into()))?;
    let endpoints = Endpoints::for_issuer(issuer);
    let mut filled = preset.fill(&body.input, body.name.as_deref(), &endpoints, None)?;
    filled.client.allowed_user_groups = body.allowed_user_groups.clone();
    let client = create_client(ctx, &filled.client, json!({ "preset": preset.id })).await?;
    let creds = Credentials {
        client_id: &client.view.id,
        client_secret: client.secret.as_deref(),
    };
    let setup = preset.fill(&body.input, body.name.as_deref(), &endpoints, Some(&creds))?;
    Ok(PresetClient { client, setup })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::audit::{self, AuditFilter};
    use crate::storage::db::Db;
    use crate::testing::{admin_ctx, client_input, db, run, tenant};
    use crate::usecase::Actor;

    async fn audit_of(db: &Db, tenant_id: &str) -> Vec<audit::AuditEntry> {
        let filter = AuditFilter {
            event: Some("client_created".into()),
            ..AuditFilter::default()
        };
        let page = Page::parse(None, Some("100")).unwrap();
        audit::list(db, tenant_id, &filter, &page).await.unwrap().0
    }

    #[test]
    fn a_confidential_client_gets_a_secret_shown_once_and_stored_hashed_with_its_audit_entry() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let admin = Actor::Admin {
                user_id: "user-root".into(),
            };
            let created = create_client(
                &admin_ctx(&db, &t.id, admin),
                &client_input("wiki"),
                json!({ "preset": "x" }),
            )
            .await
            .unwrap();
            let secret = created
                .secret
                .clone()
                .expect("a confidential client has a secret");
            assert_eq!(secret.len(), SECRET_LEN);
            assert_eq!(created.to_json()["client_secret"], json!(secret));
            let row = clients::find(&db, &t.id, &created.view.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                row.secret_hash.as_deref(),
                Some(secret_hash(&secret).as_str())
            );
            let entries = audit_of(&db, &t.id).await;
            assert_eq!(entries.len(), 1);
            assert_eq!(
                entries[0].client_id.as_deref(),
                Some(created.view.id.as_str())
            );
            assert_eq!(entries[0].ip.as_deref(), Some("192.0.2.7"));
            let details: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
            assert_eq!(
                details,
                json!({ "preset": "x", "name": "wiki", "actor": "user:user-root" })
            );
        });
    }

    #[test]
    fn the_operator_creates_public_clients_without_secret_and_is_named_in_the_tenant_log() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let input = ClientInput {
                is_public: true,
                pkce_enabled: true,
                ..client_input("spa")
            };
            let created = create_client(&admin_ctx(&db, &t.id, Actor::Operator), &input, json!({}))
                .await
                .unwrap();
            assert!(created.secret.is_none());
            assert!(created.to_json().get("client_secret").is_none());
            let entries = audit_of(&db, &t.id).await;
            let details: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
            assert_eq!(details["actor"], json!("operator"));
            assert_eq!(entries[0].user_id, None);
        });
    }

    #[test]
    fn invalid_input_is_a_field_error_and_writes_nothing() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let input = ClientInput {
                callback_urls: vec!["not a url".into()],
                ..client_input("bad")
            };
            let err = create_client(&admin_ctx(&db, &t.id, Actor::Operator), &input, json!({}))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
            let page = Page::parse(None, None).unwrap();
            assert_eq!(clients::list(&db, &t.id, None, &page).await.unwrap().1, 0);
            assert!(audit_of(&db, &t.id).await.is_empty());
        });
    }

    #[test]
    fn a_group_of_another_tenant_is_refused_and_nothing_is_written() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let input = ClientInput {
                allowed_user_groups: vec!["no-such-group".into()],
                ..client_input("wiki")
            };
            let err = create_client(&admin_ctx(&db, &t.id, Actor::Operator), &input, json!({}))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
            assert!(audit_of(&db, &t.id).await.is_empty());
        });
    }

    #[test]
    fn a_public_client_made_confidential_gets_its_secret_in_the_same_write_and_only_then() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let public = ClientInput {
                is_public: true,
                pkce_enabled: true,
                ..client_input("spa")
            };
            let id = create_client(&ctx, &public, json!({}))
                .await
                .unwrap()
                .view
                .id;
            let confidential = ClientInput {
                is_public: false,
                ..client_input("spa")
            };
            let updated = update(&ctx, &id, &confidential).await.unwrap();
            let secret = updated.secret.expect("the new secret is shown once");
            let row = clients::find(&db, &t.id, &id).await.unwrap().unwrap();
            assert_eq!(row.secret_hash, Some(secret_hash(&secret)));
            let again = update(&ctx, &id, &confidential).await.unwrap();
            assert!(
                again.secret.is_none(),
                "an existing secret is kept and not shown"
            );
            let row = clients::find(&db, &t.id, &id).await.unwrap().unwrap();
            assert_eq!(row.secret_hash, Some(secret_hash(&secret)));
            let back = update(&ctx, &id, &public).await.unwrap();
            assert!(back.secret.is_none());
            let row = clients::find(&db, &t.id, &id).await.unwrap().unwrap();
            assert_eq!(row.secret_hash, None, "a public client has no secret");
            assert!(matches!(
                update(&ctx, "ghost", &public).await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn secrets_regenerate_for_confidential_clients_only_and_delete_is_scoped() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let other = tenant(&db, "beta").await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let made = create_client(&ctx, &client_input("wiki"), json!({}))
                .await
                .unwrap();
            let fresh = regenerate_secret(&ctx, &made.view.id).await.unwrap();
            assert_ne!(Some(&fresh), made.secret.as_ref());
            let row = clients::find(&db, &t.id, &made.view.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.secret_hash, Some(secret_hash(&fresh)));
            let public = ClientInput {
                is_public: true,
                pkce_enabled: true,
                ..client_input("spa")
            };
            let spa = create_client(&ctx, &public, json!({}))
                .await
                .unwrap()
                .view
                .id;
            assert!(matches!(
                regenerate_secret(&ctx, &spa).await,
                Err(Error::NotFound(_))
            ));
            let elsewhere = admin_ctx(&db, &other.id, Actor::Operator);
            assert!(matches!(
                delete(&elsewhere, &made.view.id).await,
                Err(Error::NotFound(_))
            ));
            delete(&ctx, &made.view.id).await.unwrap();
            assert!(matches!(
                get(&ctx, "https://acme.id.test", &made.view.id).await,
                Err(Error::NotFound(_))
            ));
            let (left, total) = list(&ctx, None, &Page::parse(None, None).unwrap())
                .await
                .unwrap();
            assert_eq!((left.len(), total), (1, 1));
        });
    }

    #[test]
    fn a_preset_client_comes_with_the_values_to_paste_and_shows_them_again_without_secret() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let body = FromPreset {
                input: "myteam".into(),
                name: None,
                allowed_user_groups: vec![],
            };
            let made = create_from_preset(&ctx, "https://acme.id.test", "cloudflare-access", &body)
                .await
                .unwrap();
            let secret = made.client.secret.clone().unwrap();
            let pasted = serde_json::to_string(&made.setup).unwrap();
            assert!(pasted.contains(&made.client.view.id) && pasted.contains(&secret));
            let detail = get(&ctx, "https://acme.id.test", &made.client.view.id)
                .await
                .unwrap();
            let shown = serde_json::to_string(&detail.setup.expect("setup values")).unwrap();
            assert!(shown.contains(&made.client.view.id) && !shown.contains(&secret));
            let unknown = create_from_preset(&ctx, "https://acme.id.test", "nope", &body).await;
            assert!(matches!(unknown, Err(Error::NotFound(_))));
        });
    }
}
