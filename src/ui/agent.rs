//! A person-readable summary of where a request came from ("Chrome on Windows · Berlin, DE"),
//! for pages that ask a person to recognise a request (approving a sign-in on another device).
//! User agents lie freely, so this is a hint for a human, never an input to a decision.

/// "Browser on platform" from a user agent; "Unknown browser" when nothing is recognised.
pub fn browser(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    // Order matters: Edge and Opera say Chrome, Chrome says Safari.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let platform = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("Windows", "Windows"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, platform) {
        (Some(b), Some(p)) => format!("{b} on {p}"),
        (Some(b), None) => b.to_string(),
        (None, Some(p)) => format!("A browser on {p}"),
        (None, None) => "Unknown browser".to_string(),
    }
}

/// "City, CC", "CC" or `None`, from Cloudflare's request geolocation.
pub fn place(city: Option<&str>, country: Option<&str>) -> Option<String> {
    match (
        city.filter(|c| !c.is_empty()),
        country.filter(|c| !c.is_empty()),
    ) {
        (Some(city), Some(country)) => Some(format!("{city}, {country}")),
        (None, Some(country)) => Some(country.to_string()),
        (Some(city), None) => Some(city.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_platform() {
        for (ua, expected) in [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0", "Edge on Windows"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on macOS"),
            ("Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.5.0", "Unknown browser"),
        ] {
            assert_eq!(browser(Some(ua)), expected, "{ua}");
        }
        assert_eq!(browser(None), "Unknown browser");
    }

    #[test]
    fn places_use_what_is_known() {
        assert_eq!(
            place(Some("Berlin"), Some("DE")).as_deref(),
            Some("Berlin, DE")
        );
        assert_eq!(place(None, Some("DE")).as_deref(), Some("DE"));
        assert_eq!(place(Some(""), None), None);
    }
}
