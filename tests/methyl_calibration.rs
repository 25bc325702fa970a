//! The methylation site update on a simulated study: the GPU and CPU site updates on the same
//! random stream, and chunking. (Calibration is tested on data the model did not generate:
//! tests/methyl_null_split.rs.)

mod common;

use std::collections::HashMap;
use std::fs::File;

use arrow::array::{Array, Float64Array, Int64Array};
use betagibbs::cli::DeviceChoice;
use betagibbs::methyl::run::{run_methyl, MethylConfig};
use betagibbs::methyl::simulate::{simulate, SimulateConfig, DEFAULT_HYPER};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const SITES: u32 = 3_000;

fn study(dir: &std::path::Path) {
    simulate(&SimulateConfig {
        sites: SITES,
        replicates: 2,
        coverage: (10, 40),
        hyper: DEFAULT_HYPER,
        seed: 5,
        out: dir.to_path_buf(),
    })
    .unwrap();
}

fn config(dir: &std::path::Path, device: DeviceChoice, draws: u32) -> MethylConfig {
    let mut config = common::methyl_config(dir.join("sheet.tsv"), dir.join("fit"));
    config.device = device;
    config.fit.draws = draws;
    config.fit.seed = 3;
    config.fit.chunk_sites = 1_024; // several chunks, as at genome scale
    config
}

/// Float and int columns of a Parquet file by name, all row groups.
fn columns(path: &std::path::Path, names: &[&str]) -> HashMap<String, Vec<f64>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut out: HashMap<String, Vec<f64>> = HashMap::new();
    for batch in reader {
        let batch = batch.unwrap();
        for &name in names {
            let col = batch.column_by_name(name).unwrap();
            let values: Vec<f64> = if let Some(f) = col.as_any().downcast_ref::<Float64Array>() {
                f.values().to_vec()
            } else {
                let i = col.as_any().downcast_ref::<Int64Array>().unwrap();
                (0..i.len()).map(|k| i.value(k) as f64).collect()
            };
            out.entry(name.to_string()).or_default().extend(values);
        }
    }
    out
}

/// The site kernel on both devices, one dispatch with the same hyperparameters: the same
/// seed gives the same chains, except where f32 differences between the platforms' log and
/// exp flip a Metropolis decision (then that chain goes its own, equally valid, way).
#[test]
fn gpu_and_cpu_site_updates_agree() {
    use betagibbs::methyl::fit::site_batch;
    use betagibbs::methyl::merge::SiteMerger;
    use betagibbs::methyl::sheet::SampleSheet;
    use betagibbs::methyl::site::{
        site_update_twin, SiteHyper, SiteOutputs, SiteParams, SiteStageGpu, STATE_RECYCLED,
        STATE_STRIDE,
    };
    let Some(gpu) = common::gpu_or_skip("methyl_gpu_vs_cpu") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    study(dir.path());
    let sheet = SampleSheet::read(&dir.path().join("sheet.tsv")).unwrap();
    let filter = config(dir.path(), DeviceChoice::Cpu, 1).filter;
    let mut merger = SiteMerger::open(&sheet, filter).unwrap();
    let mut sites = Vec::new();
    while let Some(site) = merger.next_site().unwrap() {
        sites.push(site);
    }
    let (_, sample_group) = sheet.groups();
    let batch = site_batch(&sites, &sample_group);
    let hyper = vec![SiteHyper::new([0.6, 0.6, 2.7, 0.7], 0.2, 1.0); 4];
    let params = SiteParams {
        seed: 9,
        n_sites: sites.len() as u32,
        n_chains: 4,
        n_groups: 2,
        site_offset: 0,
        first_sweep: 0,
        warmup: 5,
        n_draws: 40,
        init: 1,
        draws_total: 40,
        draw_offset: 0,
        random_walk: 1,
        compare_first: 0,
        compare_second: 1,
        threshold: 0.1,
        _pad: 0,
    };
    let mut on_cpu = SiteOutputs::new(&params);
    // The shader against its scalar twin (the CPU path's lanes are held to the twin in site_lanes).
    site_update_twin(&params, &batch, &hyper, &mut on_cpu);
    let stage = SiteStageGpu::new(&gpu, sites.len(), batch.samples.len(), 4, 40, 2, 64);
    let mut on_gpu = SiteOutputs::new(&params);
    stage.run(&params, &batch, &hyper, &mut on_gpu).unwrap();
    let per_chain = 40 * 2;
    let chains = on_cpu.draws.len() / per_chain;
    let same = (0..chains)
        .filter(|&c| {
            let range = c * per_chain..(c + 1) * per_chain;
            on_cpu.draws[range.clone()]
                .iter()
                .zip(&on_gpu.draws[range])
                .all(|(a, b)| (a - b).abs() <= 1e-4 * a.abs().max(1e-3))
        })
        .count();
    // The recycled P(delta > d), P(delta < -d) and P(differ) sums of the recorded sweeps.
    let same_recycled = (0..chains)
        .filter(|&c| {
            let range = c * STATE_STRIDE + STATE_RECYCLED..c * STATE_STRIDE + STATE_RECYCLED + 3;
            on_cpu.state[range.clone()]
                .iter()
                .zip(&on_gpu.state[range])
                .all(|(a, b)| (a - b).abs() <= 1e-3 * a.abs().max(1.0))
        })
        .count();
    eprintln!(
        "site chains equal to 1e-4 on both devices: {same} of {chains}, {same_recycled} in their recycled sums; GPU bytes per site {:.0}",
        stage.bytes_per_site()
    );
    assert!(same as f64 >= 0.97 * chains as f64, "{same} of {chains}");
    assert!(
        same_recycled as f64 >= 0.97 * chains as f64,
        "{same_recycled} of {chains}"
    );
    // Ten more sweeps from the state without the random walk, as stage 1 runs them.
    let stage1 = SiteParams {
        first_sweep: 45,
        warmup: 10,
        n_draws: 0,
        init: 0,
        random_walk: 0,
        ..params
    };
    site_update_twin(&stage1, &batch, &hyper, &mut on_cpu);
    stage.run(&stage1, &batch, &hyper, &mut on_gpu).unwrap();
    let same = (0..chains)
        .filter(|&c| {
            let (a, b) = (on_cpu.stats[c], on_gpu.stats[c]);
            (a[2] - b[2]).abs() <= 1e-4 * a[2].abs().max(1e-3) && a[3] == b[3]
        })
        .count();
    eprintln!("without the random walk: {same} of {chains} chains agree");
    assert!(same as f64 >= 0.97 * chains as f64, "{same} of {chains}");

    // A long run goes in several dispatches, the chains carried in the state: both devices
    // still agree (a single dispatch of 400 sweeps lost its draws on lavapipe).
    use betagibbs::methyl::fit::{
        summarize_chunk, sweep_chunk, Contrast, Hyper, SiteDevice, SiteRunner,
    };
    let contrast = Contrast {
        groups: (0, 1),
        threshold: 0.1,
    };
    let mut fit = config(dir.path(), DeviceChoice::Cpu, 400).fit;
    fit.chunk_sites = sites.len();
    let hyper = Hyper {
        per_chain: hyper,
        mean: [0.0; 6],
        sd: [0.0; 6],
        sites: 0,
        max_r_hat: 1.0,
        prior_spread: 0.0,
    };
    let run = |device: SiteDevice| {
        let runner = SiteRunner::new(&device, &fit, batch.samples.len(), 2);
        let swept =
            sweep_chunk(&runner, &sites, &sample_group, 2, 0, &hyper, &fit, contrast).unwrap();
        summarize_chunk(
            &sites,
            &swept.draws,
            &swept.recycled,
            2,
            &fit,
            (0, 1),
            &|_| false,
        )
        .summaries
    };
    let (cpu, gpu) = (run(SiteDevice::Cpu), run(SiteDevice::Gpu(&gpu)));
    let agree = cpu
        .iter()
        .zip(&gpu)
        .filter(|(a, b)| (a.delta[0] - b.delta[0]).abs() < 1e-4)
        .count();
    eprintln!(
        "410 sweeps in dispatches of 64: {agree} of {} site means agree to 1e-4",
        cpu.len()
    );
    assert!(
        agree as f64 >= 0.97 * cpu.len() as f64,
        "{agree} of {}",
        cpu.len()
    );
}

/// One chunk (the sites kept from the sampling pass) or many (a second pass over the files):
/// the same sites, the same random streams, the same sites.parquet.
#[test]
fn chunking_does_not_change_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    study(dir.path());
    let run = |chunk_sites: usize, out: &str| {
        let mut c = config(dir.path(), DeviceChoice::Cpu, 10);
        c.fit.chunk_sites = chunk_sites;
        c.fit.hyper_warmup = 20;
        c.fit.hyper_draws = 5;
        c.out = dir.path().join(out);
        run_methyl(&c).unwrap();
        columns(
            &c.out.join("sites.parquet"),
            &["pos", "delta_mean", "mu_A_q2_5", "p_dm", "ess_bulk"],
        )
    };
    let (one, many) = (run(SITES as usize, "one"), run(700, "many"));
    assert_eq!(one["pos"].len(), SITES as usize);
    assert_eq!(one, many);
}
