//! OIDC clients: the one "create a client" the admin API, its presets and the operator API all
//! use. Secrets are generated (alphanumeric, 48 characters, about 285 bits), shown once and
//! stored hashed.

use serde_json::json;

use super::AdminCtx;
use crate::crypto::hash::secret_hash;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::oidc::client::ClientInput;
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
    let (db, tenant_id) = (ctx.db, ctx.tenant_id);
    let alg = input.validate()?;
    let id = random::alphanumeric(24);
    let secret = (!input.is_public).then(|| random::alphanumeric(SECRET_LEN));
    let mut details = details;
    details["name"] = json!(input.name);
    let audit = ctx.audit("client_created", Some(&id), details, When::PreviousChanged)?;
    clients::save(
        db,
        tenant_id,
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
    let view = clients::find(db, tenant_id, &id)
        .await?
        .map(|row| row.view())
        .ok_or_else(|| Error::Internal("created client not found".into()))?;
    Ok(ClientWithSecret { view, secret })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::paging::Page;
    use crate::storage::audit::{self, AuditFilter};
    use crate::storage::db::Db;
    use crate::storage::testing::{admin_ctx, client_input, db, run, tenant};
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
}
