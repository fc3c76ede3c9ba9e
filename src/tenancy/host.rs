//! Mapping a request's `Host` to the platform or a tenant, and deriving the issuer from it.

/// A syntactically valid `Host` header, split into lowercase name and optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHost {
    pub name: String,
    pub port: Option<u16>,
}

impl RequestHost {
    /// Parses a `Host` header. Anything that is not a plain DNS name (or IPv4) with an optional
    /// port is refused: no userinfo, no paths, no IPv6 literals (tenants live on DNS names).
    pub fn parse(header: &str) -> Result<Self, HostError> {
        let header = header.trim().to_ascii_lowercase();
        let (name, port) = match header.rsplit_once(':') {
            Some((name, port)) => (
                name.to_string(),
                Some(port.parse::<u16>().map_err(|_| HostError::Invalid)?),
            ),
            None => (header, None),
        };
        let name = name.trim_end_matches('.').to_string();
        let valid_labels = name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if name.is_empty() || name.len() > 253 || !valid_labels {
            return Err(HostError::Invalid);
        }
        // The issuer is `https://<name>`: the name must be exactly what a URL makes of it.
        // URLs read a name whose last label is a number as an IPv4 address (`1.2.3` is
        // 1.2.0.3, `127.0.07.0.0.1` is no address) and check `xn--` labels as punycode.
        let same = match url::Host::parse(&name) {
            Ok(url::Host::Domain(d)) => d == name,
            Ok(url::Host::Ipv4(ip)) => ip.to_string() == name,
            _ => false,
        };
        if !same {
            return Err(HostError::Invalid);
        }
        Ok(Self { name, port })
    }

    /// The authority as it appears in URLs (`name` or `name:port`).
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.name),
            None => self.name.clone(),
        }
    }

    /// `localhost` and `*.localhost` are loopback by definition (RFC 6761), which browsers treat
    /// as a secure context: the only place plain `http://` issuers are allowed.
    pub fn is_loopback(&self) -> bool {
        self.name == "localhost" || self.name.ends_with(".localhost") || self.name == "127.0.0.1"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("the Host header is not a valid host name")]
    Invalid,
}

/// What a host means to this deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    /// The base domain itself: operator API and landing page, no tenant.
    Platform,
    /// `<slug>.<base>`: the tenant with this slug.
    TenantSlug(String),
    /// Any other host: possibly a tenant's custom domain, looked up in storage.
    CustomDomain(String),
}

/// Classifies `host` against the deployment's base domain (e.g. `id.example.com`, `localhost`).
/// Only ONE label below the base names a tenant: `a.b.<base>` is not a tenant subdomain (and would
/// not be covered by a wildcard certificate anyway), so it falls through to custom-domain lookup.
pub fn classify_host(host: &RequestHost, base_domain: &str) -> HostKind {
    let base = base_domain
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host.name == base {
        return HostKind::Platform;
    }
    if let Some(label) = host
        .name
        .strip_suffix(&base)
        .and_then(|rest| rest.strip_suffix('.'))
    {
        if !label.contains('.') && validate_slug(label).is_ok() {
            return HostKind::TenantSlug(label.to_string());
        }
    }
    HostKind::CustomDomain(host.name.clone())
}

/// The issuer for a tenant served on `host`: always `https://` in production; `http://` only
/// on loopback names, where local development runs without TLS.
pub fn issuer_for(host: &RequestHost, request_scheme_is_https: bool) -> String {
    let scheme = if host.is_loopback() && !request_scheme_is_https {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{}", host.authority())
}

/// The issuer of a tenant where no request names a host (mail the hourly cron sends):
/// `recorded`, a URL a request for this tenant came to (where an API key was minted: its admin
/// signs in there, and locally it has the dev server's port), while its host still serves this
/// tenant; else the tenant's first custom domain; else `<slug>.<base_domain>`.
pub fn tenant_issuer(
    recorded: Option<&str>,
    slug: &str,
    domains: &[String],
    base_domain: &str,
) -> String {
    let still_ours = |issuer: &str| {
        let Some(authority) = issuer
            .strip_prefix("https://")
            .or_else(|| issuer.strip_prefix("http://"))
        else {
            return false;
        };
        let Ok(host) = RequestHost::parse(authority) else {
            return false;
        };
        // Exactly the issuer a request there gets (no path, http only on loopback).
        let https = issuer.starts_with("https://");
        issuer_for(&host, https) == issuer
            && match classify_host(&host, base_domain) {
                HostKind::TenantSlug(s) => s == slug,
                HostKind::CustomDomain(d) => domains.contains(&d),
                HostKind::Platform => false,
            }
    };
    if let Some(issuer) = recorded.filter(|i| still_ours(i)) {
        return issuer.to_string();
    }
    let name = match domains.first() {
        Some(domain) => domain.clone(),
        None => format!("{slug}.{}", base_domain.trim_end_matches('.')),
    };
    issuer_for(&RequestHost { name, port: None }, false)
}

/// Slugs that would shadow platform names or confuse users.
const RESERVED_SLUGS: &[&str] = &[
    "www", "api", "admin", "operator", "static", "assets", "mail", "auth", "login", "id", "status",
    "docs", "cdn",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a slug is 2 to 40 characters of lowercase letters, digits and inner hyphens")]
    Syntax,
    #[error("this slug is reserved")]
    Reserved,
}

/// A slug is one DNS label: lowercase letters, digits, inner hyphens, 2-40 characters.
pub fn validate_slug(slug: &str) -> Result<(), SlugError> {
    let ok = (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if !ok {
        return Err(SlugError::Syntax);
    }
    if RESERVED_SLUGS.contains(&slug) {
        return Err(SlugError::Reserved);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> RequestHost {
        RequestHost::parse(s).unwrap()
    }

    #[test]
    fn parses_hosts_with_and_without_port() {
        assert_eq!(
            host("Acme.LocalHost:8787"),
            RequestHost {
                name: "acme.localhost".into(),
                port: Some(8787)
            }
        );
        assert_eq!(host("id.example.com.").name, "id.example.com");
        for bad in [
            "",
            "a b",
            "x@y",
            "a/b",
            "[::1]:80",
            "a..b",
            "-a.com",
            "a.com:99999",
            "a.com:x",
        ] {
            assert!(RequestHost::parse(bad).is_err(), "{bad}");
        }
    }

    /// Found by the `host` fuzz target: names a URL reads as (invalid or other) IPv4 addresses,
    /// or with invalid punycode labels, gave issuers that did not parse or named another host.
    #[test]
    fn names_must_be_what_a_url_makes_of_them() {
        for bad in [
            "127.0.07.0.0.1",
            "1.2.3",
            "0127.0.0.1",
            "a.0x7f",
            "x.0x",
            "example.123",
            "256.0.0.1",
            "xn--n.localhost--7",
            "xn--n.example.com",
        ] {
            assert!(RequestHost::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "127.0.0.1:8787",
            "10.0.0.1",
            "a1.example.com",
            "123.example.com",
        ] {
            let host = host(good);
            let url = url::Url::parse(&issuer_for(&host, false)).unwrap();
            assert_eq!(url.host_str(), Some(host.name.as_str()), "{good}");
        }
    }

    #[test]
    fn classifies_platform_tenant_and_custom_hosts() {
        let base = "id.example.com";
        assert_eq!(
            classify_host(&host("id.example.com"), base),
            HostKind::Platform
        );
        assert_eq!(
            classify_host(&host("acme.id.example.com"), base),
            HostKind::TenantSlug("acme".into())
        );
        assert_eq!(
            classify_host(&host("a.b.id.example.com"), base),
            HostKind::CustomDomain("a.b.id.example.com".into())
        );
        assert_eq!(
            classify_host(&host("login.acme.org"), base),
            HostKind::CustomDomain("login.acme.org".into())
        );
        // A look-alike suffix is not a subdomain of the base.
        assert_eq!(
            classify_host(&host("evilid.example.com"), base),
            HostKind::CustomDomain("evilid.example.com".into())
        );
        assert_eq!(
            classify_host(&host("demo.localhost:8787"), "localhost"),
            HostKind::TenantSlug("demo".into())
        );
        assert_eq!(
            classify_host(&host("localhost:8787"), "localhost"),
            HostKind::Platform
        );
    }

    #[test]
    fn a_tenant_issuer_without_a_request_is_the_recorded_one_while_it_still_serves_the_tenant() {
        let domains = vec!["id.acme.com".to_string()];
        let none: Vec<String> = vec![];
        // Recorded on the slug host (with the dev server's port), or on a custom domain.
        assert_eq!(
            tenant_issuer(
                Some("http://acme.localhost:8787"),
                "acme",
                &none,
                "localhost"
            ),
            "http://acme.localhost:8787"
        );
        assert_eq!(
            tenant_issuer(Some("https://id.acme.com"), "acme", &domains, "id.test"),
            "https://id.acme.com"
        );
        // A domain the tenant no longer has, another tenant's host, the platform, or not an
        // issuer at all: the tenant's own host instead.
        assert_eq!(
            tenant_issuer(Some("https://id.acme.com"), "acme", &none, "id.test"),
            "https://acme.id.test"
        );
        for recorded in [
            "https://globex.id.test",
            "https://id.test",
            "http://acme.id.test",
            "https://acme.id.test/admin",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                tenant_issuer(Some(recorded), "acme", &none, "id.test"),
                "https://acme.id.test",
                "{recorded}"
            );
        }
        assert_eq!(
            tenant_issuer(None, "acme", &domains, "id.test"),
            "https://id.acme.com"
        );
        assert_eq!(
            tenant_issuer(None, "acme", &none, "localhost"),
            "http://acme.localhost"
        );
    }

    #[test]
    fn issuer_is_https_except_on_loopback() {
        assert_eq!(
            issuer_for(&host("acme.id.example.com"), false),
            "https://acme.id.example.com"
        );
        assert_eq!(
            issuer_for(&host("demo.localhost:8787"), false),
            "http://demo.localhost:8787"
        );
        assert_eq!(
            issuer_for(&host("demo.localhost:8787"), true),
            "https://demo.localhost:8787"
        );
    }

    #[test]
    fn slug_rules() {
        assert!(validate_slug("acme").is_ok());
        assert!(validate_slug("team-42").is_ok());
        assert_eq!(validate_slug("a"), Err(SlugError::Syntax));
        assert_eq!(validate_slug("Acme"), Err(SlugError::Syntax));
        assert_eq!(validate_slug("-acme"), Err(SlugError::Syntax));
        assert_eq!(validate_slug("xn--acme"), Err(SlugError::Syntax));
        assert_eq!(validate_slug("www"), Err(SlugError::Reserved));
    }
}
