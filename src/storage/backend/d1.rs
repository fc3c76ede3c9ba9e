//! [`Backend`] on the Workers D1 binding.

use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::{Backend, LocalFuture};
use crate::storage::db::{Param, QueryResult, Statement, StorageError};

pub struct D1(pub D1Database);

fn to_js(param: &Param) -> JsValue {
    match param {
        Param::Text(s) => JsValue::from_str(s),
        // D1 numbers are f64: i64 timestamps and counters are exact below 2^53.
        Param::Int(n) => JsValue::from_f64(*n as f64),
        Param::Null => JsValue::null(),
    }
}

fn failed(e: worker::Error) -> StorageError {
    StorageError::classify(format!("D1: {e}"))
}

fn prepare(d1: &D1Database, statement: &Statement) -> Result<D1PreparedStatement, StorageError> {
    let params: Vec<JsValue> = statement.params.iter().map(to_js).collect();
    d1.prepare(&statement.sql).bind(&params).map_err(failed)
}

/// Rows come back as JS objects; safe integers read as i64 (serde-wasm-bindgen), so rows
/// deserialize the same as the SQLite backend's.
fn read(result: &D1Result) -> Result<QueryResult, StorageError> {
    let rows = result.results::<Map<String, Value>>().map_err(failed)?;
    let changes = result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0) as u64;
    Ok(QueryResult { rows, changes })
}

impl Backend for D1 {
    fn execute(
        &self,
        statements: Vec<Statement>,
    ) -> LocalFuture<'_, Result<Vec<QueryResult>, StorageError>> {
        Box::pin(async move {
            let prepared = statements
                .iter()
                .map(|s| prepare(&self.0, s))
                .collect::<Result<Vec<_>, _>>()?;
            // One statement needs no transaction: `all` is D1's plain query call.
            let results = if prepared.len() == 1 {
                let single = prepared.into_iter().next().expect("one statement");
                vec![single.all().await.map_err(failed)?]
            } else {
                self.0.batch(prepared).await.map_err(failed)?
            };
            results.iter().map(read).collect()
        })
    }
}
