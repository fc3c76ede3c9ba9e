//! The Worker's Cloudflare Queues: one `queue` event serves both consumers, told apart by
//! the queue's name: back-channel logouts (`LOGOUTS`) and mails waiting for another attempt
//! (`MAILS`, a queue whose name ends in `mails`).

use worker::MessageBatch;

use crate::http::app::App;

/// Runs the consumer of the queue `batch` came from.
pub async fn consume(app: &App, batch: MessageBatch<serde_json::Value>) {
    if batch.queue().ends_with("mails") {
        crate::http::mail::consume(app, &batch).await;
    } else {
        crate::http::backchannel::consume(app, &batch).await;
    }
}
