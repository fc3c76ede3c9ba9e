//! The mails Edge ID sends, as RFC 5322 messages built by `mail-builder`: a plain-text and an
//! HTML part (the tenant's name, logo and accent colour; links on the tenant's own host).
//!
//! Names and addresses go into headers only through mail-builder's address types, which quote
//! and encode them; the text of every mail is fixed here with values escaped (askama) in the
//! HTML. Nothing a person typed is concatenated into a header.

use askama::Template;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;

use crate::ui::assets::valid_accent;

/// The tenant as its mails show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub tenant_name: String,
    /// `#rrggbb` (an invalid value falls back to the default, as on the pages).
    pub accent_color: String,
    pub logo_url: Option<String>,
    /// `https://<tenant host>`: every link in a mail starts here.
    pub base_url: String,
}

/// Which mail it is (for the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Test,
    SignInCode,
    /// An admin's one-time sign-in link.
    LoginLink,
    /// An admin's invitation.
    Invitation,
    /// A link that verifies the person's address.
    EmailVerification,
    /// An admin API key expires soon (the hourly cron).
    ApiKeyExpiring,
    /// The person's account signed in from a browser new to it (they turned notices on).
    NewDeviceSignIn,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Test => "test",
            MailKind::SignInCode => "sign_in_code",
            MailKind::LoginLink => "login_link",
            MailKind::Invitation => "invitation",
            MailKind::EmailVerification => "email_verification",
            MailKind::ApiKeyExpiring => "api_key_expiring",
            MailKind::NewDeviceSignIn => "new_device_sign_in",
        }
    }
}

/// A mail to one person, before it becomes bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub kind: MailKind,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "email.html")]
struct Html<'a> {
    subject: &'a str,
    tenant_name: &'a str,
    accent: &'a str,
    logo_url: Option<&'a str>,
    heading: &'a str,
    paragraphs: &'a [String],
    facts: &'a [(String, String)],
    closing: &'a [String],
    code: Option<&'a str>,
    button: Option<(&'a str, &'a str)>,
    footer: &'a str,
}

struct Content<'a> {
    subject: String,
    heading: String,
    paragraphs: Vec<String>,
    /// Labelled details after the paragraphs ("Browser: Firefox on Linux").
    facts: Vec<(String, String)>,
    /// Paragraphs after the details.
    closing: Vec<String>,
    code: Option<&'a str>,
    button: Option<(&'a str, String)>,
    footer: String,
}

fn compose(brand: &Brand, kind: MailKind, to: (&str, Option<&str>), c: Content<'_>) -> Mail {
    let accent = valid_accent(&brand.accent_color);
    let html = Html {
        subject: &c.subject,
        tenant_name: &brand.tenant_name,
        accent,
        logo_url: brand
            .logo_url
            .as_deref()
            .filter(|l| l.starts_with("https://")),
        heading: &c.heading,
        paragraphs: &c.paragraphs,
        facts: &c.facts,
        closing: &c.closing,
        code: c.code,
        button: c.button.as_ref().map(|(l, u)| (*l, u.as_str())),
        footer: &c.footer,
    }
    .render()
    .expect("the mail template renders");
    let mut text = format!("{}\n\n", c.heading);
    for p in &c.paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if !c.facts.is_empty() {
        for (label, value) in &c.facts {
            text.push_str(&format!("    {label}: {value}\n"));
        }
        text.push('\n');
    }
    for p in &c.closing {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if let Some(code) = c.code {
        text.push_str(&format!("    {code}\n\n"));
    }
    if let Some((label, url)) = &c.button {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    text.push_str("-- \n");
    text.push_str(&c.footer);
    text.push('\n');
    Mail {
        kind,
        to_address: to.0.to_string(),
        to_name: to.1.map(str::to_string),
        subject: c.subject,
        text,
        html,
    }
}

/// The mail of the admin's "Send test email".
pub fn test_mail(brand: &Brand, to_address: &str, to_name: Option<&str>) -> Mail {
    compose(
        brand,
        MailKind::Test,
        (to_address, to_name),
        Content {
            subject: format!("Test email from {}", brand.tenant_name),
            heading: "Email works".into(),
            paragraphs: vec![format!(
                "{} can send email: this test message went through the SMTP server configured for it.",
                brand.tenant_name
            )],
            code: None,
            facts: Vec::new(),
            closing: Vec::new(),
            button: Some(("Open the admin console", format!("{}/admin", brand.base_url))),
            footer: format!("Sent by {} ({})", brand.tenant_name, brand.base_url),
        },
    )
}

/// The mail with a one-time sign-in code.
pub fn sign_in_code_mail(
    brand: &Brand,
    to_address: &str,
    to_name: Option<&str>,
    code: &str,
    valid_minutes: i64,
) -> Mail {
    compose(
        brand,
        MailKind::SignInCode,
        (to_address, to_name),
        Content {
            subject: format!("Your sign-in code for {}", brand.tenant_name),
            heading: format!("Sign in to {}", brand.tenant_name),
            paragraphs: vec![
                format!(
                    "Enter this code on the sign-in page. It works once, for {valid_minutes} minutes, in the browser where you asked for it."
                ),
                "Afterwards, add a passkey on that device so you can sign in without email next time.".into(),
            ],
            code: Some(code),
            facts: Vec::new(),
            closing: Vec::new(),
            button: Some(("Open the sign-in page", format!("{}/login/email", brand.base_url))),
            footer: format!(
                "If you did not ask for a code, ignore this email: nobody can sign in without the code. Sent by {} ({}).",
                brand.tenant_name, brand.base_url
            ),
        },
    )
}

/// An admin's one-time sign-in link (recovery, or a first sign-in for an account an admin made).
pub fn login_link_mail(
    brand: &Brand,
    to_address: &str,
    to_name: Option<&str>,
    url: &str,
    valid_hours: i64,
) -> Mail {
    compose(
        brand,
        MailKind::LoginLink,
        (to_address, to_name),
        Content {
            subject: format!("Your sign-in link for {}", brand.tenant_name),
            heading: format!("Sign in to {}", brand.tenant_name),
            paragraphs: vec![
                format!(
                    "An administrator of {} sent you a link that signs you in once. It works for {}.",
                    brand.tenant_name,
                    hours(valid_hours)
                ),
                "Afterwards, add a passkey on your device so you can sign in with it next time.".into(),
            ],
            code: None,
            facts: Vec::new(),
            closing: Vec::new(),
            button: Some(("Sign in", url.to_string())),
            footer: format!(
                "If you did not expect this, ignore it or tell your administrator. Sent by {} ({}).",
                brand.tenant_name, brand.base_url
            ),
        },
    )
}

/// An admin's invitation to create an account.
pub fn invitation_mail(brand: &Brand, to_address: &str, url: &str, valid_hours: i64) -> Mail {
    compose(
        brand,
        MailKind::Invitation,
        (to_address, None),
        Content {
            subject: format!("You're invited to {}", brand.tenant_name),
            heading: format!("Join {}", brand.tenant_name),
            paragraphs: vec![
                format!(
                    "You're invited to create an account at {}. You'll sign in with a passkey: no password to remember. The invitation works for {}.",
                    brand.tenant_name,
                    hours(valid_hours)
                ),
            ],
            code: None,
            facts: Vec::new(),
            closing: Vec::new(),
            button: Some(("Create your account", url.to_string())),
            footer: format!(
                "If you did not expect this, ignore it. Sent by {} ({}).",
                brand.tenant_name, brand.base_url
            ),
        },
    )
}

/// The link that verifies a person's address.
pub fn verification_mail(
    brand: &Brand,
    to_address: &str,
    to_name: Option<&str>,
    url: &str,
    valid_hours: i64,
) -> Mail {
    compose(
        brand,
        MailKind::EmailVerification,
        (to_address, to_name),
        Content {
            subject: format!("Verify your email address for {}", brand.tenant_name),
            heading: "Verify your email address".into(),
            paragraphs: vec![format!(
                "Confirm that this address is yours for your account at {}. The link works once, for {}.",
                brand.tenant_name,
                hours(valid_hours)
            )],
            code: None,
            facts: Vec::new(),
            closing: Vec::new(),
            button: Some(("Verify this address", url.to_string())),
            footer: format!(
                "If you did not ask for this, ignore it: the address stays unverified. Sent by {} ({}).",
                brand.tenant_name, brand.base_url
            ),
        },
    )
}

/// What an expiry notice says about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringKey<'a> {
    pub name: &'a str,
    pub expires_at: i64,
    /// Who made it, as a phrase ("Ada Lovelace", "the API key \"deploy\"").
    pub created_by: &'a str,
}

/// Tells an admin that an API key of the tenant expires soon (sent once per key, at `now`).
pub fn api_key_expiring_mail(
    brand: &Brand,
    to_address: &str,
    to_name: Option<&str>,
    key: &ExpiringKey<'_>,
    now: i64,
) -> Mail {
    let when = crate::ui::when::date_time(key.expires_at);
    let left = time_left(key.expires_at - now);
    compose(
        brand,
        MailKind::ApiKeyExpiring,
        (to_address, to_name),
        Content {
            subject: format!(
                "The API key \"{}\" of {} expires {left}",
                key.name, brand.tenant_name
            ),
            heading: "An API key expires soon".into(),
            paragraphs: vec![
                format!(
                    "The admin API key \"{}\" of {} expires on {when}, {left}. It was created by {}.",
                    key.name, brand.tenant_name, key.created_by
                ),
                "After that, scripts and tools using it get 401 Unauthorized. To replace it: in the \
                 admin console's API keys section, create a new key (name, expiry), put its value \
                 where the old one is used, then delete the old key. Scripts can also create one \
                 with POST /api/api-keys."
                    .into(),
            ],
            facts: vec![],
            closing: vec![],
            code: None,
            button: Some((
                "Open the API keys",
                format!("{}/admin#/api-keys", brand.base_url),
            )),
            footer: format!(
                "You get this once per key, as an administrator of {}. Sent by {} ({}).",
                brand.tenant_name, brand.tenant_name, brand.base_url
            ),
        },
    )
}

/// What a sign-in notice tells about the sign-in, as the person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFacts {
    /// `YYYY-MM-DD HH:MM UTC`.
    pub when: String,
    /// "Firefox on Linux" (`ui::agent::browser`).
    pub browser: String,
    /// "Berlin, DE", when the request's location is known.
    pub place: Option<String>,
    pub ip: Option<String>,
    /// "with a passkey", "with a recovery code", ...
    pub how: String,
}

/// The notice of a sign-in from a browser the account had not signed in from before.
pub fn new_device_sign_in_mail(
    brand: &Brand,
    to_address: &str,
    to_name: Option<&str>,
    facts: &SignInFacts,
) -> Mail {
    let account_url = format!("{}/account", brand.base_url);
    let mut details = vec![
        ("When".to_string(), facts.when.clone()),
        ("Browser".to_string(), facts.browser.clone()),
    ];
    if let Some(place) = &facts.place {
        details.push(("Where".to_string(), place.clone()));
    }
    if let Some(ip) = &facts.ip {
        details.push(("IP address".to_string(), ip.clone()));
    }
    details.push(("How".to_string(), facts.how.clone()));
    compose(
        brand,
        MailKind::NewDeviceSignIn,
        (to_address, to_name),
        Content {
            subject: format!("New sign-in to your {} account", brand.tenant_name),
            heading: "A new device signed in".into(),
            paragraphs: vec![format!(
                "Your account at {} was just used to sign in from a browser it had not signed in from before.",
                brand.tenant_name
            )],
            facts: details,
            closing: vec![
                "If this was you, there is nothing to do.".into(),
                format!(
                    "If this wasn't you, open your account page at {account_url}: check your passkeys and recent activity, remove any passkey you don't recognise, and tell your administrator."
                ),
            ],
            code: None,
            button: Some(("Review your account", account_url.clone())),
            footer: format!(
                "You get this because you turned on sign-in notices. You can turn them off on your account page ({account_url}). Sent by {} ({}).",
                brand.tenant_name, brand.base_url
            ),
        },
    )
}

/// "in 3 days", "in 5 hours", "in less than an hour" (whole days rounded to the nearest).
fn time_left(secs: i64) -> String {
    match secs {
        s if s < 3600 => "in less than an hour".into(),
        s if s < 86400 => match s / 3600 {
            1 => "in 1 hour".into(),
            h => format!("in {h} hours"),
        },
        s => match (s + 43200) / 86400 {
            1 => "in 1 day".into(),
            d => format!("in {d} days"),
        },
    }
}

/// "3 hours", "7 days".
fn hours(h: i64) -> String {
    match h {
        1 => "1 hour".into(),
        h if h % 24 == 0 && h >= 48 => format!("{} days", h / 24),
        24 => "1 day".into(),
        h => format!("{h} hours"),
    }
}

/// `text` for a header: mail-builder writes a plain-text header (the subject) as given, so a line
/// break in it would start a header of its own. Every control character becomes a space. (The
/// tenant's name in subjects is validated without them; this holds whatever a subject holds.)
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The sender as the From header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub address: String,
    pub name: String,
}

/// `mail` as RFC 5322 bytes, dated `now` (unix seconds) with a Message-ID under the sender's
/// domain. `unique` (a random token) makes the Message-ID and the MIME boundary unique.
pub fn to_bytes(sender: &Sender, mail: &Mail, now: i64, unique: &str) -> Vec<u8> {
    let domain = sender
        .address
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d);
    let to = match &mail.to_name {
        Some(name) => Address::new_address(Some(name.as_str()), mail.to_address.as_str()),
        None => Address::new_address(None::<&str>, mail.to_address.as_str()),
    };
    MessageBuilder::new()
        .from(Address::new_address(
            Some(sender.name.as_str()),
            sender.address.as_str(),
        ))
        .to(to)
        .subject(one_line(&mail.subject))
        // Both set here: left unset, mail-builder would read the system clock and host name,
        // which a Worker does not have.
        .date(now)
        .message_id(format!("{unique}@{domain}"))
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-generated"),
        )
        // The multipart's boundary is given: left to mail-builder, it would read the system
        // clock (a panic in a Worker). A random token cannot occur in the parts' text.
        .body(MimePart::new(
            ContentType::new("multipart/alternative")
                .attribute("boundary", format!("eid-{unique}")),
            vec![
                MimePart::new(ContentType::new("text/plain"), mail.text.as_str()),
                MimePart::new(ContentType::new("text/html"), mail.html.as_str()),
            ],
        ))
        .write_to_vec()
        .expect("writing a message to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

    fn brand() -> Brand {
        Brand {
            tenant_name: "Acme <b>Corp</b>".into(),
            accent_color: "#0a7f3f".into(),
            logo_url: None,
            base_url: "https://acme.id.test".into(),
        }
    }

    fn sender() -> Sender {
        Sender {
            address: "id@acme.test".into(),
            name: "Acme".into(),
        }
    }

    #[test]
    fn a_code_mail_has_text_and_html_parts_with_the_code_and_a_link_on_the_tenants_host() {
        let mail = sign_in_code_mail(
            &brand(),
            "ada@example.com",
            Some("Ada Lovelace"),
            "042917",
            10,
        );
        let bytes = to_bytes(&sender(), &mail, 1_800_000_000, "unique-1");
        let parsed = MessageParser::default()
            .parse(&bytes)
            .expect("a parsable message");
        assert_eq!(
            parsed.subject(),
            Some("Your sign-in code for Acme <b>Corp</b>")
        );
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("id@acme.test"));
        assert_eq!(from.name(), Some("Acme"));
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.address(), Some("ada@example.com"));
        assert_eq!(to.name(), Some("Ada Lovelace"));
        assert_eq!(parsed.message_id(), Some("unique-1@acme.test"));
        assert_eq!(parsed.date().unwrap().to_timestamp(), 1_800_000_000);
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains("042917"), "{text}");
        assert!(text.contains("https://acme.id.test/login/email"));
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains("042917"));
        assert!(html.contains("href=\"https://acme.id.test/login/email\""));
        assert!(html.contains("#0a7f3f"), "the accent colour");
        // The tenant's name is text in the HTML, never markup.
        assert!(
            html.contains("Acme &lt;b&gt;Corp&lt;/b&gt;") || html.contains("Acme &#60;b&#62;Corp"),
            "{html}"
        );
        assert!(!html.contains("<b>Corp</b>"));
        assert_eq!(parsed.text_body_count(), 1);
        assert_eq!(parsed.html_body_count(), 1);
    }

    #[test]
    fn an_expiry_notice_names_the_key_when_it_expires_who_made_it_and_links_to_the_api_keys() {
        let now = 1_800_000_000;
        let key = ExpiringKey {
            name: "deploy <prod>",
            expires_at: now + 3 * 86400 - 60,
            created_by: "Ada Lovelace",
        };
        let mail = api_key_expiring_mail(&brand(), "ada@example.com", Some("Ada"), &key, now);
        assert_eq!(mail.kind, MailKind::ApiKeyExpiring);
        let bytes = to_bytes(&sender(), &mail, now, "u");
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        assert!(parsed.subject().unwrap().contains("deploy <prod>"));
        let text = parsed.body_text(0).unwrap();
        for part in [
            "deploy <prod>",
            "2027-01-18 07:59 UTC",
            "in 3 days",
            "created by Ada Lovelace",
            "https://acme.id.test/admin#/api-keys",
            "POST /api/api-keys",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let html = parsed.body_html(0).unwrap();
        assert!(
            html.contains("href=\"https://acme.id.test/admin#/api-keys\""),
            "{html}"
        );
        assert!(
            !html.contains("<prod>"),
            "the key's name is text, not markup"
        );
        assert_eq!(time_left(59 * 60), "in less than an hour");
        assert_eq!(time_left(3600), "in 1 hour");
        assert_eq!(time_left(23 * 3600), "in 23 hours");
        assert_eq!(time_left(86400), "in 1 day");
        assert_eq!(time_left(7 * 86400), "in 7 days");
    }

    #[test]
    fn a_line_break_in_a_name_cannot_add_a_header() {
        let mut mail = test_mail(
            &brand(),
            "ada@example.com",
            Some("Ada\r\nBcc: eve@evil.test"),
        );
        mail.subject = "Hi\r\nBcc: eve@evil.test".into();
        let evil_sender = Sender {
            address: "id@acme.test".into(),
            name: "Acme\r\nBcc: eve@evil.test\r\nX-Injected: 1".into(),
        };
        let bytes = to_bytes(&evil_sender, &mail, 1_800_000_000, "u");
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        assert!(parsed.bcc().is_none(), "no Bcc header was added");
        assert!(parsed.header("X-Injected").is_none());
        let raw = String::from_utf8_lossy(&bytes);
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")), "{raw}");
        assert!(!raw.lines().any(|l| l.starts_with("X-Injected:")), "{raw}");
        // The names survive as (encoded) text of their own header.
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.address(), Some("ada@example.com"));
        assert!(to.name().unwrap().contains("Bcc: eve@evil.test"));
        assert_eq!(parsed.to().unwrap().iter().count(), 1, "one recipient");
        let body = parsed.body_text(0).unwrap();
        assert!(body.contains("Email works") || body.contains("can send email"));
        let _ = parsed.content_type();
    }

    #[test]
    fn a_sign_in_notice_tells_when_where_and_how_and_links_to_the_account_page() {
        let facts = SignInFacts {
            when: "2027-01-15 08:00 UTC".into(),
            browser: "Firefox on Linux".into(),
            place: Some("Berlin, DE".into()),
            ip: Some("192.0.2.7".into()),
            how: "with a recovery code".into(),
        };
        let mail = new_device_sign_in_mail(&brand(), "ada@example.com", Some("Ada"), &facts);
        assert_eq!(mail.kind, MailKind::NewDeviceSignIn);
        let bytes = to_bytes(&sender(), &mail, 1_800_000_000, "u");
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(
            parsed.subject(),
            Some("New sign-in to your Acme <b>Corp</b> account")
        );
        let text = parsed.body_text(0).unwrap();
        let html = parsed.body_html(0).unwrap();
        for part in [&text, &html] {
            for fact in [
                "2027-01-15 08:00 UTC",
                "Firefox on Linux",
                "Berlin, DE",
                "192.0.2.7",
                "with a recovery code",
                "If this wasn",
                "https://acme.id.test/account",
                "turned on sign-in notices",
            ] {
                assert!(part.contains(fact), "{fact} in {part}");
            }
        }
        assert!(
            html.contains("href=\"https://acme.id.test/account\""),
            "{html}"
        );
        assert!(html.contains("#0a7f3f"), "the accent colour");
    }

    #[test]
    fn what_a_request_says_about_itself_stays_in_the_body_of_a_notice() {
        // The browser's name, place and IP come from the request: line breaks in them must not
        // reach the headers (they are in the body only, and escaped in the HTML).
        let facts = SignInFacts {
            when: "2027-01-15 08:00 UTC".into(),
            browser: "Evil\r\nBcc: eve@evil.test\r\n\r\n<script>x</script>".into(),
            place: Some("Town\r\nX-Injected: 1".into()),
            ip: Some("192.0.2.7\r\nX-Injected: 2".into()),
            how: "with a passkey".into(),
        };
        let mail = new_device_sign_in_mail(&brand(), "ada@example.com", None, &facts);
        let bytes = to_bytes(&sender(), &mail, 1_800_000_000, "u");
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        assert!(parsed.bcc().is_none());
        assert!(parsed.header("X-Injected").is_none());
        let raw = String::from_utf8_lossy(&bytes);
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.contains("Bcc"), "{headers}");
        assert!(!headers.contains("X-Injected"), "{headers}");
        assert_eq!(parsed.to().unwrap().iter().count(), 1, "one recipient");
        let html = parsed.body_html(0).unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(parsed.body_text(0).unwrap().contains("Bcc: eve@evil.test"));
    }
}
