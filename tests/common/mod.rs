//! Shared by the integration tests: the GPU adapter, or a clear skip.
#![allow(dead_code)]

use std::path::PathBuf;

use betagibbs::kernels::gpu::Gpu;
use betagibbs::kernels::DeviceChoice;
use betagibbs::methyl::config::MethylConfig;

/// True under CI (`CI=true`), where GPU and shared-data tests must run, not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A GPU adapter (the software Vulkan driver counts). Outside CI, None with a printed
/// reason when there is none; in CI, a panic, because CI installs lavapipe.
pub fn gpu_or_skip(test: &str) -> Option<Gpu> {
    match Gpu::open(true) {
        Ok(gpu) => {
            eprintln!("{test}: running on {}", gpu.describe());
            Some(gpu)
        }
        Err(e) if in_ci() => panic!("{test}: CI=true but no GPU adapter: {e}"),
        Err(e) => {
            eprintln!("SKIPPED {test}: no GPU adapter ({e})");
            None
        }
    }
}

/// `../shared/data/<name>` beside the repository, or None (with a printed skip) when
/// absent outside CI; in CI its absence is a failure.
pub fn shared_data(test: &str, name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    if path.exists() {
        Some(path)
    } else if in_ci() {
        panic!("{test}: CI=true but {} is missing", path.display())
    } else {
        eprintln!(
            "SKIPPED {test}: {} not found (a clone without ../shared)",
            path.display()
        );
        None
    }
}

/// True where `Rscript` runs with Bioconductor's DSS (the reference of `bench --dss`). Outside
/// CI, false with a printed skip when it does not; in CI, a panic, because CI installs it.
pub fn dss_or_skip(test: &str) -> bool {
    let ok = std::process::Command::new("Rscript")
        .args(["-e", "suppressPackageStartupMessages(library(DSS))"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && in_ci() {
        panic!("{test}: CI=true but Rscript with DSS is missing (apt-get install r-bioc-dss)");
    }
    if !ok {
        eprintln!(
            "SKIPPED {test}: no Rscript with Bioconductor's DSS (apt-get install r-bioc-dss)"
        );
    }
    ok
}

/// `methyl SHEET --compare A,B --out OUT` with methyl's defaults on the CPU, quiet.
pub fn methyl_config(sheet: PathBuf, out: PathBuf) -> MethylConfig {
    let mut config = MethylConfig::new(sheet, ("A".into(), "B".into()), out);
    config.device = DeviceChoice::Cpu;
    config.quiet = true;
    config
}
