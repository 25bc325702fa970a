//! What the `#[ignore]`d tests need, or a panic that says how to get it: they run under
//! `cargo test -- --include-ignored`, where a missing requirement is a failure, never a skip.

use std::path::PathBuf;

use betagibbs::kernels::gpu::Gpu;

/// A GPU adapter; the software Vulkan driver (lavapipe) counts.
pub fn gpu() -> Gpu {
    match Gpu::open(true) {
        Ok(gpu) => {
            eprintln!("GPU tests run on {}", gpu.describe());
            gpu
        }
        Err(e) => panic!("this test needs a GPU adapter: {e}"),
    }
}

/// `../shared/data/<name>` beside the repository.
pub fn shared_data(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    assert!(
        path.exists(),
        "this test needs {}: a checkout with the project's shared/ beside it",
        path.display()
    );
    path
}

/// `Rscript` with Bioconductor's DSS, the reference of `bench --dss`.
pub fn require_dss() {
    let ok = std::process::Command::new("Rscript")
        .args(["-e", "suppressPackageStartupMessages(library(DSS))"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs Rscript with Bioconductor's DSS (Debian: apt-get install r-bioc-dss)"
    );
}

/// htslib's `bgzip` and `tabix`, which users index their count files with.
pub fn require_htslib() {
    for tool in ["bgzip", "tabix"] {
        let ok = std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "this test needs htslib's {tool} (Debian: apt-get install tabix)"
        );
    }
}
