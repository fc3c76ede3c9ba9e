//! D1 and KV repositories: the only code that knows table and key names, and the only place
//! SQL is written (`tests/sql_lives_in_storage.rs` fails on SQL anywhere else under `src/`).
//!
//! Every function takes the tenant id where the data is tenant-owned and every query filters by
//! it, so a handler cannot reach another tenant's rows by accident.
//!
//! The repositories that talk to D1/KV compile only for `wasm32`; SQL that needs no binding
//! (the scheduled cleanup's statements in [`retention`]) compiles natively too, so native tests
//! run it against `schema.sql` in SQLite.

pub mod retention;

#[cfg(target_arch = "wasm32")]
pub mod api_keys;
#[cfg(target_arch = "wasm32")]
pub mod audit;
#[cfg(target_arch = "wasm32")]
pub mod ceremonies;
#[cfg(target_arch = "wasm32")]
pub mod clients;
#[cfg(target_arch = "wasm32")]
pub mod db;
#[cfg(target_arch = "wasm32")]
pub mod grants;
#[cfg(target_arch = "wasm32")]
pub mod groups;
#[cfg(target_arch = "wasm32")]
pub mod interactions;
#[cfg(target_arch = "wasm32")]
pub mod passkeys;
#[cfg(target_arch = "wasm32")]
pub mod sessions;
#[cfg(target_arch = "wasm32")]
pub mod tenant_cache;
#[cfg(target_arch = "wasm32")]
pub mod tenants;
#[cfg(target_arch = "wasm32")]
pub mod users;
