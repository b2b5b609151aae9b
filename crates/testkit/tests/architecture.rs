//! The workspace's shape, checked: inside each crate the modules form no cycle, and the front
//! ends (JSON API, pages, FHIR, HL7) depend on the application layer and never on each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A crate's modules, each named by its path (`["web", "case"]`), with the source of its file.
fn modules(src: &Path) -> BTreeMap<Vec<String>, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut name: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                if matches!(name.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    name.pop();
                }
                out.insert(name, without_tests_and_comments(&std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

/// The code a module's own items use: its unit tests and comments left out.
fn without_tests_and_comments(src: &str) -> String {
    let code = src.split("#[cfg(test)]\nmod tests").next().unwrap_or(src);
    code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Which modules each module uses, by `crate::`, `super::` and its children's paths. A
/// re-export (`pub use`) is a facade, not a use, and a module's use of itself or of the root
/// that declares it does not count.
fn uses(mods: &BTreeMap<Vec<String>, String>) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let path = regex::Regex::new(r"\b(crate|super(?:::super)*)((?:::[a-z_][a-z0-9_]*)+)").unwrap();
    let group = regex::Regex::new(r"\b(crate|super(?:::super)*)::\{([^}]*)\}").unwrap();
    let resolve = |p: &[String]| -> Vec<String> {
        (0..=p.len()).rev().map(|k| p[..k].to_vec()).find(|m| mods.contains_key(m)).unwrap_or_default()
    };
    let mut graph = BTreeMap::new();
    for (me, src) in mods {
        let mut used = BTreeSet::new();
        for line in src
            .lines()
            .filter(|l| !l.trim_start().starts_with("pub use") && !l.trim_start().starts_with("pub(crate) use"))
        {
            let base_of = |anchor: &str| -> Vec<String> {
                if anchor == "crate" {
                    vec![]
                } else {
                    me[..me.len().saturating_sub(anchor.matches("super").count())].to_vec()
                }
            };
            for cap in path.captures_iter(line) {
                let mut base = base_of(&cap[1]);
                base.extend(cap[2].split("::").filter(|s| !s.is_empty()).map(str::to_string));
                used.insert(resolve(&base));
            }
            // `use crate::{a, b::C}`: each item names a module or an item of the anchor.
            for cap in group.captures_iter(line) {
                for item in cap[2].split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let mut base = base_of(&cap[1]);
                    base.extend(item.split("::").map(str::to_string));
                    used.insert(resolve(&base));
                }
            }
            for child in mods.keys().filter(|m| m.len() == me.len() + 1 && m.starts_with(me)) {
                let name = child.last().unwrap();
                let plain = format!("{name}::");
                let found = line.match_indices(&plain).any(|(i, _)| {
                    i == 0 || !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
                });
                if found {
                    used.insert(child.clone());
                }
            }
        }
        used.remove(me);
        used.remove(&Vec::new());
        graph.insert(me.clone(), used);
    }
    graph
}

/// A cycle in the graph, if there is one.
fn cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        n: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m) {
                Some(1) => {
                    let from = stack.iter().position(|x| x == m).unwrap();
                    return Some(stack[from..].to_vec());
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if !state.contains_key(n)
            && let Some(c) = visit(n, graph, &mut state, &mut vec![])
        {
            return Some(c);
        }
    }
    None
}

fn crates() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(Path::new(WORKSPACE).join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn no_crate_has_a_cycle_among_its_modules() {
    let mut checked = 0;
    for dir in crates() {
        let mods = modules(&dir.join("src"));
        checked += mods.len();
        if let Some(c) = cycle(&uses(&mods)) {
            let names: Vec<String> =
                c.iter().map(|m| if m.is_empty() { "crate".into() } else { m.join("::") }).collect();
            panic!("{}: modules use each other in a circle: {}", dir.display(), names.join(" → "));
        }
    }
    assert!(checked > 100, "only {checked} modules found");
}

#[test]
fn the_checker_finds_a_cycle() {
    let mut mods = BTreeMap::new();
    mods.insert(vec![], "mod a;\nmod b;\n".to_string());
    mods.insert(vec!["a".to_string()], "use crate::b::Thing;\n".to_string());
    mods.insert(vec!["b".to_string()], "fn f() { super::a::g() }\n".to_string());
    assert!(cycle(&uses(&mods)).is_some());
    mods.insert(vec!["b".to_string()], "fn f() {}\n".to_string());
    assert!(cycle(&uses(&mods)).is_none());
}

/// The crates a crate depends on (normal dependencies), by package name.
fn dependencies(dir: &Path) -> BTreeSet<String> {
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().parse().unwrap();
    manifest.get("dependencies").and_then(|d| d.as_table()).map(|d| d.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn front_ends_depend_on_the_application_and_not_on_each_other() {
    let front_ends = ["samverka-api", "samverka-web", "samverka-person", "samverka-fhir", "samverka-hl7"];
    let root = Path::new(WORKSPACE).join("crates");
    for (dir, name) in [
        ("api", "samverka-api"),
        ("web", "samverka-web"),
        ("person", "samverka-person"),
        ("fhir", "samverka-fhir"),
        ("hl7", "samverka-hl7"),
    ] {
        let deps = dependencies(&root.join(dir));
        assert!(deps.contains("samverka-app"), "{name} does not use the application layer");
        for other in front_ends.iter().filter(|f| **f != name) {
            assert!(!deps.contains(*other), "{name} depends on {other}");
        }
    }
    for below in ["app", "store", "domain"] {
        let deps = dependencies(&root.join(below));
        for f in front_ends {
            assert!(!deps.contains(f), "samverka-{below} depends on the front end {f}");
        }
    }
}
