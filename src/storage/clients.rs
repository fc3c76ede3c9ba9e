//! OIDC clients and the groups allowed to use them.

use serde::Serialize;

use super::db::{changes, Db, Statement};
use crate::crypto::jwk::SigningAlg;
use crate::error::{Error, Result};
use crate::oidc::client::{
    AuthMethod, Client, ClientInput, ClientKeys, ClientSecret, FederatedCredential,
};
use crate::oidc::token_settings::{TokenSettings, FORMAT_OPAQUE};
use crate::params;

crate::from_row! {
    /// A client row joined with its allowed groups (as a JSON array of group names); booleans are
    /// read from SQLite's 0/1.
    #[derive(Debug, Clone)]
    pub struct ClientRow {
        pub id: String,
        pub name: String,
        /// The client's secrets as a JSON array of `ClientSecret` (hashes included).
        pub secrets: String,
        pub is_public: bool,
        pub pkce_required: bool,
        pub allow_plain_pkce: bool,
        pub redirect_uris: String,
        pub post_logout_redirect_uris: String,
        pub claims_in_id_token: bool,
        pub id_token_signed_response_alg: String,
        pub require_consent: bool,
        pub require_par: bool,
        pub launch_url: Option<String>,
        pub logo_url: Option<String>,
        pub preset: Option<String>,
        pub allowed_groups: String,
        pub access_token_format: String,
        pub access_token_ttl: Option<i64>,
        pub id_token_ttl: Option<i64>,
        pub refresh_token_ttl: Option<i64>,
        pub token_endpoint_auth_method: String,
        pub jwks: Option<String>,
        pub jwks_uri: Option<String>,
        pub federated_credentials: String,
        pub backchannel_logout_uri: Option<String>,
        pub backchannel_logout_session_required: bool,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

/// The columns of [`ClientRow`], for `SELECT ... FROM oidc_clients c`.
/// The secrets come in the same read, oldest first.
pub const CLIENT_COLUMNS: &str = "c.id, c.name, \
    (SELECT json_group_array(json_object('id', s.id, 'hash', s.secret_hash, 'created_at', s.created_at, \
     'expires_at', s.expires_at)) FROM (SELECT id, secret_hash, created_at, expires_at FROM client_secrets WHERE client_id = c.id \
     ORDER BY created_at, rowid) s) AS secrets, c.is_public, c.pkce_required, \
    c.allow_plain_pkce, c.redirect_uris, c.post_logout_redirect_uris, c.claims_in_id_token, \
    c.id_token_signed_response_alg, c.require_consent, c.require_par, c.launch_url, c.logo_url, c.preset, \
    (SELECT json_group_array(g.name) FROM oidc_client_groups cg JOIN user_groups g ON g.id = cg.group_id \
     WHERE cg.client_id = c.id) AS allowed_groups, c.access_token_format, c.access_token_ttl, \
    c.id_token_ttl, c.refresh_token_ttl, c.token_endpoint_auth_method, c.jwks, c.jwks_uri, c.federated_credentials, \
    c.backchannel_logout_uri, c.backchannel_logout_session_required, c.created_at, c.updated_at";

/// SQL for "the stored `token_endpoint_auth_method` in `column` uses a secret", generated from
/// `AuthMethod::uses_secret`.
pub(super) fn uses_secret_sql(column: &str) -> String {
    let names: Vec<String> = AuthMethod::ALL
        .iter()
        .filter(|m| m.uses_secret())
        .map(|m| format!("'{}'", m.as_str()))
        .collect();
    format!("{column} IN ({})", names.join(", "))
}

fn json_list(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

impl ClientRow {
    pub fn secrets(&self) -> Vec<ClientSecret> {
        serde_json::from_str(&self.secrets).unwrap_or_default()
    }

    pub fn to_client(&self) -> Client {
        Client {
            id: self.id.clone(),
            name: self.name.clone(),
            secrets: self.secrets(),
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
            auth_method: self.auth_method(),
            keys: match (&self.jwks, &self.jwks_uri) {
                (Some(jwks), _) => Some(ClientKeys::Inline(jwks.clone())),
                (None, Some(uri)) => Some(ClientKeys::Uri(uri.clone())),
                (None, None) => None,
            },
            federated: serde_json::from_str(&self.federated_credentials).unwrap_or_default(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: self.backchannel_logout_session_required,
        }
    }

    /// The stored method (the column's CHECK admits only the four names; an unknown one
    /// authenticates nothing but a public client's "none").
    fn auth_method(&self) -> AuthMethod {
        AuthMethod::parse(&self.token_endpoint_auth_method).unwrap_or(AuthMethod::None)
    }

    /// The admin API's view: everything but the secrets' hashes.
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
            has_secret: !self.secrets().is_empty(),
            token_endpoint_auth_method: self.auth_method().as_str(),
            jwks: self
                .jwks
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
            jwks_uri: self.jwks_uri.clone(),
            federated_credentials: serde_json::from_str(&self.federated_credentials)
                .unwrap_or_default(),
            secrets: self.secrets().iter().map(SecretView::of).collect(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: self.backchannel_logout_session_required,
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
    pub token_endpoint_auth_method: &'static str,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub federated_credentials: Vec<FederatedCredential>,
    /// The secrets (never their hashes), oldest first.
    pub secrets: Vec<SecretView>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the admin API shows of a secret: never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretView {
    pub id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl SecretView {
    pub fn of(secret: &ClientSecret) -> Self {
        Self {
            id: secret.id.clone(),
            created_at: secret.created_at,
            expires_at: secret.expires_at,
        }
    }
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
    crate::from_row! {
        struct Row {
            id: String,
            name: String,
        }
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

/// A secret about to be stored: its id and hash (the plaintext is shown once, never stored).
#[derive(Debug, Clone, Copy)]
pub struct NewSecret<'a> {
    pub id: &'a str,
    pub hash: &'a str,
    pub expires_at: Option<i64>,
}

/// Whether [`save`] creates a client (with its first secret, none for public clients) or
/// updates one. An update adds `new_secret` only when the client is confidential and has no
/// secret (it was public), and drops every secret of a client made public, in the same batch,
/// so a client is never confidential without a secret nor public with one. Otherwise secrets
/// change only through [`add_secret`], [`rotate_secret`] and [`delete_secret`].
pub enum SaveMode<'a> {
    Create { secret: Option<NewSecret<'a>> },
    Update { new_secret: Option<NewSecret<'a>> },
}

/// Inserts `secret` for client `client_id` if, at that point of the batch, the client is a
/// confidential client of the tenant that authenticates with secrets (and, when
/// `only_if_none`, holds no secret yet).
fn insert_secret_statement(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    secret: NewSecret<'_>,
    now: i64,
    only_if_none: bool,
) -> Result<Statement> {
    db.statement(
        &format!(
            "INSERT INTO client_secrets (id, tenant_id, client_id, secret_hash, created_at, expires_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS \
             (SELECT 1 FROM oidc_clients WHERE id = ?3 AND tenant_id = ?2 AND is_public = 0 AND {}) \
             AND (?7 = 0 OR NOT EXISTS (SELECT 1 FROM client_secrets WHERE client_id = ?3))",
            uses_secret_sql("token_endpoint_auth_method")
        ),
        params![
            secret.id,
            tenant_id,
            client_id,
            secret.hash,
            now,
            secret.expires_at,
            only_if_none
        ],
    )
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
    let (method, keys) = input.auth_settings()?;
    let (jwks, jwks_uri) = match keys {
        Some(ClientKeys::Inline(jwks)) => (Some(jwks), None),
        Some(ClientKeys::Uri(uri)) => (None, Some(uri)),
        None => (None, None),
    };
    // ?1-?26, shared by the INSERT and the UPDATE.
    let fields = params![
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
        format,
        input.access_token_lifetime,
        input.id_token_lifetime,
        input.refresh_token_lifetime,
        input.require_pushed_authorization_requests,
        method.as_str(),
        jwks,
        jwks_uri,
        serde_json::to_string(&input.federated_credentials)?,
        blank(&input.backchannel_logout_uri),
        input.backchannel_logout_session_required
    ];
    let mut statements = vec![match mode {
        SaveMode::Create { .. } => db.statement(
            "INSERT INTO oidc_clients (tenant_id, id, name, is_public, pkce_required, allow_plain_pkce, \
             redirect_uris, post_logout_redirect_uris, claims_in_id_token, id_token_signed_response_alg, require_consent, \
             launch_url, logo_url, preset, created_at, updated_at, access_token_format, access_token_ttl, id_token_ttl, \
             refresh_token_ttl, require_par, token_endpoint_auth_method, jwks, jwks_uri, federated_credentials, \
             backchannel_logout_uri, backchannel_logout_session_required) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
            fields,
        )?,
        SaveMode::Update { .. } => db.statement(
            "UPDATE oidc_clients SET name = ?3, is_public = ?4, pkce_required = ?5, allow_plain_pkce = ?6, \
             redirect_uris = ?7, post_logout_redirect_uris = ?8, claims_in_id_token = ?9, \
             id_token_signed_response_alg = ?10, require_consent = ?11, launch_url = ?12, logo_url = ?13, \
             preset = COALESCE(?14, preset), updated_at = ?15, access_token_format = ?16, \
             access_token_ttl = ?17, id_token_ttl = ?18, refresh_token_ttl = ?19, require_par = ?20, \
             token_endpoint_auth_method = ?21, jwks = ?22, jwks_uri = ?23, federated_credentials = ?24, \
             backchannel_logout_uri = ?25, backchannel_logout_session_required = ?26 \
             WHERE tenant_id = ?1 AND id = ?2",
            fields,
        )?,
    }];
    // The caller's audit entry, right after the INSERT/UPDATE (`When::PreviousChanged`).
    statements.extend(audit);
    match mode {
        SaveMode::Create { secret } => statements.extend(
            secret
                .map(|s| insert_secret_statement(db, tenant_id, client_id, s, now, false))
                .transpose()?,
        ),
        SaveMode::Update { new_secret } => {
            // Switching to public or to private_key_jwt drops the secrets; to a secret method
            // adds the new one.
            statements.push(db.statement(
                &format!(
                    "DELETE FROM client_secrets WHERE client_id = ?1 AND tenant_id = ?2 \
                     AND EXISTS (SELECT 1 FROM oidc_clients WHERE id = ?1 AND tenant_id = ?2 \
                     AND NOT ({}))",
                    uses_secret_sql("token_endpoint_auth_method")
                ),
                params![client_id, tenant_id],
            )?);
            statements.extend(
                new_secret
                    .map(|s| insert_secret_statement(db, tenant_id, client_id, s, now, true))
                    .transpose()?,
            );
        }
    }
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

/// Adds a secret to a confidential client of the tenant, with the caller's audit entry
/// (`When::PreviousChanged`); false when there is no such confidential client.
pub async fn add_secret(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    secret: NewSecret<'_>,
    now: i64,
    audit: Statement,
) -> Result<bool> {
    let results = db
        .batch(vec![
            insert_secret_statement(db, tenant_id, client_id, secret, now, false)?,
            audit,
        ])
        .await?;
    Ok(changes(&results[0]) > 0)
}

/// Rotates a confidential client's secret: every secret it holds expires at `old_expire_at`
/// at the latest (`now` for at once), and `secret` is added, in one batch with the caller's
/// audit entry (`When::PreviousChanged`, after the insert). False when there is no such
/// confidential client.
pub async fn rotate_secret(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    secret: NewSecret<'_>,
    old_expire_at: i64,
    now: i64,
    audit: Statement,
) -> Result<bool> {
    let results = db
        .batch(vec![
            db.statement(
                "UPDATE client_secrets SET expires_at = MIN(COALESCE(expires_at, ?3), ?3) \
                 WHERE client_id = ?1 AND tenant_id = ?2 \
                 AND EXISTS (SELECT 1 FROM oidc_clients WHERE id = ?1 AND tenant_id = ?2 AND is_public = 0)",
                params![client_id, tenant_id, old_expire_at],
            )?,
            insert_secret_statement(db, tenant_id, client_id, secret, now, false)?,
            audit,
        ])
        .await?;
    Ok(changes(&results[1]) > 0)
}

/// What deleting a secret did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretDeletion {
    Deleted,
    /// The client has no such secret.
    NotFound,
    /// It is the client's last secret: deleting it would leave a confidential client that can
    /// never authenticate (add another first, or make the client public).
    LastSecret,
}

/// Deletes one of a client's secrets unless it is the last one, with the caller's audit entry
/// (`When::PreviousChanged`) in the same batch.
pub async fn delete_secret(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    secret_id: &str,
    audit: Statement,
) -> Result<SecretDeletion> {
    let p = || params![tenant_id, client_id, secret_id];
    let results = db
        .batch(vec![
            db.statement(
                "SELECT COUNT(*) AS n FROM client_secrets WHERE tenant_id = ?1 AND client_id = ?2 AND id = ?3",
                p(),
            )?,
            db.statement(
                "DELETE FROM client_secrets WHERE tenant_id = ?1 AND client_id = ?2 AND id = ?3 \
                 AND EXISTS (SELECT 1 FROM client_secrets o WHERE o.client_id = ?2 AND o.id <> ?3)",
                p(),
            )?,
            audit,
        ])
        .await?;
    Ok(if changes(&results[1]) > 0 {
        SecretDeletion::Deleted
    } else if super::db::count(&results[0])? > 0 {
        SecretDeletion::LastSecret
    } else {
        SecretDeletion::NotFound
    })
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

crate::from_row! {
    /// An app a user may launch from their account page.
    #[derive(Debug, Clone)]
    pub struct LaunchableApp {
        pub name: String,
        pub launch_url: String,
    }
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
