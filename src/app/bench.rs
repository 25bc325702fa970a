//! `bench`: the embedded models timed on both paths with both updates; or, by flag, the
//! methylation benchmark (`--sheet`), the accuracy benchmark (`--accuracy`) or the study-design
//! benchmark (`--design`).

use std::path::PathBuf;

use crate::app::embedded::Embedded;
use crate::app::memory::check_fits;
use crate::app::report::mixing;
use crate::app::stan::{run_stan, StanRow};
use crate::kernels::device::describe_device;
use crate::kernels::gpu::Gpu;
use crate::kernels::Device;
use crate::mcmc::model::Model;
use crate::mcmc::prior::HyperPrior;
use crate::mcmc::sampler::{self, SamplerConfig, Update};
use crate::methyl::config::MethylConfig;
use crate::methyl::reference::Suite;

/// What `bench` times, chosen by its flags.
#[derive(Debug)]
pub enum BenchJob {
    /// `--accuracy` or `--design`: that benchmark script on the real data in `data`.
    Suite {
        suite: Suite,
        data: PathBuf,
        quick: bool,
        out: Option<PathBuf>,
    },
    /// `--sheet`: `methyl` on a sample sheet, on the GPU too unless `--cpu-only`, beside DSS
    /// with `--dss`.
    Methyl {
        config: Box<MethylConfig>,
        gpu: bool,
        dss: bool,
    },
    /// An embedded model.
    Embedded(BenchConfig),
}

/// `bench`, whichever job its flags chose.
pub fn run(job: &BenchJob) -> anyhow::Result<()> {
    match job {
        BenchJob::Suite {
            suite,
            data,
            quick,
            out,
        } => crate::methyl::reference::run_suite(*suite, data, *quick, out.as_deref()),
        BenchJob::Methyl { config, gpu, dss } => {
            crate::methyl::run::run_methyl_bench(config, *gpu, *dss)
        }
        BenchJob::Embedded(config) => run_bench(config).map(|_| ()),
    }
}

/// `bench` on an embedded model, validated.
#[derive(Debug)]
pub struct BenchConfig {
    pub model: Embedded,
    pub chains: Vec<u32>,
    pub updates: Vec<Update>,
    pub warmup: u32,
    pub draws: u32,
    pub seed: u32,
    /// None: each update's default.
    pub hyper_rounds: Option<u32>,
    pub gpu: bool,
    /// `--stan`: Stan's NUTS on the same model in the same run (rats only).
    pub stan: bool,
}

/// One benchmark measurement: an embedded model with one update and chain count on one path.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub path: String,
    pub update: Update,
    pub chains: u32,
    pub wall_seconds: f64,
    /// Per-observation kernel work per second: thetas drawn plus beta-binomial terms.
    pub observation_updates_per_second: f64,
    /// The smallest bulk ESS over the hyperparameters (every alpha, beta, mu, kappa, or
    /// every omega and kappa), per wall second, warm-up included.
    pub min_ess_per_second: f64,
    /// Which hyperparameter had that smallest ESS.
    pub slowest: String,
    /// Bulk ESS of `kappa` (alpha + beta, or the root's concentration) per wall second: bulk
    /// ESS is rank-based, so also that of log(alpha + beta), the figure Stan users quote.
    pub kappa_ess_per_second: f64,
    /// The largest rank-normalised split R-hat over the hyperparameters: converged if near 1.
    pub max_r_hat: f64,
    /// Share of the wall time in the per-observation stages (the rest: host updates and bookkeeping).
    pub stage_share: f64,
}

/// Run an embedded model once and measure it.
pub fn bench_once(
    gpu: Option<&Gpu>,
    chains: u32,
    update: Update,
    bench: &BenchConfig,
) -> anyhow::Result<BenchRow> {
    let dataset = bench.model.dataset();
    let Model { batch, names } = Model::new(&dataset, false)?;
    let prior = if batch.is_tree() {
        HyperPrior::parse("kruschke").expect("valid prior")
    } else {
        HyperPrior::Bda3
    };
    let mut config = SamplerConfig::new(prior, chains, bench.warmup, bench.draws, 1, bench.seed);
    config.keep_thetas = false;
    config.update = update;
    config.hyper_rounds = bench.hyper_rounds.unwrap_or(update.default_rounds());
    check_fits(
        config.memory_bytes(&batch),
        &format!("--chains {chains} and --draws {}", bench.draws),
    )?;
    let backend = Device::from_gpu(gpu);
    let fit = sampler::run(&batch, &config, backend, None)?;
    let m = mixing(
        names
            .iter()
            .enumerate()
            .map(|(p, n)| (n.as_str(), fit.chains(p))),
    );
    Ok(BenchRow {
        path: describe_device(gpu),
        update,
        chains,
        wall_seconds: fit.wall_seconds,
        observation_updates_per_second: fit.observation_updates as f64 / fit.wall_seconds,
        min_ess_per_second: m.min_ess / fit.wall_seconds,
        slowest: m.slowest,
        kappa_ess_per_second: m.kappa_ess / fit.wall_seconds,
        max_r_hat: m.max_r_hat,
        stage_share: fit.stage_seconds / fit.wall_seconds,
    })
}

/// `bench`: both paths and every update side by side for each chain count.
pub fn run_bench(config: &BenchConfig) -> anyhow::Result<Vec<BenchRow>> {
    // With --stan, Stan and the whole command run first, on a machine that the rows below
    // (the 1,024-chain run holds ~600 MB) have not yet loaded: measured after them, the
    // command took 0.48-0.52 s, before them 0.44-0.45 s.
    let stan = if config.stan {
        run_stan(STAN_CHAINS, config.warmup, config.draws, config.seed)?
            .map(|stan| Ok::<_, anyhow::Error>((stan, time_whole_sample(config.seed)?)))
            .transpose()?
    } else {
        None
    };
    let gpu = if config.gpu {
        match Gpu::open(true) {
            Ok(g) => Some(g),
            Err(e) => {
                eprintln!("betagibbs: {e}; timing the CPU path only");
                None
            }
        }
    } else {
        None
    };
    let (model, prior) = match config.model {
        Embedded::Rats => ("rat model (71 observations, one level)", "bda3"),
        Embedded::Baseball => (
            "baseball model (948 players in 9 positions, two levels)",
            "kruschke",
        ),
    };
    let rounds = match config.hyper_rounds {
        Some(r) => r.to_string(),
        None => format!(
            "gibbs {}, collapsed {}",
            Update::Gibbs.default_rounds(),
            Update::Collapsed.default_rounds()
        ),
    };
    println!(
        "{model}, {prior} prior, {} warm-up + {} draws per chain, hyperparameter rounds per sweep: {rounds}",
        config.warmup, config.draws
    );
    println!(
        "{:<44} {:>9} {:>6} {:>8} {:>14} {:>12} {:>16} {:>7} {:>7}",
        "path",
        "update",
        "chains",
        "wall s",
        "obs-updates/s",
        "min ESS/s",
        "slowest",
        "R-hat",
        "stage %"
    );
    let mut rows = Vec::new();
    // The CPU path, then the GPU path when there is one, at each chain count.
    let paths: Vec<Option<&Gpu>> = std::iter::once(None)
        .chain(gpu.as_ref().map(Some))
        .collect();
    for &chains in &config.chains {
        for &update in &config.updates {
            for &g in &paths {
                let row = bench_once(g, chains, update, config)?;
                println!(
                    "{:<44} {:>9} {:>6} {:>8.2} {:>14.3e} {:>12.0} {:>16} {:>7.3} {:>7.0}",
                    row.path,
                    row.update.to_string(),
                    row.chains,
                    row.wall_seconds,
                    row.observation_updates_per_second,
                    row.min_ess_per_second,
                    row.slowest,
                    row.max_r_hat,
                    100.0 * row.stage_share
                );
                rows.push(row);
            }
        }
    }
    if let Some((stan, whole)) = stan {
        compare_with_stan(&stan, &whole, &rows);
    }
    Ok(rows)
}

/// Stan's chains in `bench --stan`: its default, one per core on a workstation.
const STAN_CHAINS: u32 = 4;

/// Stan's row under ours, then each of our rows' ESS/s over Stan's.
fn compare_with_stan(stan: &StanRow, whole: &WholeCommand, rows: &[BenchRow]) {
    // Stan's sampling time less PyStan's fixed cost per call: the benefit of the doubt.
    let seconds = (stan.seconds - stan.overhead).max(f64::MIN_POSITIVE);
    let per_second = stan.min_ess / seconds;
    println!(
        "{:<44} {:>9} {:>6} {:>8.2} {:>14} {:>12.0} {:>16} {:>7.3} {:>7}",
        format!("stan: {} (thetas integrated out)", stan.version),
        "nuts",
        stan.chains,
        seconds,
        "-",
        per_second,
        stan.slowest,
        stan.max_r_hat,
        "-"
    );
    let kappa_per_second = stan.kappa_ess / seconds;
    println!(
        "Stan's time: {:.2} s for the call less {:.2} s that a one-iteration call takes (PyStan's processes and transfers), compilation excluded",
        stan.seconds, stan.overhead
    );
    println!(
        "ours against Stan ({per_second:.0} min ESS/s, {kappa_per_second:.0} ESS/s of log(alpha + beta)), same warm-up and draws per chain:"
    );
    for row in rows {
        println!(
            "  {:<44} {:>9} {:>6} chains: min ESS/s {:.1}x, log(alpha + beta) {:.1}x",
            row.path,
            row.update.to_string(),
            row.chains,
            row.min_ess_per_second / per_second,
            row.kappa_ess_per_second / kappa_per_second
        );
    }
    let ess_per_second: Vec<f64> = whole.seconds.iter().map(|s| whole.kappa_ess / s).collect();
    println!(
        "the whole command (`sample rats.csv --chains {WHOLE_CHAINS} --warmup {WHOLE_WARMUP} --draws {WHOLE_DRAWS} --device cpu`, reading, summarising and writing included), {} runs: {} s, ESS of log(alpha + beta) {:.0}: {} ESS/s, {} Stan's",
        whole.seconds.len(),
        join(&whole.seconds, |s| format!("{s:.2}")),
        whole.kappa_ess,
        join(&ess_per_second, |r| format!("{r:.0}")),
        join(&ess_per_second, |r| format!("{:.1}x", r / kappa_per_second)),
    );
}

fn join(values: &[f64], show: impl Fn(f64) -> String) -> String {
    values
        .iter()
        .map(|&v| show(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole `sample` command that `bench --stan` times against Stan, as the reliability
/// issue set it: 64 rat chains, 250 warm-up sweeps and 1,000 draws, on the CPU.
const WHOLE_CHAINS: u32 = 64;
const WHOLE_WARMUP: u32 = 250;
const WHOLE_DRAWS: u32 = 1000;
/// Runs of it, each timed: the spread shows the machine's noise.
const WHOLE_RUNS: usize = 3;

/// The whole command's wall seconds per run, and its (run-independent) ESS of kappa.
struct WholeCommand {
    seconds: Vec<f64>,
    kappa_ess: f64,
}

/// Run this binary's `sample` on the rats WHOLE_RUNS times, each a new process writing its
/// files, and read kappa's bulk ESS back from summary.parquet.
fn time_whole_sample(seed: u32) -> anyhow::Result<WholeCommand> {
    use anyhow::Context;
    let exe = std::env::current_exe().context("finding this binary to time `sample`")?;
    let dir = std::env::temp_dir().join(format!("betagibbs-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let (data, out) = (dir.join("rats.csv"), dir.join("out"));
    std::fs::write(&data, crate::app::embedded::RATS_CSV)?;
    let mut seconds = Vec::new();
    for _ in 0..WHOLE_RUNS {
        let start = std::time::Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("sample")
            .arg(&data)
            .args([
                "--successes",
                "tumors",
                "--trials",
                "rats",
                "--device",
                "cpu",
            ])
            .args(["--chains", &WHOLE_CHAINS.to_string()])
            .args(["--warmup", &WHOLE_WARMUP.to_string()])
            .args(["--draws", &WHOLE_DRAWS.to_string()])
            .args(["--seed", &seed.to_string(), "--quiet", "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| format!("running {}", exe.display()))?;
        seconds.push(start.elapsed().as_secs_f64());
        anyhow::ensure!(
            status.success(),
            "bench --stan: `sample` on the rats failed: {status}"
        );
    }
    let summary = out.join("summary.parquet");
    let table = crate::io::readback::read_table(&summary, crate::io::write::SUMMARY_SCHEMA)?;
    let kappa = table
        .text(&summary, "parameter")?
        .iter()
        .position(|p| p == "kappa")
        .context("summary.parquet has no kappa")?;
    let kappa_ess = table.numbers(&summary, "ess_bulk")?[kappa];
    let _ = std::fs::remove_dir_all(&dir);
    Ok(WholeCommand { seconds, kappa_ess })
}
