//! site_summaries.wgsl held to the definitions: its CPU twin (f32, ranks by counting) against
//! mcmc::diagnostics (f64, ranks by sorting, checked against ArviZ), and the shader on the
//! GPU against the twin; and draws_gather.wgsl against its twin.

mod common;

use betagibbs::kernels::cpu::draws_gather::draws_gather;
use betagibbs::kernels::cpu::site_summaries::site_summaries;
use betagibbs::kernels::gpu::summary_stage::SummaryStageGpu;
use betagibbs::kernels::summary_layout::{
    GatherParams, SummaryParams, SUMMARY_ESS, SUMMARY_MEAN, SUMMARY_Q2_5, SUMMARY_Q97_5,
    SUMMARY_RHAT, SUMMARY_SD, SUMMARY_STRIDE,
};
use betagibbs::mcmc::diagnostics::{
    normal_scores_by_twice_rank, quantile_sorted, rhat_and_ess_bulk,
};
use betagibbs::rng::{Stream, UniformStream};

/// Per site, chain and draw, two mus that wander in (0, 1) (AR(1) on the logit scale, with
/// `stickiness`, and a chain-specific offset for every fourth site so R-hat has something to
/// find), rounded to `grid` where it is nonzero (ties).
fn draws(sites: usize, chains: usize, n_draws: usize, grid: f32, seed: u32) -> Vec<f32> {
    let mut rng = UniformStream::new(seed, 0, 0, 0, 0, Stream::Hyper);
    let mut out = Vec::with_capacity(sites * chains * n_draws * 2);
    for s in 0..sites {
        let stickiness = [0.0, 0.5, 0.9][s % 3];
        for c in 0..chains {
            let offset = if s % 4 == 3 { 0.4 * c as f64 } else { 0.0 };
            let mut state = [0.0f64; 2];
            for _ in 0..n_draws {
                for (g, x) in state.iter_mut().enumerate() {
                    let noise = rng.next_f64() - 0.5;
                    *x = stickiness * *x + noise;
                    let logit = -1.0 + 0.8 * g as f64 + offset + *x;
                    let mut mu = (1.0 / (1.0 + (-logit).exp())) as f32;
                    if grid > 0.0 {
                        mu = (mu / grid).round() * grid;
                    }
                    out.push(mu);
                }
            }
        }
    }
    out
}

/// The host's f64 summaries of one (site, quantity): mean, sd, 2.5%, 97.5%, R-hat, bulk ESS.
fn host_summary(chains: &[Vec<f64>]) -> [f64; 6] {
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let mut pooled: Vec<f64> = chains.iter().flatten().copied().collect();
    let n = pooled.len() as f64;
    let mean = pooled.iter().sum::<f64>() / n;
    let sd = (pooled.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    pooled.sort_unstable_by(f64::total_cmp);
    let (r_hat, ess) = rhat_and_ess_bulk(&refs);
    [
        mean,
        sd,
        quantile_sorted(&pooled, 0.025),
        quantile_sorted(&pooled, 0.975),
        r_hat,
        ess,
    ]
}

struct Case {
    sites: usize,
    chains: usize,
    n_draws: usize,
    grid: f32,
}

const CASES: [Case; 5] = [
    // The methylation defaults: 4 chains of 50.
    Case {
        sites: 60,
        chains: 4,
        n_draws: 50,
        grid: 0.0,
    },
    // Odd chains drop their middle draw when split.
    Case {
        sites: 24,
        chains: 4,
        n_draws: 51,
        grid: 0.0,
    },
    // Many ties.
    Case {
        sites: 24,
        chains: 4,
        n_draws: 50,
        grid: 0.02,
    },
    // The smallest shape, and the largest pool.
    Case {
        sites: 12,
        chains: 2,
        n_draws: 4,
        grid: 0.0,
    },
    Case {
        sites: 4,
        chains: 32,
        n_draws: 32,
        grid: 0.0,
    },
];

impl Case {
    /// Case k's draws (seeded by k) and the shader's parameters for them.
    fn inputs(&self, k: usize) -> (Vec<f32>, SummaryParams) {
        let draws = draws(
            self.sites,
            self.chains,
            self.n_draws,
            self.grid,
            k as u32 + 1,
        );
        (draws, params(self))
    }
}

fn params(case: &Case) -> SummaryParams {
    SummaryParams::new(case.sites, (case.chains, case.n_draws), 2, 2, (0, 1))
        .expect("a shape the shader summarises")
}

fn scores(params: &SummaryParams) -> Vec<f32> {
    let (h, m) = params.split();
    normal_scores_by_twice_rank(h * m)
        .iter()
        .map(|&v| v as f32)
        .collect()
}

/// The twin against the f64 diagnostics: they differ by f32 rounding alone (the folded
/// distances keep the middle two's sum exact, or f32 would tie or swap distances near the
/// median and move R-hat by up to 1e-1 with 2 draws a split chain, 5e-4 with 25).
#[test]
fn the_twin_matches_the_host_diagnostics() {
    for (k, case) in CASES.iter().enumerate() {
        let (draws, params) = case.inputs(k);
        let twin = site_summaries(&params, &draws, &scores(&params));
        let mut worst = [0.0f64; 6];
        for s in 0..case.sites {
            for q in 0..3 {
                let value = |c: usize, d: usize| {
                    let at = ((s * case.chains + c) * case.n_draws + d) * 2;
                    match q {
                        2 => f64::from(draws[at + 1] - draws[at]),
                        g => f64::from(draws[at + g]),
                    }
                };
                let chains: Vec<Vec<f64>> = (0..case.chains)
                    .map(|c| (0..case.n_draws).map(|d| value(c, d)).collect())
                    .collect();
                let host = host_summary(&chains);
                let row = &twin[(s * 3 + q) * SUMMARY_STRIDE..][..SUMMARY_STRIDE];
                let scale = host[SUMMARY_SD];
                for (i, w) in worst.iter_mut().enumerate() {
                    let got = f64::from(row[i]);
                    // Location and spread in units of the draws' sd; the diagnostics relative.
                    let error = match i {
                        SUMMARY_MEAN | SUMMARY_SD | SUMMARY_Q2_5 | SUMMARY_Q97_5 => {
                            (got - host[i]).abs() / scale
                        }
                        _ => (got - host[i]).abs() / host[i],
                    };
                    assert!(
                        error.is_finite(),
                        "case {k} site {s} quantity {q} value {i}: {got} against {}",
                        host[i]
                    );
                    *w = w.max(error);
                }
            }
        }
        eprintln!(
            "case {k} ({} chains x {} draws, grid {}): largest errors mean {:.1e} sd {:.1e} q2.5 {:.1e} q97.5 {:.1e} (in sds), R-hat {:.1e} ESS {:.1e} (relative)",
            case.chains, case.n_draws, case.grid, worst[0], worst[1], worst[2], worst[3], worst[4], worst[5]
        );
        // f32's resolution is 6e-8; sums of up to 1,024 draws round a few times more.
        let tolerance = [2e-6, 2e-6, 2e-6, 2e-6, 1e-6, 1e-5];
        for i in 0..6 {
            assert!(
                worst[i] <= tolerance[i],
                "case {k}: value {i} off by {:e}",
                worst[i]
            );
        }
    }
}

/// The shader on the GPU against its twin: the same operations in the same order (lavapipe
/// gives the same bits), so equal but for rounding a compiler may change (fused multiply-adds).
#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn the_shader_matches_its_twin() {
    let gpu = common::gpu();
    for (k, case) in CASES.iter().enumerate() {
        let (draws, params) = case.inputs(k);
        let scores = scores(&params);
        let twin = site_summaries(&params, &draws, &scores);
        let shader = SummaryStageGpu::summarize(&gpu, &params, &draws, &scores).unwrap();
        assert_eq!(twin.len(), shader.len());
        let mut same = 0;
        let mut worst = 0.0f32;
        for (a, b) in twin.iter().zip(&shader) {
            same += usize::from(a.to_bits() == b.to_bits());
            worst = worst.max((a - b).abs() / a.abs().max(1e-3));
        }
        eprintln!(
            "case {k}: {same} of {} values the same bits, largest relative difference {worst:.1e}",
            twin.len()
        );
        assert!(
            worst <= 1e-5,
            "case {k}: the shader and its twin differ by {worst:e}"
        );
    }
    // The rows are in (site, quantity) order with R-hat and ESS where the twin has them.
    let case = &CASES[0];
    let params = params(case);
    let draws = draws(case.sites, case.chains, case.n_draws, case.grid, 1);
    let shader = SummaryStageGpu::summarize(&gpu, &params, &draws, &scores(&params)).unwrap();
    let row = |s: usize, q: usize| &shader[(s * 3 + q) * SUMMARY_STRIDE..][..6];
    assert!(
        row(3, 0)[SUMMARY_RHAT] > 1.1,
        "a site whose chains sit apart has a large R-hat"
    );
    assert!(
        row(0, 0)[SUMMARY_ESS] > 100.0,
        "independent draws have a large ESS"
    );
}

/// A constant quantity has no diagnostics, and a non-finite draw makes its row NaN, on
/// both, as the host's summaries.
#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn constant_and_non_finite_quantities() {
    let case = Case {
        sites: 2,
        chains: 4,
        n_draws: 8,
        grid: 0.0,
    };
    let params = params(&case);
    let mut draws = vec![0.25f32; 2 * 4 * 8 * 2];
    draws[2 * 4 * 8 * 2 - 1] = f32::NAN;
    let scores = scores(&params);
    let twin = site_summaries(&params, &draws, &scores);
    let gpu = common::gpu();
    let shader = SummaryStageGpu::summarize(&gpu, &params, &draws, &scores).unwrap();
    for out in [&twin, &shader] {
        let row = |s: usize, q: usize| &out[(s * 3 + q) * SUMMARY_STRIDE..][..6];
        assert_eq!(&row(0, 0)[..4], &[0.25, 0.0, 0.25, 0.25]);
        assert!(row(0, 0)[SUMMARY_RHAT].is_nan() && row(0, 0)[SUMMARY_ESS].is_nan());
        assert_eq!(
            &row(0, 2)[..4],
            &[0.0, 0.0, 0.0, 0.0],
            "delta is constant at 0"
        );
        assert!(
            row(1, 1).iter().all(|v| v.is_nan()),
            "a NaN draw: {:?}",
            row(1, 1)
        );
        assert!(row(1, 2).iter().all(|v| v.is_nan()));
        assert_eq!(row(1, 0)[0], 0.25, "the other group's draws are whole");
    }
}

/// The gather brings back exactly the chosen sites' draws, in order: none, some, all.
#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn the_gather_matches_its_twin() {
    let gpu = common::gpu();
    let (sites, per_site) = (300, 4 * 50 * 2);
    let draws = draws(sites, 4, 50, 0.0, 7);
    let every: Vec<u32> = (0..sites as u32).collect();
    let some: Vec<u32> = (0..sites as u32)
        .filter(|s| s % 7 == 3 || *s == 299)
        .collect();
    for chosen in [vec![], some, every] {
        let params = GatherParams {
            n_sites: chosen.len() as u32,
            per_site: per_site as u32,
            _pad0: 0,
            _pad1: 0,
        };
        let twin = draws_gather(&params, &draws, &chosen);
        let shader = SummaryStageGpu::gather_from(&gpu, &draws, &chosen, per_site).unwrap();
        assert_eq!(twin.len(), chosen.len() * per_site);
        assert!(twin == shader, "{} sites gathered differ", chosen.len());
        if let Some(&last) = chosen.last() {
            assert_eq!(
                twin[twin.len() - per_site..],
                draws[last as usize * per_site..][..per_site]
            );
        }
    }
}
