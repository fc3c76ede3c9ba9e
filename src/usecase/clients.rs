//! OIDC clients: the one "create a client" the admin API, its presets and the operator API all
//! use, and a confidential client's secrets. Secrets are generated (alphanumeric, 48
//! characters, about 285 bits), shown once and stored hashed; a client holds several, each
//! with an optional expiry, so a secret is rotated without downtime.

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
use crate::storage::clients::{self, ClientView, NewSecret, SaveMode, SecretDeletion, SecretView};

pub const SECRET_LEN: usize = 48;

/// The longest grace period a rotation gives the old secrets: long enough to roll an app's
/// configuration out, short enough that a forgotten rotation does not leave a leaked secret
/// working for months.
pub const MAX_ROTATION_GRACE_SECS: i64 = 30 * 24 * 3600;

/// A freshly generated secret: the plaintext (shown once) with its id and hash.
struct FreshSecret {
    id: String,
    plaintext: String,
    hash: String,
}

impl FreshSecret {
    fn generate() -> Self {
        let plaintext = random::alphanumeric(SECRET_LEN);
        Self {
            id: random::id(),
            hash: secret_hash(&plaintext),
            plaintext,
        }
    }

    fn stored(&self, expires_at: Option<i64>) -> NewSecret<'_> {
        NewSecret {
            id: &self.id,
            hash: &self.hash,
            expires_at,
        }
    }
}

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
    // Clients that authenticate with a secret get one; public and private_key_jwt ones none.
    let secret = input
        .auth_settings()?
        .0
        .uses_secret()
        .then(FreshSecret::generate);
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
            secret: secret.as_ref().map(|s| s.stored(None)),
        },
        Some(audit),
    )
    .await?;
    let view = clients::find(ctx.db, ctx.tenant_id, &id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::Internal("created client not found".into()))?;
    Ok(ClientWithSecret {
        view,
        secret: secret.map(|s| s.plaintext),
    })
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
    // Clients that authenticate with a secret get one; public and private_key_jwt ones none.
    let secret = input
        .auth_settings()?
        .0
        .uses_secret()
        .then(FreshSecret::generate);
    let audit = ctx.audit(
        "client_updated",
        Some(id),
        json!({ "name": input.name }),
        When::PreviousChanged,
    )?;
    let mode = SaveMode::Update {
        new_secret: secret.as_ref().map(|s| s.stored(None)),
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
    // Shown only if this update is what added it (the client had none: it was public).
    let added = |s: &FreshSecret| row.secrets().iter().any(|stored| stored.id == s.id);
    Ok(ClientWithSecret {
        view: row.view(),
        secret: secret.filter(added).map(|s| s.plaintext),
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

/// A secret just added: what the admin API answers, the plaintext shown this once.
#[derive(Debug, Serialize)]
pub struct AddedSecret {
    pub client_id: String,
    pub client_secret: String,
    #[serde(flatten)]
    pub secret: SecretView,
}

impl AddedSecret {
    fn of(
        ctx: &AdminCtx<'_>,
        client_id: &str,
        fresh: FreshSecret,
        expires_at: Option<i64>,
    ) -> Self {
        Self {
            client_id: client_id.to_string(),
            secret: SecretView {
                id: fresh.id,
                created_at: ctx.now,
                expires_at,
            },
            client_secret: fresh.plaintext,
        }
    }
}

/// Rotates a confidential client's secret: a new one, shown this once, and every secret it
/// held expires after `grace_secs` (0, the default, stops them at once, as the single-secret
/// API always did; at most [`MAX_ROTATION_GRACE_SECS`]). An old secret that expires sooner
/// keeps its earlier expiry.
pub async fn regenerate_secret(
    ctx: &AdminCtx<'_>,
    id: &str,
    grace_secs: Option<i64>,
) -> Result<AddedSecret> {
    let grace = grace_secs.unwrap_or(0);
    if !(0..=MAX_ROTATION_GRACE_SECS).contains(&grace) {
        return Err(Error::Invalid {
            field: "grace_period",
            message: format!("The grace period is 0 to {MAX_ROTATION_GRACE_SECS} seconds."),
        });
    }
    let fresh = FreshSecret::generate();
    let audit = ctx.audit(
        "client_secret_regenerated",
        Some(id),
        json!({ "secret_id": fresh.id, "grace_period": grace }),
        When::PreviousChanged,
    )?;
    let rotated = clients::rotate_secret(
        ctx.db,
        ctx.tenant_id,
        id,
        fresh.stored(None),
        ctx.now + grace,
        ctx.now,
        audit,
    )
    .await?;
    if !rotated {
        return Err(Error::NotFound("A client that uses secrets".into()));
    }
    Ok(AddedSecret::of(ctx, id, fresh, None))
}

/// What an admin submits to add a secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretInput {
    /// Unix seconds after which the secret is refused; absent: never.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// Adds a secret to a confidential client (the others keep working), shown this once.
pub async fn add_secret(ctx: &AdminCtx<'_>, id: &str, input: &SecretInput) -> Result<AddedSecret> {
    if input.expires_at.is_some_and(|at| at <= ctx.now) {
        return Err(Error::Invalid {
            field: "expires_at",
            message: "The expiry must be in the future.".into(),
        });
    }
    let fresh = FreshSecret::generate();
    let audit = ctx.audit(
        "client_secret_added",
        Some(id),
        json!({ "secret_id": fresh.id, "expires_at": input.expires_at }),
        When::PreviousChanged,
    )?;
    let stored = fresh.stored(input.expires_at);
    if !clients::add_secret(ctx.db, ctx.tenant_id, id, stored, ctx.now, audit).await? {
        return Err(Error::NotFound("A client that uses secrets".into()));
    }
    Ok(AddedSecret::of(ctx, id, fresh, input.expires_at))
}

/// A client's secrets (never their hashes), oldest first.
pub async fn list_secrets(ctx: &AdminCtx<'_>, id: &str) -> Result<Vec<SecretView>> {
    Ok(load(ctx, id).await?.secrets)
}

/// Deletes one of a client's secrets: it stops working at once. The last one is kept (a
/// confidential client without a secret could never authenticate): add another first, or
/// make the client public.
pub async fn delete_secret(ctx: &AdminCtx<'_>, id: &str, secret_id: &str) -> Result<()> {
    let audit = ctx.audit(
        "client_secret_deleted",
        Some(id),
        json!({ "secret_id": secret_id }),
        When::PreviousChanged,
    )?;
    match clients::delete_secret(ctx.db, ctx.tenant_id, id, secret_id, audit).await? {
        SecretDeletion::Deleted => Ok(()),
        SecretDeletion::NotFound => Err(Error::NotFound("This secret".into())),
        SecretDeletion::LastSecret => Err(Error::Conflict(
            "This is the client's last secret: add a new one first.".into(),
        )),
    }
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

    fn hashes(row: &clients::ClientRow) -> Vec<String> {
        row.secrets().into_iter().map(|s| s.hash).collect()
    }

    async fn audit_of(db: &Db, tenant_id: &str) -> Vec<audit::AuditEntry> {
        events(db, tenant_id, "client_created").await
    }

    async fn events(db: &Db, tenant_id: &str, event: &str) -> Vec<audit::AuditEntry> {
        let filter = AuditFilter {
            event: Some(event.into()),
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
            assert_eq!(hashes(&row), vec![secret_hash(&secret)]);
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
            assert_eq!(hashes(&row), vec![secret_hash(&secret)]);
            let again = update(&ctx, &id, &confidential).await.unwrap();
            assert!(
                again.secret.is_none(),
                "an existing secret is kept and not shown"
            );
            let row = clients::find(&db, &t.id, &id).await.unwrap().unwrap();
            assert_eq!(hashes(&row), vec![secret_hash(&secret)]);
            let back = update(&ctx, &id, &public).await.unwrap();
            assert!(back.secret.is_none());
            let row = clients::find(&db, &t.id, &id).await.unwrap().unwrap();
            assert!(hashes(&row).is_empty(), "a public client has no secret");
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
            let fresh = regenerate_secret(&ctx, &made.view.id, None)
                .await
                .unwrap()
                .client_secret;
            assert_ne!(Some(&fresh), made.secret.as_ref());
            let row = clients::find(&db, &t.id, &made.view.id)
                .await
                .unwrap()
                .unwrap();
            let live: Vec<String> = row
                .secrets()
                .into_iter()
                .filter(|s| s.live_at(ctx.now))
                .map(|s| s.hash)
                .collect();
            assert_eq!(
                live,
                vec![secret_hash(&fresh)],
                "the old one stopped at once"
            );
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
                regenerate_secret(&ctx, &spa, None).await,
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
    fn secrets_are_added_listed_rotated_with_grace_and_deleted_but_never_the_last() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let made = create_client(&ctx, &client_input("wiki"), json!({}))
                .await
                .unwrap();
            let id = made.view.id.clone();
            let first = made.view.secrets[0].clone();
            assert_eq!(made.view.secrets.len(), 1);
            // In the past: refused.
            let past = SecretInput {
                expires_at: Some(ctx.now),
            };
            assert!(matches!(
                add_secret(&ctx, &id, &past).await,
                Err(Error::Invalid {
                    field: "expires_at",
                    ..
                })
            ));
            let later = SecretInput {
                expires_at: Some(ctx.now + 3600),
            };
            let second = add_secret(&ctx, &id, &later).await.unwrap();
            assert_eq!(second.client_secret.len(), SECRET_LEN);
            let listed = list_secrets(&ctx, &id).await.unwrap();
            assert_eq!(listed.len(), 2);
            assert_eq!(listed[0], first);
            assert_eq!(listed[1], second.secret);
            assert_eq!(listed[1].expires_at, Some(ctx.now + 3600));
            let json = serde_json::to_value(&listed).unwrap().to_string();
            assert!(
                !json.contains(&secret_hash(&second.client_secret)),
                "no hash shown"
            );
            assert_eq!(events(&db, &t.id, "client_secret_added").await.len(), 1);

            // A rotation with a grace period: the old secrets expire then (an earlier expiry
            // stays), the new one never.
            assert!(matches!(
                regenerate_secret(&ctx, &id, Some(MAX_ROTATION_GRACE_SECS + 1)).await,
                Err(Error::Invalid { .. })
            ));
            let rotated = regenerate_secret(&ctx, &id, Some(600)).await.unwrap();
            let listed = list_secrets(&ctx, &id).await.unwrap();
            let expiries: Vec<Option<i64>> = listed.iter().map(|s| s.expires_at).collect();
            assert_eq!(
                expiries,
                vec![Some(ctx.now + 600), Some(ctx.now + 600), None]
            );
            assert_eq!(listed[2].id, rotated.secret.id);
            let rotated_again = regenerate_secret(&ctx, &id, Some(7200)).await.unwrap();
            let listed = list_secrets(&ctx, &id).await.unwrap();
            let expiries: Vec<Option<i64>> = listed.iter().map(|s| s.expires_at).collect();
            assert_eq!(
                expiries,
                vec![
                    Some(ctx.now + 600),
                    Some(ctx.now + 600),
                    Some(ctx.now + 7200),
                    None
                ],
                "a rotation never extends an expiry"
            );
            let entries = events(&db, &t.id, "client_secret_regenerated").await;
            assert_eq!(entries.len(), 2);

            // Deleting: each but the last; another client's or an unknown id is not found.
            let other = create_client(&ctx, &client_input("other"), json!({}))
                .await
                .unwrap();
            assert!(matches!(
                delete_secret(&ctx, &id, &other.view.secrets[0].id).await,
                Err(Error::NotFound(_))
            ));
            for s in &listed[..3] {
                delete_secret(&ctx, &id, &s.id).await.unwrap();
            }
            assert!(matches!(
                delete_secret(&ctx, &id, &rotated_again.secret.id).await,
                Err(Error::Conflict(_))
            ));
            assert_eq!(list_secrets(&ctx, &id).await.unwrap().len(), 1);
            assert_eq!(events(&db, &t.id, "client_secret_deleted").await.len(), 3);
            // A public client has none to add.
            let public = ClientInput {
                is_public: true,
                pkce_enabled: true,
                ..client_input("spa")
            };
            let spa = create_client(&ctx, &public, json!({})).await.unwrap();
            assert!(matches!(
                add_secret(&ctx, &spa.view.id, &SecretInput::default()).await,
                Err(Error::NotFound(_))
            ));
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
