//! Static assets embedded in the Worker (no separate asset upload needed).

use sha2::{Digest, Sha256};

pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static str,
}

const APP_CSS: &str = include_str!("../../ui/static/app.css");
const PASSKEY_JS: &str = include_str!("../../ui/static/passkey.js");

pub fn asset(path: &str) -> Option<Asset> {
    match path {
        "/static/app.css" => Some(Asset {
            content_type: "text/css; charset=utf-8",
            body: APP_CSS,
        }),
        "/static/passkey.js" => Some(Asset {
            content_type: "text/javascript; charset=utf-8",
            body: PASSKEY_JS,
        }),
        _ => None,
    }
}

/// A short content hash of every asset, for `?v=` cache busting (assets are cached immutably).
pub fn asset_version() -> String {
    let mut h = Sha256::new();
    h.update(APP_CSS);
    h.update(PASSKEY_JS);
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tenant's theme: only a validated `#rrggbb` colour reaches the stylesheet.
pub fn theme_css(accent: &str) -> String {
    let valid = accent.len() == 7
        && accent.starts_with('#')
        && accent[1..].bytes().all(|b| b.is_ascii_hexdigit());
    let accent = if valid { accent } else { "#4f46e5" };
    format!(":root{{--accent:{accent}}}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_rejects_css_injection() {
        assert_eq!(theme_css("#112233"), ":root{--accent:#112233}\n");
        assert!(theme_css("red;}body{display:none").contains("#4f46e5"));
    }

    #[test]
    fn assets_are_served_with_types() {
        assert!(asset("/static/app.css")
            .unwrap()
            .content_type
            .starts_with("text/css"));
        assert!(asset("/static/../Cargo.toml").is_none());
        assert_eq!(asset_version().len(), 12);
    }
}
