//! SQL is written only in `src/storage/`: every other `.rs` file under `src/` is scanned for
//! SQL in string literals (case-insensitive `SELECT ... FROM`, `INSERT INTO`, `UPDATE ... SET`,
//! `DELETE FROM`, `CREATE TABLE`, `ALTER TABLE`), and any hit fails the test, named file:line.
//!
//! Inside `src/storage/` one more rule holds, which `tests/schema_migrations.rs` relies on when
//! it treats column order as presentation: no `SELECT *` and no `INSERT INTO t VALUES` /
//! `INSERT INTO t SELECT` without a column list, so no query depends on column positions.
//!
//! String literals are found with a small lexer that knows Rust's comments, char literals,
//! lifetimes and raw strings, so SQL in a comment (documentation may quote a statement) is
//! not flagged while SQL split over `\` continuations or `concat!` pieces of one literal is.

use std::fs;
use std::path::{Path, PathBuf};

/// A string literal's text and the line it starts on.
#[derive(Debug)]
struct Literal {
    line: usize,
    text: String,
}

/// The string literals (plain, byte and raw) of a Rust source file.
fn literals(src: &str) -> Vec<Literal> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let n = chars.len();
    let count_lines =
        |from: usize, to: usize| chars[from..to].iter().filter(|c| **c == '\n').count();
    while i < n {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if i + 1 < n && chars[i + 1] == '/' => {
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if i + 1 < n && chars[i + 1] == '*' => {
                let start = i;
                let mut depth = 0;
                while i < n {
                    if chars[i] == '/' && i + 1 < n && chars[i + 1] == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && i + 1 < n && chars[i + 1] == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                line += count_lines(start, i);
            }
            'r' | 'b' if is_raw_start(&chars, i) => {
                let mut j = i + if chars[i] == 'b' { 2 } else { 1 };
                let mut hashes = 0;
                while chars[j] == '#' {
                    hashes += 1;
                    j += 1;
                }
                j += 1; // the opening quote
                let start = j;
                loop {
                    if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                        break;
                    }
                    j += 1;
                }
                out.push(Literal {
                    line,
                    text: chars[start..j].iter().collect(),
                });
                line += count_lines(i, j);
                i = j + 1 + hashes;
            }
            '"' => {
                let start_line = line;
                let mut text = String::new();
                let mut j = i + 1;
                while j < n && chars[j] != '"' {
                    if chars[j] == '\\' && j + 1 < n {
                        // A line continuation joins the next line's text after its indentation.
                        if chars[j + 1] == '\n' {
                            line += 1;
                            j += 2;
                            while j < n && chars[j].is_whitespace() {
                                if chars[j] == '\n' {
                                    line += 1;
                                }
                                j += 1;
                            }
                            continue;
                        }
                        text.push(match chars[j + 1] {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                        j += 2;
                        continue;
                    }
                    if chars[j] == '\n' {
                        line += 1;
                    }
                    text.push(chars[j]);
                    j += 1;
                }
                out.push(Literal {
                    line: start_line,
                    text,
                });
                i = j + 1;
            }
            '\'' => {
                // A char literal ('x', '\n', '\u{..}', '"') or a lifetime ('a): skip either
                // without mistaking a quote character for the start of a string.
                if i + 2 < n && chars[i + 1] == '\\' {
                    let mut j = i + 2;
                    while j < n && chars[j] != '\'' {
                        j += 1;
                    }
                    i = j + 1;
                } else if i + 2 < n && chars[i + 2] == '\'' {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            c if c.is_alphanumeric() || c == '_' => {
                // Identifiers (so the `r`/`b` of `for`/`sub"` never start a raw string).
                while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// `r"`, `r#"`, `br"`, `b"` (a byte string, treated as raw: it has no SQL escapes of interest).
fn is_raw_start(chars: &[char], i: usize) -> bool {
    let prev_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if prev_ident {
        return false;
    }
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
        if chars.get(j) == Some(&'"') {
            return true;
        }
    }
    if chars.get(j) != Some(&'r') {
        return false;
    }
    j += 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// The words of a text, lower-cased, split on anything that is not part of an identifier.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// What kind of SQL a literal holds, if any.
fn sql_in(text: &str) -> Option<&'static str> {
    let w = words(text);
    let has = |a: &str, b: &str| w.windows(2).any(|p| p[0] == a && p[1] == b);
    let pos = |a: &str| w.iter().position(|x| x == a);
    if has("insert", "into") {
        return Some("INSERT INTO");
    }
    if has("delete", "from") {
        return Some("DELETE FROM");
    }
    if has("create", "table") {
        return Some("CREATE TABLE");
    }
    if has("alter", "table") {
        return Some("ALTER TABLE");
    }
    // UPDATE <table> SET and SELECT ... FROM, in that order within the literal.
    if let Some(u) = pos("update") {
        if w.get(u + 2).is_some_and(|s| s == "set") {
            return Some("UPDATE ... SET");
        }
    }
    if let Some(s) = pos("select") {
        if w[s + 1..].iter().any(|x| x == "from") {
            return Some("SELECT ... FROM");
        }
    }
    None
}

/// Queries in storage that would depend on column positions.
fn positional_in(text: &str) -> Option<&'static str> {
    sql_in(text)?;
    let w = words(text);
    let flat = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if flat.contains("select *") || flat.contains(".*") {
        return Some("SELECT *");
    }
    // INSERT INTO <table> VALUES / SELECT: no column list between the table and the values.
    let positional_insert = w
        .windows(4)
        .any(|p| p[0] == "insert" && p[1] == "into" && (p[3] == "values" || p[3] == "select"));
    if positional_insert {
        return Some("INSERT without a column list");
    }
    None
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every violation under `src/`, as `file:line: what: text`.
fn violations(src_dir: &Path) -> Vec<String> {
    let storage = src_dir.join("storage");
    let mut files = Vec::new();
    rust_files(src_dir, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let source = fs::read_to_string(&file).unwrap();
        let in_storage = file.starts_with(&storage);
        let shown = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        for lit in literals(&source) {
            let problem = if in_storage {
                positional_in(&lit.text)
            } else {
                sql_in(&lit.text).map(|_| "SQL outside src/storage")
            };
            if let Some(problem) = problem {
                let what = sql_in(&lit.text).unwrap_or("SQL");
                let excerpt: String = lit.text.split_whitespace().collect::<Vec<_>>().join(" ");
                let excerpt: String = excerpt.chars().take(90).collect();
                found.push(format!(
                    "{shown}:{}: {problem} ({what}): \"{excerpt}\"",
                    lit.line
                ));
            }
        }
    }
    found
}

#[test]
fn sql_is_written_only_in_storage() {
    let found = violations(&root().join("src"));
    assert!(
        found.is_empty(),
        "SQL belongs in src/storage/, behind an operation named after what it does \
         (and there, no query may depend on column positions):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_finds_sql_and_ignores_the_rest() {
    let src = r##"
        // A comment may say SELECT id FROM users.
        /* so may a block: DELETE FROM x */
        fn f<'a>(x: &'a str) -> char {
            let _ = "Sign in to continue";
            let _ = 'x'; let _ = '"'; let _ = '\'';
            let _ = "select the passkey, then update settings";
            let a = "SELECT id FROM users \
                     WHERE tenant_id = ?1";
            let b = r#"insert into audit_logs (id) values (?1)"#;
            let c = "UPDATE one_time_tokens SET used_at = ?1";
            let d = "delete\n from sessions";
            'y'
        }
    "##;
    let found: Vec<(usize, &str)> = literals(src)
        .iter()
        .filter_map(|l| sql_in(&l.text).map(|k| (l.line, k)))
        .collect();
    assert_eq!(
        found,
        [
            (8, "SELECT ... FROM"),
            (10, "INSERT INTO"),
            (11, "UPDATE ... SET"),
            (12, "DELETE FROM"),
        ]
    );
    assert_eq!(positional_in("SELECT * FROM users"), Some("SELECT *"));
    assert_eq!(
        positional_in("INSERT INTO tenants VALUES (?1)"),
        Some("INSERT without a column list")
    );
    assert_eq!(
        positional_in("INSERT INTO users (id) SELECT ?1 WHERE 1"),
        None
    );
    assert_eq!(positional_in("SELECT COUNT(*) AS n FROM users"), None);
}
