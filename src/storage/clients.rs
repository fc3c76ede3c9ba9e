//! OIDC clients and the groups allowed to use them.

use serde::{Deserialize, Serialize};

use super::db::{bool_from_int, changes, Db, Statement};
use crate::crypto::jwk::SigningAlg;
use crate::error::{Error, Result};
use crate::oidc::client::{Client, ClientInput};
use crate::oidc::token_settings::{TokenSettings, FORMAT_OPAQUE};
use crate::params;

/// A client row joined with its allowed groups (as a JSON array of group names); booleans are
/// read from SQLite's 0/1.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    #[serde(deserialize_with = "bool_from_int")]
    pub is_public: bool,
    #[serde(deserialize_with = "bool_from_int")]
    pub pkce_required: bool,
    #[serde(deserialize_with = "bool_from_int")]
    pub allow_plain_pkce: bool,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    #[serde(deserialize_with = "bool_from_int")]
    pub claims_in_id_token: bool,
    pub id_token_signed_response_alg: String,
    #[serde(deserialize_with = "bool_from_int")]
    pub require_consent: bool,
    #[serde(deserialize_with = "bool_from_int")]
    pub require_par: bool,
    pub launch_url: Option<String>,
    pub logo_url: Option<String>,
    pub preset: Option<String>,
    pub allowed_groups: String,
    pub access_token_format: String,
    pub access_token_ttl: Option<i64>,
    pub id_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub backchannel_logout_uri: Option<String>,
    #[serde(deserialize_with = "bool_from_int")]
    pub backchannel_logout_session_required: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`ClientRow`], for `SELECT ... FROM oidc_clients c`.
pub const CLIENT_COLUMNS: &str = "c.id, c.name, c.secret_hash, c.is_public, c.pkce_required, \
    c.allow_plain_pkce, c.redirect_uris, c.post_logout_redirect_uris, c.claims_in_id_token, \
    c.id_token_signed_response_alg, c.require_consent, c.require_par, c.launch_url, c.logo_url, c.preset, \
    (SELECT json_group_array(g.name) FROM oidc_client_groups cg JOIN user_groups g ON g.id = cg.group_id \
     WHERE cg.client_id = c.id) AS allowed_groups, c.access_token_format, c.access_token_ttl, \
    c.id_token_ttl, c.refresh_token_ttl, c.backchannel_logout_uri, \
    c.backchannel_logout_session_required, c.created_at, c.updated_at";

fn json_list(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

impl ClientRow {
    pub fn to_client(&self) -> Client {
        Client {
            id: self.id.clone(),
            name: self.name.clone(),
            secret_hash: self.secret_hash.clone(),
            is_public: self.is_public,
            pkce_required: self.pkce_required,
            allow_plain_pkce: self.allow_plain_pkce,
            redirect_uris: json_list(&self.redirect_uris),
            post_logout_redirect_uris: json_list(&self.post_logout_redirect_uris),
            claims_in_id_token: self.claims_in_id_token,
            id_token_alg: SigningAlg::parse(&self.id_token_signed_response_alg)
                .unwrap_or(SigningAlg::RS256),
            require_consent: self.require_consent,
            allowed_groups: json_list(&self.allowed_groups),
            tokens: TokenSettings::from_stored(
                &self.access_token_format,
                self.access_token_ttl,
                self.id_token_ttl,
                self.refresh_token_ttl,
            ),
            require_pushed_requests: self.require_par,
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: self.backchannel_logout_session_required,
        }
    }

    /// The admin API's view: everything but the secret hash.
    pub fn view(&self) -> ClientView {
        ClientView {
            id: self.id.clone(),
            name: self.name.clone(),
            callback_urls: json_list(&self.redirect_uris),
            logout_callback_urls: json_list(&self.post_logout_redirect_uris),
            is_public: self.is_public,
            pkce_enabled: self.pkce_required,
            allow_plain_pkce: self.allow_plain_pkce,
            claims_in_id_token: self.claims_in_id_token,
            id_token_signed_response_alg: self.id_token_signed_response_alg.clone(),
            require_consent: self.require_consent,
            require_pushed_authorization_requests: self.require_par,
            launch_url: self.launch_url.clone(),
            logo_url: self.logo_url.clone(),
            allowed_user_groups: json_list(&self.allowed_groups),
            preset: self.preset.clone(),
            access_token_format: self.access_token_format.clone(),
            access_token_lifetime: self.access_token_ttl,
            id_token_lifetime: self.id_token_ttl,
            refresh_token_lifetime: self.refresh_token_ttl,
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            has_secret: self.secret_hash.is_some(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub id: String,
    pub name: String,
    pub callback_urls: Vec<String>,
    pub logout_callback_urls: Vec<String>,
    pub is_public: bool,
    pub pkce_enabled: bool,
    pub allow_plain_pkce: bool,
    pub claims_in_id_token: bool,
    pub id_token_signed_response_alg: String,
    pub require_consent: bool,
    pub require_pushed_authorization_requests: bool,
    pub launch_url: Option<String>,
    pub logo_url: Option<String>,
    pub allowed_user_groups: Vec<String>,
    pub preset: Option<String>,
    pub access_token_format: String,
    pub access_token_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub has_secret: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) fn find_statement(db: &Db, tenant_id: &str, client_id: &str) -> Result<Statement> {
    db.statement(
        &format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients c WHERE c.tenant_id = ?1 AND c.id = ?2"
        ),
        params![tenant_id, client_id],
    )
}

pub async fn find(db: &Db, tenant_id: &str, client_id: &str) -> Result<Option<ClientRow>> {
    let results = db
        .batch(vec![find_statement(db, tenant_id, client_id)?])
        .await?;
    super::db::first_row(&results[0])
}

/// The protocol's view of a client (client authentication, logout), if the tenant has it.
pub async fn find_client(db: &Db, tenant_id: &str, client_id: &str) -> Result<Option<Client>> {
    Ok(find(db, tenant_id, client_id)
        .await?
        .map(|row| row.to_client()))
}

/// A page of the tenant's clients, searched by name or client id, with the total count.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    search: Option<&str>,
    page: &crate::admin::paging::Page,
) -> Result<(Vec<ClientRow>, i64)> {
    let filter = format!(
        "c.tenant_id = ?1 AND {}",
        super::db::contains_search(&["c.name", "c.id"], 2)
    );
    db.page(
        &format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients c WHERE {filter} ORDER BY c.name LIMIT ?3 OFFSET ?4"),
        &format!("SELECT COUNT(*) AS n FROM oidc_clients c WHERE {filter}"),
        params![tenant_id, super::db::search_text(search)],
        page,
    )
    .await
}

/// Resolves group names to ids within the tenant; an unknown name is a validation error.
async fn group_ids(db: &Db, tenant_id: &str, names: &[String]) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        name: String,
    }
    let groups: Vec<Row> = db
        .all(
            "SELECT id, name FROM user_groups WHERE tenant_id = ?1",
            params![tenant_id],
        )
        .await?;
    names
        .iter()
        .map(|n| {
            groups
                .iter()
                .find(|g| &g.name == n || &g.id == n)
                .map(|g| g.id.clone())
                .ok_or_else(|| Error::Invalid {
                    field: "allowed_user_groups",
                    message: format!("There is no group named {n}."),
                })
        })
        .collect()
}

/// Whether [`save`] creates a client (with its secret's hash, none for public clients) or
/// updates one. An update sets `new_secret_hash` only when the client is confidential and has no
/// secret yet (it was public): in the same UPDATE, so a client is never confidential without
/// one. Otherwise the secret changes only through [`set_secret`].
pub enum SaveMode<'a> {
    Create { secret_hash: Option<&'a str> },
    Update { new_secret_hash: Option<&'a str> },
}

/// Inserts or updates a client and its group list in one transaction; false when the client
/// to update does not exist in the tenant.
// The client's own fields come as one input; the rest is how and when it is written.
#[allow(clippy::too_many_arguments)]
pub async fn save(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    input: &ClientInput,
    alg: SigningAlg,
    now: i64,
    mode: SaveMode<'_>,
    audit: Option<Statement>,
) -> Result<bool> {
    let groups = group_ids(db, tenant_id, &input.allowed_user_groups).await?;
    let blank = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let format = blank(&input.access_token_format).unwrap_or_else(|| FORMAT_OPAQUE.to_string());
    let mut statements = vec![match mode {
        SaveMode::Create { secret_hash } => {
        db.statement(
            "INSERT INTO oidc_clients (id, tenant_id, name, secret_hash, is_public, pkce_required, allow_plain_pkce, \
             redirect_uris, post_logout_redirect_uris, claims_in_id_token, id_token_signed_response_alg, require_consent, \
             launch_url, logo_url, preset, access_token_format, access_token_ttl, id_token_ttl, refresh_token_ttl, \
             created_at, updated_at, require_par, backchannel_logout_uri, backchannel_logout_session_required) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?17, ?18, ?19, ?20, ?16, ?16, ?21, ?22, ?23)",
            params![
                client_id,
                tenant_id,
                input.name.trim(),
                secret_hash,
                input.is_public,
                input.pkce_enabled,
                input.allow_plain_pkce,
                serde_json::to_string(&input.callback_urls)?,
                serde_json::to_string(&input.logout_callback_urls)?,
                input.claims_in_id_token,
                alg.as_str(),
                input.require_consent,
                blank(&input.launch_url),
                blank(&input.logo_url),
                blank(&input.preset),
                now,
                format,
                input.access_token_lifetime,
                input.id_token_lifetime,
                input.refresh_token_lifetime,
                input.require_pushed_authorization_requests,
                blank(&input.backchannel_logout_uri),
                input.backchannel_logout_session_required
            ],
        )?
        }
        // Switching to public drops the secret; to confidential sets the new one.
        SaveMode::Update { new_secret_hash } => db.statement(
            "UPDATE oidc_clients SET name = ?3, is_public = ?4, pkce_required = ?5, allow_plain_pkce = ?6, \
             redirect_uris = ?7, post_logout_redirect_uris = ?8, claims_in_id_token = ?9, \
             id_token_signed_response_alg = ?10, require_consent = ?11, launch_url = ?12, logo_url = ?13, \
             preset = COALESCE(?14, preset), updated_at = ?15, access_token_format = ?17, \
             access_token_ttl = ?18, id_token_ttl = ?19, refresh_token_ttl = ?20, \
             secret_hash = CASE WHEN ?4 = 1 THEN NULL ELSE COALESCE(secret_hash, ?16) END, \
             require_par = ?21, backchannel_logout_uri = ?22, backchannel_logout_session_required = ?23 \
             WHERE tenant_id = ?1 AND id = ?2",
            params![
                tenant_id,
                client_id,
                input.name.trim(),
                input.is_public,
                input.pkce_enabled,
                input.allow_plain_pkce,
                serde_json::to_string(&input.callback_urls)?,
                serde_json::to_string(&input.logout_callback_urls)?,
                input.claims_in_id_token,
                alg.as_str(),
                input.require_consent,
                blank(&input.launch_url),
                blank(&input.logo_url),
                blank(&input.preset),
                now,
                new_secret_hash,
                format,
                input.access_token_lifetime,
                input.id_token_lifetime,
                input.refresh_token_lifetime,
                input.require_pushed_authorization_requests,
                blank(&input.backchannel_logout_uri),
                input.backchannel_logout_session_required
            ],
        )?,
    }];
    // The caller's audit entry, right after the INSERT/UPDATE (`When::PreviousChanged`).
    statements.extend(audit);
    statements.push(db.statement(
        "DELETE FROM oidc_client_groups WHERE client_id = ?1 \
         AND EXISTS (SELECT 1 FROM oidc_clients WHERE id = ?1 AND tenant_id = ?2)",
        params![client_id, tenant_id],
    )?);
    for group_id in groups {
        statements.push(db.statement(
            "INSERT INTO oidc_client_groups (client_id, group_id) \
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM oidc_clients WHERE id = ?1 AND tenant_id = ?3)",
            params![client_id, group_id, tenant_id],
        )?);
    }
    let results = db.batch(statements).await?;
    Ok(changes(&results[0]) > 0)
}

pub async fn set_secret(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    secret_hash: &str,
    now: i64,
    audit: Option<Statement>,
) -> Result<bool> {
    let mut statements = vec![db.statement(
        "UPDATE oidc_clients SET secret_hash = ?3, updated_at = ?4 \
         WHERE tenant_id = ?1 AND id = ?2 AND is_public = 0",
        params![tenant_id, client_id, secret_hash, now],
    )?];
    // The caller's audit entry, right after the UPDATE (`When::PreviousChanged`).
    statements.extend(audit);
    let results = db.batch(statements).await?;
    Ok(changes(&results[0]) > 0)
}

/// Deletes a client, ending its grants; `audit` (written only if the client went) joins the
/// same batch.
pub async fn delete(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    now: i64,
    audit: Statement,
) -> Result<bool> {
    let results = db
        .batch(vec![
            db.statement(
                "UPDATE grants SET revoked_at = ?3 WHERE tenant_id = ?1 AND client_id = ?2 AND revoked_at IS NULL",
                params![tenant_id, client_id, now],
            )?,
            db.statement(
                "DELETE FROM authorization_codes WHERE tenant_id = ?1 AND client_id = ?2",
                params![tenant_id, client_id],
            )?,
            db.statement(
                "DELETE FROM oidc_clients WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, client_id],
            )?,
            audit,
        ])
        .await?;
    Ok(changes(&results[2]) > 0)
}

/// An app a user may launch from their account page.
#[derive(Debug, Clone, Deserialize)]
pub struct LaunchableApp {
    pub name: String,
    pub launch_url: String,
}

/// The tenant's clients with a launch URL that this user may use (no group restriction, or one
/// of the user's groups), by name.
pub async fn launchable_by(db: &Db, tenant_id: &str, user_id: &str) -> Result<Vec<LaunchableApp>> {
    db.all(
        "SELECT c.name, c.launch_url FROM oidc_clients c WHERE c.tenant_id = ?1 \
         AND c.launch_url IS NOT NULL AND (NOT EXISTS (SELECT 1 FROM oidc_client_groups g WHERE g.client_id = c.id) \
         OR EXISTS (SELECT 1 FROM oidc_client_groups g JOIN user_group_members m ON m.group_id = g.group_id \
         WHERE g.client_id = c.id AND m.user_id = ?2)) ORDER BY c.name",
        params![tenant_id, user_id],
    )
    .await
}
