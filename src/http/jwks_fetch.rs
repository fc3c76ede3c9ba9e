//! The Worker's [`JwksFetcher`](crate::usecase::JwksFetcher): `fetch` of a `private_key_jwt`
//! client's `jwks_uri`, with a per-isolate cache.
//!
//! The cache lives in the isolate's memory (no KV write per fetch, nothing stale for more than
//! [`TTL_MS`]): an isolate serves many requests, so a client authenticating every few seconds
//! costs one fetch per TTL per isolate. A `fresh` fetch (the assertion names a key the cached
//! set lacks: the client rotated its keys) bypasses it, but at most one such forced fetch per
//! [`REFETCH_MS`], so assertions with made-up `kid`s cannot turn this server into a request
//! amplifier, while a client that publishes a key and uses it at once is not turned away.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{Fetch, Method, Request, RequestInit, RequestRedirect};

use crate::error::{Error, Result};
use crate::storage::backend::LocalFuture;

/// How long a fetched key set is used without asking again.
const TTL_MS: u64 = 5 * 60 * 1000;

/// The shortest time between two forced (`fresh`) fetches of one URL.
const REFETCH_MS: u64 = 10 * 1000;

/// The largest JWKS document accepted.
const MAX_BYTES: usize = 64 * 1024;

/// A fetched key set.
#[derive(Clone)]
struct Cached {
    /// When it was fetched, and when a forced fetch last happened (ms).
    fetched_at: u64,
    forced_at: Option<u64>,
    body: String,
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

pub struct WorkerJwksFetcher;

impl crate::usecase::JwksFetcher for WorkerJwksFetcher {
    fn fetch<'a>(&'a self, uri: &'a str, fresh: bool) -> LocalFuture<'a, Result<String>> {
        Box::pin(async move {
            let now = worker::Date::now().as_millis();
            let cached = CACHE.with(|c| c.borrow().get(uri).cloned());
            if let Some(c) = &cached {
                let recent = now.saturating_sub(c.fetched_at) < TTL_MS;
                let forced_lately = c
                    .forced_at
                    .is_some_and(|at| now.saturating_sub(at) < REFETCH_MS);
                if recent && (!fresh || forced_lately) {
                    return Ok(c.body.clone());
                }
            }
            let body = fetch_document(uri).await.inspect_err(|e| {
                // The client sees only "could not be fetched"; the operator's log says why.
                worker::console_warn!("jwks_uri {uri}: {e}");
            })?;
            let forced_at = if fresh {
                Some(now)
            } else {
                cached.and_then(|c| c.forced_at)
            };
            CACHE.with(|c| {
                let mut c = c.borrow_mut();
                // A bounded cache: an isolate serves a handful of clients' key sets.
                if c.len() >= 256 {
                    c.clear();
                }
                c.insert(
                    uri.to_string(),
                    Cached {
                        fetched_at: now,
                        forced_at,
                        body: body.clone(),
                    },
                );
            });
            Ok(body)
        })
    }
}

async fn fetch_document(uri: &str) -> Result<String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        // A redirect could lead anywhere, http included: the registered URL must serve it
        // (a 3xx is not a 200 below). `manual`, since workerd does not implement `error`.
        .with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(uri, &init)
        .map_err(|e| Error::Internal(format!("jwks_uri request: {e}")))?;
    let mut response = Fetch::Request(request)
        .send()
        .await
        .map_err(|e| Error::Internal(format!("jwks_uri fetch: {e}")))?;
    if response.status_code() != 200 {
        return Err(Error::Internal(format!(
            "jwks_uri answered {}",
            response.status_code()
        )));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::Internal(format!("jwks_uri body: {e}")))?;
    if bytes.len() > MAX_BYTES {
        return Err(Error::Internal("jwks_uri document too large".into()));
    }
    String::from_utf8(bytes).map_err(|_| Error::Internal("jwks_uri document not UTF-8".into()))
}
