//! Server-rendered pages (askama templates in `ui/templates`) and the static assets they use.
//!
//! Pages carry no inline script or style (the CSP forbids both); data for the JavaScript rides
//! in `data-*` attributes, and the tenant's accent colour comes from a per-tenant `/theme.css`.

pub mod assets;
mod pages;

pub use pages::*;
