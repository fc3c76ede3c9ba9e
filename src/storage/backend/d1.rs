//! [`Backend`] on the Workers D1 binding: the primary, or a Sessions API session that may read
//! from a replica.

use std::cell::OnceCell;

use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result};

use super::{Backend, LocalFuture};
use crate::storage::db::{Param, QueryResult, Statement, StorageError};

pub enum D1 {
    /// The database binding: every query goes to the primary.
    Primary(D1Database),
    /// Reads through a Sessions API session (`withSession("first-unconstrained")`): its first
    /// query may be served by the nearest replica, later ones see at least what it saw. The
    /// session is opened on first use, so requests that never read from a replica pay nothing.
    Replica {
        d1: D1Database,
        session: OnceCell<Option<D1DatabaseSession>>,
    },
}

impl D1 {
    /// A replica reader over (another handle to) the database binding.
    pub fn replica(d1: D1Database) -> Self {
        D1::Replica {
            d1,
            session: OnceCell::new(),
        }
    }

    fn prepare(&self, sql: &str) -> D1PreparedStatement {
        match self {
            D1::Primary(d1) => d1.prepare(sql),
            D1::Replica { d1, session } => match session_of(d1, session) {
                Some(session) => session.prepare(sql),
                None => d1.prepare(sql),
            },
        }
    }

    async fn batch(&self, statements: Vec<D1PreparedStatement>) -> worker::Result<Vec<D1Result>> {
        match self {
            D1::Primary(d1) => d1.batch(statements).await,
            D1::Replica { d1, session } => match session_of(d1, session) {
                Some(session) => session.batch(statements).await,
                None => d1.batch(statements).await,
            },
        }
    }
}

/// The replica session, opened once; without the Sessions API (an older runtime) reads go to
/// the primary, as they would without replication.
fn session_of<'a>(
    d1: &D1Database,
    session: &'a OnceCell<Option<D1DatabaseSession>>,
) -> Option<&'a D1DatabaseSession> {
    session
        .get_or_init(|| match d1.with_session(Some("first-unconstrained")) {
            Ok(s) => Some(s),
            Err(e) => {
                worker::console_error!("D1 sessions unavailable, reading the primary: {e}");
                None
            }
        })
        .as_ref()
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
