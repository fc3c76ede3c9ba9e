//! `/api/application-configuration`: the tenant's branding, account and email settings, and
//! the test email.

use serde_json::json;
use worker::Response;

use crate::admin::settings::{view, SettingsInput, TestEmailInput};
use crate::error::{Error, Result};
use crate::http::admin::Actor;
use crate::http::request::TenantRequest;
use crate::http::respond::json as json_response;

pub fn get(req: &TenantRequest<'_>) -> Result<Response> {
    let t = &req.tenant.tenant;
    Ok(json_response(
        200,
        &json!({ "display_name": t.display_name,
                 "settings": view(&t.settings, &t.id, &req.app.master_key()?) }),
    ))
}

/// Changes only the settings sent. The change is applied to the row in D1 (never to the
/// cached snapshot this request was served from, which may be older than another admin's
/// change), and the answer is what D1 holds after the write. A new SMTP password is sealed
/// with the master key before it is stored.
pub async fn update(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: SettingsInput = req.incoming.json().await?;
    let master = req.app.master_key()?;
    let tenant = &req.tenant.tenant;
    let change = body.validate()?.seal(&master, &tenant.id);
    let hosts = vec![
        req.incoming.host.name.clone(),
        format!("{}.{}", tenant.slug, req.app.base_domain),
    ];
    let ctx = super::admin_ctx(&req, actor)?;
    let updated = crate::usecase::settings::update(&ctx, &req.app.kv()?, &change, hosts).await?;
    Ok(json_response(
        200,
        &json!({ "display_name": updated.display_name,
                 "settings": view(&updated.settings, &tenant.id, &master) }),
    ))
}

/// `POST /api/application-configuration/test-email`: sends the test email (to `to`, or the
/// signed-in admin) and waits for the server's verdict: 200 when it accepted the message, 502
/// with the stage and the SMTP reply when it did not.
pub async fn send_test_email(mut req: TenantRequest<'_>, actor: &Actor) -> Result<Response> {
    let body: TestEmailInput = req.incoming.optional_json().await?;
    let to = match (body.to, actor) {
        (Some(to), _) => crate::account::email(Some(&to)).map_err(|e| Error::Invalid {
            field: "to",
            message: e.message,
        })?,
        (None, Actor::Admin { user_id }) => {
            crate::storage::users::find(req.app.db()?, &req.tenant.tenant.id, user_id)
                .await?
                .and_then(|u| u.email)
                .ok_or_else(|| Error::Invalid {
                    field: "to",
                    message: "Your account has no email address: name a recipient.".into(),
                })?
        }
        (None, _) => {
            return Err(Error::Invalid {
                field: "to",
                message: "Name the recipient (an API key has no email address).".into(),
            })
        }
    };
    let ctx = super::admin_ctx(&req, actor)?;
    let outcome =
        crate::usecase::email::send_test(&ctx, &req.app.post()?, &req.issuer, &to, None).await?;
    let mut body = serde_json::to_value(&outcome).expect("the outcome serializes");
    if let Some(failure) = &outcome.failure {
        // The API's error shape too, so a client (the console) shows the server's verdict.
        body["error"] = json!("email_failed");
        body["message"] = json!(failure.message);
    }
    Ok(json_response(if outcome.sent { 200 } else { 502 }, &body))
}
