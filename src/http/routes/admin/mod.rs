//! The tenant admin REST API (`/api/...`, modelled on Pocket ID's), for admins and API keys.
//! Its routes and their OpenAPI description are in `crate::route_table`; the router admits the
//! admin, this module dispatches to the handlers.

pub mod api_keys;
pub mod apis;
pub mod audit;
pub mod clients;
pub mod console;
pub mod groups;
pub mod settings;
pub mod users;

use serde::Serialize;
use serde_json::json;
use worker::Response;

use crate::admin::paging::Page;
use crate::error::Result;
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;
use crate::route_table::{AdminRoute, Params};
use crate::usecase::{AdminCtx, Author};

/// Dispatches an admin API route to its handler; the router has admitted `actor`.
pub async fn dispatch(
    req: TenantRequest<'_>,
    actor: &Actor,
    route: AdminRoute,
    params: &Params<'_>,
) -> Result<Response> {
    use AdminRoute as R;
    let a = actor;
    let id = params.get("id");
    match route {
        R::ListUsers => users::list(&req, a).await,
        R::CreateUser => users::create(req, a).await,
        R::GetUser => users::get(&req, a, id).await,
        R::UpdateUser => users::update(req, a, id).await,
        R::DeleteUser => users::delete(&req, a, id).await,
        R::SetUserGroups => users::set_groups(req, a, id).await,
        R::UserSessions => users::sessions(&req, a, id).await,
        R::SignOutEverywhere => users::sign_out_everywhere(&req, a, id).await,
        R::DeleteUserPasskey => {
            users::delete_passkey(&req, a, id, params.get("credential_id")).await
        }
        R::OneTimeAccessToken => users::one_time_access_token(req, a, id).await,
        R::SignupToken => users::signup_token(req, a).await,
        R::ListSignupTokens => users::list_signup_tokens(req, a).await,
        R::RevokeSignupToken => users::revoke_signup_token(req, a, id).await,
        R::SetUserClaims => users::set_custom_claims(req, a, id).await,
        R::SetGroupClaims => groups::set_custom_claims(req, a, id).await,
        R::ListGroups => groups::list(&req, a).await,
        R::CreateGroup => groups::create(req, a).await,
        R::GetGroup => groups::get(&req, a, id).await,
        R::UpdateGroup => groups::update(req, a, id).await,
        R::DeleteGroup => groups::delete(&req, a, id).await,
        R::SetGroupMembers => groups::set_members(req, a, id).await,
        R::ListClients => clients::list(&req, a).await,
        R::CreateClient => clients::create(req, a).await,
        R::GetClient => clients::get(&req, a, id).await,
        R::UpdateClient => clients::update(req, a, id).await,
        R::DeleteClient => clients::delete(&req, a, id).await,
        R::RegenerateClientSecret => clients::regenerate_secret(&req, a, id).await,
        R::ListClientSecrets => clients::list_secrets(&req, a, id).await,
        R::AddClientSecret => clients::add_secret(req, a, id).await,
        R::DeleteClientSecret => clients::delete_secret(&req, a, id, params.get("secret_id")).await,
        R::ListClientPresets => Ok(clients::list_presets(&req)),
        R::CreateClientFromPreset => {
            clients::create_from_preset(req, a, params.get("preset")).await
        }
        R::ListApis => apis::list(&req, a).await,
        R::CreateApi => apis::create(req, a).await,
        R::GetApi => apis::get(&req, a, id).await,
        R::UpdateApi => apis::update(req, a, id).await,
        R::DeleteApi => apis::delete(&req, a, id).await,
        R::ClientApiPermissions => apis::client_grants(&req, a, id).await,
        R::SetClientApiPermissions => apis::set_client_grants(req, a, id).await,
        R::AuditLog => audit::list(&req).await,
        R::ListApiKeys => api_keys::list(&req).await,
        R::CreateApiKey => api_keys::create(req, a).await,
        R::DeleteApiKey => api_keys::delete(&req, a, id).await,
        R::GetSettings => settings::get(&req),
        R::UpdateSettings => settings::update(req, a).await,
        R::SendTestEmail => settings::send_test_email(req, a).await,
    }
}

/// `?page=&limit=` of a list request.
fn page(req: &TenantRequest<'_>) -> Result<Page> {
    Ok(Page::parse(
        req.incoming.query_param("page"),
        req.incoming.query_param("limit"),
    )?)
}

/// `?page=&limit=` of a list that returns everything when neither is given.
fn page_or_everything(req: &TenantRequest<'_>) -> Result<Page> {
    Ok(Page::parse_or_everything(
        req.incoming.query_param("page"),
        req.incoming.query_param("limit"),
    )?)
}

/// A paged list response: `{ data, pagination }`.
fn paged<T: Serialize>(data: &[T], page: &Page, total: i64) -> Response {
    json_response(
        200,
        &json!({ "data": data, "pagination": page.describe(total) }),
    )
}

/// A custom-claims body (object or Pocket ID's key/value list), validated.
async fn claims_body(
    req: &mut TenantRequest<'_>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let input: crate::admin::custom_claims::CustomClaimsInput = req.incoming.json_value().await?;
    Ok(crate::admin::custom_claims::validate(input)?)
}

/// The context of an admin use case run for this request by `actor`.
pub fn admin_ctx<'a>(req: &'a TenantRequest<'_>, actor: &Actor) -> Result<AdminCtx<'a>> {
    Ok(AdminCtx {
        db: req.app.db()?,
        tenant_id: &req.tenant.tenant.id,
        now: req.now,
        author: Author {
            actor: actor.clone(),
            origin: req.incoming.audit_origin(),
        },
    })
}
