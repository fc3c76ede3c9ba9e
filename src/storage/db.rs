//! A thin, typed wrapper over the D1 binding.
//!
//! Why a wrapper: every query goes through one place, which (1) converts parameters to the
//! JS values D1 expects (D1 numbers are f64, so i64 timestamps go over as f64, exact below 2^53),
//! (2) maps D1 failures to [`Error::Internal`] once, and (3) counts queries per request so the
//! benchmark can report D1 round trips per endpoint (`x-edge-id-d1-queries` when metrics are on).

use std::cell::Cell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::error::{Error, Result};

/// A bound SQL parameter.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Int(i64),
    Null,
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}
impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}
impl From<&String> for Param {
    fn from(s: &String) -> Self {
        Param::Text(s.clone())
    }
}
impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}
impl From<bool> for Param {
    fn from(b: bool) -> Self {
        Param::Int(b as i64)
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

impl Param {
    fn to_js(&self) -> JsValue {
        match self {
            Param::Text(s) => JsValue::from_str(s),
            Param::Int(n) => JsValue::from_f64(*n as f64),
            Param::Null => JsValue::null(),
        }
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($p:expr),* $(,)?) => { vec![$($crate::storage::db::Param::from($p)),*] };
}

/// The highest `?N` in a SQL text, if it uses numbered parameters.
fn highest_numbered_param(sql: &str) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut highest = None;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'?' {
            let digits: String = bytes[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .map(|c| *c as char)
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                highest = highest.max(Some(n));
            }
        }
    }
    highest
}

/// A statement ready to run alone or in a batch.
pub struct Statement(D1PreparedStatement);

#[derive(Clone)]
pub struct Db {
    d1: Rc<D1Database>,
    queries: Rc<Cell<u32>>,
    /// Wall-clock milliseconds spent waiting for D1 (benchmarks: `x-edge-id-timing`).
    waited_ms: Rc<Cell<f64>>,
}

fn d1_error(e: worker::Error) -> Error {
    Error::Internal(format!("D1: {e}"))
}

impl Db {
    pub fn new(d1: D1Database) -> Self {
        Self {
            d1: Rc::new(d1),
            queries: Rc::new(Cell::new(0)),
            waited_ms: Rc::new(Cell::new(0.0)),
        }
    }

    /// D1 round trips made through this handle (a batch counts once: it is one round trip).
    pub fn round_trips(&self) -> u32 {
        self.queries.get()
    }

    /// Milliseconds spent waiting for D1 through this handle.
    pub fn waited_ms(&self) -> f64 {
        self.waited_ms.get()
    }

    fn count(&self) {
        self.queries.set(self.queries.get() + 1);
    }

    fn waited_since(&self, start: f64) {
        self.waited_ms
            .set(self.waited_ms.get() + crate::platform::clock::now_ms() - start);
    }

    /// Prepares a statement. With numbered parameters (`?N`) D1 expects exactly as many
    /// bindings as the highest number used, so a shared parameter list is cut to that length:
    /// the statements of one batch can then share one list.
    pub fn statement(&self, sql: &str, mut params: Vec<Param>) -> Result<Statement> {
        if let Some(highest) = highest_numbered_param(sql) {
            params.truncate(highest);
        }
        let js: Vec<JsValue> = params.iter().map(Param::to_js).collect();
        let stmt = self.d1.prepare(sql).bind(&js).map_err(d1_error)?;
        Ok(Statement(stmt))
    }

    /// Runs a query and deserializes every row.
    pub async fn all<T: DeserializeOwned>(&self, sql: &str, params: Vec<Param>) -> Result<Vec<T>> {
        let stmt = self.statement(sql, params)?;
        self.count();
        let start = crate::platform::clock::now_ms();
        let result = stmt.0.all().await.map_err(d1_error);
        self.waited_since(start);
        result?.results::<T>().map_err(d1_error)
    }

    /// Runs a query and deserializes the first row, if any.
    pub async fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: Vec<Param>,
    ) -> Result<Option<T>> {
        Ok(self.all(sql, params).await?.into_iter().next())
    }

    /// Runs a statement for its effect; returns the number of rows changed.
    pub async fn run(&self, sql: &str, params: Vec<Param>) -> Result<u64> {
        let stmt = self.statement(sql, params)?;
        self.count();
        let start = crate::platform::clock::now_ms();
        let result = stmt.0.run().await.map_err(d1_error);
        self.waited_since(start);
        let result = result?;
        Ok(result
            .meta()
            .map_err(d1_error)?
            .and_then(|m| m.changes)
            .unwrap_or(0) as u64)
    }

    /// Runs one write and, in the same batch (one transaction), the statement that records it
    /// (an audit entry, usually `audit::When::PreviousChanged`); returns the rows the write
    /// changed. The record exists exactly when the write committed.
    pub async fn run_recorded(
        &self,
        sql: &str,
        params: Vec<Param>,
        record: Statement,
    ) -> Result<u64> {
        let results = self
            .batch(vec![self.statement(sql, params)?, record])
            .await?;
        Ok(changes(&results[0]))
    }

    /// One page of rows and the total count under the same filter, in one round trip. `select`
    /// ends with `LIMIT ?{n+1} OFFSET ?{n+2}`, where n is the number of `filter` parameters.
    pub async fn page<T: DeserializeOwned>(
        &self,
        select: &str,
        count: &str,
        filter: Vec<Param>,
        page: &crate::admin::paging::Page,
    ) -> Result<(Vec<T>, i64)> {
        let mut with_window = filter.clone();
        with_window.push(Param::Int(i64::from(page.limit)));
        with_window.push(Param::Int(page.offset()));
        let results = self
            .batch(vec![
                self.statement(select, with_window)?,
                self.statement(count, filter)?,
            ])
            .await?;
        Ok((rows(&results[0])?, self::count(&results[1])?))
    }

    /// Runs statements in one round trip, atomically (D1 batches are transactions).
    pub async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<worker::D1Result>> {
        if statements.is_empty() {
            return Ok(vec![]);
        }
        self.count();
        let start = crate::platform::clock::now_ms();
        let result = self
            .d1
            .batch(statements.into_iter().map(|s| s.0).collect())
            .await
            .map_err(d1_error);
        self.waited_since(start);
        result
    }
}

/// Rows of a batch result, deserialized.
pub fn rows<T: DeserializeOwned>(result: &worker::D1Result) -> Result<Vec<T>> {
    result.results::<T>().map_err(d1_error)
}

/// The first row of a batch result, if any.
pub fn first_row<T: DeserializeOwned>(result: &worker::D1Result) -> Result<Option<T>> {
    Ok(rows(result)?.into_iter().next())
}

/// Rows changed by a batch statement.
pub fn changes(result: &worker::D1Result) -> u64 {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0) as u64
}

/// A case-insensitive "contains" test of `columns` against the search text bound at `?{param}`,
/// for list searches; an empty search matches every row. `instr`, not `LIKE`: D1 refuses LIKE
/// patterns longer than 50 bytes (a long search was a 500), and `instr` has no wildcards to
/// escape (`%`, `_` and `\` are plain characters). `lower` folds ASCII only, as LIKE did.
/// `columns` are our own column names, never input.
pub fn contains_search(columns: &[&str], param: usize) -> String {
    let tests: Vec<String> = columns
        .iter()
        .map(|c| format!("instr(lower({c}), lower(?{param})) > 0"))
        .collect();
    format!("(?{param} = '' OR {})", tests.join(" OR "))
}

/// The text a list search binds: none searches for "" (everything).
pub fn search_text(search: Option<&str>) -> String {
    search.unwrap_or_default().to_string()
}

/// The `n` of a `SELECT COUNT(*) AS n` batch result.
pub fn count(result: &worker::D1Result) -> Result<i64> {
    #[derive(serde::Deserialize)]
    struct Count {
        n: i64,
    }
    Ok(first_row::<Count>(result)?.map_or(0, |c| c.n))
}

/// Maps a UNIQUE constraint failure of a write to a conflict with this message (other errors
/// pass through): the constraint is the check, so no racy "is it taken?" query precedes writes.
pub fn unique_violation(message: impl Into<String>) -> impl FnOnce(Error) -> Error {
    let message = message.into();
    move |e| match e {
        Error::Internal(m) if m.contains("UNIQUE") => Error::Conflict(message),
        other => other,
    }
}

impl Db {
    /// Whether every id (duplicates allowed) names a row of `table` in this tenant. `table` is
    /// one of our own table names, never input.
    pub async fn all_exist(&self, table: &str, tenant_id: &str, ids: &[String]) -> Result<bool> {
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        let found = self
            .batch(vec![self.statement(
                &format!(
                    "SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = ?1 \
                     AND id IN (SELECT value FROM json_each(?2))"
                ),
                crate::params![tenant_id, serde_json::to_string(&unique)?],
            )?])
            .await?;
        Ok(count(&found[0])? == unique.len() as i64)
    }
}
