//! The OpenID Connect / OAuth 2.0 protocol, free of Workers types.

pub mod discovery;
pub mod error;
