//! Page rendering helpers shared by routes.

/// A minimal standalone error page (replaced by the UI template once it lands).
pub fn error_page(status: u16, message: &str, code: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Error {status}</title>\
         <h1>Something is not right</h1><p>{}</p><p><small>{}</small></p></html>",
        esc(message),
        esc(code)
    )
}
