//! Server-rendered pages (askama templates in `ui/templates`) and the version of their static
//! files (`ui/public`, served by Workers Static Assets, not by the Worker).
//!
//! Pages carry no inline script or style (the CSP forbids both): data for the JavaScript rides
//! in `data-*` attributes, and the tenant's accent colour comes from a per-tenant `/theme.css`.
//! Everything here is pure Rust (no Workers types) so it is unit-tested natively.

pub mod activity;
pub mod agent;
pub mod assets;
mod error_page;
mod pages;
pub mod qr;
pub mod when;

pub use assets::{asset_version, theme_css};
pub use error_page::error_page;
pub use pages::*;

/// Renders any page. Askama escapes every `{{ }}` in the `.html` templates.
pub fn render<T: askama::Template>(page: &T) -> Result<String, askama::Error> {
    page.render()
}

/// The tenant's name and look, shown at the top of every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantBrand {
    pub name: String,
    /// One or two letters for the logo circle when there is no `logo_url`.
    pub initials: String,
    pub logo_url: Option<String>,
    /// Cache buster for `/theme.css?v=`: changes when the accent colour changes.
    pub theme_version: String,
}

impl TenantBrand {
    /// Builds the brand from the tenant's settings; `accent` is the configured colour (any
    /// string: an invalid one falls back to the default, exactly as `/theme.css` does).
    pub fn new(name: &str, logo_url: Option<String>, accent: &str) -> Self {
        Self {
            name: name.to_string(),
            initials: initials(name),
            logo_url,
            theme_version: assets::valid_accent(accent)
                .trim_start_matches('#')
                .to_ascii_lowercase(),
        }
    }
}

/// Up to two initials ("Acme Corp" -> "AC", "acme" -> "A"), for logo circles.
pub fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
