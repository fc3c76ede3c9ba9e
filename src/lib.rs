//! Edge ID: a multi-tenant, passkey-only OpenID Connect provider for Cloudflare Workers.
//!
//! The crate is split so that the architecture is visible from the tree:
//!
//! * pure core, compiled and unit-tested natively with `cargo test`:
//!   - [`oidc`]: the OpenID Connect / OAuth 2.0 protocol (requests, validation, claims, errors)
//!   - [`passkey`]: the WebAuthn relying party (registration and assertion verification)
//!   - [`tenancy`]: which tenant a request is for, and the tenant's configuration
//!   - [`crypto`]: randomness, hashing, key envelopes, JWK/JWS assembly
//!   - [`email`]: SMTP settings, the mails (MIME) and the SMTP dialogue without I/O
//!   - [`account`], [`admin`]: what users and admins may submit, validated; client presets
//!   - [`ui`]: server-rendered pages (askama templates from `ui/templates`)
//!   - [`route_table`]: every endpoint as data (host, methods, path, caller, error style, CORS,
//!     rate limit, OpenAPI description); the router and the OpenAPI document read it
//! * the application, compiled and tested natively too (SQLite stands in for D1):
//!   - [`usecase`]: what one request does, between the HTTP layer and storage
//!   - [`storage`]: named operations, the only place SQL is written; D1/KV in the Worker,
//!     SQLite (loading `schema.sql`) and memory natively, through the traits of `storage::backend`
//! * a thin Workers layer, compiled only for `wasm32`:
//!   - `http`: the fetch/scheduled entry points, router, admission and handlers that parse,
//!     call one use case and render
//!
//! Everything in the pure core takes the current time and randomness as inputs where it can,
//! so tests are deterministic and no Workers type leaks into protocol logic.

pub mod account;
pub mod admin;
pub mod crypto;
pub mod email;
pub mod error;
pub mod oidc;
pub mod passkey;
pub mod route_table;
pub mod storage;
pub mod tenancy;
#[cfg(test)]
pub mod testing;
pub mod ui;
pub mod usecase;
pub mod validation;

#[cfg(target_arch = "wasm32")]
mod http;
pub mod platform;
