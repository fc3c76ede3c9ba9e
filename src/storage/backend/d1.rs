//! [`Backend`] on the Workers D1 binding: the primary, or a Sessions API session that may read
//! from a replica.

use std::cell::OnceCell;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement};

use super::{d1_answer, Backend, LocalFuture};
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

    /// The JS object whose `batch` runs statements: the database, or the replica session.
    fn batcher(&self) -> &Batcher {
        let js: &JsValue = match self {
            D1::Primary(d1) => d1.as_ref(),
            D1::Replica { d1, session } => match session_of(d1, session) {
                Some(session) => session.as_ref(),
                None => d1.as_ref(),
            },
        };
        js.unchecked_ref()
    }
}

#[wasm_bindgen]
extern "C" {
    /// A `D1Database` or `D1DatabaseSession`, seen only for its `batch` method: worker's own
    /// wrapper turns every result row into Rust through serde-wasm-bindgen, one JS call per
    /// column, which was most of the Worker's own CPU on a D1 query.
    type Batcher;
    #[wasm_bindgen(method, catch)]
    fn batch(this: &Batcher, statements: Array) -> Result<Promise, JsValue>;

    /// A bound `D1PreparedStatement`, for its `all` method.
    type Query;
    #[wasm_bindgen(method, catch)]
    fn all(this: &Query) -> Result<Promise, JsValue>;
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

/// A rejected D1 call: its message and, for D1's errors, the cause SQLite gave
/// ("UNIQUE constraint failed: …"), which `StorageError::classify` reads.
fn rejected(e: JsValue) -> StorageError {
    let text = |v: &JsValue| v.as_string().unwrap_or_else(|| format!("{v:?}"));
    let reason = match e.dyn_ref::<js_sys::Error>() {
        Some(error) => {
            let message = String::from(error.message());
            let cause = error.cause();
            match cause.dyn_ref::<js_sys::Error>() {
                Some(cause) => format!("{message}: {}", String::from(cause.message())),
                None if cause.is_undefined() => message,
                None => format!("{message}: {}", text(&cause)),
            }
        }
        None => text(&e),
    };
    StorageError::classify(format!("D1: {reason}"))
}

/// D1's answer (one result object, or the array of a batch) as JSON text, in one
/// `JSON.stringify` and one string crossing; `d1_answer` reads it.
fn stringify(answer: &JsValue) -> Result<String, StorageError> {
    Ok(String::from(
        js_sys::JSON::stringify(answer).map_err(rejected)?,
    ))
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
            if let [single] = prepared.as_slice() {
                let query: &Query = single.inner().unchecked_ref();
                let answer = JsFuture::from(query.all().map_err(rejected)?)
                    .await
                    .map_err(rejected)?;
                return Ok(vec![d1_answer::one(&stringify(&answer)?)?]);
            }
            let statements: Array = prepared.iter().map(|p| JsValue::from(p.inner())).collect();
            let answers = JsFuture::from(self.batcher().batch(statements).map_err(rejected)?)
                .await
                .map_err(rejected)?;
            d1_answer::batch(&stringify(&answers)?)
        })
    }
}
