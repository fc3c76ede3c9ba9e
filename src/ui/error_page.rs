//! The error page every failure without a tenant context renders (the HTTP layer turns an
//! error into this page in one place). Rendering lives here, with the other pages, so the
//! response builder depends on the UI and not on the route handlers.

use askama::Template;

use super::{asset_version, ErrorPage};

/// The page's title for an HTTP status: short words a person understands.
fn title_for(status: u16) -> &'static str {
    match status {
        404 => "Not found",
        400 => "That didn't work",
        401 | 403 => "Not allowed",
        429 => "Slow down",
        _ => "Something went wrong",
    }
}

/// The HTML of the error page for `status`, with the human `message` and the machine `code`
/// shown small. Falls back to the bare message should the template ever fail.
pub fn error_page(status: u16, message: &str, code: &str) -> String {
    ErrorPage {
        tenant: None,
        asset_version: asset_version(),
        title: title_for(status).into(),
        message: message.into(),
        detail: Some(code.to_string()),
        back_url: None,
    }
    .render()
    .unwrap_or_else(|_| message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_status_and_shows_message_and_code() {
        let html = error_page(429, "Too many attempts", "rate_limited");
        assert!(html.contains("Slow down"));
        assert!(html.contains("Too many attempts"));
        assert!(html.contains("rate_limited"));
        assert!(error_page(404, "x", "not_found").contains("Not found"));
        assert!(error_page(503, "x", "server_error").contains("Something went wrong"));
    }
}
