//! The methylation model against known truth: a study simulated from the model itself,
//! fitted end to end. The 95% intervals must cover the true values about 95% of the time,
//! and the loci called at a Bayesian FDR of 5% must be about 5% false. The GPU and CPU
//! site updates are compared on the same random stream.

mod common;

use std::collections::HashMap;
use std::fs::File;

use arrow::array::{Array, Float64Array, Int64Array};
use betagibbs::cli::DeviceChoice;
use betagibbs::methyl::fit::FitConfig;
use betagibbs::methyl::merge::SiteFilter;
use betagibbs::methyl::output::DmrRule;
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
    MethylConfig {
        sheet: dir.join("sheet.tsv"),
        compare: ("A".into(), "B".into()),
        filter: SiteFilter {
            min_coverage: 1,
            min_samples_per_group: 1,
            merge_strands: false,
        },
        threshold: 0.1,
        fdr: 0.05,
        dmr: DmrRule {
            min_cpgs: 3,
            max_gap: 50,
        },
        fit: FitConfig {
            chains: 4,
            warmup: 5,
            draws,
            seed: 3,
            hyper_sites: 2_000,
            hyper_warmup: 200,
            hyper_draws: 50,
            chunk_sites: 1_024, // several chunks, as at genome scale
            workgroup_size: 64,
            scalar_twin: false,
        },
        device,
        out: dir.join("fit"),
        quiet: true,
        draws_regions: Vec::new(),
    }
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

/// truth.tsv: position -> (mu_A, mu_B, delta).
fn truth(dir: &std::path::Path) -> HashMap<u64, [f64; 3]> {
    std::fs::read_to_string(dir.join("truth.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[1].parse().unwrap(),
                [
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                    f[4].parse().unwrap(),
                ],
            )
        })
        .collect()
}

#[test]
fn intervals_cover_the_truth_and_calls_keep_their_fdr() {
    let dir = tempfile::tempdir().unwrap();
    study(dir.path());
    let report = run_methyl(&config(dir.path(), DeviceChoice::Cpu, 100)).unwrap();
    assert_eq!(report.sites, u64::from(SITES));
    let truth = truth(dir.path());
    let names = [
        "pos",
        "mu_A_q2_5",
        "mu_A_q97_5",
        "mu_B_q2_5",
        "mu_B_q97_5",
        "delta_q2_5",
        "delta_q97_5",
        "r_hat",
    ];
    let c = columns(&dir.path().join("fit/sites.parquet"), &names);
    let n = c["pos"].len();
    assert_eq!(n, SITES as usize);
    let covered = |k: usize, lo: &str, hi: &str| {
        (0..n)
            .filter(|&i| {
                let t = truth[&(c["pos"][i] as u64)][k];
                c[lo][i] <= t && t <= c[hi][i]
            })
            .count() as f64
            / n as f64
    };
    let coverage = [
        covered(0, "mu_A_q2_5", "mu_A_q97_5"),
        covered(1, "mu_B_q2_5", "mu_B_q97_5"),
        covered(2, "delta_q2_5", "delta_q97_5"),
    ];
    let mut r_hat = c["r_hat"].clone();
    r_hat.sort_by(f64::total_cmp);
    eprintln!(
        "coverage of the 95% intervals (mu_A, mu_B, delta): {coverage:?}; median R-hat {:.3}",
        r_hat[n / 2]
    );
    // Binomial sd of a coverage over 3,000 sites is 0.004; quantiles of 400 autocorrelated
    // draws per site add a little inward noise. 0.93 to 0.97 is about ±4 sd.
    for cov in coverage {
        assert!((0.93..=0.97).contains(&cov), "coverage {cov}");
    }

    let calls = columns(&dir.path().join("fit/dml.parquet"), &["pos", "p_dm"]);
    let called = calls["pos"].len();
    let false_calls = calls["pos"]
        .iter()
        .filter(|p| truth[&(**p as u64)][2].abs() <= 0.1)
        .count();
    let realised = false_calls as f64 / called as f64;
    let expected = calls["p_dm"].iter().map(|p| 1.0 - p).sum::<f64>() / called as f64;
    eprintln!("{called} DMLs: realised FDR {realised:.4}, expected {expected:.4} (target 0.05)");
    assert!(called > 1_000, "{called} calls");
    assert!(expected <= 0.05);
    // Binomial sd of the realised FDR over ~2,000 calls is 0.005.
    assert!(realised < 0.075, "realised FDR {realised}");
    assert!(dir.path().join("fit/dmr.parquet").is_file());
}

/// The site kernel on both devices, one dispatch with the same hyperparameters: the same
/// seed gives the same chains, except where f32 differences between the platforms' log and
/// exp flip a Metropolis decision (then that chain goes its own, equally valid, way).
#[test]
fn gpu_and_cpu_site_updates_agree() {
    use betagibbs::methyl::fit::site_batch;
    use betagibbs::methyl::merge::SiteMerger;
    use betagibbs::methyl::sheet::SampleSheet;
    use betagibbs::methyl::site::{site_update_twin, SiteOutputs, SiteParams, SiteStageGpu};
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
    let hyper = vec![[0.6f32, 0.6, 2.7, 0.7]; 4];
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
    eprintln!(
        "site chains equal to 1e-4 on both devices: {same} of {chains}; GPU bytes per site {:.0}",
        stage.bytes_per_site()
    );
    assert!(same as f64 >= 0.97 * chains as f64, "{same} of {chains}");
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
    use betagibbs::methyl::fit::{summarize_chunk, sweep_chunk, Hyper, SiteDevice, SiteRunner};
    let mut fit = config(dir.path(), DeviceChoice::Cpu, 400).fit;
    fit.chunk_sites = sites.len();
    let hyper = Hyper {
        per_chain: hyper,
        mean: [0.0; 4],
        sd: [0.0; 4],
        sites: 0,
        max_r_hat: 1.0,
        prior_spread: 0.0,
    };
    let run = |device: SiteDevice| {
        let runner = SiteRunner::new(&device, &fit, batch.samples.len(), 2);
        let swept = sweep_chunk(&runner, &sites, &sample_group, 2, 0, &hyper, &fit).unwrap();
        summarize_chunk(&sites, &swept.draws, 2, &fit, (0, 1), 0.1, &|_| false).summaries
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
