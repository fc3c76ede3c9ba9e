//! WebFinger issuer discovery (RFC 7033; OpenID Connect Discovery 1.0 §2): a client that knows
//! only a person's address (`acct:ada@example.com`, as Tailscale asks) learns which issuer to
//! use. Every resource of a tenant host gets the same answer, the tenant's issuer: the answer
//! says nothing about whether such a person exists here.

use serde::Serialize;

/// The link relation of an OpenID Connect issuer.
pub const ISSUER_REL: &str = "http://openid.net/specs/connect/1.0/issuer";

/// A JSON Resource Descriptor (RFC 7033 §4.4), served as `application/jrd+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    pub subject: String,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub rel: &'static str,
    pub href: String,
}

/// Why a query gets 400 (RFC 7033 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery(pub &'static str);

/// The answer to `?resource=…&rel=…` (query pairs as sent) on the host of `issuer`.
pub fn describe(pairs: &[(String, String)], issuer: &str) -> Result<Descriptor, BadQuery> {
    let mut resources = pairs.iter().filter(|(k, _)| k == "resource");
    let resource = match (resources.next(), resources.next()) {
        (Some((_, r)), None) if !r.is_empty() => r,
        (None, _) | (Some(_), None) => return Err(BadQuery("the resource parameter is required")),
        (Some(_), Some(_)) => return Err(BadQuery("resource may be given once")),
    };
    if !is_account_or_url(resource) {
        return Err(BadQuery("resource must be an acct: URI or an https URL"));
    }
    // Only the relations asked for (all of ours when none is asked).
    let asked: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "rel")
        .map(|(_, v)| v.as_str())
        .collect();
    let links = (asked.is_empty() || asked.contains(&ISSUER_REL))
        .then(|| Link {
            rel: ISSUER_REL,
            href: issuer.to_string(),
        })
        .into_iter()
        .collect();
    Ok(Descriptor {
        subject: resource.clone(),
        links,
    })
}

/// `acct:user@host` (RFC 7565) or an absolute https URL, without spaces or control characters.
fn is_account_or_url(resource: &str) -> bool {
    if resource.len() > 512
        || resource
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return false;
    }
    if let Some(account) = resource.strip_prefix("acct:") {
        return account
            .rsplit_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty());
    }
    url::Url::parse(resource).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://acme.id.example.com";

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn any_account_or_url_of_the_tenant_names_its_issuer() {
        for resource in [
            "acct:ada@example.com",
            "acct:nobody@elsewhere.org",
            "https://acme.id.example.com/ada",
        ] {
            let d = describe(&query(&[("resource", resource)]), ISSUER).unwrap();
            assert_eq!(d.subject, resource);
            assert_eq!(
                d.links,
                [Link {
                    rel: ISSUER_REL,
                    href: ISSUER.into()
                }]
            );
        }
        let asked = query(&[("resource", "acct:ada@example.com"), ("rel", ISSUER_REL)]);
        assert_eq!(describe(&asked, ISSUER).unwrap().links.len(), 1);
    }

    #[test]
    fn other_relations_get_no_links() {
        let other = query(&[
            ("resource", "acct:ada@example.com"),
            ("rel", "http://webfinger.net/rel/avatar"),
        ]);
        assert!(describe(&other, ISSUER).unwrap().links.is_empty());
    }

    #[test]
    fn a_missing_repeated_or_odd_resource_is_a_bad_query() {
        for pairs in [
            query(&[]),
            query(&[("resource", "")]),
            query(&[("resource", "acct:a@b"), ("resource", "acct:c@d")]),
            query(&[("resource", "acct:nohost")]),
            query(&[("resource", "acct:@host")]),
            query(&[("resource", "http://plain.example.com/")]),
            query(&[("resource", "mailto:ada@example.com")]),
            query(&[("resource", "acct:ada@exa mple.com")]),
        ] {
            assert!(describe(&pairs, ISSUER).is_err(), "{pairs:?}");
        }
    }
}
