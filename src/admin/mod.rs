//! Tenant administration, free of Workers types: what an admin may submit about users, groups
//! and custom claims, how lists are paged, and the client presets with the tenant's URLs filled
//! in. The admin routes in `http::routes::admin` are thin wrappers around this.

pub mod api;
pub mod custom_claims;
pub mod group;
pub mod paging;
pub mod presets;
pub mod requests;
pub mod settings;
pub mod user;
