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

/// The sealed authorization request a sign-in continues to, when `next` (already made safe by
/// [`safe_next`]) resumes one: its login can then issue the code itself.
pub fn waiting_interaction(next: &str) -> Option<String> {
    let url = Url::parse("https://next.invalid").ok()?.join(next).ok()?;
    if url.path() != RESUME_PATH {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| k == "interaction")
        .map(|(_, v)| v.into_owned())
}

/// Where a parked authorization request resumes after sign-in.
pub const RESUME_PATH: &str = "/authorize/resume";

/// How long `next` may be: it can carry a sealed authorization request (with a client's long
/// `state` or an `id_token_hint`), and browsers and Cloudflare take URLs far longer than this.
const MAX_NEXT_LEN: usize = 8192;

fn same_origin_path(next: &str, issuer: &str) -> Option<String> {
    let plain = next.len() <= MAX_NEXT_LEN
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
    fn a_resumption_names_its_waiting_request_and_nothing_else_does() {
        assert_eq!(
            waiting_interaction("/authorize/resume?interaction=abc-_1").as_deref(),
            Some("abc-_1")
        );
        for other in [
            "/account",
            "/authorize/resume",
            "/authorize/resume?other=abc",
            "/authorize/resumex?interaction=abc",
            "/admin?interaction=abc",
        ] {
            assert_eq!(waiting_interaction(other), None, "{other}");
        }
    }

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
