//! [`Backend`] on the Workers D1 binding: the primary, or a Sessions API session that may read
//! from a replica.

use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result};

use super::{Backend, LocalFuture};
use crate::storage::db::{Param, QueryResult, Statement, StorageError};

pub enum D1 {
    /// The database binding: every query goes to the primary.
    Primary(D1Database),
    /// A session (`withSession("first-unconstrained")`): its first query may be served by the
    /// nearest replica, and later ones see at least what it saw.
    Session(D1DatabaseSession),
}

impl D1 {
    /// A session whose reads may come from a replica.
    pub fn replica_session(d1: &D1Database) -> Result<Self, StorageError> {
        d1.with_session(Some("first-unconstrained"))
            .map(D1::Session)
            .map_err(failed)
    }

    fn prepare(&self, sql: &str) -> D1PreparedStatement {
        match self {
            D1::Primary(d1) => d1.prepare(sql),
            D1::Session(session) => session.prepare(sql),
        }
    }

    async fn batch(&self, statements: Vec<D1PreparedStatement>) -> worker::Result<Vec<D1Result>> {
        match self {
            D1::Primary(d1) => d1.batch(statements).await,
            D1::Session(session) => session.batch(statements).await,
        }
    }
}

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
                .map(|s| {
                    let params: Vec<JsValue> = s.params.iter().map(to_js).collect();
                    self.prepare(&s.sql).bind(&params).map_err(failed)
                })
                .collect::<Result<Vec<_>, _>>()?;
            // One statement needs no transaction: `all` is D1's plain query call.
            let results = if prepared.len() == 1 {
                let single = prepared.into_iter().next().expect("one statement");
                vec![single.all().await.map_err(failed)?]
            } else {
                self.batch(prepared).await.map_err(failed)?
            };
            results.iter().map(read).collect()
        })
    }
}
