//! No import cycle between the crate's top-level modules (`oidc`, `tenancy`, `http`, ...), nor
//! between the files of `src/http`. A cycle means two modules can only be understood (and
//! changed) together; the layers are meant to depend one way (http -> use cases -> storage and
//! the pure core).
//!
//! Every `.rs` file under `src/` is read as text (the Workers layer too, which only compiles
//! for wasm). Comments, string literals and test code (`#[cfg(test)]` items and the files they
//! declare) are dropped; every path that starts with `crate::`, `super::` or `self::`, and every
//! `use` tree (groups expanded), names the deepest module file it reaches. A file referring to
//! one of its ancestors (a child using its parent's helpers) is not counted: a module and its
//! children are one unit.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type ModPath = Vec<String>;

/// The source with comments and string literals blanked (newlines kept).
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && matches!(c.get(i + 1), Some('#' | '"'))
            && !ident_char(c.get(i.wrapping_sub(1)))
        {
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len()
                && !(c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')))
            {
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1 + hashes;
        } else if c[i] == '\'' && (c.get(i + 2) == Some(&'\'') || c.get(i + 1) == Some(&'\\')) {
            // A char literal ('"', '\'', '\u{..}'), not a lifetime.
            let close = (i + 2..c.len()).find(|&k| c[k] == '\'' && (k > i + 2 || c[i + 1] != '\\'));
            i = close.map_or(c.len(), |k| k + 1);
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Drops `#[cfg(test)]` items; returns the code left and the names of test module files
/// (`#[cfg(test)] mod tests;`).
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = code.to_string();
    let mut test_files = Vec::new();
    while let Some(at) = out.find("#[cfg(test)]") {
        let item = &out[at + "#[cfg(test)]".len()..];
        let end_semi = item.find(';');
        let end_brace = item.find('{');
        let len = match (end_semi, end_brace) {
            (Some(s), b) if b.is_none_or(|b| s < b) => {
                let decl = item[..s].trim();
                if let Some(name) = decl.strip_prefix("mod ") {
                    test_files.push(name.trim().to_string());
                }
                s + 1
            }
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = b;
                for (k, ch) in item[b..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            _ => item.len(),
        };
        out.replace_range(at..at + "#[cfg(test)]".len() + len, "");
    }
    (out, test_files)
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(tree: &str) -> Vec<String> {
    // Renames (`x as y`) dropped, then whitespace.
    let mut tokens = Vec::new();
    let mut words = tree.split_whitespace();
    while let Some(w) = words.next() {
        if w == "as" {
            let renamed = words.next().unwrap_or("");
            // Keep what follows the new name (`y,` or `y}`).
            tokens.push(renamed.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'));
        } else {
            tokens.push(w);
        }
    }
    let tree = tokens.concat();
    let Some(open) = tree.find('{') else {
        return vec![tree.trim_end_matches("::*").to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (k, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            expand_use(p)
                .into_iter()
                .map(move |sub| match sub.as_str() {
                    "self" => prefix.trim_end_matches("::").to_string(),
                    _ => format!("{prefix}{sub}"),
                })
        })
        .collect()
}

/// Every path the code names that starts with `crate`, `super` or `self`, or (in a `use`) a
/// child module's name.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = String::new();
    let mut remaining = code;
    // `use` statements first (they may hold groups), then inline paths in what is left.
    while let Some(at) = find_use(remaining) {
        rest.push_str(&remaining[..at]);
        let after = &remaining[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        out.extend(expand_use(&after[..end]));
        remaining = &after[(end + 1).min(after.len())..];
    }
    rest.push_str(remaining);
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if ident_char(chars.get(i)) && !ident_char(chars.get(i.wrapping_sub(1))) {
            let start = i;
            while i < chars.len()
                && (ident_char(chars.get(i))
                    || (chars[i] == ':'
                        && chars.get(i + 1) == Some(&':')
                        && ident_char(chars.get(i + 2))))
            {
                i += if chars[i] == ':' { 2 } else { 1 };
            }
            let path: String = chars[start..i].iter().collect();
            if ["crate::", "super::", "self::"]
                .iter()
                .any(|p| path.starts_with(p))
            {
                out.push(path);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The byte offset of the next `use` keyword starting a statement.
fn find_use(code: &str) -> Option<usize> {
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(k) = code[from..].find("use ") {
        let at = from + k;
        let before = at.checked_sub(1).map(|b| bytes[b] as char);
        if before.is_none_or(|b| !(b.is_alphanumeric() || b == '_')) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// Every module file of the crate, by module path.
fn modules(root: &Path) -> BTreeMap<ModPath, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut m: ModPath = rel
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                if matches!(m.last().map(String::as_str), Some("mod" | "lib")) {
                    m.pop();
                }
                out.insert(m, fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// Module-to-module references (to the deepest module file each path reaches), test code out.
fn references(modules: &BTreeMap<ModPath, String>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut test_modules = BTreeSet::new();
    let mut code = BTreeMap::new();
    for (m, src) in modules {
        let (kept, tests) = without_tests(&strip(src));
        for t in tests {
            test_modules.insert([m.clone(), vec![t]].concat());
        }
        code.insert(m.clone(), kept);
    }
    let mut out = BTreeMap::new();
    for (m, code) in code.iter().filter(|(m, _)| !test_modules.contains(*m)) {
        let mut targets = BTreeSet::new();
        for path in paths(code) {
            let mut segs: Vec<&str> = path.split("::").collect();
            let mut base: ModPath = match segs[0] {
                "crate" => Vec::new(),
                "super" | "self" => m.clone(),
                // A `use` of a child module by its bare name.
                first if modules.contains_key(&[m.clone(), vec![first.to_string()]].concat()) => {
                    m.clone()
                }
                _ => continue,
            };
            while let Some(&s) = segs.first() {
                match s {
                    "crate" | "self" => {}
                    "super" => {
                        base.pop();
                    }
                    _ => break,
                }
                segs.remove(0);
            }
            let mut target = base;
            for s in segs {
                let deeper = [target.clone(), vec![s.to_string()]].concat();
                if !modules.contains_key(&deeper) {
                    break;
                }
                target = deeper;
            }
            // Not itself, not an ancestor (a child using its parent's helpers).
            if !m.starts_with(&target) {
                targets.insert(target);
            }
        }
        out.insert(m.clone(), targets);
    }
    out
}

/// A cycle in the graph, as the list of its nodes, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some([&path[at..], &[node.to_string()]].concat());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// The references between groups of modules (`group` names a module's group, or `None`).
fn graph_of(
    refs: &BTreeMap<ModPath, BTreeSet<ModPath>>,
    group: impl Fn(&ModPath) -> Option<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in refs {
        let Some(a) = group(from) else { continue };
        for to in tos {
            match group(to) {
                Some(b) if b != a => {
                    g.entry(a.clone()).or_default().insert(b);
                }
                _ => {}
            }
        }
    }
    g
}

fn crate_references() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    references(&modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")))
}

#[test]
fn top_level_modules_depend_one_way() {
    let refs = crate_references();
    let graph = graph_of(&refs, |m| m.first().cloned());
    // The scan sees the layers at all (a broken scan would find no edge and pass).
    assert!(graph["http"].contains("storage") && graph["http"].contains("oidc"));
    assert!(graph["admin"].contains("route_table"));
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn files_of_the_http_layer_depend_one_way() {
    let refs = crate_references();
    let graph = graph_of(&refs, |m| (m.first()? == "http").then(|| m.join("/")));
    assert!(graph["http/router"].contains("http/respond"));
    assert!(graph["http/routes/oidc/token"].contains("http/signing"));
    assert_eq!(find_cycle(&graph), None);
}

/// No route calls another route: a handler file under `http/routes/` may use its area's
/// `mod.rs` helpers (an ancestor, which the scanner does not count) but never another handler
/// file. Only the dispatchers (`routes/mod.rs`, an area's `mod.rs`) name handler files.
#[test]
fn no_route_handler_uses_another_route_handler() {
    let refs = crate_references();
    let is_handler = |m: &ModPath| m.len() > 2 && m[0] == "http" && m[1] == "routes";
    let dispatchers: BTreeSet<ModPath> = refs
        .keys()
        .filter(|m| is_handler(m))
        .flat_map(|m| (2..m.len()).map(move |n| m[..n].to_vec()))
        .collect();
    let mut calls = Vec::new();
    for (from, targets) in &refs {
        if !is_handler(from) || dispatchers.contains(from) {
            continue;
        }
        for to in targets
            .iter()
            .filter(|t| is_handler(t) && !dispatchers.contains(*t))
        {
            calls.push(format!("{} -> {}", from.join("/"), to.join("/")));
        }
    }
    assert!(calls.is_empty(), "a route handler uses another: {calls:#?}");
}

#[test]
fn the_scanner_reads_use_trees_and_skips_comments_strings_and_tests() {
    assert_eq!(
        expand_use("crate::a::{b, c::{d, self}, e as f}"),
        [
            "crate::a::b",
            "crate::a::c::d",
            "crate::a::c",
            "crate::a::e"
        ]
    );
    let code = strip("// crate::x::y\nlet s = \"crate::z\"; crate::w::v();\n");
    assert_eq!(paths(&code), ["crate::w::v"]);
    let (kept, files) = without_tests(
        "a();\n#[cfg(test)]\nmod tests { crate::t(); }\n#[cfg(test)]\nmod more;\nb();",
    );
    assert!(!kept.contains("crate::t") && kept.contains("b();"));
    assert_eq!(files, ["more"]);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
