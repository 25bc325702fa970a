//! The module tree's dependencies point one way: app → domains (methyl, ladder, plot) → io →
//! mcmc → kernels → rng → math, error. This test reads every file under src/ and fails on
//! a `crate::` path that names a module of a higher layer, on a domain that uses another
//! domain, and on an import cycle between modules that are not ancestor and descendant.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may use its own layer's modules only where the
/// layer allows it (see `same_layer_ok`) and any lower layer's.
const LAYERS: [(&str, u32); 10] = [
    ("error", 0),
    ("math", 0),
    ("rng", 1),
    ("kernels", 2),
    ("mcmc", 3),
    ("io", 4),
    ("methyl", 5),
    ("ladder", 5),
    ("plot", 5),
    ("app", 6),
];

fn layer(top: &str) -> u32 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .unwrap_or_else(|| panic!("src/{top}: a top-level module without a layer in LAYERS"))
        .1
}

/// The bottom layer's modules are independent; domains do not use each other.
fn same_layer_ok(from: &str, to: &str) -> bool {
    from == to
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

/// `src/a/b/mod.rs` → ["a", "b"]; `src/a/c.rs` → ["a", "c"]; lib.rs and main.rs → [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The identifier segments of the path that starts at `rest`, as far as they go.
fn segments(rest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for seg in rest.split("::") {
        let ident: String = seg
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let whole = ident.len() == seg.len();
        if !ident.is_empty() {
            out.push(ident);
        }
        if !whole {
            break;
        }
    }
    out
}

/// Every path in `text` that starts with `prefix` ("crate::", "super::", "self::"), as its
/// segments after the prefix (comments included: a doc link to a higher layer is a
/// dependency of the reader's mind, too).
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    text.match_indices(prefix)
        .filter(|(i, _)| {
            !text[..*i]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        })
        .map(|(i, _)| segments(&text[i + prefix.len()..]))
        .filter(|path| !path.is_empty())
        .collect()
}

/// Every module path a file names: `crate::` paths as they are, and `super::`/`self::`
/// paths resolved against the file's module `module` (`is_mod_rs`: a mod.rs, whose `self` is
/// its directory). Only the code before the first `#[cfg(test)]` is read for `super::`,
/// since a test module's `super` is its file.
fn crate_paths(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = paths_after(text, "crate::");
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    for (prefix, up) in [("self::", 0), ("super::", 1)] {
        for mut path in paths_after(code, prefix) {
            let mut base = module[..module.len().saturating_sub(up)].to_vec();
            while path.first().is_some_and(|s| s == "super") {
                path.remove(0);
                base.pop();
            }
            base.extend(path);
            if !base.is_empty() {
                out.push(base);
            }
        }
    }
    out
}

#[test]
fn dependencies_point_down_and_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut violations = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        let Some(from_top) = from.first() else {
            continue; // lib.rs and main.rs sit above every layer.
        };
        let text = fs::read_to_string(file).unwrap();
        for path in crate_paths(&text, &from) {
            let to_top = &path[0];
            if !modules.iter().any(|m| m.first() == Some(to_top)) {
                continue; // not a module (e.g. a macro or a type at the crate root)
            }
            let (lf, lt) = (layer(from_top), layer(to_top));
            if lt > lf || (lt == lf && !same_layer_ok(from_top, to_top)) {
                violations.push(format!(
                    "{}: uses crate::{} ({} is above or beside {})",
                    file.display(),
                    path.join("::"),
                    to_top,
                    from_top
                ));
            }
            // The longest module that prefixes the path is the dependency.
            let to = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p))
                .unwrap();
            let related = to.starts_with(&from) || from.starts_with(&to);
            if !related {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    // Cycles: a module that reaches itself through the edges.
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.join("::")])];
        let mut seen = BTreeSet::new();
        while let Some((node, trail)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                let mut t = trail.clone();
                t.push(next.join("::"));
                if next == start {
                    violations.push(format!("import cycle: {}", t.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "{} layering violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

#[test]
fn crate_paths_are_parsed() {
    let module = ["plot".to_string(), "traces".to_string()];
    let text = "use crate::mcmc::sampler::{run, Fit};\n x = crate::io::read::Dataset;\n\
                use super::axes::ticks;\nuse super::super::io::write;\n#[cfg(test)]\nuse super::*;";
    let paths = crate_paths(text, &module);
    assert_eq!(paths[0], ["mcmc", "sampler"]);
    assert_eq!(paths[1], ["io", "read", "Dataset"]);
    assert_eq!(paths[2], ["plot", "axes", "ticks"]);
    assert_eq!(paths[3], ["io", "write"]);
    assert_eq!(paths.len(), 4, "{paths:?}");
}
