//! Reading D1's answers: the JSON text of a query's result object (`{results, meta}`) or of a
//! batch's array of them, as the Worker's D1 backend gets it from one `JSON.stringify`. Pure,
//! so it is tested natively; worker's own wrapper converted every row column by column through
//! serde-wasm-bindgen, one call out of the wasm per column, most of a query's CPU in the Worker.
//!
//! D1 rows hold text, integers (exact below 2^53: D1's numbers are f64) and NULL (no BLOB
//! column exists), which JSON carries unchanged; integers read as JSON integers, as
//! serde-wasm-bindgen read safe integers.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::storage::db::{QueryResult, StorageError};

/// One statement's result as D1 answers it.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    results: Vec<Map<String, Value>>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    changes: Option<u64>,
}

impl From<Answer> for QueryResult {
    fn from(answer: Answer) -> Self {
        QueryResult {
            rows: answer.results,
            changes: answer.meta.and_then(|m| m.changes).unwrap_or(0),
        }
    }
}

fn unreadable(e: serde_json::Error) -> StorageError {
    StorageError::classify(format!("D1: an answer that does not read: {e}"))
}

/// The result of one statement (`D1PreparedStatement.all()`).
pub fn one(json: &str) -> Result<QueryResult, StorageError> {
    serde_json::from_str::<Answer>(json)
        .map(QueryResult::from)
        .map_err(unreadable)
}

/// The results of a batch (`D1Database.batch()`), in statement order.
pub fn batch(json: &str) -> Result<Vec<QueryResult>, StorageError> {
    let answers: Vec<Answer> = serde_json::from_str(json).map_err(unreadable)?;
    Ok(answers.into_iter().map(QueryResult::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StorageFailure;
    use serde_json::json;

    #[test]
    fn rows_and_changes_read_as_d1_answers_them() {
        // As D1 answers a SELECT: rows as objects, integers, text and NULL; meta with more
        // fields than are read.
        let answer = r#"{"success":true,"meta":{"duration":0.2,"changes":0,"rows_read":2},
            "results":[{"id":"a","n":9007199254740991,"name":null},{"id":"b","n":-3,"name":"Bé"}]}"#;
        let read = one(answer).unwrap();
        assert_eq!(read.changes, 0);
        assert_eq!(read.rows.len(), 2);
        assert_eq!(
            Value::Object(read.rows[0].clone()),
            json!({"id": "a", "n": 9007199254740991_i64, "name": null})
        );
        assert_eq!(read.rows[1]["n"].as_i64(), Some(-3));
        assert_eq!(read.rows[1]["name"], "Bé");
    }

    #[test]
    fn a_batch_answers_each_statement_in_order_with_its_changes() {
        let answers = r#"[{"results":[],"meta":{"changes":1}},
            {"results":[{"x":1}],"meta":{"changes":0}},{"results":[]}]"#;
        let read = batch(answers).unwrap();
        assert_eq!(
            read.iter().map(|r| r.changes).collect::<Vec<_>>(),
            [1, 0, 0]
        );
        assert_eq!(read[1].rows[0]["x"].as_i64(), Some(1));
        assert!(read[2].rows.is_empty(), "no meta reads as no change");
    }

    #[test]
    fn an_answer_that_does_not_read_is_a_storage_failure() {
        for text in ["", "null", r#"{"results":"nope"}"#, r#"[{"results":[1]}]"#] {
            let e = one(text).err().or_else(|| batch(text).err()).expect(text);
            assert_eq!(e.kind, StorageFailure::Failed, "{text}");
            assert!(e.reason.contains("does not read"), "{text}: {}", e.reason);
        }
    }
}
