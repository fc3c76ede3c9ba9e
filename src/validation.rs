//! The one validation error type of the pure core: which field is wrong and why, in words a
//! person can act on. The HTTP layer turns it into a 400 whose JSON names the field.
//!
//! Also the ONE strict parser of JSON request bodies, shared by the operator API, the tenant
//! admin API and the account pages. It exists because "fall back to the defaults when the body
//! does not parse" failed open: `{"expires_in_days":"30"}` minted an API key that never
//! expires, and a malformed rotate body rotated every key. Here a body either parses exactly
//! into its type or is refused with the field at fault; an empty body stands for "all
//! defaults" only where the caller says every field is optional.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

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

/// A JSON body that could not be taken as sent: not JSON, not the expected shape, a field of
/// the wrong type, a missing or unknown field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BodyError {
    /// The top-level field at fault, when there is one: the name of the input a form shows, so
    /// the console can mark it (the full path, e.g. `callback_urls[1]`, is in the message).
    pub field: Option<String>,
    pub message: String,
}

impl BodyError {
    fn whole(message: impl Into<String>) -> Self {
        BodyError {
            field: None,
            message: message.into(),
        }
    }
}

/// A body that must be one JSON object: refused when empty.
pub fn parse_json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    if is_blank(body) {
        return Err(BodyError::whole("a JSON object body is required"));
    }
    require_object(body)?;
    parse(body)
}

/// A body whose every field is optional: empty means all defaults; anything else must parse
/// exactly like [`parse_json_object`] (a malformed body never turns into the defaults).
pub fn parse_optional_json_object<T: DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, BodyError> {
    if is_blank(body) {
        return Ok(T::default());
    }
    require_object(body)?;
    parse(body)
}

/// A body that may be any JSON value its type accepts (custom claims take an object or a list
/// of pairs); refused when empty.
pub fn parse_json_value<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    if is_blank(body) {
        return Err(BodyError::whole("a JSON body is required"));
    }
    parse(body)
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option` field: absent is
/// `None`, but an explicit `null` is refused instead of silently meaning "absent" (a CLI that
/// sends `NaN` as `null` must not get a key that never expires).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// serde's derived structs also accept a JSON array (fields by position): refuse it, a body
/// of these APIs is an object with named fields.
fn require_object(body: &[u8]) -> Result<(), BodyError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(BodyError::whole("the body must be a JSON object")),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        describe(e.into_inner(), &path)
    })?;
    // Trailing content after the value (`{...} x`, a second object) is not one JSON value.
    de.end().map_err(|e| describe(e, "."))?;
    Ok(value)
}

fn describe(err: serde_json::Error, path: &str) -> BodyError {
    use serde_json::error::Category;
    let message = without_position(&err);
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            BodyError::whole(format!("the body is not valid JSON: {message}"))
        }
        Category::Data => {
            // serde reports a missing, unknown or repeated field at the enclosing object's
            // path, with the field's name only in the message.
            let named = ["missing field `", "unknown field `", "duplicate field `"]
                .iter()
                .find_map(|prefix| quoted_after(&message, prefix));
            let full_path = match (path, &named) {
                (".", Some(name)) => name.clone(),
                (".", None) => String::new(),
                (p, Some(name)) => format!("{p}.{name}"),
                (p, None) => p.to_string(),
            };
            let field = top_level(&full_path);
            let message = if full_path.is_empty() {
                message
            } else {
                format!("{full_path}: {message}")
            };
            BodyError { field, message }
        }
    }
}

/// serde_json's message without its " at line L column C" suffix (the body is one line here).
fn without_position(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('`')?].to_string())
}

/// `callback_urls[1]` → `callback_urls`, `custom_claims.team` → `custom_claims`.
fn top_level(path: &str) -> Option<String> {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    (end > 0).then(|| path[..end].to_string())
}

/// An API key's name, as the admin console lists it: 1 to 100 visible characters (no bidi or
/// invisible ones), trimmed. The operator API's keys follow the same rule.
pub fn api_key_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    plain_text("name", name)?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(field_error("name", "1 to 100 characters"));
    }
    Ok(name.to_string())
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
    /// The operator's API-key body, as the fail-open finding sent it.
    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Days {
        #[serde(default, deserialize_with = "present")]
        expires_in_days: Option<i64>,
        #[serde(default)]
        name: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Named {
        name: String,
        #[serde(default)]
        urls: Vec<String>,
    }

    fn err<T: DeserializeOwned + Default + std::fmt::Debug>(body: &str) -> BodyError {
        parse_optional_json_object::<T>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn wrongly_typed_numbers_are_refused_naming_the_field() {
        for body in [
            r#"{"expires_in_days":"30"}"#,
            r#"{"expires_in_days":30.5}"#,
            r#"{"expires_in_days":1e30}"#,
            r#"{"expires_in_days":-1e3}"#,
            r#"{"expires_in_days":99999999999999999999}"#,
            r#"{"expires_in_days":true}"#,
            r#"{"expires_in_days":null}"#,
        ] {
            let e = err::<Days>(body);
            assert_eq!(e.field.as_deref(), Some("expires_in_days"), "{body}: {e:?}");
            assert!(e.message.starts_with("expires_in_days: "), "{body}: {e:?}");
            assert!(!e.message.contains("line 1"), "{e:?}");
        }
        assert_eq!(
            parse_optional_json_object::<Days>(br#"{"expires_in_days":30}"#).unwrap(),
            Days {
                expires_in_days: Some(30),
                name: None
            }
        );
    }

    #[test]
    fn malformed_json_is_refused_not_defaulted() {
        for body in [
            r#"{"expires_in_days":30,}"#,
            r#"{"expires_in_days":30"#,
            r#"{expires_in_days:30}"#,
            "{'expires_in_days':30}",
            r#"{"expires_in_days":30} {}"#,
            r#"{"expires_in_days":30}x"#,
        ] {
            let e = err::<Days>(body);
            assert_eq!(e.field, None, "{body}");
            assert!(
                e.message.starts_with("the body is not valid JSON"),
                "{body}: {e:?}"
            );
        }
    }

    #[test]
    fn only_an_object_is_a_body() {
        for body in ["[30]", "30", "null", r#""x""#, "true"] {
            assert_eq!(
                err::<Days>(body).message,
                "the body must be a JSON object",
                "{body}"
            );
        }
        // serde would otherwise fill a struct from an array by position.
        assert!(parse_json_object::<Named>(br#"["x", []]"#).is_err());
    }

    #[test]
    fn empty_body_means_defaults_only_where_everything_is_optional() {
        assert_eq!(
            parse_optional_json_object::<Days>(b"").unwrap(),
            Days::default()
        );
        assert_eq!(
            parse_optional_json_object::<Days>(b" \n").unwrap(),
            Days::default()
        );
        assert_eq!(
            parse_optional_json_object::<Days>(b"{}").unwrap(),
            Days::default()
        );
        let e = parse_json_object::<Named>(b"").unwrap_err();
        assert_eq!(e.field, None);
        assert!(parse_json_value::<serde_json::Value>(b"").is_err());
    }

    #[test]
    fn missing_unknown_and_nested_fields_are_named() {
        let missing = parse_json_object::<Named>(b"{}").unwrap_err();
        assert_eq!(missing.field.as_deref(), Some("name"));
        let unknown = parse_json_object::<Named>(br#"{"name":"a","role":"root"}"#).unwrap_err();
        assert_eq!(unknown.field.as_deref(), Some("role"), "{unknown:?}");
        let nested = parse_json_object::<Named>(br#"{"name":"a","urls":["x",3]}"#).unwrap_err();
        assert_eq!(nested.field.as_deref(), Some("urls"));
        assert!(nested.message.starts_with("urls[1]: "), "{nested:?}");
        let dup = parse_json_object::<Named>(br#"{"name":"a","name":"b"}"#).unwrap_err();
        assert_eq!(dup.field.as_deref(), Some("name"), "{dup:?}");
    }

    #[test]
    fn any_value_bodies_still_parse_strictly() {
        let list: Vec<i64> = parse_json_value(b"[1,2]").unwrap();
        assert_eq!(list, vec![1, 2]);
        assert!(parse_json_value::<Vec<i64>>(b"[1,2,]").is_err());
    }
}
