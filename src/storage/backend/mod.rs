//! The two things storage talks to, as small traits with one implementation for the Worker and
//! one for native tests: the database ([`Backend`]: D1, or SQLite loading `schema.sql`) and the
//! key-value cache ([`Cache`]: Workers KV, or a map in memory).

use std::future::Future;
use std::pin::Pin;

use super::db::{QueryResult, Statement, StorageError};

#[cfg(target_arch = "wasm32")]
pub mod d1;
pub mod d1_answer;
#[cfg(target_arch = "wasm32")]
pub mod kv;
#[cfg(not(target_arch = "wasm32"))]
pub mod memory_cache;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;

/// A future that need not be `Send`: the Worker is single-threaded, and D1's futures are not.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A SQL database speaking SQLite's dialect.
pub trait Backend {
    /// Runs the statements in one round trip and returns one result per statement, in order.
    /// Two or more run as one transaction: all commit, or none does.
    fn execute(
        &self,
        statements: Vec<Statement>,
    ) -> LocalFuture<'_, Result<Vec<QueryResult>, StorageError>>;
}

/// A key-value store with expiry, for caches only: losing an entry costs a database read.
pub trait Cache {
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Option<String>>;
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl_secs: u64,
    ) -> LocalFuture<'a, Result<(), String>>;
    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), String>>;
}
