//! What an admin submits about a group: its name, as apps match it in the `groups` claim, and
//! the friendly name people see.

use crate::validation::{field_error, plain_text, FieldError};

/// Group names appear in the `groups` claim, where apps match them: keep them simple.
pub fn name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim().to_string();
    plain_text("name", &name)?;
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(field_error(
            "name",
            "1 to 64 letters, digits, dashes, dots or underscores",
        ))
    }
}

/// The name the console and pickers show: any script, but nothing hidden or reordering.
pub fn friendly_name(raw: &str) -> Result<String, FieldError> {
    let f = raw.trim();
    plain_text("friendly_name", f)?;
    if f.is_empty() || f.chars().count() > 100 {
        return Err(field_error("friendly_name", "1 to 100 characters"));
    }
    Ok(f.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_simple_and_friendly_names_visible() {
        assert_eq!(name(" staff ").unwrap(), "staff");
        assert_eq!(name("has space").unwrap_err().field, "name");
        let e = name("staff\u{202E}").unwrap_err();
        assert!(e.message.contains("U+202E"), "{}", e.message);
        assert_eq!(friendly_name("Équipe R&D").unwrap(), "Équipe R&D");
        assert_eq!(
            friendly_name("Admins\u{202E}").unwrap_err().field,
            "friendly_name"
        );
        assert_eq!(friendly_name("a\u{1}b").unwrap_err().field, "friendly_name");
        assert_eq!(friendly_name(" ").unwrap_err().field, "friendly_name");
    }
}
