//! The OpenID Connect / OAuth 2.0 protocol, free of Workers types: parsing and validation of
//! requests, the decisions (sign-in needed? redirect allowed?), claims and responses. The
//! Workers layer (`crate::http::routes::oidc`) only gathers facts from storage and acts.

pub mod access_token;
pub mod amr;
pub mod api;
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client;
pub mod client_assertion;
pub mod device;
pub mod discovery;
pub mod error;
pub mod hint;
pub mod interaction;
pub mod logout;
pub mod par;
pub mod pkce;
pub mod refresh;
pub mod request_object;
pub mod resource;
pub mod response;
pub mod response_mode;
pub mod scope;
pub mod token;
pub mod token_settings;
pub mod webfinger;
