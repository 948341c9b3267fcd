//! The shape of the code, checked like behaviour: no two modules of a crate depend on each other in a
//! circle (a module is a file; `a` depends on `b` when `a` names `crate::b…`, `super::b…`, or, from a
//! `mod.rs`, one of its own children), and every route handler stays short enough to read as a
//! sentence: parse, call the domain and storage, answer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every module file of a crate's `src`, by module path (`routes::tickets`, `queries`, …; the crate
/// root is the empty path).
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let relative: PathBuf = path.strip_prefix(src).expect("under src").with_extension("");
            let mut parts: Vec<String> =
                relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            // Tests inside a module may use anything; comments name modules without using them.
            let text: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            found.insert(parts.join("::"), text);
        }
    }
    found
}

/// The longest module path that `path` (a `::`-separated path from the crate root) starts with.
fn owner<'a>(path: &str, modules: &'a BTreeMap<String, String>) -> Option<&'a String> {
    let mut best: Option<&String> = None;
    for module in modules.keys() {
        let inside = !module.is_empty() && (path == module || path.starts_with(&format!("{module}::")));
        if inside && best.is_none_or(|b| module.len() > b.len()) {
            best = Some(module);
        }
    }
    best
}

/// Module → the modules it depends on.
fn dependencies(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, text) in modules {
        let mut targets = BTreeSet::new();
        let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent).to_owned();
        let mut paths = Vec::new();
        for (marker, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            for (at, _) in text.match_indices(marker) {
                let rest: String = text[at + marker.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
                    .collect();
                // `crate::{a, b}` and `crate::x::{a, b}`: the part before the brace, then each item.
                let (head, items) = match text[at + marker.len()..].split_once('{') {
                    Some((head, tail)) if rest.contains('{') => {
                        let items: Vec<String> = tail
                            .split('}')
                            .next()
                            .unwrap_or_default()
                            .split(',')
                            .map(|item| item.trim().split([' ', ':']).next().unwrap_or_default().to_owned())
                            .filter(|item| !item.is_empty())
                            .collect();
                        (head.trim_end_matches("::").to_owned(), items)
                    }
                    _ => (rest.trim_end_matches(':').to_owned(), vec![String::new()]),
                };
                for item in items {
                    let joined = [base.as_str(), head.as_str(), item.as_str()]
                        .into_iter()
                        .filter(|part| !part.is_empty())
                        .collect::<Vec<_>>()
                        .join("::");
                    paths.push(joined);
                }
            }
        }
        // A module file naming one of its own children (`tickets::triage` in routes/mod.rs).
        for child in modules.keys().filter(|m| m.rsplit_once("::").map_or("", |(p, _)| p) == module) {
            let name = child.rsplit("::").next().unwrap_or_default();
            if text.contains(&format!("{name}::")) || text.contains(&format!("use {name};")) {
                paths.push(child.clone());
            }
        }
        for path in paths {
            if let Some(target) = owner(&path, modules) {
                if target != module {
                    targets.insert(target.clone());
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// A circle of modules, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates").join(name).join("src")
}

fn assert_no_circle(name: &str) {
    let modules = modules(&crate_src(name));
    assert!(modules.len() > 5, "{name}: too few modules found");
    let mut graph = dependencies(&modules);
    // Every module may use the crate root's re-exports, and the root declares every module.
    graph.remove("");
    for targets in graph.values_mut() {
        targets.remove("");
    }
    if let Some(circle) = find_circle(&graph) {
        panic!("crates/{name}: modules depend on each other in a circle: {}", circle.join(" → "));
    }
}

#[test]
fn no_two_modules_of_the_api_crate_depend_on_each_other() {
    assert_no_circle("api");
}

#[test]
fn no_two_modules_of_the_storage_crate_depend_on_each_other() {
    assert_no_circle("storage");
}

#[test]
fn the_circle_check_finds_a_circle() {
    let modules: BTreeMap<String, String> = [
        ("a".to_owned(), "use crate::b::thing;".to_owned()),
        ("b".to_owned(), "use crate::{c::other, d};".to_owned()),
        ("c".to_owned(), "fn f() { crate::a::g() }".to_owned()),
        ("d".to_owned(), String::new()),
    ]
    .into();
    let circle = find_circle(&dependencies(&modules)).expect("a → b → c → a");
    assert_eq!(circle, ["a", "b", "c", "a"]);
}

/// Handlers: functions with a route attribute in crates/api/src/routes.
#[test]
fn every_route_handler_is_at_most_about_thirty_lines() {
    let modules = modules(&crate_src("api"));
    let mut long = Vec::new();
    for (module, text) in modules.iter().filter(|(m, _)| m.starts_with("routes")) {
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let routed = ["#[get(", "#[post(", "#[patch(", "#[delete(", "#[put(", "#[routes]"]
                .iter()
                .any(|attribute| line.trim_start().starts_with(attribute));
            if !routed {
                continue;
            }
            let Some(start) = lines[index..].iter().position(|l| l.starts_with("pub async fn")) else {
                continue;
            };
            let start = index + start;
            let end = lines[start..].iter().position(|l| *l == "}").map_or(lines.len(), |end| start + end);
            // The signature is not the body.
            let body_start = lines[start..end]
                .iter()
                .position(|l| l.ends_with('{'))
                .map_or(start, |offset| start + offset);
            let length = end - body_start - 1;
            if length > 32 {
                let name =
                    lines[start].trim_start_matches("pub async fn ").split('(').next().unwrap_or_default();
                long.push(format!("{module}::{name}: {length} lines"));
            }
        }
    }
    assert!(long.is_empty(), "handlers longer than about 30 lines:\n  {}", long.join("\n  "));
}
