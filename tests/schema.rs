//! `schema.sql` and `migrations/` must describe the same database: fresh databases and upgraded
//! ones run the same code. Both are applied to SQLite and compared table by table (columns,
//! CHECK constraints, foreign keys, indexes).

use std::fs;
use std::path::Path;

use rusqlite::Connection;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn from_schema() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(&fs::read_to_string(root().join("schema.sql")).unwrap())
        .unwrap();
    db
}

fn from_migrations() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    let mut files: Vec<_> = fs::read_dir(root().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for file in files {
        db.execute_batch(&fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    db
}

fn strings(db: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = db.prepare(sql).unwrap();
    let columns = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            (0..columns)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join("|"))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// The CHECK clauses of a table's definition, whitespace-normalised.
fn checks(db: &Connection, table: &str) -> Vec<String> {
    let sql: String = db
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap();
    let flat = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    let mut rest = flat.as_str();
    while let Some(i) = rest.find("CHECK (") {
        let after = &rest[i + 6..];
        let mut depth = 0;
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(j, _)| j)
            .unwrap();
        out.push(after[..=end].to_string());
        rest = &after[end..];
    }
    out.sort();
    out
}

fn describe(db: &Connection) -> Vec<String> {
    let tables = strings(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name != 'd1_migrations' ORDER BY name",
    );
    let mut out = Vec::new();
    for table in tables {
        let table = table.trim_start_matches("Text(\"").trim_end_matches("\")");
        out.push(format!("table {table}"));
        out.extend(strings(db, &format!("PRAGMA table_info({table})")));
        out.extend(checks(db, table));
        out.extend(strings(db, &format!("PRAGMA foreign_key_list({table})")));
        let mut indexes = strings(
            db,
            &format!(
                "SELECT il.name, il.\"unique\", group_concat(ii.name) FROM pragma_index_list('{table}') il \
                 JOIN pragma_index_info(il.name) ii GROUP BY il.name ORDER BY il.name"
            ),
        );
        indexes.sort();
        out.extend(indexes);
    }
    out
}

#[test]
fn migrations_build_the_schema_in_schema_sql() {
    let (schema, migrated) = (describe(&from_schema()), describe(&from_migrations()));
    assert!(schema.len() > 50, "described too little: {schema:?}");
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    };
    assert!(
        schema == migrated,
        "only in schema.sql: {:#?}\nonly from migrations/: {:#?}",
        only(&schema, &migrated),
        only(&migrated, &schema)
    );
}

#[test]
fn a_key_can_wait_as_next_and_carries_its_overlap() {
    for db in [from_schema(), from_migrations()] {
        db.execute_batch(
            "INSERT INTO tenants (id, slug, display_name, created_at, updated_at) VALUES ('t', 'a', 'A', 0, 0);
             INSERT INTO signing_keys (kid, tenant_id, alg, public_jwk, sealed_private_key, status, created_at, overlap_secs)
             VALUES ('k', 't', 'RS256', '{}', 'x', 'next', 0, 86400);",
        )
        .unwrap();
        assert!(db
            .execute(
                "INSERT INTO signing_keys (kid, tenant_id, alg, public_jwk, sealed_private_key, status, created_at) \
                 VALUES ('k2', 't', 'RS256', '{}', 'x', 'pending', 0)",
                [],
            )
            .is_err());
    }
}
