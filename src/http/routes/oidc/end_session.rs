//! `GET|POST /api/oidc/end-session`: RP-initiated logout. `oidc::logout::plan` decides; this
//! handler ends the session (and the grants issued through it) and redirects only when the plan
//! says the target is verified.

use worker::{Method, Response};

use crate::error::Result;
use crate::http::request::TenantRequest;
use crate::http::respond::{redirect, set_header};
use crate::http::routes::pages::{brand, message, render};
use crate::http::session;
use crate::oidc::hint;
use crate::oidc::logout::{self, Hint, LogoutPlan, LogoutRequest};
use crate::storage::db::Statement;
use crate::storage::sessions::{self, SessionWithUser};
use crate::storage::{audit, clients, grants};
use crate::ui::{self, LoggedOutPage, LogoutConfirmPage};

/// The parameters carried through the confirmation form.
const CARRIED: [&str; 4] = [
    "id_token_hint",
    "post_logout_redirect_uri",
    "state",
    "client_id",
];

pub async fn end_session(mut req: TenantRequest<'_>) -> Result<Response> {
    let params = if req.incoming.method == Method::Post {
        req.incoming.form().await?
    } else {
        req.incoming.query.clone()
    };
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let current = session::current(&req).await?;
    // Our own confirmation form: same origin and the session's CSRF token.
    let confirmed = match (&current, get("csrf_token")) {
        (Some(s), Some(token)) => {
            session::require_same_origin(&req)?;
            session::check_csrf(s, Some(&token))?;
            true
        }
        _ => false,
    };
    let hint = hint::verify(
        get("id_token_hint").as_deref(),
        &req.tenant.jwks(req.now),
        &req.issuer,
    );
    let client = match &hint {
        Hint::Valid { client_id, .. } => {
            clients::find(req.app.db()?, &req.tenant.tenant.id, client_id)
                .await?
                .map(|row| row.to_client())
        }
        _ => None,
    };
    let request = LogoutRequest {
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        client_id: get("client_id"),
    };
    let plan = logout::plan(
        &request,
        &hint,
        client.as_ref(),
        current.as_ref().map(|s| s.user.id.as_str()),
    );
    match plan {
        LogoutPlan::Refuse(why) => {
            let resp = message(&req, "Sign-out request refused", why, Some("/account"))?;
            Ok(resp.with_status(400))
        }
        LogoutPlan::Redirect { url } => {
            sign_out(&req, current.as_ref()).await?;
            with_cleared_cookie(&req, redirect(&url))
        }
        LogoutPlan::Confirm if !confirmed && current.is_some() => {
            let Some(s) = &current else { unreachable!() };
            render(&LogoutConfirmPage {
                tenant: brand(&req),
                asset_version: ui::asset_version(),
                csrf_token: session::csrf_token(s),
                fields: CARRIED
                    .iter()
                    .filter_map(|name| get(name).map(|v| (name.to_string(), v)))
                    .collect(),
            })
        }
        LogoutPlan::SignOut | LogoutPlan::Confirm => {
            sign_out(&req, current.as_ref()).await?;
            let page = render(&LoggedOutPage {
                tenant: brand(&req),
                asset_version: ui::asset_version(),
                message: "You are signed out.".into(),
            })?;
            with_cleared_cookie(&req, page)
        }
    }
}

fn with_cleared_cookie(req: &TenantRequest<'_>, mut resp: Response) -> Result<Response> {
    set_header(&mut resp, "Set-Cookie", &session::clear_cookie(req));
    Ok(resp)
}

/// Deletes the session and revokes the grants issued through it, in one batch.
async fn sign_out(req: &TenantRequest<'_>, current: Option<&SessionWithUser>) -> Result<()> {
    let Some(s) = current else {
        return Ok(());
    };
    let db = req.app.db()?;
    let tenant_id = &req.tenant.tenant.id;
    let statements: Vec<Statement> = vec![
        grants::revoke_session_grants_statement(db, tenant_id, &s.id_hash, req.now)?,
        sessions::delete_statement(db, tenant_id, &s.id_hash)?,
        audit::insert_statement(
            db,
            tenant_id,
            "logout",
            Some(&s.user.id),
            None,
            &req.incoming.audit_origin(),
            &serde_json::json!({ "via": "end_session" }),
            req.now,
        )?,
    ];
    db.batch(statements).await?;
    Ok(())
}
