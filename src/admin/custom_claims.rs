//! Custom claims an admin attaches to a user or a group. They are released with the `profile`
//! scope (see `oidc::claims`), so they may never take the name of a claim the provider sets
//! itself: a group claim called `email` or `sub` would let whoever edits groups impersonate.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::oidc::claims::is_provider_claim;
use crate::validation::{field_error, plain_multiline_text, plain_text, FieldError};

pub const MAX_CLAIMS: usize = 50;
/// The JSON of all of one subject's custom claims; tokens must stay small (cookies, headers).
pub const MAX_JSON_BYTES: usize = 4096;

/// Accepted as an object (`{"department": "R&D"}`) or as Pocket ID's list of key/value pairs.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CustomClaimsInput {
    Object(Map<String, Value>),
    Pairs(Vec<Pair>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    pub key: String,
    pub value: Value,
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    (1..=64).contains(&name.len())
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
}

/// Every string in a claim value (nested ones too) is shown in the admin console and handed to
/// apps, which show it: no hidden or reordering characters there either. Object keys inside a
/// value count as strings too.
fn visible_strings(value: &Value) -> Result<(), FieldError> {
    match value {
        Value::String(s) => plain_multiline_text("custom_claims", s),
        Value::Array(items) => items.iter().try_for_each(visible_strings),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            plain_text("custom_claims", k)?;
            visible_strings(v)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Validates custom claims; returns them as the object stored in D1.
pub fn validate(input: CustomClaimsInput) -> Result<Map<String, Value>, FieldError> {
    let pairs: Vec<(String, Value)> = match input {
        CustomClaimsInput::Object(map) => map.into_iter().collect(),
        CustomClaimsInput::Pairs(list) => {
            let mut seen = std::collections::BTreeSet::new();
            let mut out = Vec::with_capacity(list.len());
            for p in list {
                if !seen.insert(p.key.clone()) {
                    return Err(field_error(
                        "custom_claims",
                        format!("{} appears twice", p.key),
                    ));
                }
                out.push((p.key, p.value));
            }
            out
        }
    };
    if pairs.len() > MAX_CLAIMS {
        return Err(field_error(
            "custom_claims",
            format!("at most {MAX_CLAIMS} claims"),
        ));
    }
    let mut map = Map::new();
    for (name, value) in pairs {
        plain_text("custom_claims", &name)?;
        if !valid_name(&name) {
            return Err(field_error(
                "custom_claims",
                format!("{name:?} is not a claim name: 1 to 64 letters, digits, _ - . : starting with a letter"),
            ));
        }
        if is_provider_claim(&name) {
            return Err(field_error(
                "custom_claims",
                format!("{name} is set by the provider and cannot be a custom claim"),
            ));
        }
        if value.is_null() {
            return Err(field_error(
                "custom_claims",
                format!("{name} has no value (remove it instead)"),
            ));
        }
        visible_strings(&value)?;
        map.insert(name, value);
    }
    if Value::Object(map.clone()).to_string().len() > MAX_JSON_BYTES {
        return Err(field_error(
            "custom_claims",
            format!("at most {MAX_JSON_BYTES} bytes of JSON in all"),
        ));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<Map<String, Value>, FieldError> {
        validate(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn objects_and_pocket_id_pairs_are_both_accepted() {
        let a = check(json!({"department": "R&D", "level": 3})).unwrap();
        let b = check(json!([{"key": "department", "value": "R&D"}, {"key": "level", "value": 3}]))
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn provider_claims_and_bad_names_are_refused() {
        for name in [
            "sub",
            "email",
            "groups",
            "preferred_username",
            "nonce",
            "iss",
        ] {
            assert!(check(json!({ name: "x" })).is_err(), "{name}");
        }
        for name in ["", "1abc", "has space", "ümlaut", &"x".repeat(65)] {
            assert!(check(json!({ name: "x" })).is_err(), "{name:?}");
        }
        assert!(check(json!({"a": null})).is_err());
        assert!(check(json!([{"key": "a", "value": 1}, {"key": "a", "value": 2}])).is_err());
    }

    #[test]
    fn hidden_characters_are_refused_in_names_and_values() {
        let e = check(json!({"team\u{202E}": "x"})).unwrap_err();
        assert!(e.message.contains("U+202E"), "{}", e.message);
        assert!(check(json!({"team": "evil\u{202E}moc"})).is_err());
        assert!(check(json!({"team": ["ok", "zero\u{200B}width"]})).is_err());
        assert!(check(json!({"address": {"street\u{2066}": "x"}})).is_err());
        assert!(check(json!({"address": {"formatted": "1 Main St\nSpringfield"}})).is_ok());
    }

    #[test]
    fn size_limits_hold() {
        let many: Map<String, Value> = (0..51).map(|i| (format!("c{i}"), json!(i))).collect();
        assert!(check(Value::Object(many)).is_err());
        assert!(check(json!({"big": "x".repeat(5000)})).is_err());
        assert!(check(json!({"nested": {"a": [1, 2, 3]}})).is_ok());
    }
}
