//! The `Host` header: every request's tenant is chosen from it (`RequestHost::parse`, then
//! `classify_host` against the base domain, `issuer_for`), and the operator API parses custom
//! domains with the same function.
//!
//! Input: the header value.
#![no_main]

use edge_id::tenancy::{classify_host, issuer_for, validate_slug, HostKind, RequestHost};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Header values reach the Worker as strings; the runtime replaces invalid UTF-8.
    let header = String::from_utf8_lossy(data);
    let Ok(host) = RequestHost::parse(&header) else {
        return;
    };
    assert!(!host.name.is_empty() && host.name.len() <= 253);
    assert!(!host.name.ends_with('.') && !host.name.starts_with('.'));
    assert!(host
        .name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
    // The authority re-parses to the same host.
    assert_eq!(RequestHost::parse(&host.authority()), Ok(host.clone()));

    for base in ["id.example.com", "localhost", "ID.Example.COM.", &host.name] {
        match classify_host(&host, base) {
            HostKind::Platform => {
                assert_eq!(host.name, base.trim_end_matches('.').to_ascii_lowercase())
            }
            HostKind::TenantSlug(slug) => {
                assert!(validate_slug(&slug).is_ok());
                assert_eq!(
                    host.name,
                    format!("{slug}.{}", base.trim_end_matches('.').to_ascii_lowercase())
                );
            }
            HostKind::CustomDomain(name) => assert_eq!(name, host.name),
        }
    }

    for https in [false, true] {
        let issuer = issuer_for(&host, https);
        assert!(https || host.is_loopback() || issuer.starts_with("https://"));
        // The issuer is a URL whose host is exactly the request's host (no userinfo, path...).
        let url = url::Url::parse(&issuer).expect("the issuer is a URL");
        assert_eq!(url.host_str(), Some(host.name.as_str()));
        assert_eq!(url.path(), "/");
        assert!(url.query().is_none() && url.username().is_empty());
    }
});
