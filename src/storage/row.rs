//! Reading a result row into a typed value, column by column.
//!
//! A row is a map of column name to JSON value (as D1 returns it, and as the SQLite backend
//! builds it). Row types implement [`FromRow`], usually through [`from_row!`], which states the
//! columns once: each field reads the column of its name through [`Column`], chosen by the
//! field's type. Why not `serde::Deserialize`: every derived row type carried serde's visitor
//! machinery (field-name matching, a map loop with an `Option` per field, duplicate and missing
//! field errors), tens of KB of the Worker's wasm for ~60 types; here a row type is a sequence
//! of by-name lookups into a few shared, non-generic readers.
//!
//! The reading rules are serde's, so rows read back as before: a required column that is
//! missing or of another type is an error naming the column; an `Option` column that is missing
//! or NULL is `None`; extra columns are ignored.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A type read from one result row.
pub trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

/// One result row: its columns by name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a Map<String, Value>,
}

impl<'a> Row<'a> {
    pub fn new(columns: &'a Map<String, Value>) -> Self {
        Self { columns }
    }

    /// The column `name` as a `T` (a [`Column`] type: the field it fills usually decides).
    pub fn get<T: Column>(&self, name: &str) -> Result<T> {
        let value = self.columns.get(name);
        T::read(value).ok_or_else(|| mismatch(name, T::KIND, value))
    }

    pub fn text(&self, name: &str) -> Result<String> {
        self.get(name)
    }

    pub fn opt_text(&self, name: &str) -> Result<Option<String>> {
        self.get(name)
    }

    pub fn int(&self, name: &str) -> Result<i64> {
        self.get(name)
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        self.get(name)
    }

    /// A SQLite boolean: 0 or 1 (a JSON boolean reads too); anything else is an error.
    pub fn flag(&self, name: &str) -> Result<bool> {
        self.get(name)
    }

    /// A JSON object stored as text (custom claims): see [`Column`] for `Map`.
    pub fn json_object(&self, name: &str) -> Result<Map<String, Value>> {
        self.get(name)
    }
}

/// The one error of a row that does not read back: which column, what was expected, what was
/// there (never the text itself: a column may hold a secret's hash). Not generic, so the
/// message is built once in the wasm.
fn mismatch(name: &str, expected: &str, found: Option<&Value>) -> Error {
    let found = match found {
        None => "nothing (no such column)".to_string(),
        Some(Value::String(_)) => "text".to_string(),
        Some(Value::Array(_) | Value::Object(_)) => "a JSON value".to_string(),
        Some(scalar) => scalar.to_string(),
    };
    Error::Internal(format!(
        "a stored row does not read back: column `{name}` is not {expected}: found {found}"
    ))
}

/// A value one column holds. `read` gets the column's value (`None`: the row has no such
/// column) and gives `None` when it is not a `Self`.
pub trait Column: Sized {
    /// What the column must hold, for the error message ("an integer").
    const KIND: &'static str;
    fn read(value: Option<&Value>) -> Option<Self>;
}

impl Column for String {
    const KIND: &'static str = "text";
    fn read(value: Option<&Value>) -> Option<Self> {
        value?.as_str().map(str::to_string)
    }
}

impl Column for i64 {
    const KIND: &'static str = "an integer";
    fn read(value: Option<&Value>) -> Option<Self> {
        value?.as_i64()
    }
}

/// SQLite has no booleans: they are stored as 0 or 1, so rows carry real booleans and no
/// caller compares with 1. Any other number is refused rather than guessed.
impl Column for bool {
    const KIND: &'static str = "a boolean (0 or 1)";
    fn read(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Bool(b) => Some(*b),
            n => match n.as_i64()? {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            },
        }
    }
}

/// A JSON object kept as text (custom claims). Text that is not a JSON object (never written
/// by us) reads as an empty object, so one bad row cannot break a sign-in; a column that is not
/// text at all is an error.
impl Column for Map<String, Value> {
    const KIND: &'static str = "text";
    fn read(value: Option<&Value>) -> Option<Self> {
        Some(match serde_json::from_str(value?.as_str()?) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        })
    }
}

/// A missing or NULL column is `None`; anything else must read as a `T`.
impl<T: Column> Column for Option<T> {
    const KIND: &'static str = T::KIND;
    fn read(value: Option<&Value>) -> Option<Self> {
        match value {
            None | Some(Value::Null) => Some(None),
            present => T::read(present).map(Some),
        }
    }
}

/// A whole row as a JSON object (tests and ad-hoc reads that look at a few columns).
impl FromRow for Value {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Value::Object(row.columns.clone()))
    }
}

/// Declares a row type that reads each field from the column of the same name (see
/// [`Column`] for the field types a column can fill). Attributes and docs pass through:
///
/// ```ignore
/// from_row! {
///     #[derive(Debug, Clone)]
///     pub struct Member {
///         pub id: String,
///         /// Unset until the member signs in.
///         pub last_seen: Option<i64>,
///     }
/// }
/// ```
///
/// A row type whose fields do not map one to one onto columns implements [`FromRow`] by hand.
#[macro_export]
macro_rules! from_row {
    ($(
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_attr:meta])* $field_vis:vis $field:ident : $ty:ty),* $(,)?
        }
    )*) => {$(
        $(#[$attr])*
        $vis struct $name {
            $($(#[$field_attr])* $field_vis $field: $ty),*
        }

        impl $crate::storage::row::FromRow for $name {
            fn from_row(row: &$crate::storage::row::Row<'_>) -> $crate::error::Result<Self> {
                Ok(Self {
                    $($field: row.get(stringify!($field))?),*
                })
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn columns(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(map) => map,
            _ => panic!("a row is an object"),
        }
    }

    /// The message of a read that must fail: an internal error naming the column.
    fn refused<T: std::fmt::Debug>(read: Result<T>, column: &str) -> String {
        match read {
            Err(Error::Internal(m)) => {
                assert!(
                    m.starts_with("a stored row does not read back: ")
                        && m.contains(&format!("`{column}`")),
                    "{m}"
                );
                m
            }
            other => panic!("{column} read back: {other:?}"),
        }
    }

    #[test]
    fn text_reads_strings_and_opt_text_also_null_or_missing() {
        let c = columns(json!({ "a": "x", "n": null, "i": 3 }));
        let row = Row::new(&c);
        assert_eq!(row.text("a").unwrap(), "x");
        assert_eq!(row.opt_text("a").unwrap().as_deref(), Some("x"));
        assert_eq!(row.opt_text("n").unwrap(), None);
        assert_eq!(row.opt_text("gone").unwrap(), None);
        refused(row.text("n"), "n");
        refused(row.text("i"), "i");
        refused(row.opt_text("i"), "i");
        let m = refused(row.text("gone"), "gone");
        assert!(m.contains("no such column"), "{m}");
    }

    #[test]
    fn int_reads_integers_only_and_opt_int_also_null_or_missing() {
        let c = columns(json!({ "i": -7, "s": "7", "f": 1.5, "n": null, "big": u64::MAX }));
        let row = Row::new(&c);
        assert_eq!(row.int("i").unwrap(), -7);
        assert_eq!(row.opt_int("i").unwrap(), Some(-7));
        assert_eq!(row.opt_int("n").unwrap(), None);
        assert_eq!(row.opt_int("gone").unwrap(), None);
        for bad in ["s", "f", "n", "gone", "big"] {
            refused(row.int(bad), bad);
        }
        refused(row.opt_int("s"), "s");
    }

    #[test]
    fn flag_reads_0_or_1_and_refuses_anything_else() {
        let c = columns(json!({
            "one": 1, "zero": 0, "t": true, "f": false, "two": 2, "minus": -1, "s": "1", "n": null
        }));
        let row = Row::new(&c);
        assert!(row.flag("one").unwrap());
        assert!(!row.flag("zero").unwrap());
        assert!(row.flag("t").unwrap());
        assert!(!row.flag("f").unwrap());
        for bad in ["two", "minus", "s", "n", "gone"] {
            refused(row.flag(bad), bad);
        }
        assert_eq!(row.get::<Option<bool>>("n").unwrap(), None);
    }

    #[test]
    fn json_object_reads_objects_and_other_text_as_empty() {
        let c = columns(json!({
            "ok": r#"{"team":"sre"}"#, "array": "[1]", "junk": "not json", "i": 1, "n": null
        }));
        let row = Row::new(&c);
        assert_eq!(row.json_object("ok").unwrap()["team"], "sre");
        assert!(row.json_object("array").unwrap().is_empty());
        assert!(row.json_object("junk").unwrap().is_empty());
        for bad in ["i", "n", "gone"] {
            refused(row.json_object(bad), bad);
        }
    }

    from_row! {
        /// A row type as storage declares them.
        #[derive(Debug, PartialEq)]
        struct Member {
            id: String,
            /// Docs and attributes on fields pass through.
            n: i64,
            note: Option<String>,
            admin: bool,
        }
    }

    #[test]
    fn from_row_reads_each_field_by_its_column_name() {
        // Column order does not matter and columns the type does not name are skipped.
        let c = columns(json!({ "n": 7, "extra": 1, "admin": 1, "note": null, "id": "a" }));
        assert_eq!(
            Member::from_row(&Row::new(&c)).unwrap(),
            Member {
                id: "a".into(),
                n: 7,
                note: None,
                admin: true
            }
        );
        let c = columns(json!({ "id": "a", "n": "7", "admin": 0 }));
        refused(Member::from_row(&Row::new(&c)), "n");
        let c = columns(json!({ "n": 7, "admin": 0 }));
        refused(Member::from_row(&Row::new(&c)), "id");
    }

    #[test]
    fn a_row_reads_whole_as_a_json_object() {
        let c = columns(json!({ "id": "c", "n": 2 }));
        assert_eq!(
            Value::from_row(&Row::new(&c)).unwrap(),
            json!({ "id": "c", "n": 2 })
        );
    }
}
