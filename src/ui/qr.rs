//! QR codes as inline SVG, made on the server: no script, no image service, nothing the CSP
//! has to allow. Used by `/device` for `verification_uri_complete`.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `text` as an SVG QR code (medium error correction, quiet zone included), ready to embed
/// in HTML; `None` if the text is too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .min_dimensions(176, 176)
        .build();
    // The renderer writes a standalone document; inside HTML the XML declaration is noise.
    let body = match image.find("<svg") {
        Some(start) => &image[start..],
        None => return None,
    };
    Some(body.replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code of this page's link\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_becomes_an_inline_svg_without_style() {
        let image = svg("https://acme.example/device?user_code=BCDF-GHJK").unwrap();
        assert!(image.starts_with("<svg role=\"img\""), "{image}");
        assert!(image.ends_with("</svg>"));
        assert!(!image.contains("<?xml"));
        assert!(!image.contains("style"), "the CSP forbids inline style");
        assert!(image.contains("<path fill=\"#000\" d=\"M"));
        assert!(svg("x".repeat(5000).as_str()).is_none());
    }
}
