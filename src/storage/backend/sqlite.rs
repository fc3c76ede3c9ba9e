//! [`Backend`] on SQLite (rusqlite, bundled): the database of native tests. It loads
//! `schema.sql`, enforces foreign keys as D1 does, and runs a batch as one transaction, so a
//! storage operation behaves here as it does on D1.

use std::cell::RefCell;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, TransactionBehavior};
use serde_json::{Map, Value};

use super::{Backend, LocalFuture};
use crate::storage::db::{Param, QueryResult, Statement, StorageError};

/// The schema every D1 database of the deployment has (migrations/ yields exactly this; a
/// native test proves it).
pub const SCHEMA: &str = include_str!("../../../schema.sql");

pub struct Sqlite {
    conn: RefCell<Connection>,
}

fn failed(e: rusqlite::Error) -> StorageError {
    StorageError::classify(format!("SQLite: {e}"))
}

impl Sqlite {
    /// A fresh private database with the schema loaded.
    pub fn in_memory() -> Result<Self, StorageError> {
        let conn = Connection::open_in_memory().map_err(failed)?;
        conn.execute_batch(SCHEMA).map_err(failed)?;
        Self::configured(conn)
    }

    /// A database file several connections (threads) share, as concurrent Worker isolates
    /// share one D1 database. `create` loads the schema; the other connections open it.
    pub fn open(path: &Path, create: bool) -> Result<Self, StorageError> {
        let conn = Connection::open(path).map_err(failed)?;
        // Concurrent writers wait for each other's transactions instead of failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(failed)?;
        if create {
            conn.execute_batch(SCHEMA).map_err(failed)?;
        }
        Self::configured(conn)
    }

    fn configured(conn: Connection) -> Result<Self, StorageError> {
        // D1 enforces foreign keys (and so the schema's ON DELETE CASCADE) on every database.
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(failed)?;
        Ok(Self {
            conn: RefCell::new(conn),
        })
    }
}

fn to_sql(param: &Param) -> rusqlite::types::Value {
    match param {
        Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Param::Int(n) => rusqlite::types::Value::Integer(*n),
        Param::Null => rusqlite::types::Value::Null,
    }
}

/// A column value as D1 returns it in JSON: integers and reals as numbers, text as strings.
fn to_json(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
    }
}

fn run_one(conn: &Connection, statement: &Statement) -> Result<QueryResult, StorageError> {
    let mut prepared = conn.prepare(&statement.sql).map_err(failed)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let read_only = prepared.readonly();
    let params = rusqlite::params_from_iter(statement.params.iter().map(to_sql));
    let mut cursor = prepared.query(params).map_err(failed)?;
    let mut rows = Vec::new();
    while let Some(row) = cursor.next().map_err(failed)? {
        let mut object = Map::new();
        for (i, name) in columns.iter().enumerate() {
            object.insert(name.clone(), to_json(row.get_ref(i).map_err(failed)?));
        }
        rows.push(object);
    }
    drop(cursor);
    // `changes()` is sticky across statements: a read changes nothing, as D1 reports.
    let changes = if read_only { 0 } else { conn.changes() };
    Ok(QueryResult { rows, changes })
}

impl Backend for Sqlite {
    fn execute(
        &self,
        statements: Vec<Statement>,
    ) -> LocalFuture<'_, Result<Vec<QueryResult>, StorageError>> {
        let result = (|| {
            let mut conn = self.conn.borrow_mut();
            if statements.len() == 1 {
                return Ok(vec![run_one(&conn, &statements[0])?]);
            }
            // IMMEDIATE: take the write lock up front, as D1 serializes batches on its primary.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed)?;
            let results = statements
                .iter()
                .map(|s| run_one(&tx, s))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(failed)?;
            Ok(results)
        })();
        Box::pin(std::future::ready(result))
    }
}
