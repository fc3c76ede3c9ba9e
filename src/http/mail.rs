//! Mail from the Worker's requests and queues: what a request sends after its response
//! (`waitUntil`), and the `MAILS` queue's consumer, which tries failed mails again. The
//! transports are in `http::mail_transport`.

use worker::MessageExt;

use crate::error::Result as AppResult;
use crate::http::app::App;
use crate::usecase::email::{Delivery, MailRetry, Post, Retried};

/// Sends a sign-in's notice after the response, when one is due (`Started::notice`).
pub fn send_notice(
    app: &App,
    post: Post,
    notice: Option<Box<Delivery>>,
    now: i64,
) -> AppResult<()> {
    match notice {
        Some(delivery) => send_after_response(app, post, *delivery, now),
        None => Ok(()),
    }
}

/// Sends `delivery` after the response (the request's `waitUntil`): the person's page never
/// waits for a mail server. The outcome is in the audit log (`usecase::email::deliver`); the
/// console gets what the audit log could not record.
pub fn send_after_response(app: &App, post: Post, delivery: Delivery, now: i64) -> AppResult<()> {
    let db = app.db()?.clone();
    app.after_response(async move {
        match crate::usecase::email::deliver(&db, &post, &delivery, now).await {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => worker::console_error!("email not sent: {}", failure.message),
            Err(e) => worker::console_error!("email audit failed: {e}"),
        }
    });
    Ok(())
}

/// The `MAILS` queue's consumer: one more attempt per message. A message that cannot be read
/// or opened is dropped (trying again cannot help); when D1 fails, the queue's own retry
/// brings the message back.
pub async fn consume(app: &App, batch: &worker::MessageBatch<serde_json::Value>) {
    let post = match app.post() {
        Ok(post) => post,
        Err(e) => {
            worker::console_error!("mail retries: {e}");
            batch.retry_all();
            return;
        }
    };
    for raw in batch.raw_iter() {
        let waiting: MailRetry = match crate::http::queue_message::read(&raw.body()) {
            Ok(m) => m,
            Err(e) => {
                worker::console_error!("dropping an unreadable mail retry: {e}");
                raw.ack();
                continue;
            }
        };
        let outcome = match app.db() {
            Ok(db) => {
                crate::usecase::email::retry(db, &post, &waiting, crate::platform::clock::now())
                    .await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Retried::Attempted) => raw.ack(),
            Ok(Retried::Dropped(why)) => {
                worker::console_error!("dropping a mail retry: {why}");
                raw.ack();
            }
            Err(e) => {
                worker::console_error!("mail retry failed: {e}");
                raw.retry();
            }
        }
    }
}
