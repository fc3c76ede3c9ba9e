//! Where to send a person after they sign in (`next`): a path on the tenant's own origin, or the
//! account page.
//!
//! `next` comes from the query string, so it is attacker-controlled. Prefix checks are not
//! enough: browsers strip TAB, CR and LF from URLs and treat `\` like `/`, so `/\t/evil.example`
//! passes "starts with `/` but not `//`" and still lands on `//evil.example`. The rule here is
//! positive instead: the value must contain no control character or whitespace at all, must be
//! a path, and must resolve against the issuer to the issuer's own origin; what is returned is
//! the resolved URL's path, query and fragment, re-serialized by the URL parser.

use url::Url;

/// Where sign-in continues when `next` is absent or refused.
pub const DEFAULT_NEXT: &str = "/account";

/// The same-origin path to continue to, or [`DEFAULT_NEXT`].
pub fn safe_next(next: Option<&str>, issuer: &str) -> String {
    next.and_then(|n| same_origin_path(n, issuer))
        .unwrap_or_else(|| DEFAULT_NEXT.to_string())
}

fn same_origin_path(next: &str, issuer: &str) -> Option<String> {
    let plain = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if !plain {
        return None;
    }
    let base = Url::parse(issuer).ok()?;
    let resolved = base.join(next).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let mut out = resolved.path().to_string();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = resolved.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://acme.id.example.com";

    #[test]
    fn same_origin_paths_are_kept() {
        for ok in [
            "/account",
            "/authorize/resume?interaction=abc",
            "/admin#users",
            "/a/b?x=1&y=%2F%2Fevil",
        ] {
            assert_eq!(safe_next(Some(ok), ISSUER), ok, "{ok}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_origin_falls_back() {
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "\\/evil.example",
            "https://evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            " /account",
            "/account\u{0}",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
        ] {
            assert_eq!(safe_next(Some(bad), ISSUER), DEFAULT_NEXT, "{bad:?}");
        }
        assert_eq!(safe_next(None, ISSUER), DEFAULT_NEXT);
    }

    #[test]
    fn dot_segments_stay_on_the_origin() {
        assert_eq!(safe_next(Some("/../../account"), ISSUER), "/account");
    }

    #[test]
    fn local_issuers_work() {
        assert_eq!(
            safe_next(Some("/account?x=1"), "http://acme.localhost:8787"),
            "/account?x=1"
        );
    }
}
