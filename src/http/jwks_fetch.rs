//! The Worker's [`JwksFetcher`](crate::usecase::JwksFetcher): `fetch` of a `private_key_jwt`
//! client's `jwks_uri`, with a per-isolate cache.
//!
//! The cache lives in the isolate's memory (no KV write per fetch, nothing stale for more than
//! [`TTL_MS`]): an isolate serves many requests, so a client authenticating every few seconds
//! costs one fetch per TTL per isolate. A `fresh` fetch (the assertion names a key the cached
//! set lacks: the client rotated its keys) bypasses it, but at most once per [`REFETCH_MS`], so
//! assertions with made-up `kid`s cannot turn this server into a request amplifier.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{Fetch, Method, Request, RequestInit, RequestRedirect};

use crate::error::{Error, Result};
use crate::storage::backend::LocalFuture;

/// How long a fetched key set is used without asking again.
const TTL_MS: u64 = 5 * 60 * 1000;

/// The shortest time between two fetches of one URL.
const REFETCH_MS: u64 = 30 * 1000;

/// The largest JWKS document accepted.
const MAX_BYTES: usize = 64 * 1024;

thread_local! {
    /// URL → (fetched at, in ms; the document).
    static CACHE: RefCell<HashMap<String, (u64, String)>> = RefCell::new(HashMap::new());
}

pub struct WorkerJwksFetcher;

impl crate::usecase::JwksFetcher for WorkerJwksFetcher {
    fn fetch<'a>(&'a self, uri: &'a str, fresh: bool) -> LocalFuture<'a, Result<String>> {
        Box::pin(async move {
            let now = worker::Date::now().as_millis();
            let cached = CACHE.with(|c| c.borrow().get(uri).cloned());
            if let Some((at, body)) = &cached {
                let age = now.saturating_sub(*at);
                if age < TTL_MS && (!fresh || age < REFETCH_MS) {
                    return Ok(body.clone());
                }
            }
            let body = fetch_document(uri).await?;
            CACHE.with(|c| {
                let mut c = c.borrow_mut();
                // A bounded cache: an isolate serves a handful of clients' key sets.
                if c.len() >= 256 {
                    c.clear();
                }
                c.insert(uri.to_string(), (now, body.clone()));
            });
            Ok(body)
        })
    }
}

async fn fetch_document(uri: &str) -> Result<String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        // A redirect could lead anywhere, http included: the registered URL must serve it.
        .with_redirect(RequestRedirect::Error);
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
