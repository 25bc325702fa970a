//! Large `sample` runs stream their draws to a spill file instead of holding them: the
//! streamed sampler hands over exactly the draws the in-memory one keeps, block by block, and
//! the spill gives each parameter's back whole; a run too large for memory keeps its peak
//! resident memory below the size of its draws, and leaves no spill behind.

mod common;

use betagibbs::app::Embedded;
use betagibbs::io::draw_spill::DrawSpill;
use betagibbs::kernels::Device;
use betagibbs::mcmc::model::Model;
use betagibbs::mcmc::prior::HyperPrior;
use betagibbs::mcmc::sampler::{self, DrawSink, SamplerConfig};
use common::cli::arg;
use common::{betagibbs, Table};

/// Both embedded models (one level and a tree), thetas kept, in blocks that do not divide
/// the draws: the spill's draws equal the in-memory fit's, bit for bit.
#[test]
fn streamed_draws_equal_the_kept_ones() {
    for (model, prior) in [
        (Embedded::Rats, HyperPrior::Bda3),
        (Embedded::Baseball, HyperPrior::parse("kruschke").unwrap()),
    ] {
        let Model { batch, names } = Model::new(&model.dataset(), true).unwrap();
        let config = SamplerConfig::new(prior, 6, 20, 23, 1, 7);
        let kept = sampler::run(&batch, &config, Device::Cpu, None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut spill = DrawSpill::create(dir.path(), names.len(), 6).unwrap();
        let streamed = sampler::run_streamed(
            &batch,
            &config,
            Device::Cpu,
            None,
            DrawSink {
                block: 5,
                sink: &mut |values, k| spill.append(values, k),
            },
        )
        .unwrap();
        assert!(streamed.values.is_empty());
        assert_eq!(streamed.n_draws, 23);
        let mut reader = spill.finish().unwrap();
        let per_param = 6 * 23;
        for (p, name) in names.iter().enumerate() {
            let want = &kept.values[p * per_param..(p + 1) * per_param];
            assert!(reader.param(p).unwrap() == want, "{model:?}: {name}");
        }
    }
}

/// 480 rat chains x 1,000 draws are 288 MB of draws, above what a run holds in memory: the
/// run streams them, stays well below that size, writes every row and removes its spill.
#[test]
fn a_large_run_holds_less_than_its_draws() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let data = dir.path().join("rats.csv");
    std::fs::write(&data, betagibbs::app::RATS_CSV).unwrap();
    let run = betagibbs(&[
        "sample",
        arg(&data),
        "--successes",
        "tumors",
        "--trials",
        "rats",
        "--chains",
        "480",
        "--warmup",
        "100",
        "--draws",
        "1000",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        arg(&out),
    ]);
    run.assert_success();
    let peak_mb: f64 = run
        .stderr
        .split("peak resident memory ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory line:\n{}", run.stderr));
    let draws_mb = 75.0 * 480.0 * 1000.0 * 8.0 / 1e6;
    assert!(
        peak_mb < 0.8 * draws_mb,
        "peak {peak_mb} MB for {draws_mb} MB of draws"
    );
    let summary = Table::read(&out.join("summary.parquet"));
    assert_eq!(summary.rows, 75);
    let rhat = summary.numbers("r_hat");
    assert!(rhat.iter().all(|r| *r < 1.05), "{rhat:?}");
    let file = std::fs::File::open(out.join("draws.parquet")).unwrap();
    let rows = parquet::file::reader::FileReader::metadata(
        &parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap(),
    )
    .file_metadata()
    .num_rows();
    assert_eq!(rows, 75 * 480 * 1000);
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}
