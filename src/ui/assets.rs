//! The `?v=` version of the pages' static files, and the per-tenant theme.
//!
//! The files (`ui/public/static/*`, URLs `/static/<file>`) are not in the Worker: Workers Static
//! Assets serves them (`[assets]` in wrangler.toml, their headers in `ui/public/_headers`)
//! before the Worker runs, so an asset request costs no invocation and the wasm stays small.
//! The pages still need a version that changes with them, for `?v=` cache busting under the
//! year-long `immutable` caching: their hash, computed at compile time. `FILES` is read only
//! in const context (the `VERSION` initialiser), so the wasm holds 16 hex digits, not the bytes.

/// Default accent when the tenant has none or an invalid one.
pub const DEFAULT_ACCENT: &str = "#4f46e5";

/// One file of `ui/public/static`: its name and its bytes (at compile time).
macro_rules! static_file {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../ui/public/static/", $name)),
        )
    };
}

/// Every file of `ui/public/static`, in name order (a test checks this against the directory).
const FILES: [(&str, &[u8]); 6] = [
    static_file!("account.js"),
    static_file!("admin.js"),
    static_file!("app.css"),
    static_file!("form_post.js"),
    static_file!("other_device.js"),
    static_file!("passkey.js"),
];

/// FNV-1a 64 over every file's name and bytes: not cryptographic, only a change detector for
/// our own files, and a `const fn`. One version for all of them (they change together on
/// deploy).
const fn version_hash(files: &[(&str, &[u8])]) -> u64 {
    const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
        let mut i = 0;
        while i < bytes.len() {
            hash ^= bytes[i] as u64;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        hash
    }
    let mut hash = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < files.len() {
        // The NUL ends the name: ("a", "bc") and ("ab", "c") hash differently.
        hash = fnv1a(fnv1a(fnv1a(hash, files[i].0.as_bytes()), &[0]), files[i].1);
        i += 1;
    }
    hash
}

/// 16 lowercase hex digits.
const fn hex(hash: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = DIGITS[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

const VERSION: [u8; 16] = hex(version_hash(&FILES));

/// The `?v=` of every asset URL in the templates: 16 hex digits of the files' hash.
pub const fn asset_version() -> &'static str {
    match core::str::from_utf8(&VERSION) {
        Ok(s) => s,
        Err(_) => panic!("hex digits are ASCII"),
    }
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

    /// The hash the build would compute from the files as they are on disk now.
    fn version_of_disk() -> (Vec<String>, String) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/public/static");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let bodies: Vec<Vec<u8>> = names
            .iter()
            .map(|n| std::fs::read(dir.join(n)).unwrap())
            .collect();
        let files: Vec<(&str, &[u8])> = names
            .iter()
            .zip(&bodies)
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let version = String::from_utf8(hex(version_hash(&files)).to_vec()).unwrap();
        (names, version)
    }

    #[test]
    fn the_version_covers_every_static_file() {
        let (names, version) = version_of_disk();
        let listed: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            listed, names,
            "FILES must list ui/public/static, in name order"
        );
        assert_eq!(asset_version(), version);
        assert_eq!(version.len(), 16);
        assert!(version
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn the_version_changes_when_any_file_changes() {
        let base = version_hash(&FILES);
        for i in 0..FILES.len() {
            let mut body = FILES[i].1.to_vec();
            let last = body.len() - 1;
            body[last] ^= 1;
            let mut changed = FILES;
            changed[i].1 = &body;
            assert_ne!(version_hash(&changed), base, "{} edited", FILES[i].0);
            changed = FILES;
            changed[i].0 = "renamed.js";
            assert_ne!(version_hash(&changed), base, "{} renamed", FILES[i].0);
            let without: Vec<(&str, &[u8])> = FILES
                .iter()
                .enumerate()
                .filter_map(|(j, f)| (j != i).then_some(*f))
                .collect();
            assert_ne!(version_hash(&without), base, "{} dropped", FILES[i].0);
        }
        assert_ne!(version_hash(&[("a", b"bc")]), version_hash(&[("ab", b"c")]));
    }
}
