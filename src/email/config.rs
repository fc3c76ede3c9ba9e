//! Which server a tenant's mail goes through: its own SMTP server (tenant settings, the
//! password sealed with the master key) or the operator's default (Worker variables and
//! secrets: an SMTP server, or Cloudflare's `send_email` binding), and the rules their values
//! follow.

use serde::{Deserialize, Serialize};

use super::smtp::{Credentials, TlsMode};
use crate::crypto::envelope::MasterKey;

/// A tenant's own SMTP server, as stored in its settings. The password is sealed with the
/// master key ([`MasterKey::seal`], as signing keys are) and bound to the tenant, the host and
/// the username: a password set for one server never opens for another, so changing the host
/// without giving the password again cannot send it somewhere else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub tls: TlsMode,
    pub from_address: String,
    /// The sender's display name; the tenant's name when unset.
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_sealed: Option<String>,
}

/// The sealed password's associated data: the tenant, host and username it was set for.
pub fn password_context(tenant_id: &str, host: &str, username: Option<&str>) -> String {
    // NUL-separated: none of the three can hold one (validated), so no part can move another.
    format!(
        "smtp password\0{tenant_id}\0{}\0{}",
        host.to_ascii_lowercase(),
        username.unwrap_or("")
    )
}

impl SmtpSettings {
    /// The password, when one is set and opens for this tenant, host and username.
    pub fn password(&self, tenant_id: &str, master: &MasterKey) -> Option<String> {
        let sealed = self.password_sealed.as_deref()?;
        let context = password_context(tenant_id, &self.host, self.username.as_deref());
        master
            .open(&context, sealed)
            .ok()
            .and_then(|p| String::from_utf8(p).ok())
    }
}

/// Where a tenant's mail goes: host, port, TLS, account and sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub credentials: Option<Credentials>,
    pub from_address: String,
    pub from_name: Option<String>,
}

/// Mail sent through Cloudflare Email Service (the Worker's `send_email` binding `EMAIL`): the
/// operator's choice for every tenant without its own server. Cloudflare signs it (DKIM) for
/// the sending domain onboarded on the account, which `from_address` must belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudflareEmail {
    pub from_address: String,
}

/// How a tenant's mail leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailServer {
    Smtp(SmtpServer),
    Cloudflare(CloudflareEmail),
}

impl MailServer {
    pub fn from_address(&self) -> &str {
        match self {
            MailServer::Smtp(s) => &s.from_address,
            MailServer::Cloudflare(c) => &c.from_address,
        }
    }

    /// The sender's display name when one is set (else the tenant's name is used).
    pub fn from_name(&self) -> Option<&str> {
        match self {
            MailServer::Smtp(s) => s.from_name.as_deref(),
            MailServer::Cloudflare(_) => None,
        }
    }

    /// What the audit log names the server by: the SMTP host, or `cloudflare`.
    pub fn label(&self) -> &str {
        match self {
            MailServer::Smtp(s) => &s.host,
            MailServer::Cloudflare(_) => "cloudflare",
        }
    }
}

/// Why no server could be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    #[error("no SMTP server is configured for this tenant, and the deployment has no default")]
    NotConfigured,
    #[error(
        "the SMTP password was set for another host or username (or master key): set it again"
    )]
    PasswordUnusable,
    #[error("the operator's default SMTP settings are invalid: {0}")]
    OperatorDefault(String),
}

/// The server for a tenant: its own settings when it has them, else the operator's default.
pub fn resolve(
    own: Option<&SmtpSettings>,
    tenant_id: &str,
    master: &MasterKey,
    operator_default: Option<&MailServer>,
) -> Result<MailServer, ConfigProblem> {
    let Some(own) = own else {
        return operator_default
            .cloned()
            .ok_or(ConfigProblem::NotConfigured);
    };
    let credentials = match &own.username {
        None => None,
        Some(username) => Some(Credentials {
            username: username.clone(),
            password: own
                .password(tenant_id, master)
                .ok_or(ConfigProblem::PasswordUnusable)?,
        }),
    };
    Ok(MailServer::Smtp(SmtpServer {
        host: own.host.clone(),
        port: own.port,
        tls: own.tls,
        credentials,
        from_address: own.from_address.clone(),
        from_name: own.from_name.clone(),
    }))
}

/// The operator's default server from the Worker's variables: an SMTP server (`SMTP_HOST`,
/// `SMTP_PORT`, `SMTP_FROM`, `SMTP_USER`, `SMTP_PASSWORD`, `SMTP_TLS`), else Cloudflare Email
/// Service when `EMAIL_FROM` names the sender (the `EMAIL` binding sends); `Ok(None)` without
/// either.
pub fn operator_default(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<MailServer>, ConfigProblem> {
    let bad = |what: &str| ConfigProblem::OperatorDefault(what.to_string());
    let Some(host) = var("SMTP_HOST").filter(|h| !h.trim().is_empty()) else {
        return match var("EMAIL_FROM").map(|f| f.trim().to_string()) {
            None => Ok(None),
            Some(f) if f.is_empty() => Ok(None),
            Some(f) if valid_address(&f) => Ok(Some(MailServer::Cloudflare(CloudflareEmail {
                from_address: f,
            }))),
            Some(_) => Err(bad("EMAIL_FROM is a valid email address")),
        };
    };
    let host = host.trim().to_string();
    if !valid_host(&host) {
        return Err(bad("SMTP_HOST is not a host name"));
    }
    let tls = match var("SMTP_TLS") {
        None => TlsMode::StartTls,
        Some(t) => TlsMode::parse(&t).ok_or_else(|| bad("SMTP_TLS is none, starttls or tls"))?,
    };
    let port = match var("SMTP_PORT") {
        None => default_port(tls),
        Some(p) => p
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("SMTP_PORT is 1 to 65535"))?,
    };
    let from_address = var("SMTP_FROM")
        .map(|f| f.trim().to_string())
        .filter(|f| valid_address(f))
        .ok_or_else(|| bad("SMTP_FROM is a valid email address"))?;
    let credentials = match var("SMTP_USER").filter(|u| !u.is_empty()) {
        None => None,
        Some(username) => {
            if has_line_break_or_control(&username) {
                return Err(bad("SMTP_USER has control characters"));
            }
            Some(Credentials {
                username,
                password: var("SMTP_PASSWORD").ok_or_else(|| bad("SMTP_PASSWORD is missing"))?,
            })
        }
    };
    Ok(Some(MailServer::Smtp(SmtpServer {
        host,
        port,
        tls,
        credentials,
        from_address,
        from_name: None,
    })))
}

/// The usual port of a TLS mode (submission with STARTTLS, implicit TLS, plain SMTP).
pub fn default_port(tls: TlsMode) -> u16 {
    match tls {
        TlsMode::StartTls => 587,
        TlsMode::Tls => 465,
        TlsMode::None => 25,
    }
}

/// Whether `s` holds a character that could end or fold a header or an SMTP command.
pub fn has_line_break_or_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A host name (letters, digits and hyphens in dot-separated labels) or an IPv4 address.
pub fn valid_host(host: &str) -> bool {
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An email address a sender may use: an ASCII local part of RFC 5322 atoms (dot-separated)
/// and a host name. Deliberately narrower than RFC 5322 (no quoted strings or comments):
/// nothing here can end a header or an SMTP command.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    const ATEXT: &[u8] = b"!#$%&'*+-/=?^_`{|}~";
    address.len() <= 254
        && local.len() <= 64
        && !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || ATEXT.contains(&b))
        })
        && domain.contains('.')
        && valid_host(domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32]))
            .unwrap()
    }

    fn settings(host: &str, username: Option<&str>, sealed: Option<String>) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 587,
            tls: TlsMode::StartTls,
            from_address: "id@acme.test".into(),
            from_name: None,
            username: username.map(str::to_string),
            password_sealed: sealed,
        }
    }

    #[test]
    fn a_password_opens_only_for_its_tenant_host_username_and_master_key() {
        let key = master(1);
        let sealed = key.seal(
            &password_context("t1", "smtp.acme.test", Some("mailer")),
            b"hunter2",
        );
        let own = settings("smtp.acme.test", Some("mailer"), Some(sealed.clone()));
        let MailServer::Smtp(server) = resolve(Some(&own), "t1", &key, None).unwrap() else {
            panic!("a tenant's own server is SMTP")
        };
        assert_eq!(server.credentials.unwrap().password, "hunter2");
        for (tenant, host, user, key) in [
            ("t2", "smtp.acme.test", "mailer", master(1)),
            ("t1", "smtp.evil.test", "mailer", master(1)),
            ("t1", "smtp.acme.test", "other", master(1)),
            ("t1", "smtp.acme.test", "mailer", master(2)),
        ] {
            let moved = settings(host, Some(user), Some(sealed.clone()));
            assert_eq!(
                resolve(Some(&moved), tenant, &key, None),
                Err(ConfigProblem::PasswordUnusable),
                "{tenant} {host} {user}"
            );
        }
        // A username without a password is unusable too; no username needs none.
        let no_password = settings("smtp.acme.test", Some("mailer"), None);
        assert_eq!(
            resolve(Some(&no_password), "t1", &key, None),
            Err(ConfigProblem::PasswordUnusable)
        );
        let open_relay = settings("smtp.acme.test", None, None);
        assert!(matches!(
            resolve(Some(&open_relay), "t1", &key, None),
            Ok(MailServer::Smtp(SmtpServer {
                credentials: None,
                ..
            }))
        ));
    }

    #[test]
    fn the_operator_default_serves_tenants_without_their_own() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(operator_default(vars(&[])), Ok(None));
        let default = operator_default(vars(&[
            ("SMTP_HOST", "smtp.provider.test"),
            ("SMTP_FROM", "no-reply@id.example.com"),
            ("SMTP_USER", "apikey"),
            ("SMTP_PASSWORD", "secret"),
        ]))
        .unwrap()
        .unwrap();
        let MailServer::Smtp(smtp) = &default else {
            panic!("SMTP_HOST makes an SMTP default")
        };
        assert_eq!(smtp.port, 587);
        assert_eq!(smtp.tls, TlsMode::StartTls);
        let key = master(1);
        assert_eq!(resolve(None, "t1", &key, Some(&default)).unwrap(), default);
        assert_eq!(
            resolve(None, "t1", &key, None),
            Err(ConfigProblem::NotConfigured)
        );
        let own = settings("smtp.acme.test", None, None);
        assert_eq!(
            resolve(Some(&own), "t1", &key, Some(&default))
                .unwrap()
                .label(),
            "smtp.acme.test",
            "the tenant's own server wins"
        );
        // Without SMTP_HOST, EMAIL_FROM makes Cloudflare Email Service the default; SMTP wins
        // when both are set.
        let cloudflare = operator_default(vars(&[("EMAIL_FROM", "id@mail.example.com")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            cloudflare,
            MailServer::Cloudflare(CloudflareEmail {
                from_address: "id@mail.example.com".into()
            })
        );
        assert_eq!(
            resolve(None, "t1", &key, Some(&cloudflare))
                .unwrap()
                .from_address(),
            "id@mail.example.com"
        );
        assert_eq!(
            operator_default(vars(&[
                ("SMTP_HOST", "smtp.provider.test"),
                ("SMTP_FROM", "no-reply@id.example.com"),
                ("EMAIL_FROM", "id@mail.example.com"),
            ]))
            .unwrap()
            .unwrap()
            .label(),
            "smtp.provider.test"
        );
        for bad in [
            &[("SMTP_HOST", "smtp bad"), ("SMTP_FROM", "a@b.test")][..],
            &[("SMTP_HOST", "smtp.test"), ("SMTP_FROM", "nope")][..],
            &[
                ("SMTP_HOST", "smtp.test"),
                ("SMTP_FROM", "a@b.test"),
                ("SMTP_PORT", "0"),
            ][..],
            &[
                ("SMTP_HOST", "smtp.test"),
                ("SMTP_FROM", "a@b.test"),
                ("SMTP_TLS", "maybe"),
            ][..],
            &[
                ("SMTP_HOST", "smtp.test"),
                ("SMTP_FROM", "a@b.test"),
                ("SMTP_USER", "u"),
            ][..],
            &[("EMAIL_FROM", "Edge ID <id@mail.test>")][..],
            &[("EMAIL_FROM", "id@mail.test\r\nBcc: x@y.test")][..],
        ] {
            let owned: Vec<(String, String)> = bad
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let result = operator_default(|name: &str| {
                owned
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            });
            assert!(
                matches!(result, Err(ConfigProblem::OperatorDefault(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hosts_and_addresses_are_checked_narrowly() {
        for ok in ["smtp.acme.test", "localhost", "127.0.0.1", "a-b.c"] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "smtp acme",
            "-a.test",
            "a..b",
            "smtp.acme.test\r\nX",
            "é.test",
        ] {
            assert!(!valid_host(bad), "{bad:?}");
        }
        for ok in ["id@acme.test", "no-reply+tag@mail.acme.test", "a.b@c.d"] {
            assert!(valid_address(ok), "{ok}");
        }
        for bad in [
            "id",
            "@acme.test",
            "id@localhost",
            "id@acme.test\r\nBcc: x@evil.test",
            "\"quoted\"@acme.test",
            "a..b@acme.test",
            "Ada <ada@acme.test>",
            "ada@acme.test>",
        ] {
            assert!(!valid_address(bad), "{bad:?}");
        }
    }
}
