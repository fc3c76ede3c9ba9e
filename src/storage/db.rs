//! The one door to the database: statements, batches and their results, over a [`Backend`].
//!
//! Two backends implement it: D1 in the Worker and SQLite (rusqlite, loading `schema.sql`) in
//! native tests, so every storage operation and use case is tested natively against the real
//! schema and SQL. Why a front over the backend: every query goes through one place, which
//! (1) checks the parameter count of numbered parameters, (2) classifies database failures once
//! ([`StorageError`]: a UNIQUE violation is a conflict an operation may expect, anything else is
//! internal), and (3) counts round trips per request so the benchmark can report them
//! (`x-edge-id-d1-queries` when metrics are on).

use std::cell::Cell;
use std::rc::Rc;

use serde_json::{Map, Value};

pub use super::backend::Backend;
use super::row::{FromRow, Row};
use crate::error::{Error, Result};
pub use crate::error::{StorageError, StorageFailure};

/// A bound SQL parameter.
#[derive(Debug, Clone, PartialEq)]
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

/// A statement ready to run alone or in a batch: SQL text and its bound parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

/// What one statement returned: its rows (column name to JSON value, as D1 gives them) and the
/// number of rows it changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub rows: Vec<Map<String, Value>>,
    pub changes: u64,
}

#[derive(Clone)]
pub struct Db {
    /// The primary: every write, and every read that must see the latest write.
    backend: Rc<dyn Backend>,
    /// A read replica (D1's Sessions API), when the deployment reads from one.
    replica: Option<Rc<dyn Backend>>,
    /// Whether this handle reads from the replica ([`Db::replica_reads`]).
    reads_replica: bool,
    queries: Rc<Cell<u32>>,
    replica_queries: Rc<Cell<u32>>,
    /// Wall-clock milliseconds spent waiting for the database (benchmarks: `x-edge-id-timing`).
    waited_ms: Rc<Cell<f64>>,
}

impl Db {
    pub fn new(backend: impl Backend + 'static) -> Self {
        Self {
            backend: Rc::new(backend),
            replica: None,
            reads_replica: false,
            queries: Rc::new(Cell::new(0)),
            replica_queries: Rc::new(Cell::new(0)),
            waited_ms: Rc::new(Cell::new(0.0)),
        }
    }

    /// The same database with a read replica that [`Db::replica_reads`] handles read from.
    pub fn with_replica(mut self, replica: impl Backend + 'static) -> Self {
        self.replica = Some(Rc::new(replica));
        self
    }

    /// A handle for reads that may lag the primary by the replication delay (never for a read
    /// that decides a write: those go to the primary). Without a replica it is the primary.
    pub fn replica_reads(&self) -> Db {
        Db {
            reads_replica: self.replica.is_some(),
            ..self.clone()
        }
    }

    /// Whether this handle reads from a replica (a miss may only mean "not replicated yet").
    pub fn is_replica(&self) -> bool {
        self.reads_replica
    }

    /// Round trips to a read replica through this handle and its clones.
    pub fn replica_round_trips(&self) -> u32 {
        self.replica_queries.get()
    }

    /// Round trips to the primary made through this handle and its clones (a batch counts once:
    /// it is one trip).
    pub fn round_trips(&self) -> u32 {
        self.queries.get()
    }

    /// Milliseconds spent waiting for the database through this handle.
    pub fn waited_ms(&self) -> f64 {
        self.waited_ms.get()
    }

    /// Prepares a statement. With numbered parameters (`?N`) D1 expects exactly as many
    /// bindings as the highest number used, so a shared parameter list is cut to that length:
    /// the statements of one batch can then share one list. Fewer parameters than the SQL
    /// numbers is a bug, refused here rather than bound as NULL.
    pub fn statement(&self, sql: &str, mut params: Vec<Param>) -> Result<Statement> {
        if let Some(highest) = highest_numbered_param(sql) {
            if params.len() < highest {
                return Err(Error::Internal(format!(
                    "statement numbers ?{highest} but binds {} parameters: {sql}",
                    params.len()
                )));
            }
            params.truncate(highest);
        }
        Ok(Statement {
            sql: sql.to_string(),
            params,
        })
    }

    /// Sends statements in one round trip; more than one run atomically (D1 batches are
    /// transactions, and so are the SQLite backend's).
    async fn execute(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>> {
        let (backend, counter) = match (&self.replica, self.reads_replica) {
            (Some(replica), true) => (replica, &self.replica_queries),
            _ => (&self.backend, &self.queries),
        };
        counter.set(counter.get() + 1);
        let start = crate::platform::clock::now_ms();
        let result = backend.execute(statements).await;
        self.waited_ms
            .set(self.waited_ms.get() + crate::platform::clock::now_ms() - start);
        result.map_err(Error::Storage)
    }

    /// Runs a query and reads every row.
    pub async fn all<T: FromRow>(&self, sql: &str, params: Vec<Param>) -> Result<Vec<T>> {
        let results = self.execute(vec![self.statement(sql, params)?]).await?;
        rows(&results[0])
    }

    /// Runs a query and reads the first row, if any.
    pub async fn first<T: FromRow>(&self, sql: &str, params: Vec<Param>) -> Result<Option<T>> {
        Ok(self.all(sql, params).await?.into_iter().next())
    }

    /// Runs a statement for its effect; returns the number of rows changed.
    pub async fn run(&self, sql: &str, params: Vec<Param>) -> Result<u64> {
        let results = self.execute(vec![self.statement(sql, params)?]).await?;
        Ok(changes(&results[0]))
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
    pub async fn page<T: FromRow>(
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

    /// Runs statements in one round trip, atomically: all commit or none does.
    pub async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>> {
        if statements.is_empty() {
            return Ok(vec![]);
        }
        self.execute(statements).await
    }
}

/// Rows of a batch result, read column by column ([`super::row`]).
pub fn rows<T: FromRow>(result: &QueryResult) -> Result<Vec<T>> {
    result
        .rows
        .iter()
        .map(|columns| T::from_row(&Row::new(columns)))
        .collect()
}

/// The first row of a batch result, if any.
pub fn first_row<T: FromRow>(result: &QueryResult) -> Result<Option<T>> {
    Ok(rows(result)?.into_iter().next())
}

/// Rows changed by a batch statement.
pub fn changes(result: &QueryResult) -> u64 {
    result.changes
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
pub fn count(result: &QueryResult) -> Result<i64> {
    result
        .rows
        .first()
        .map_or(Ok(0), |columns| Row::new(columns).int("n"))
}

/// Maps a UNIQUE constraint failure of a write to a conflict with this message (other errors
/// pass through): the constraint is the check, so no racy "is it taken?" query precedes writes.
pub fn unique_violation(message: impl Into<String>) -> impl FnOnce(Error) -> Error {
    let message = message.into();
    move |e| match e {
        Error::Storage(StorageError {
            kind: StorageFailure::Unique,
            ..
        }) => Error::Conflict(message),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{db, run, tenant, user};
    use serde_json::json;

    #[test]
    fn numbered_parameters_are_cut_to_the_highest_used_and_too_few_are_refused() {
        let db = db();
        let s = db
            .statement("SELECT ?2 AS b, ?1 AS a", crate::params!["a", "b", "c"])
            .unwrap();
        assert_eq!(s.params.len(), 2);
        assert!(db
            .statement("SELECT ?3", crate::params!["a"])
            .is_err_and(|e| e.to_string().contains("?3")));
    }

    #[test]
    fn a_batch_is_one_round_trip_and_all_or_nothing() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let before = db.round_trips();
            // The second insert breaks the UNIQUE(tenant_id, username) rule: the first must
            // not survive it.
            let insert = |id: &str, name: &str| {
                db.statement(
                    "INSERT INTO users (id, tenant_id, username, email, first_name, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, 'x', 0, 0)",
                    crate::params![id, &t.id, name, format!("{id}@example.com")],
                )
                .unwrap()
            };
            let err = db
                .batch(vec![insert("u1", "same"), insert("u2", "same")])
                .await
                .unwrap_err();
            assert_eq!(db.round_trips(), before + 1);
            assert!(
                matches!(
                    &err,
                    Error::Storage(StorageError {
                        kind: StorageFailure::Unique,
                        ..
                    })
                ),
                "{err:?}"
            );
            let n: Vec<serde_json::Value> = db
                .all(
                    "SELECT id FROM users WHERE tenant_id = ?1",
                    crate::params![&t.id],
                )
                .await
                .unwrap();
            assert!(n.is_empty(), "the batch's first insert was kept: {n:?}");
        });
    }

    #[test]
    fn unique_violations_become_the_given_conflict_and_other_failures_stay_internal() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            user(&db, &t.id, "alice", false).await;
            let dup = db
                .run(
                    "INSERT INTO users (id, tenant_id, username, email, first_name, created_at, updated_at) \
                     VALUES ('x', ?1, 'alice', 'other@example.com', 'x', 0, 0)",
                    crate::params![&t.id],
                )
                .await
                .map_err(unique_violation("taken"))
                .unwrap_err();
            assert!(
                matches!(dup, Error::Conflict(ref m) if m == "taken"),
                "{dup:?}"
            );
            // A foreign key failure is not a conflict: it is a bug, reported as storage.
            let fk = db
                .run(
                    "INSERT INTO users (id, tenant_id, username, email, first_name, created_at, updated_at) \
                     VALUES ('y', 'no-such-tenant', 'bob', 'bob@example.com', 'x', 0, 0)",
                    vec![],
                )
                .await
                .map_err(unique_violation("taken"))
                .unwrap_err();
            assert!(
                matches!(
                    fk,
                    Error::Storage(StorageError {
                        kind: StorageFailure::Constraint,
                        ..
                    })
                ),
                "{fk:?}"
            );
        });
    }

    #[test]
    fn changes_count_writes_only() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            user(&db, &t.id, "alice", false).await;
            let results = db
                .batch(vec![
                    db.statement(
                        "UPDATE users SET first_name = 'A' WHERE tenant_id = ?1",
                        crate::params![&t.id],
                    )
                    .unwrap(),
                    db.statement("SELECT COUNT(*) AS n FROM users", vec![])
                        .unwrap(),
                ])
                .await
                .unwrap();
            assert_eq!(changes(&results[0]), 1);
            assert_eq!(
                changes(&results[1]),
                0,
                "a read after a write changes nothing"
            );
            assert_eq!(count(&results[1]).unwrap(), 1);
        });
    }

    #[test]
    fn search_is_case_insensitive_and_wildcards_are_plain() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            user(&db, &t.id, "alice", false).await;
            user(&db, &t.id, "al_ce", false).await;
            let find = |text: &str| {
                let sql = format!(
                    "SELECT username FROM users WHERE tenant_id = ?1 AND {} ORDER BY username",
                    contains_search(&["username", "email"], 2)
                );
                let db = db.clone();
                let text = text.to_string();
                let tenant = t.id.clone();
                async move {
                    db.all::<serde_json::Value>(&sql, crate::params![&tenant, text])
                        .await
                        .unwrap()
                        .len()
                }
            };
            assert_eq!(find("ALI").await, 1);
            assert_eq!(find("_").await, 1, "_ is a character, not a wildcard");
            assert_eq!(find("").await, 2);
            assert_eq!(find(&"x".repeat(200)).await, 0, "a long search is no error");
        });
    }

    #[test]
    fn rows_and_counts_read_through_from_row() {
        crate::from_row! {
            #[derive(Debug, PartialEq)]
            struct Row {
                id: String,
                n: i64,
            }
        }
        let result = QueryResult {
            rows: [json!({ "id": "a", "n": 1 }), json!({ "id": "b", "n": 2 })]
                .into_iter()
                .map(|row| match row {
                    Value::Object(columns) => columns,
                    _ => unreachable!(),
                })
                .collect(),
            changes: 0,
        };
        let read: Vec<Row> = rows(&result).unwrap();
        assert_eq!(read.iter().map(|r| r.n).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(first_row::<Row>(&result).unwrap().unwrap().id, "a");
        assert_eq!(count(&result).unwrap(), 1, "the n of the first row");
        assert_eq!(
            count(&QueryResult::default()).unwrap(),
            0,
            "no row counts 0"
        );
        let err = rows::<Row>(&QueryResult {
            rows: vec![Map::from_iter([("id".to_string(), json!(1))])],
            changes: 0,
        })
        .unwrap_err();
        assert!(
            matches!(err, Error::Internal(ref m) if m.starts_with("a stored row does not read back") && m.contains("`id`")),
            "{err:?}"
        );
    }

    #[test]
    fn all_exist_checks_every_id_in_the_tenant() {
        let db = db();
        run(async {
            let a = tenant(&db, "acme").await;
            let b = tenant(&db, "beta").await;
            let alice = user(&db, &a.id, "alice", false).await;
            let bob = user(&db, &b.id, "bob", false).await;
            assert!(db
                .all_exist("users", &a.id, &[alice.clone(), alice.clone()])
                .await
                .unwrap());
            assert!(!db.all_exist("users", &a.id, &[alice, bob]).await.unwrap());
        });
    }
}
