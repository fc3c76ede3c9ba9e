//! Static assets embedded in the Worker (no separate asset upload), with content hashes
//! computed at compile time for ETags and `?v=` cache busting, and the per-tenant theme.

#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static str,
    /// Quoted strong ETag, e.g. `"1f2e3d4c5b6a7980"`.
    pub etag: &'static str,
}

/// Default accent when the tenant has none or an invalid one.
pub const DEFAULT_ACCENT: &str = "#4f46e5";

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64: not cryptographic, only a change detector for our own files, and a `const fn`.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// 16 hex digits, between two `quote` bytes when `quoted` (for ETags).
const fn hex<const N: usize>(hash: u64) -> [u8; N] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let pad = (N - 16) / 2;
    let mut out = [b'"'; N];
    let mut i = 0;
    while i < 16 {
        out[pad + i] = DIGITS[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

const fn ascii(bytes: &'static [u8]) -> &'static str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => panic!("hex digits are ASCII"),
    }
}

/// One embedded file with its ETag, all evaluated at compile time.
macro_rules! embed {
    ($file:literal, $content_type:expr) => {{
        const BODY: &str = include_str!(concat!("../../ui/static/", $file));
        const ETAG: [u8; 18] = hex(fnv1a(FNV_OFFSET, BODY.as_bytes()));
        Asset {
            content_type: $content_type,
            body: BODY,
            etag: ascii(&ETAG),
        }
    }};
}

const APP_CSS: Asset = embed!("app.css", CSS);
const PASSKEY_JS: Asset = embed!("passkey.js", JS);
const ACCOUNT_JS: Asset = embed!("account.js", JS);
const FORM_POST_JS: Asset = embed!("form_post.js", JS);
const ADMIN_JS: Asset = embed!("admin.js", JS);
const OTHER_DEVICE_JS: Asset = embed!("other_device.js", JS);
const ALL: [Asset; 6] = [
    APP_CSS,
    PASSKEY_JS,
    ACCOUNT_JS,
    FORM_POST_JS,
    ADMIN_JS,
    OTHER_DEVICE_JS,
];

/// One hash over every asset: a single `?v=` for all of them (they change together on deploy).
const VERSION: [u8; 16] = {
    let mut hash = FNV_OFFSET;
    let mut i = 0;
    while i < ALL.len() {
        hash = fnv1a(hash, ALL[i].body.as_bytes());
        i += 1;
    }
    hex(hash)
};

/// Looks up an embedded file by its URL path (`/static/app.css`); `None` for anything else.
/// Serve with `Cache-Control: public, max-age=31536000, immutable` (URLs carry `?v=`) and
/// the `etag`.
pub fn asset(path: &str) -> Option<Asset> {
    match path {
        "/static/app.css" => Some(APP_CSS),
        "/static/passkey.js" => Some(PASSKEY_JS),
        "/static/account.js" => Some(ACCOUNT_JS),
        "/static/form_post.js" => Some(FORM_POST_JS),
        "/static/admin.js" => Some(ADMIN_JS),
        "/static/other_device.js" => Some(OTHER_DEVICE_JS),
        _ => None,
    }
}

/// The `?v=` of every asset URL in the templates: 16 hex digits of the content hash.
pub const fn asset_version() -> &'static str {
    ascii(&VERSION)
}

/// The accent if it is exactly `#rrggbb`, else the default: only this reaches the stylesheet.
pub fn valid_accent(accent: &str) -> &str {
    let accent = accent.trim();
    let ok = accent.len() == 7
        && accent.starts_with('#')
        && accent[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        accent
    } else {
        DEFAULT_ACCENT
    }
}

/// The per-tenant `/theme.css`: the accent, readable text on it, and a soft tint.
pub fn theme_css(accent: &str) -> String {
    let accent = valid_accent(accent).to_ascii_lowercase();
    let channel = |i: usize| u8::from_str_radix(&accent[i..i + 2], 16).unwrap_or(0);
    let (r, g, b) = (channel(1), channel(3), channel(5));
    // WCAG relative luminance: pick white or near-black text, whichever contrasts more.
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    let on_accent = if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#111827"
    };
    format!(
        ":root{{--accent:{accent};--accent-fg:{on_accent};--accent-soft:rgba({r},{g},{b},.14)}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_validates_the_colour() {
        assert_eq!(
            theme_css("#FFCC00"),
            ":root{--accent:#ffcc00;--accent-fg:#111827;--accent-soft:rgba(255,204,0,.14)}\n"
        );
        assert!(theme_css("#1e3a8a").contains("--accent-fg:#ffffff"));
        for bad in [
            "red;}body{display:none",
            "#12345",
            "#1234567",
            "#ggg000",
            "",
            "#12345é",
        ] {
            let css = theme_css(bad);
            assert!(css.starts_with(":root{--accent:#4f46e5;"), "{bad}: {css}");
        }
        assert!(theme_css(DEFAULT_ACCENT).contains("--accent-fg:#ffffff"));
    }

    #[test]
    fn assets_have_types_and_hashes() {
        let css = asset("/static/app.css").unwrap();
        assert!(css.content_type.starts_with("text/css"));
        assert!(css.body.contains("--accent"));
        assert_eq!(css.etag.len(), 18);
        assert!(css.etag.starts_with('"') && css.etag.ends_with('"'));
        for js in ["passkey.js", "account.js", "form_post.js"] {
            let a = asset(&format!("/static/{js}")).unwrap();
            assert!(a.content_type.starts_with("text/javascript"));
            assert_ne!(a.etag, css.etag);
        }
        assert!(asset("/static/../Cargo.toml").is_none());
        assert!(asset("/static/app.css?v=1").is_none());
        let v = asset_version();
        assert_eq!(v.len(), 16);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
