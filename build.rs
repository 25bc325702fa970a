//! Expands `#import NAME` lines in shaders/*.wgsl with shaders/shared/NAME.wgsl, validates
//! every expanded shader with naga and writes it to OUT_DIR, so a broken shader fails the
//! build rather than the first run. Then checks the host against the shaders: every struct
//! the host shares with WGSL has the same fields in the same order, with the same scalar
//! types, offsets and size, and every WGSL constant equals the Rust constant it mirrors (as
//! compile-time assertions in OUT_DIR/wgsl_abi.rs, included by `kernels`). A WGSL struct or
//! constant that is in neither table below fails the build: nothing stays "keep in sync".

use std::collections::BTreeMap;
use std::{env, fs, path::Path};

/// WGSL structs shared with the host: (WGSL name, Rust file, Rust path).
const SHARED_STRUCTS: &[(&str, &str, &str)] = &[
    (
        "ThetaParams",
        "src/kernels/layout.rs",
        "crate::kernels::layout::ThetaParams",
    ),
    (
        "Observation",
        "src/kernels/layout.rs",
        "crate::kernels::layout::Observation",
    ),
    (
        "Piece",
        "src/kernels/layout.rs",
        "crate::kernels::layout::Piece",
    ),
    (
        "SiteParams",
        "src/kernels/site_layout.rs",
        "crate::kernels::site_layout::SiteParams",
    ),
    (
        "SiteHyper",
        "src/kernels/site_layout.rs",
        "crate::kernels::site_layout::SiteHyper",
    ),
    (
        "SiteSample",
        "src/kernels/site_layout.rs",
        "crate::kernels::site_layout::SiteSample",
    ),
    (
        "RegressionShape",
        "src/kernels/regression_layout.rs",
        "crate::kernels::regression_layout::RegressionShape",
    ),
    (
        "SummaryParams",
        "src/kernels/summary_layout.rs",
        "crate::kernels::summary_layout::SummaryParams",
    ),
    (
        "GatherParams",
        "src/kernels/summary_layout.rs",
        "crate::kernels::summary_layout::GatherParams",
    ),
    (
        "RegressionHyper",
        "src/kernels/regression_layout.rs",
        "crate::kernels::regression_layout::RegressionHyper",
    ),
];

/// WGSL structs private to a shader (the host never sees their bytes).
const SHADER_ONLY_STRUCTS: &[&str] = &[
    "Point",
    "Proposal",
    "Target",
    "KatInput",
    "RegressionPoint",
    "Counts",
];

/// WGSL constants and the Rust expression each must equal (u32 as is, f32 bit for bit).
const SHARED_CONSTANTS: &[(&str, &str)] = &[
    ("PHILOX_M0", "crate::rng::PHILOX_M0"),
    ("PHILOX_M1", "crate::rng::PHILOX_M1"),
    ("PHILOX_W0", "crate::rng::PHILOX_W0"),
    ("PHILOX_W1", "crate::rng::PHILOX_W1"),
    ("STREAM_SHIFT", "crate::rng::STREAM_SHIFT"),
    ("STREAM_THETA_A", "crate::rng::Stream::ThetaA as u32"),
    ("STREAM_THETA_B", "crate::rng::Stream::ThetaB as u32"),
    ("STREAM_SITE", "crate::rng::Stream::Site as u32"),
    (
        "MAX_GAMMA_ATTEMPTS",
        "crate::kernels::cpu::variates::MAX_GAMMA_ATTEMPTS",
    ),
    (
        "STIRLING_MIN",
        "crate::kernels::cpu::betabinom::STIRLING_MIN",
    ),
    (
        "QUOTIENT_MAX",
        "crate::kernels::cpu::betabinom::QUOTIENT_MAX",
    ),
    (
        "HALF_LN_TWO_PI",
        "crate::kernels::cpu::betabinom::HALF_LN_TWO_PI",
    ),
    (
        "MAX_GROUPS",
        "crate::kernels::site_layout::MAX_GROUPS as u32",
    ),
    (
        "STATE_STRIDE",
        "crate::kernels::site_layout::STATE_STRIDE as u32",
    ),
    (
        "STATE_LOG_PHI",
        "crate::kernels::site_layout::STATE_LOG_PHI as u32",
    ),
    (
        "STATE_LIKELIHOOD",
        "crate::kernels::site_layout::STATE_LIKELIHOOD as u32",
    ),
    (
        "STATE_DIFFER",
        "crate::kernels::site_layout::STATE_DIFFER as u32",
    ),
    (
        "STATE_ACCEPTED",
        "crate::kernels::site_layout::STATE_ACCEPTED as u32",
    ),
    (
        "STATE_RECYCLED",
        "crate::kernels::site_layout::STATE_RECYCLED as u32",
    ),
    ("WALK_BLOCK", "crate::kernels::site_layout::WALK_BLOCK"),
    ("MODEL_BLOCK", "crate::kernels::site_layout::MODEL_BLOCK"),
    ("MIN_SHAPE", "crate::kernels::site_layout::MIN_SHAPE"),
    ("RW_LOGIT_MU", "crate::kernels::site_layout::RW_LOGIT_MU"),
    ("LOG_PHI_DOF", "crate::kernels::site_layout::LOG_PHI_DOF"),
    ("SLAB_DOF", "crate::kernels::site_layout::SLAB_DOF"),
    (
        "PROPOSE_DIFFER",
        "crate::kernels::site_layout::PROPOSE_DIFFER",
    ),
    (
        "MAX_COEFS",
        "crate::kernels::regression_layout::MAX_COEFS as u32",
    ),
    (
        "REG_STATE_STRIDE",
        "crate::kernels::regression_layout::REG_STATE_STRIDE as u32",
    ),
    (
        "REG_STATE_LOG_PHI",
        "crate::kernels::regression_layout::REG_STATE_LOG_PHI as u32",
    ),
    (
        "REG_STATE_DIFFER",
        "crate::kernels::regression_layout::REG_STATE_DIFFER as u32",
    ),
    (
        "REG_STATE_LOG_LIKELIHOOD",
        "crate::kernels::regression_layout::REG_STATE_LOG_LIKELIHOOD as u32",
    ),
    (
        "REG_STATE_ACCEPTED",
        "crate::kernels::regression_layout::REG_STATE_ACCEPTED as u32",
    ),
    (
        "REG_STATE_RECYCLED",
        "crate::kernels::regression_layout::REG_STATE_RECYCLED as u32",
    ),
    (
        "STREAM_SITE_REGRESSION",
        "crate::rng::Stream::SiteRegression as u32",
    ),
    (
        "MIN_PRECISION",
        "crate::kernels::cpu::site_regression::MIN_PRECISION",
    ),
    (
        "RW_LOG_PHI",
        "crate::kernels::cpu::site_regression::RW_LOG_PHI",
    ),
    (
        "START_CLAMP",
        "crate::kernels::cpu::site_regression::START_CLAMP",
    ),
    (
        "SUMMARY_WORKGROUP",
        "crate::kernels::summary_layout::SUMMARY_WORKGROUP",
    ),
    (
        "MAX_SUMMARY_DRAWS",
        "crate::kernels::summary_layout::MAX_SUMMARY_DRAWS",
    ),
    (
        "GATHER_WORKGROUP",
        "crate::kernels::summary_layout::GATHER_WORKGROUP",
    ),
    (
        "SUMMARY_STRIDE",
        "crate::kernels::summary_layout::SUMMARY_STRIDE as u32",
    ),
    (
        "NUISANCE_DOF",
        "crate::kernels::regression_layout::NUISANCE_DOF",
    ),
];

/// WGSL constants the host has no copy of (it uses std's, or its twin has no need of one).
const SHADER_ONLY_CONSTANTS: &[&str] = &["PI", "TWO_PI", "NO_COORD", "NAN_BITS", "RANK_BLOCK"];

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

/// A struct as both sides see it: (field name, scalar type if any) in order, padding runs
/// folded into one "_pad"; offsets by field name; and the size (WGSL side only).
#[derive(Debug, PartialEq)]
struct Fields(Vec<(String, Option<String>)>);

fn fold_padding(fields: Vec<(String, Option<String>)>) -> Fields {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (name, ty) in fields {
        if name.starts_with("_pad") {
            if out.last().is_none_or(|(n, _)| n != "_pad") {
                out.push(("_pad".into(), None));
            }
        } else {
            out.push((name, ty));
        }
    }
    Fields(out)
}

/// The fields of `struct name { ... }` in a Rust file: `pub field: Type,` lines.
fn rust_fields(file: &str, name: &str) -> Fields {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let start = text
        .find(&format!("struct {name} {{"))
        .unwrap_or_else(|| panic!("{file}: no `struct {name} {{`"));
    let body = &text[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    let fields = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let l = l
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            let (field, ty) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("{file}: struct {name}: cannot read {l:?}"));
            let ty = ty.trim().trim_end_matches(',').to_string();
            let scalar = matches!(ty.as_str(), "u32" | "i32" | "f32").then_some(ty);
            (field.trim().to_string(), scalar)
        })
        .collect();
    fold_padding(fields)
}

fn scalar_name(inner: &naga::TypeInner) -> Option<String> {
    match inner {
        naga::TypeInner::Scalar(s) => Some(
            match (s.kind, s.width) {
                (naga::ScalarKind::Uint, 4) => "u32",
                (naga::ScalarKind::Sint, 4) => "i32",
                (naga::ScalarKind::Float, 4) => "f32",
                _ => return None,
            }
            .to_string(),
        ),
        _ => None,
    }
}

/// Appends to `checks` the assertions of every struct and constant of `module`.
fn check_module(
    module: &naga::Module,
    shader: &Path,
    constants: &mut BTreeMap<String, String>,
    checks: &mut BTreeMap<String, String>,
) {
    let mut layouter = naga::proc::Layouter::default();
    layouter
        .update(module.to_ctx())
        .expect("naga lays out a validated module");
    for (handle, ty) in module.types.iter() {
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            continue;
        };
        let name = ty.name.clone().unwrap_or_default();
        if SHADER_ONLY_STRUCTS.contains(&name.as_str()) {
            continue;
        }
        let (_, file, rust) = SHARED_STRUCTS
            .iter()
            .find(|(n, _, _)| *n == name)
            .unwrap_or_else(|| {
                panic!(
                    "{}: struct {name} is in neither SHARED_STRUCTS nor SHADER_ONLY_STRUCTS of build.rs",
                    shader.display()
                )
            });
        let wgsl = fold_padding(
            members
                .iter()
                .map(|m| {
                    let field = m.name.clone().unwrap_or_default();
                    (field, scalar_name(&module.types[m.ty].inner))
                })
                .collect(),
        );
        let host = rust_fields(file, rust.rsplit("::").next().unwrap());
        assert_eq!(
            wgsl,
            host,
            "{}: struct {name} and {rust} ({file}) differ in fields or scalar types",
            shader.display()
        );
        assert_eq!(layouter[handle].size, *span);
        let mut check = format!(
            "const _: () = assert!(core::mem::size_of::<{rust}>() == {span}, \"{rust}: size differs from WGSL's {name}\");\n"
        );
        for m in members {
            let field = m.name.clone().unwrap_or_default();
            if !field.starts_with("_pad") {
                check.push_str(&format!(
                    "const _: () = assert!(core::mem::offset_of!({rust}, {field}) == {}, \"{rust}.{field}: offset differs from WGSL's\");\n",
                    m.offset
                ));
            }
        }
        checks.insert(format!("struct {name}"), check);
    }
    for (_, c) in module.constants.iter() {
        let name = c.name.clone().unwrap_or_default();
        if SHADER_ONLY_CONSTANTS.contains(&name.as_str()) {
            continue;
        }
        let rust = SHARED_CONSTANTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .unwrap_or_else(|| {
                panic!(
                    "{}: const {name} is in neither SHARED_CONSTANTS nor SHADER_ONLY_CONSTANTS of build.rs",
                    shader.display()
                )
            });
        let check = match module.global_expressions[c.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => format!(
                "const _: () = assert!({rust} == {v}, \"{rust} differs from WGSL's {name} = {v}\");\n"
            ),
            naga::Expression::Literal(naga::Literal::F32(v)) => format!(
                "const _: () = assert!(({rust}).to_bits() == {:#x}, \"{rust} differs from WGSL's {name} = {v:e}\");\n",
                v.to_bits()
            ),
            ref e => panic!("{}: const {name}: unexpected {e:?}", shader.display()),
        };
        if let Some(before) = constants.insert(name.clone(), check.clone()) {
            assert_eq!(
                before,
                check,
                "{}: const {name} differs between shaders",
                shader.display()
            );
        }
    }
}

fn main() {
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let shaders = Path::new("shaders");
    let shared = shaders.join("shared");
    println!("cargo:rerun-if-changed=shaders");
    for (_, file, _) in SHARED_STRUCTS.iter() {
        println!("cargo:rerun-if-changed={file}");
    }
    let mut entries: Vec<_> = fs::read_dir(shaders)
        .expect("shaders/ exists")
        .map(|e| e.expect("readable shaders/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
        .collect();
    entries.sort();
    let mut constants = BTreeMap::new();
    let mut checks = BTreeMap::new();
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
        check_module(&module, &path, &mut constants, &mut checks);
        let name = path.file_name().expect("file name");
        fs::write(Path::new(&out_dir).join(name), expanded).expect("write expanded shader");
    }
    let mut abi = String::from(
        "// Generated by build.rs: the host's layouts and constants against the shaders'.\n",
    );
    for text in checks.values().chain(constants.values()) {
        abi.push_str(text);
    }
    fs::write(Path::new(&out_dir).join("wgsl_abi.rs"), abi).expect("write wgsl_abi.rs");
}
