//! Page models: one struct per template; the fields are exactly what the page shows.
//! Every tenant page has `tenant` and `asset_version` (`crate::ui::asset_version()`).

use askama::Template;

use super::TenantBrand;

/// `/login`: usernameless passkey sign-in, with passkey autofill where the browser has it.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    /// Where to go after signing in: a same-origin path (checked by the server).
    pub next: String,
    pub signup_url: Option<String>,
    pub notice: Option<String>,
    /// "Can't use your passkey?" (`/login/help`, going on to `next`).
    pub help_url: String,
}

/// `/login/help` ("Can't use your passkey?"): the ways back in that the tenant allows, or
/// what to ask an admin for when it allows none.
#[derive(Template)]
#[template(path = "login_help.html")]
pub struct LoginHelpPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    /// Back to the sign-in page, still going where it was going.
    pub login_url: String,
    pub ways: Vec<RecoveryWay>,
}

/// One way back in, as a link with a sentence.
pub struct RecoveryWay {
    pub id: &'static str,
    pub href: String,
    pub title: String,
    pub text: String,
}

/// `/login/recovery`: sign in once with a recovery code.
#[derive(Template)]
#[template(path = "recovery_code.html")]
pub struct RecoveryCodePage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub next: String,
    /// Back to "Can't use your passkey?", still going where the sign-in was going.
    pub help_url: String,
    pub error: Option<String>,
}

/// `/login/other-device`: the waiting browser's QR code and code; `static/other_device.js`
/// polls until the person approves on their signed-in device.
#[derive(Template)]
#[template(path = "other_device.html")]
pub struct OtherDevicePage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub user_code: String,
    /// The approval link (`/login/approve?code=...`) as a QR code.
    pub qr_svg: String,
    pub approve_url: String,
    /// What the page polls with (never shown).
    pub request_id: String,
    pub next: String,
    pub expires_in_minutes: i64,
}

/// `/login/approve`: on the signed-in device, the code to approve (typed or from the QR code)
/// and, once found, where the request comes from with Approve and Deny.
#[derive(Template)]
#[template(path = "other_device_approve.html")]
pub struct OtherDeviceApprovePage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub user_display_name: String,
    pub csrf_token: String,
    pub user_code: String,
    pub error: Option<String>,
    pub requester: Option<RequesterView>,
}

/// Where a sign-in request comes from, as a person can recognise it.
pub struct RequesterView {
    pub browser: String,
    pub place: Option<String>,
    pub ip: Option<String>,
    /// "just now", "3 minutes ago".
    pub age: String,
}

/// First-admin and invite links: the profile form that registers the first passkey.
#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub token: String,
    pub heading: String,
    pub intro: String,
    pub first_admin: bool,
    pub prefill_email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AccountUser {
    pub display_name: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_admin: bool,
}

/// A passkey as the account page lists it.
#[derive(Debug, Clone)]
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    /// The credential is backed up (synced passkey).
    pub synced: bool,
}

#[derive(Debug, Clone)]
pub struct AppTile {
    pub name: String,
    pub launch_url: String,
    pub logo_url: Option<String>,
    pub initials: String,
}

/// `/account`: profile, passkeys, apps, sign-out.
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub user: AccountUser,
    /// Which of `first_name`, `last_name`, `username`, `email` the user may change.
    pub editable_fields: Vec<String>,
    pub passkeys: Vec<PasskeyItem>,
    pub apps: Vec<AppTile>,
    pub show_second_passkey_nudge: bool,
    pub csrf_token: String,
    pub admin_url: Option<String>,
    /// Signed in without a passkey (a recovery code, a one-time link): ask for one first.
    pub add_passkey_first: bool,
    /// Where to continue after adding that passkey.
    pub next: String,
    /// The recovery-codes section, when the tenant offers them.
    pub recovery_codes: Option<RecoveryCodesStatus>,
    /// Applications the person authorized, most recently used first.
    pub authorized_apps: Vec<AuthorizedAppItem>,
    /// The person's own recent audit entries, newest first.
    pub activity: Vec<ActivityItem>,
    /// Whether the person's address is verified (the page says so next to it).
    pub email_verified: bool,
    /// Offer "Verify": an unverified address and a mail server the tenant can use.
    pub offer_email_verification: bool,
    /// The sign-in notices' switch and whether they are on; `None` hides it (no address or
    /// no mail server, and they are off).
    pub sign_in_notices: Option<bool>,
}

pub struct AuthorizedAppItem {
    pub client_id: String,
    pub name: String,
    pub last_used: String,
}

pub struct ActivityItem {
    pub when: String,
    pub what: String,
    /// "Chrome on Linux · Berlin, DE".
    pub from: String,
}

/// What the account page says about the person's recovery codes.
pub struct RecoveryCodesStatus {
    pub unused: i64,
    /// When the current set was made; `None` when the person has none.
    pub created: Option<String>,
}

impl AccountPage {
    fn editable(&self, field: &str) -> bool {
        self.editable_fields.iter().any(|f| f == field)
    }
}

/// `/admin`: the admin console's shell; `static/admin.js` renders each section from the API.
#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub issuer: String,
    pub admin_id: String,
    pub admin_name: String,
    pub csrf_token: String,
}

#[derive(Debug, Clone)]
pub struct ScopeLine {
    pub name: String,
    pub description: String,
}

/// The consent screen of `/authorize`.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub client_name: String,
    pub client_logo_url: Option<String>,
    pub scopes: Vec<ScopeLine>,
    /// The API the app will call for the person, and the permissions it asks there.
    pub api: Option<(String, Vec<String>)>,
    pub interaction_id: String,
    pub csrf_token: String,
    pub user_display_name: String,
}

impl ConsentPage {
    fn client_initials(&self) -> String {
        super::initials(&self.client_name)
    }
}

/// `/device`: a signed-in person enters the user code a device shows (RFC 8628 §3.3).
#[derive(Template)]
#[template(path = "device.html")]
pub struct DevicePage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub user_display_name: String,
    /// The code to pre-fill (from `verification_uri_complete`, or as typed before an error).
    pub user_code: String,
    pub error: Option<String>,
    pub csrf_token: String,
    /// A QR code (inline SVG, from `ui::qr`) of this page with the pre-filled code.
    pub qr_svg: Option<String>,
}

/// `/device` after a valid code: the client, its scopes, Allow or Deny.
#[derive(Template)]
#[template(path = "device_confirm.html")]
pub struct DeviceConfirmPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub user_display_name: String,
    /// `XXXX-XXXX`, to compare with what the device shows.
    pub user_code: String,
    pub client_id: String,
    pub client_name: String,
    pub client_logo_url: Option<String>,
    pub scopes: Vec<ScopeLine>,
    pub csrf_token: String,
    /// A QR code (inline SVG, from `ui::qr`) of `verification_uri_complete`.
    pub qr_svg: String,
}

impl DeviceConfirmPage {
    fn client_initials(&self) -> String {
        super::initials(&self.client_name)
    }
}

/// Errors, including the unknown-host page (no tenant).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub tenant: Option<TenantBrand>,
    pub asset_version: &'static str,
    pub title: String,
    pub message: String,
    /// A machine-readable code shown small, e.g. the OAuth error.
    pub detail: Option<String>,
    pub back_url: Option<String>,
}

/// OAuth `response_mode=form_post`: a form that `/static/form_post.js` submits at once.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub asset_version: &'static str,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub message: String,
}

/// RP-initiated logout without a valid `id_token_hint`: ask before signing out.
#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub csrf_token: String,
    /// The end-session parameters to post again (`post_logout_redirect_uri`, `state`, ...).
    pub fields: Vec<(String, String)>,
}

/// The landing page of an email verification link: only its POST spends the link.
#[derive(Template)]
#[template(path = "verify_email.html")]
pub struct VerifyEmailPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub token: String,
    pub csrf_token: String,
}

/// The landing page of a one-time login link: only its POST consumes the link.
#[derive(Template)]
#[template(path = "one_time_login.html")]
pub struct OneTimeLoginPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    pub token: String,
    pub csrf_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::{asset_version, initials, render};

    const XSS: &str = "<script>alert(1)</script>";

    fn brand() -> TenantBrand {
        TenantBrand::new("Acme <Corp>", None, "#112233")
    }

    /// Every page: stylesheet + theme links, no inline script or style, no raw `<script>` text.
    fn common(html: &str) {
        let v = asset_version();
        assert!(
            html.contains(&format!("href=\"/static/app.css?v={v}\"")),
            "{html}"
        );
        assert!(!html.contains(XSS), "unescaped: {html}");
        assert!(!html.contains("style="), "inline style: {html}");
        assert!(!html.contains("<style"), "style block: {html}");
        // Every <script> has a src (the CSP allows only 'self' scripts).
        for (i, _) in html.match_indices("<script") {
            assert!(html[i..].starts_with("<script src=\"/static/"), "{html}");
        }
        assert!(html.contains("<html lang=\"en\">"));
    }

    fn tenant_page(html: &str) {
        common(html);
        assert!(html.contains("href=\"/theme.css?v=112233\""), "{html}");
        assert!(html.contains("Acme &#60;Corp&#62;"));
        assert!(!html.contains("<Corp>"));
        assert!(html.contains("id=\"status\""));
        assert!(html.contains("aria-live=\"polite\""));
        assert!(
            html.contains("class=\"logo initials\" aria-hidden=\"true\">AC<"),
            "{html}"
        );
    }

    #[test]
    fn brand_initials_and_theme_version() {
        assert_eq!(initials("Acme Corp"), "AC");
        assert_eq!(initials("acme"), "A");
        assert_eq!(initials("  jean-luc picard "), "JL");
        assert_eq!(initials(""), "");
        assert_eq!(
            TenantBrand::new("x", None, "#ABCDEF").theme_version,
            "abcdef"
        );
        assert_eq!(TenantBrand::new("x", None, "nope").theme_version, "4f46e5");
    }

    #[test]
    fn login_page() {
        let mut page = LoginPage {
            tenant: brand(),
            asset_version: asset_version(),
            next: "/authorize?a=1&b=\"2\"".into(),
            signup_url: None,
            notice: Some(XSS.into()),
            help_url: "/login/help?next=%2Fauthorize".into(),
        };
        let html = render(&page).unwrap();
        tenant_page(&html);
        assert!(html.contains("Sign in to Acme &#60;Corp&#62;</h1>"));
        assert!(html.contains("id=\"passkey-login\""));
        assert!(html.contains(">Sign in with passkey<"));
        assert!(html.contains("autocomplete=\"username webauthn\""));
        assert!(
            html.contains("data-next=\"/authorize?a=1&#38;b=&#34;2&#34;\""),
            "{html}"
        );
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(html.contains("src=\"/static/passkey.js?v="));
        assert!(!html.contains("Create an account"));
        page.signup_url = Some("/signup".into());
        page.tenant.logo_url = Some("https://cdn.example/logo.png".into());
        let html = page.render().unwrap();
        assert!(html.contains("<a href=\"/signup\">Create an account</a>"));
        assert!(html.contains("<img class=\"logo\" src=\"https://cdn.example/logo.png\""));
        assert!(!html.contains("initials"));
    }

    #[test]
    fn setup_page() {
        let mut page = SetupPage {
            tenant: brand(),
            asset_version: asset_version(),
            token: "tok\"en".into(),
            heading: "Set up your admin account".into(),
            intro: XSS.into(),
            first_admin: true,
            prefill_email: Some("a\"@example.com".into()),
        };
        let html = page.render().unwrap();
        tenant_page(&html);
        assert!(html.contains("<h1>Set up your admin account</h1>"));
        assert!(html.contains("id=\"setup-form\" data-token=\"tok&#34;en\""));
        assert!(html.contains("pattern=\"[a-z0-9_.\\-]{2,32}\""));
        assert!(html.contains("type=\"email\" required"));
        assert!(html.contains("value=\"a&#34;@example.com\""));
        assert!(html.contains("first administrator"));
        assert!(html.contains(">Create account with passkey<"));
        page.first_admin = false;
        page.prefill_email = None;
        let html = page.render().unwrap();
        assert!(!html.contains("first administrator"));
        assert!(!html.contains("value="));
    }

    fn account() -> AccountPage {
        AccountPage {
            tenant: brand(),
            asset_version: asset_version(),
            user: AccountUser {
                display_name: XSS.into(),
                username: "ada".into(),
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                is_admin: true,
            },
            editable_fields: vec!["first_name".into(), "last_name".into()],
            passkeys: vec![PasskeyItem {
                id: "cred-1".into(),
                name: XSS.into(),
                created: "2026-11-24".into(),
                last_used: Some("2026-11-25".into()),
                synced: true,
            }],
            apps: vec![AppTile {
                name: "Wiki".into(),
                launch_url: "https://wiki.example/login?x=1&y=2".into(),
                logo_url: None,
                initials: "W".into(),
            }],
            show_second_passkey_nudge: true,
            csrf_token: "csrf\"1".into(),
            admin_url: Some("/admin".into()),
            add_passkey_first: false,
            next: "/account".into(),
            recovery_codes: None,
            authorized_apps: vec![],
            activity: vec![],
            email_verified: false,
            offer_email_verification: true,
            sign_in_notices: Some(false),
        }
    }

    #[test]
    fn account_page() {
        let html = account().render().unwrap();
        tenant_page(&html);
        assert!(html.contains("<h1>Hello, <span id=\"display-name\">&#60;script&#62;"));
        assert!(html.contains("id=\"profile-username\">ada<"));
        assert!(html.contains("data-csrf=\"csrf&#34;1\""));
        assert!(html.contains("id=\"second-passkey-nudge\""));
        assert!(
            html.contains("Add a second passkey so you don&#39;t get locked out")
                || html.contains("Add a second passkey so you don't get locked out")
        );
        assert!(
            html.contains("<li data-id=\"cred-1\" data-last=\"1\">"),
            "{html}"
        );
        assert!(html.contains("last used 2026-11-25"));
        assert!(html.contains(">Synced<"));
        assert!(html.contains("id=\"add-passkey\""));
        assert!(html.contains("id=\"passkey-list\""));
        assert!(html.contains("href=\"https://wiki.example/login?x=1&#38;y=2\""));
        assert!(html.contains("id=\"sign-out\""));
        assert!(html.contains("action=\"/logout\""));
        assert!(html.contains("name=\"csrf_token\" value=\"csrf&#34;1\""));
        assert!(html.contains("href=\"/admin\""));
        assert!(html.contains(">Admin<"));
        assert!(html.contains("id=\"profile-form\""));
        // Editable fields have a name (they are sent); the others are read-only.
        assert!(html.contains("id=\"first_name\" name=\"first_name\""));
        assert!(html.contains("id=\"username\" type=\"text\" value=\"ada\" readonly"));
        assert!(html.contains("id=\"email\" type=\"email\" value=\"ada@example.com\" readonly"));
        assert!(html.contains(">Save profile<"));
        assert!(html.contains("src=\"/static/account.js?v="));
    }

    #[test]
    fn account_page_variants() {
        let mut page = account();
        page.passkeys.push(PasskeyItem {
            id: "cred-2".into(),
            name: "YubiKey".into(),
            created: "2026-11-26".into(),
            last_used: None,
            synced: false,
        });
        page.show_second_passkey_nudge = false;
        page.apps.clear();
        page.editable_fields.clear();
        page.admin_url = None;
        page.user.is_admin = false;
        let html = page.render().unwrap();
        assert!(html.contains("data-id=\"cred-2\" data-last=\"0\""));
        assert!(!html.contains("data-last=\"1\""));
        assert!(!html.contains("second-passkey-nudge"));
        assert!(!html.contains("Your apps"));
        assert!(!html.contains("Save profile"));
        assert!(!html.contains("name=\"first_name\""));
        assert!(!html.contains("Admin"));
    }

    #[test]
    fn the_sign_in_notices_switch_posts_with_the_csrf_token_and_says_what_it_does() {
        let mut page = account();
        let off = page.render().unwrap();
        assert!(off.contains("action=\"/account/sign-in-notices\""));
        assert!(off.contains("name=\"on\" value=\"1\""));
        assert!(off.contains("Email me when my account is used to sign in on a new device"));
        let form = &off[off.find("id=\"sign-in-notices-form\"").unwrap()..];
        assert!(
            form.contains("name=\"csrf_token\" value=\"csrf&#34;1\""),
            "{form}"
        );
        page.sign_in_notices = Some(true);
        let on = page.render().unwrap();
        assert!(on.contains("name=\"on\" value=\"0\""));
        assert!(on.contains(">Turn off<"));
        page.sign_in_notices = None;
        assert!(!page.render().unwrap().contains("sign-in-notices"));
    }

    #[test]
    fn consent_page() {
        let html = ConsentPage {
            tenant: brand(),
            asset_version: asset_version(),
            client_name: "Wiki <b>".into(),
            client_logo_url: None,
            scopes: vec![ScopeLine {
                name: "Email".into(),
                description: XSS.into(),
            }],
            api: Some((
                "https://orders.example.com".into(),
                vec!["read:orders".into(), XSS.into()],
            )),
            interaction_id: "int-1".into(),
            csrf_token: "c1".into(),
            user_display_name: "Ada".into(),
        }
        .render()
        .unwrap();
        tenant_page(&html);
        assert!(html.contains("<h1>Wiki &#60;b&#62; wants to access your account</h1>"));
        assert!(html.contains("action=\"/authorize/consent\""));
        assert!(html.contains("name=\"interaction_id\" value=\"int-1\""));
        assert!(html.contains("name=\"csrf_token\" value=\"c1\""));
        assert!(
            html.contains("id=\"consent-allow\" type=\"submit\" name=\"decision\" value=\"allow\"")
        );
        assert!(
            html.contains("id=\"consent-deny\" type=\"submit\" name=\"decision\" value=\"deny\"")
        );
        assert!(html.contains("Signed in as Ada"));
        assert!(html.contains(">WB<"));
        // The scopes the application will see (the shared partial), escaped.
        assert!(html.contains("<li><strong>Email</strong><span class=\"muted\">&#60;script"));
        // The API and its permissions asked for, escaped.
        assert!(html.contains("<strong>https://orders.example.com</strong>"));
        assert!(html.contains("<li><strong>read:orders</strong></li>"));
        assert!(html.contains("<li><strong>&#60;script"));
    }

    #[test]
    fn device_pages() {
        let qr = crate::ui::qr::svg("https://acme.example/device?user_code=BCDF-GHJK").unwrap();
        let entry = DevicePage {
            tenant: brand(),
            asset_version: asset_version(),
            user_display_name: "Ada".into(),
            user_code: XSS.into(),
            error: Some(XSS.into()),
            csrf_token: "c1".into(),
            qr_svg: Some(qr.clone()),
        }
        .render()
        .unwrap();
        tenant_page(&entry);
        assert!(entry.contains("action=\"/device\""));
        assert!(entry.contains("name=\"csrf_token\" value=\"c1\""));
        assert!(entry.contains(&qr), "the QR code is embedded as is");
        let confirm = DeviceConfirmPage {
            tenant: brand(),
            asset_version: asset_version(),
            user_display_name: "Ada".into(),
            user_code: "BCDF-GHJK".into(),
            client_id: "tv-app".into(),
            client_name: "TV <b>".into(),
            client_logo_url: None,
            scopes: vec![ScopeLine {
                name: "email".into(),
                description: XSS.into(),
            }],
            csrf_token: "c1".into(),
            qr_svg: qr,
        }
        .render()
        .unwrap();
        tenant_page(&confirm);
        assert!(confirm.contains("<h1>Connect TV &#60;b&#62; on your device?</h1>"));
        assert!(confirm.contains("action=\"/device/decision\""));
        assert!(confirm.contains("name=\"user_code\" value=\"BCDF-GHJK\""));
        assert!(confirm.contains("name=\"client_id\" value=\"tv-app\""));
        assert!(confirm
            .contains("id=\"device-allow\" type=\"submit\" name=\"decision\" value=\"allow\""));
        assert!(confirm.contains(">TB<"));
    }

    #[test]
    fn error_page_with_and_without_tenant() {
        let mut page = ErrorPage {
            tenant: None,
            asset_version: asset_version(),
            title: "Unknown site".into(),
            message: XSS.into(),
            detail: Some("invalid_request".into()),
            back_url: None,
        };
        let html = page.render().unwrap();
        common(&html);
        assert!(html.contains(&format!("/theme.css?v={}", asset_version())));
        assert!(!html.contains("class=\"brand\""));
        assert!(!html.contains("data-tenant"));
        assert!(html.contains("<h1>Unknown site</h1>"));
        assert!(html.contains("<code>invalid_request</code>"));
        page.tenant = Some(brand());
        page.back_url = Some("/login".into());
        let html = page.render().unwrap();
        tenant_page(&html);
        assert!(html.contains("href=\"/login\""));
    }

    #[test]
    fn form_post_page() {
        let html = FormPostPage {
            action: "https://app.example/cb?x=\"1\"".into(),
            fields: vec![("code".into(), "abc".into()), ("state".into(), XSS.into())],
            asset_version: asset_version(),
        }
        .render()
        .unwrap();
        common(&html);
        assert!(html.contains("action=\"https://app.example/cb?x=&#34;1&#34;\""));
        assert!(html.contains("<input type=\"hidden\" name=\"code\" value=\"abc\">"));
        assert!(html.contains("name=\"state\" value=\"&#60;script&#62;"));
        assert!(html.contains("src=\"/static/form_post.js?v="));
        assert!(html.contains(">Continue<"));
    }

    #[test]
    fn logout_pages() {
        let html = LoggedOutPage {
            tenant: brand(),
            asset_version: asset_version(),
            message: "You are signed out.".into(),
        }
        .render()
        .unwrap();
        tenant_page(&html);
        assert!(html.contains("You are signed out."));

        let html = LogoutConfirmPage {
            tenant: brand(),
            asset_version: asset_version(),
            csrf_token: "c2".into(),
            fields: vec![("state".into(), XSS.into())],
        }
        .render()
        .unwrap();
        tenant_page(&html);
        assert!(html.contains("<h1>Sign out?</h1>"));
        assert!(html.contains("action=\"/api/oidc/end-session\""));
        assert!(html.contains("name=\"csrf_token\" value=\"c2\""));
        assert!(html.contains("name=\"state\" value=\"&#60;script&#62;"));
    }

    #[test]
    fn one_time_login_page() {
        let html = OneTimeLoginPage {
            tenant: brand(),
            asset_version: asset_version(),
            token: "t<1>".into(),
            csrf_token: "c3".into(),
        }
        .render()
        .unwrap();
        tenant_page(&html);
        assert!(html.contains("method=\"post\" action=\"/login/code\""));
        assert!(html.contains("name=\"token\" value=\"t&#60;1&#62;\""));
        assert!(html.contains("name=\"csrf_token\" value=\"c3\""));
    }
}

/// The code form of `/login/email`: the sealed request and the address it is for.
#[derive(Debug, Clone)]
pub struct EmailCodeForm {
    pub pending: String,
    pub email: String,
}

/// `/login/email`: ask for a code (no `code_form`), enter it (`code_form`), then add a passkey
/// on this device (`add_passkey`).
#[derive(Template)]
#[template(path = "email_login.html")]
pub struct EmailLoginPage {
    pub tenant: TenantBrand,
    pub asset_version: &'static str,
    /// Where to go afterwards: a same-origin path (checked by the server).
    pub next: String,
    pub code_form: Option<EmailCodeForm>,
    pub add_passkey: bool,
    pub error: Option<String>,
    /// `/login/email?next=…` and `/login?next=…`.
    pub ask_again_url: String,
    pub passkey_login_url: String,
}
