//! Expands `#import NAME` lines in shaders/*.wgsl with shaders/shared/NAME.wgsl,
//! validates every expanded shader with naga, and writes them to OUT_DIR, so a
//! broken shader fails the build rather than the first run.

use std::{env, fs, path::Path};

fn expand(source: &str, shared: &Path, shader: &Path) -> String {
    let mut out = String::new();
    for line in source.lines() {
        match line.trim().strip_prefix("#import ") {
            Some(name) => {
                let path = shared.join(format!("{}.wgsl", name.trim()));
                let text = fs::read_to_string(&path).unwrap_or_else(|e| {
                    panic!(
                        "{}: #import {}: {}: {e}",
                        shader.display(),
                        name,
                        path.display()
                    )
                });
                out.push_str(&format!("// ---- begin {} ----\n", path.display()));
                out.push_str(&text);
                out.push_str(&format!("// ---- end {} ----\n", path.display()));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn main() {
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let shaders = Path::new("shaders");
    let shared = shaders.join("shared");
    println!("cargo:rerun-if-changed=shaders");
    let mut entries: Vec<_> = fs::read_dir(shaders)
        .expect("shaders/ exists")
        .map(|e| e.expect("readable shaders/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
        .collect();
    entries.sort();
    for path in entries {
        let source = fs::read_to_string(&path).expect("readable shader");
        let expanded = expand(&source, &shared, &path);
        let module = naga::front::wgsl::parse_str(&expanded)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&expanded)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&expanded)));
        let name = path.file_name().expect("file name");
        fs::write(Path::new(&out_dir).join(name), expanded).expect("write expanded shader");
    }
}
