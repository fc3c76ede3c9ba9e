//! The one validation error type of the pure core: which field is wrong and why, in words a
//! person can act on. The HTTP layer turns it into a 400 whose JSON names the field.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

pub fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Whether a character can make text show something other than what it is: Unicode control
/// characters (Cc: NUL, ESC, newlines...), and the invisible format characters that reorder or
/// hide text. A name holding U+202E (RIGHT-TO-LEFT OVERRIDE) shows its tail reversed, so
/// "evil\u{202E}moc.elgoog" reads as "evilgoogle.com" on a consent page or in the admin
/// console; zero-width characters make two different names look identical.
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}'                // ARABIC LETTER MARK (bidi)
            | '\u{200B}'..='\u{200F}' // zero-width space/non-joiner/joiner, LRM, RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, bidi isolates (2066-2069)
            | '\u{FEFF}'              // zero-width no-break space (BOM)
        )
}

/// Refuses text a person or client sets and others are shown (names of users, groups, clients,
/// tenants, passkeys and API keys; claim names) when it holds a character [`is_deceptive`]
/// finds, naming `field`. Every validator of such text calls this one function.
pub fn plain_text(field: &'static str, value: &str) -> Result<(), FieldError> {
    check(field, value, is_deceptive)
}

/// [`plain_text`] for free text that may span lines (string values of custom claims: the
/// standard `address.formatted` claim separates its lines with `\n`): tabs and line breaks are
/// allowed, every other character [`is_deceptive`] finds is not.
pub fn plain_multiline_text(field: &'static str, value: &str) -> Result<(), FieldError> {
    check(field, value, |c| {
        is_deceptive(c) && !matches!(c, '\t' | '\n' | '\r')
    })
}

fn check(
    field: &'static str,
    value: &str,
    refused: impl Fn(char) -> bool,
) -> Result<(), FieldError> {
    match value.chars().find(|c| refused(*c)) {
        None => Ok(()),
        Some(c) => Err(field_error(
            field,
            format!(
                "must not contain control or invisible formatting characters (found U+{:04X})",
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_in_any_script_pass() {
        for name in [
            "Ada Lovelace",
            "Zoë O'Brien-Smith",
            "山田 太郎",
            "محمد",
            "שלום",
            "Ἀριστοτέλης",
            "Grace 🚢",
            "R&D <team>",
        ] {
            assert_eq!(plain_text("name", name), Ok(()), "{name}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for c in [
            '\0', '\u{7}', '\t', '\n', '\r', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}',
        ] {
            let e = plain_text("first_name", &format!("Ada{c}Lovelace")).unwrap_err();
            assert_eq!(e.field, "first_name", "{:04X}", u32::from(c));
            assert!(
                e.message.contains(&format!("U+{:04X}", u32::from(c))),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn bidi_controls_are_refused() {
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert!(
                plain_text("name", &format!("evil{c}moc.elgoog")).is_err(),
                "{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{2063}', '\u{FEFF}',
        ] {
            assert!(
                plain_text("name", &format!("ad{c}min")).is_err(),
                "{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn line_and_paragraph_separators_are_refused() {
        for c in ['\u{2028}', '\u{2029}'] {
            assert!(plain_text("name", &format!("a{c}b")).is_err());
            assert!(plain_multiline_text("custom_claims", &format!("a{c}b")).is_err());
        }
    }

    #[test]
    fn multiline_text_allows_line_breaks_and_tabs_only() {
        assert_eq!(
            plain_multiline_text("custom_claims", "1 Main St\r\nSpringfield\tUSA"),
            Ok(())
        );
        for c in ['\0', '\u{1B}', '\u{202E}', '\u{200B}', '\u{FEFF}'] {
            let e = plain_multiline_text("custom_claims", &format!("a{c}b")).unwrap_err();
            assert_eq!(e.field, "custom_claims");
        }
    }
}
