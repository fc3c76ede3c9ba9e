//! OIDC Back-Channel Logout in the Worker: the `LOGOUTS` Cloudflare Queue carries the logouts
//! (`usecase::backchannel`), and its consumer (the `queue` event) delivers them with `fetch`.
//!
//! Retries are queued as new messages carrying their attempt number, delayed by the schedule
//! of `oidc::backchannel` (the queue's own retries count attempts the `worker` crate does not
//! expose). The queue's `max_retries` and dead letter queue (wrangler.toml) only catch a
//! consumer that failed before it could decide, such as a D1 outage.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use worker::{
    Delay, Fetch, Headers, MessageBatch, MessageBuilder, MessageExt, Method,
    QueueRetryOptionsBuilder, Request, RequestInit, RequestRedirect,
};

use crate::error::{Error, Result};
use crate::http::app::App;
use crate::http::signing::WebCryptoSigner;
use crate::oidc::backchannel::FIRST_RETRY_DELAY_SECS;
use crate::platform::clock;
use crate::storage::backend::LocalFuture;
use crate::usecase::backchannel::{
    self, Delivery, LogoutMessage, LogoutQueue, LogoutTransport, Next,
};

/// The queue binding (wrangler.toml `[[queues.producers]]`).
const BINDING: &str = "LOGOUTS";

/// How long a relying party may take to answer a delivery.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The Worker's [`LogoutQueue`]: the `LOGOUTS` queue producer.
pub struct WorkerLogoutQueue<'a>(pub &'a App);

impl LogoutQueue for WorkerLogoutQueue<'_> {
    fn send<'a>(
        &'a self,
        messages: &'a [LogoutMessage],
        delay_secs: u32,
    ) -> LocalFuture<'a, Result<()>> {
        Box::pin(async move {
            let queue = self.0.queue(BINDING).ok_or_else(|| {
                Error::Internal(format!("the queue binding {BINDING} is missing"))
            })?;
            let failed = |e: worker::Error| Error::Internal(format!("queue send: {e}"));
            if delay_secs == 0 {
                return queue.send_batch(messages.to_vec()).await.map_err(failed);
            }
            for m in messages {
                let message = MessageBuilder::new(m.clone())
                    .delay_seconds(delay_secs)
                    .build();
                queue.send(message).await.map_err(failed)?;
            }
            Ok(())
        })
    }
}

/// The Worker's [`LogoutTransport`]: `fetch`, redirects not followed (a redirect is a wrong
/// URI, and following it would send the token elsewhere), with a timeout.
pub struct FetchTransport;

impl LogoutTransport for FetchTransport {
    fn post<'a>(
        &'a self,
        uri: &'a str,
        body: &'a str,
    ) -> LocalFuture<'a, std::result::Result<u16, String>> {
        Box::pin(async move {
            let headers = Headers::new();
            headers
                .set("content-type", "application/x-www-form-urlencoded")
                .map_err(|e| e.to_string())?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_redirect(RequestRedirect::Manual)
                .with_body(Some(body.into()));
            let request = Request::new_with_init(uri, &init).map_err(|e| e.to_string())?;
            let fetch = Fetch::Request(request);
            match first_of(fetch.send(), Delay::from(POST_TIMEOUT)).await {
                Some(Ok(response)) => Ok(response.status_code()),
                Some(Err(e)) => Err(e.to_string()),
                None => Err(format!("no answer within {} s", POST_TIMEOUT.as_secs())),
            }
        })
    }
}

/// `work`'s output, or `None` when `timer` finishes first.
async fn first_of<T>(work: impl Future<Output = T>, timer: impl Future<Output = ()>) -> Option<T> {
    let mut work = pin!(work);
    let mut timer = pin!(timer);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// The `queue` event: delivers each logout of the batch, then acknowledges it (done, or its
/// next attempt queued) or hands it back to the queue's own retries.
pub async fn consume(app: &App, batch: &MessageBatch<serde_json::Value>) {
    let queue = WorkerLogoutQueue(app);
    let signer = WebCryptoSigner(app);
    let back_later = QueueRetryOptionsBuilder::new()
        .with_delay_seconds(FIRST_RETRY_DELAY_SECS)
        .build();
    for raw in batch.raw_iter() {
        let message: LogoutMessage = match crate::http::queue_message::read(&raw.body()) {
            Ok(m) => m,
            Err(e) => {
                // Not ours (or from an incompatible version): retrying cannot help.
                worker::console_error!("dropping an unreadable logout message: {e}");
                raw.ack();
                continue;
            }
        };
        let outcome = match app.db() {
            Ok(db) => {
                let delivery = Delivery {
                    db,
                    signer: &signer,
                    transport: &FetchTransport,
                    now: clock::now(),
                };
                backchannel::deliver(&delivery, &message).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Next::Done) => raw.ack(),
            Ok(Next::Retry {
                message: next,
                delay_secs,
            }) => match queue.send(std::slice::from_ref(&next), delay_secs).await {
                Ok(()) => raw.ack(),
                Err(e) => {
                    worker::console_error!("could not queue the next logout attempt: {e}");
                    raw.retry_with_options(&back_later);
                }
            },
            Err(e) => {
                worker::console_error!(
                    "logout delivery for client {} failed: {e}",
                    message.client_id
                );
                raw.retry_with_options(&back_later);
            }
        }
    }
}
