//! Tenancy: which tenant a request belongs to, and what a tenant is.
//!
//! Every tenant is its own OpenID Provider on its own host (`<slug>.<BASE_DOMAIN>` or a custom
//! domain), with its own issuer, keys, users and clients. The host is the only input that
//! selects a tenant, so a request can never reach another tenant's data by a path or parameter.

pub mod cache;
pub mod host;
pub mod keys;
pub mod model;
pub mod operator;

pub use host::{
    classify_host, issuer_for, tenant_issuer, validate_slug, HostError, HostKind, RequestHost,
};
pub use model::{
    KeyStatus, SigningKeyRecord, SignupMode, Tenant, TenantSettings, TenantSnapshot, TenantStatus,
};
