//! Page models: one struct per template, fields are exactly what the page shows.

use askama::Template;

/// The tenant's name and look, shared by every page.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    pub initials: String,
    pub logo_url: Option<String>,
    pub theme_version: String,
}

impl Brand {
    pub fn new(name: &str, logo_url: Option<String>, accent: &str) -> Self {
        let initials: String = name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>()
            .to_uppercase();
        Self {
            name: name.to_string(),
            initials,
            logo_url,
            theme_version: accent.trim_start_matches('#').to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub brand: Brand,
    pub asset_version: String,
    pub next: String,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub brand: Brand,
    pub asset_version: String,
    pub token: String,
    pub heading: String,
    pub intro: String,
}

pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub synced: bool,
}

pub struct AppTile {
    pub name: String,
    pub launch_url: String,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub brand: Brand,
    pub asset_version: String,
    pub display_name: String,
    pub username: String,
    pub email: String,
    pub is_admin: bool,
    pub passkeys: Vec<PasskeyRow>,
    pub apps: Vec<AppTile>,
    pub show_nudge: bool,
    pub csrf_token: String,
}

/// Errors, confirmations and other one-message pages.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub brand: Brand,
    pub asset_version: String,
    pub title: String,
    pub message: String,
    pub detail: Option<String>,
    pub back_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand() -> Brand {
        Brand::new("Acme <Corp>", None, "#112233")
    }

    #[test]
    fn pages_render_and_escape() {
        let html = LoginPage {
            brand: brand(),
            asset_version: "v".into(),
            next: "/authorize?x=\"1\"".into(),
            notice: None,
        }
        .render()
        .unwrap();
        assert!(
            html.contains("Sign in to Acme &#60;Corp&#62;")
                || html.contains("Sign in to Acme &lt;Corp&gt;")
        );
        assert!(!html.contains("<Corp>"));
        assert!(html.contains("id=\"passkey-login\""));
        assert!(!html.contains("x=\"1\""));
    }

    #[test]
    fn account_page_warns_about_last_passkey() {
        let html = AccountPage {
            brand: brand(),
            asset_version: "v".into(),
            display_name: "Ada".into(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            is_admin: true,
            passkeys: vec![PasskeyRow {
                id: "abc".into(),
                name: "Mac passkey".into(),
                created: "2026-11-24".into(),
                synced: false,
            }],
            apps: vec![],
            show_nudge: true,
            csrf_token: "t".into(),
        }
        .render()
        .unwrap();
        assert!(html.contains("data-last=\"1\""));
        assert!(html.contains("second-passkey-nudge"));
        assert_eq!(Brand::new("Acme Corp", None, "#000000").initials, "AC");
    }
}
