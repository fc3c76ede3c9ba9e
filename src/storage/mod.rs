//! D1 and KV repositories: the only code that knows table and key names, and the only place
//! SQL is written (`tests/sql_lives_in_storage.rs` fails on SQL anywhere else under `src/`).
//!
//! Every function takes the tenant id where the data is tenant-owned and every query filters by
//! it, so a handler cannot reach another tenant's rows by accident.
//!
//! Everything here compiles natively too: the database and the cache are reached through the
//! small traits of [`backend`], implemented on D1/KV in the Worker and on SQLite (loading
//! `schema.sql`) and memory in native tests, so every operation is tested natively.

pub mod api_keys;
pub mod apis;
pub mod audit;
pub mod backchannel;
pub mod backend;
pub mod ceremonies;
pub mod clients;
pub mod codes;
pub mod db;
pub mod device;
pub mod email_codes;
pub mod email_verifications;
pub mod grants;
pub mod groups;
#[cfg(test)]
pub mod inspection;
pub mod interactions;
pub mod invitations;
pub mod known_browsers;
pub mod machine_tokens;
pub mod other_device;
pub mod own_apps;
pub mod passkeys;
pub mod recovery_codes;
pub mod retention;
pub mod row;
pub mod sessions;
pub mod spent;
pub mod tenant_cache;
pub mod tenants;
pub mod users;
