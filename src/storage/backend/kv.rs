//! [`Cache`] on a Workers KV namespace.

use worker::kv::KvStore;

use super::{Cache, LocalFuture};

pub struct Kv(pub KvStore);

impl Cache for Kv {
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Option<String>> {
        Box::pin(async move { self.0.get(key).text().await.ok().flatten() })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl_secs: u64,
    ) -> LocalFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0
                .put(key, value)
                .map_err(|e| e.to_string())?
                .expiration_ttl(ttl_secs)
                .execute()
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), String>> {
        Box::pin(async move { self.0.delete(key).await.map_err(|e| e.to_string()) })
    }
}
