//! The Workers layer: entry points, request context, routing and route handlers.
//!
//! Handlers are thin: they read the request, call the pure core (`oidc`, `passkey`, `tenancy`)
//! and storage, and return `Result<Response, Error>`. Errors become responses in one place,
//! [`respond::error_response`].

mod admin;
mod admission;
mod app;
mod backchannel;
mod jwks_fetch;
mod limits;
mod mail;
mod mail_transport;
mod queue;
mod queue_message;
mod render;
mod request;
mod respond;
mod router;
mod routes;
mod session;
mod signing;

use worker::{
    event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    let app = app::App::new(env).with_context(ctx);
    Ok(router::handle(&app, req).await)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    let app = app::App::new(env);
    let cron = event.cron();
    if let Err(e) = routes::maintenance::run(&app, &cron, event.schedule()).await {
        worker::console_error!("scheduled job ({cron}) failed: {e}");
    }
}

/// The queues' consumer: back-channel logout deliveries (`LOGOUTS`) and mail retries
/// (`MAILS`), see `queue::consume`.
#[event(queue)]
async fn queue(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    console_error_panic_hook::set_once();
    let app = app::App::new(env);
    queue::consume(&app, batch).await;
    Ok(())
}
