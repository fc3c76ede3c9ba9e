//! The client_credentials grant's one round trip (RFC 6749 §4.4): a client's own token for an
//! API, a JWT nothing stores, so the only write is its `token_issued` audit entry.
//!
//! ONE batch reads the client and the API with the client's grant there, and writes the audit
//! entry only if, in the same transaction, the credentials authenticate a confidential client
//! (the condition generated from `ClientCredentials::accepted_states`, as for code redemption)
//! and `oidc::resource::permitted_scope` would allow the request: the client holds a grant at
//! the API and every requested value is granted and still defined by the API. The caller
//! applies the same rule to the rows the batch returns and signs the token only when it
//! agrees; a test runs both over the cases and holds them together.

use super::apis::{access_from, ACCESS_COLUMNS};
use super::audit::Origin;
use super::codes::client_authenticated;
use super::db::{changes, Db};
use super::grants::{client_from, client_statement};
use crate::crypto::random;
use crate::error::Result;
use crate::oidc::client::{Client, ClientCredentials};
use crate::oidc::resource::ApiAccess;
use crate::params;

/// A client_credentials request as the batch needs it.
pub struct MachineTokenRequest<'a> {
    pub tenant_id: &'a str,
    pub credentials: &'a ClientCredentials,
    /// The API's identifier (the `resource`).
    pub resource: &'a str,
    /// The requested permissions, sorted without repeats; `None` asks for all it holds.
    pub requested: Option<&'a [String]>,
    /// The token's `jti`, recorded in the audit entry.
    pub jti: &'a str,
    pub now: i64,
    pub origin: &'a Origin,
}

pub struct MachineTokenOutcome {
    /// The client the credentials name, as stored when the batch ran.
    pub client: Option<Client>,
    /// The API the resource names, with the client's grant there.
    pub access: Option<ApiAccess>,
    /// Whether the batch wrote the audit entry: the primary's own verdict.
    pub audited: bool,
}

/// The first parameter number of the client-authentication condition; the request's own are
/// ?1-?12.
const AUTH_FIRST_PARAM: usize = 13;

/// The permissions of grant `p` (at API `a`) that the API still defines, as a SELECT of `value`.
const ALLOWED: &str = "SELECT DISTINCT g.value FROM json_each(p.permissions) g \
     WHERE g.value IN (SELECT json_extract(d.value, '$.value') FROM json_each(a.permissions) d)";

pub async fn issue(db: &Db, r: &MachineTokenRequest<'_>) -> Result<MachineTokenOutcome> {
    let (authenticated, auth_params) =
        client_authenticated(&r.credentials.accepted_states(), r.now, AUTH_FIRST_PARAM);
    let requested = r.requested.map(serde_json::to_string).transpose()?;
    let p = || {
        let mut p = params![
            r.tenant_id,
            r.resource,
            r.credentials.client_id.as_str(),
            r.now,
            random::id(),
            requested.clone(),
            r.origin.ip.clone(),
            r.origin.user_agent.clone(),
            r.origin.country.clone(),
            r.origin.city.clone(),
            r.origin.asn,
            r.jti
        ];
        p.extend(auth_params.iter().cloned());
        p
    };
    let statements = vec![
        client_statement(db, "?1", "?3", p())?,
        db.statement(
            &format!("SELECT {ACCESS_COLUMNS} FROM apis a \
             LEFT JOIN client_api_permissions p ON p.api_id = a.id AND p.client_id = ?3 AND p.tenant_id = ?1 \
             WHERE a.tenant_id = ?1 AND a.identifier = ?2"),
            p(),
        )?,
        db.statement(
            &format!(
                "INSERT INTO audit_logs (id, tenant_id, event, user_id, client_id, ip, user_agent, country, city, asn, details, created_at) \
                 SELECT ?5, ?1, 'token_issued', NULL, ?3, ?7, ?8, ?9, ?10, ?11, \
                 json_object('grant_type', 'client_credentials', 'aud', ?2, 'jti', ?12, 'scope', \
                   COALESCE((SELECT group_concat(r.value, ' ') FROM json_each(?6) r), \
                            (SELECT group_concat(v.value, ' ') FROM ({ALLOWED} ORDER BY g.value) v), '')), \
                 ?4 \
                 FROM apis a JOIN client_api_permissions p ON p.api_id = a.id AND p.client_id = ?3 AND p.tenant_id = ?1 \
                 WHERE a.tenant_id = ?1 AND a.identifier = ?2 \
                 AND EXISTS (SELECT 1 FROM oidc_clients cc WHERE cc.id = ?3 AND cc.tenant_id = ?1 AND cc.is_public = 0) \
                 AND {authenticated} \
                 AND NOT EXISTS (SELECT 1 FROM json_each(?6) r WHERE r.value NOT IN ({ALLOWED}))"
            ),
            p(),
        )?,
    ];
    let mut statements = statements;
    statements.extend(super::codes::spend_assertion(
        db,
        r.tenant_id,
        r.credentials,
    )?);
    let results = db.batch(statements).await?;
    Ok(MachineTokenOutcome {
        client: client_from(&results[0])?,
        access: access_from(&results[1])?,
        audited: changes(&results[2]) == 1,
    })
}
