//! D1 and KV repositories: the only code that knows table and key names.
//!
//! Every function takes the tenant id where the data is tenant-owned and every query filters by
//! it, so a handler cannot reach another tenant's rows by accident.

pub mod api_keys;
pub mod audit;
pub mod ceremonies;
pub mod clients;
pub mod db;
pub mod grants;
pub mod groups;
pub mod interactions;
pub mod passkeys;
pub mod sessions;
pub mod tenant_cache;
pub mod tenants;
pub mod users;
