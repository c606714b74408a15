//! The core's shape, checked from its source: the modules of `src/model` and `src/engine` import each other
//! without cycles (so each layer can be read, tested and replaced on its own: ids and events at the bottom, the
//! world and the chain specs above them, metrics above records, the payment state machine on top), and the core
//! never reaches the edge (files, terminal, clock, environment, threads, or the `app`/`output`/`chart`/`cli`/
//! `scenario`/`sweep` modules).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file belongs to, as a node of the graph: `src/model/chain/state.rs` → `model::chain::state`; the
/// files of a module split over a directory (`src/model/sim/*.rs`) are one node, `model::sim`.
fn node_of(path: &Path) -> String {
    let rel = path.strip_prefix("src").unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    // A directory that holds a `mod.rs` of its own and no nested modules of separate standing is one node.
    if parts.len() >= 3 && parts[0] == "model" && parts[1] == "sim" {
        parts.truncate(2);
    }
    parts.join("::")
}

/// The source without `#[cfg(test)]` modules (unit tests may use anything).
fn non_test(src: &str) -> String {
    match src.find("#[cfg(test)]") {
        Some(i) => src[..i].to_string(),
        None => src.to_string(),
    }
}

/// The `crate::…` paths a file names, resolved to the longest known node.
fn references(src: &str, nodes: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = src;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        for k in (1..=segs.len()).rev() {
            let cand = segs[..k].join("::");
            if nodes.contains(&cand) {
                out.insert(cand);
                break;
            }
        }
    }
    out
}

fn core_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut paths = Vec::new();
    files(Path::new("src/model"), &mut paths);
    files(Path::new("src/engine"), &mut paths);
    let nodes: BTreeSet<String> = paths.iter().map(|p| node_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &paths {
        let node = node_of(p);
        let src = non_test(&std::fs::read_to_string(p).unwrap());
        let refs = references(&src, &nodes);
        let entry = graph.entry(node.clone()).or_default();
        entry.extend(
            refs.into_iter()
                .filter(|r| *r != node && !node.starts_with(&format!("{r}::")) && r != "model"),
        );
    }
    graph
}

/// A cycle in the graph, if any, as the list of nodes around it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[i..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_core_modules_import_each_other_without_cycles() {
    let g = core_graph();
    assert!(g.contains_key("model::sim") && g.contains_key("model::chain::state"));
    assert!(
        g["model::sim"].contains("model::metrics"),
        "{:?}",
        g["model::sim"]
    );
    if let Some(cycle) = find_cycle(&g) {
        panic!("import cycle in the core: {}", cycle.join(" → "));
    }
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle() {
    let mut g = core_graph();
    g.get_mut("model::ids").unwrap().insert("model::sim".into());
    let cycle = find_cycle(&g).expect("ids → sim → … → ids is a cycle");
    assert!(cycle.contains(&"model::ids".to_string()), "{cycle:?}");
}

#[test]
fn the_core_never_reaches_the_edge() {
    let mut paths = Vec::new();
    files(Path::new("src/model"), &mut paths);
    files(Path::new("src/engine"), &mut paths);
    let forbidden = [
        "crate::app",
        "crate::output",
        "crate::chart",
        "crate::cli",
        "crate::scenario",
        "crate::sweep",
        "std::fs",
        "std::io",
        "std::env",
        "std::time",
        "std::thread",
        "SystemTime",
        "Instant::now",
        "println!",
        "eprintln!",
        "print!(",
        "rayon",
        "File::",
    ];
    let mut found = Vec::new();
    for p in &paths {
        let src = non_test(&std::fs::read_to_string(p).unwrap());
        for f in forbidden {
            if src.contains(f) {
                found.push(format!("{}: {f}", p.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core reaches the edge:\n{}",
        found.join("\n")
    );
}
