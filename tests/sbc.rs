//! Simulation-based calibration (Talts et al. 2018) of the samplers: parameters drawn from the
//! prior, data drawn from the model given them, a fit, and the rank of each true parameter
//! among its posterior draws. Were the sampler exact, each rank would be uniform on
//! 0..=DRAWS; a bias shows as a slope, too narrow or too wide posteriors as a U or a hump.
//! Each replication is its own unit (one-level model) or site (methylation), so one run fits
//! them all. The ranks go into BINS bins, tested by chi-square.
//!
//! SBC checks the sampler against its own model, not the model against real data; the
//! null splits and spike-ins of the methylation tests do that.

use betagibbs::kernels::cpu::site_update::site_update_twin;
use betagibbs::kernels::site_layout::{SiteBatch, SiteHyper, SiteOutputs, SiteSample};
use betagibbs::kernels::Device;
use betagibbs::mcmc::dataset::Dataset;
use betagibbs::mcmc::model::Model;
use betagibbs::mcmc::prior::HyperPrior;
use betagibbs::mcmc::sampler::{run, Batch, SamplerConfig, Update};
use betagibbs::rng::host_variates::{beta, binomial, gamma, normal};
use betagibbs::rng::{Stream, UniformStream};

mod common;

/// Replications: each the prior's draw, its data, and a fit.
const REPLICATIONS: usize = 2000;
/// Posterior draws each true value is ranked among (ranks 0..=99, ten to a bin).
const DRAWS: usize = 99;
const BINS: usize = 10;
/// The chi-square of the bin counts on BINS - 1 = 9 degrees of freedom must stay below
/// its 0.999 quantile: a calibrated sampler fails one such check in a thousand.
const CHI_SQUARE_999: f64 = 27.88;

/// Counts per bin of the ranks, and their chi-square against the uniform.
fn chi_square(ranks: &[usize]) -> ([usize; BINS], f64) {
    let mut counts = [0usize; BINS];
    for &r in ranks {
        counts[r * BINS / (DRAWS + 1)] += 1;
    }
    let expected = ranks.len() as f64 / BINS as f64;
    let chi2 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    (counts, chi2)
}

/// The rank of `truth` among `draws`: how many fall below it.
fn rank(truth: f64, draws: impl Iterator<Item = f64>) -> usize {
    draws.filter(|&d| d < truth).count()
}

fn assert_uniform(what: &str, ranks: &[usize]) {
    let (counts, chi2) = chi_square(ranks);
    eprintln!("{what}: ranks per bin {counts:?}, chi-square {chi2:.1}");
    assert!(
        chi2 < CHI_SQUARE_999,
        "{what}: ranks per bin {counts:?}, chi-square {chi2:.1} >= {CHI_SQUARE_999}"
    );
}

/// A Student-t on `nu` degrees of freedom: a normal over the root of a scaled chi-square.
fn student_t(nu: f64, rng: &mut UniformStream) -> f64 {
    normal(rng) / (2.0 * gamma(0.5 * nu, rng) / nu).sqrt()
}

/// The one-level model: mu ~ Beta(2, 2), kappa ~ Gamma(2, 0.1) (the mean-concentration
/// prior), theta_i ~ Beta(mu kappa, (1 - mu) kappa), y_i ~ Binomial(n_i, theta_i), with 8
/// observations of 4 to 39 trials per replication. Checked: mu, kappa and the first theta.
#[test]
fn one_level_sampler_is_calibrated() {
    const OBS: usize = 8;
    let prior = HyperPrior::parse("mean-concentration(a=2,b=2,shape=2,rate=0.1)").unwrap();
    let (mut successes, mut trials, mut truth) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..REPLICATIONS {
        let mut rng = UniformStream::new(2018, 0, r as u32, 0, 0, Stream::Predictive);
        let mu = beta(2.0, 2.0, &mut rng);
        let kappa = gamma(2.0, &mut rng) / 0.1;
        let mut first_theta = 0.0;
        for i in 0..OBS {
            let theta = beta(mu * kappa, (1.0 - mu) * kappa, &mut rng);
            let n = 4 + ((r * 7 + i * 5) % 36) as u32;
            successes.push(binomial(n, theta, &mut rng));
            trials.push(n);
            if i == 0 {
                first_theta = theta;
            }
        }
        truth.push([mu, kappa, first_theta]);
    }
    let offsets = (0..=REPLICATIONS).map(|r| (r * OBS) as u32).collect();
    let batch = Batch::new(&successes, &trials, offsets);
    // Three chains of 33 draws, thinned by 10 so that the draws are nearly independent.
    let mut config = SamplerConfig::new(prior, 3, 300, 33, 10, 7);
    config.update = Update::Collapsed;
    config.hyper_rounds = Update::Collapsed.default_rounds();
    let fit = run(&batch, &config, Device::Cpu, None).unwrap();
    let mut ranks = [Vec::new(), Vec::new(), Vec::new()];
    for (u, truth) in truth.iter().enumerate() {
        let start = batch.unit_param_start(u, true);
        // The unit's thetas, then alpha, beta, mu, kappa.
        for (k, param) in [start + OBS + 2, start + OBS + 3, start]
            .into_iter()
            .enumerate()
        {
            let draws = (0..fit.n_chains).flat_map(|c| fit.chain(param, c).iter().copied());
            ranks[k].push(rank(truth[k], draws));
        }
    }
    for (what, ranks) in ["mu", "kappa", "theta[1]"].iter().zip(&ranks) {
        assert_uniform(&format!("one level, {what}"), ranks);
    }
}

/// The two-level model, Kruschke's form with kruschke(a=2,b=2,shape=2,rate=0.2): omega ~
/// Beta(2, 2) and every kappa - 2 ~ Gamma(2, 0.2); four groups' omega_c ~ Beta(omega (kappa -
/// 2) + 1, (1 - omega)(kappa - 2) + 1), and five observations of 4 to 39 trials in each, theta
/// from its group's omega_c and kappa_c likewise. A tree has one root, so each replication is
/// a run of its own. Checked: the root's omega, the first group's omega and its kappa.
#[test]
fn two_level_sampler_is_calibrated() {
    const TREES: usize = 600;
    const GROUPS: usize = 4;
    const OBS: usize = 5;
    let prior = HyperPrior::parse("kruschke(a=2,b=2,shape=2,rate=0.2)").unwrap();
    // Beta by mode and concentration.
    let mode_beta = |omega: f64, kappa: f64, rng: &mut UniformStream| {
        beta(
            omega * (kappa - 2.0) + 1.0,
            (1.0 - omega) * (kappa - 2.0) + 1.0,
            rng,
        )
    };
    let mut ranks = [Vec::new(), Vec::new(), Vec::new()];
    for r in 0..TREES {
        let mut rng = UniformStream::new(2018, 2, r as u32, 0, 0, Stream::Predictive);
        let omega = beta(2.0, 2.0, &mut rng);
        let kappa = 2.0 + gamma(2.0, &mut rng) / 0.2;
        let (mut successes, mut trials, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        let mut first_group = [0.0; 2];
        for c in 0..GROUPS {
            let omega_c = mode_beta(omega, kappa, &mut rng);
            let kappa_c = 2.0 + gamma(2.0, &mut rng) / 0.2;
            if c == 0 {
                first_group = [omega_c, kappa_c];
            }
            for i in 0..OBS {
                let theta = mode_beta(omega_c, kappa_c, &mut rng);
                let n = 4 + ((r * 7 + c * 5 + i * 3) % 36) as u32;
                successes.push(binomial(n, theta, &mut rng));
                trials.push(n);
                labels.push(format!("g{c}"));
            }
        }
        let n_obs = successes.len();
        let dataset = Dataset {
            source: format!("tree {r}"),
            sha256: String::new(),
            successes,
            trials,
            ids: (1..=n_obs).map(|i| i.to_string()).collect(),
            unit_labels: vec![String::new()],
            unit_offsets: vec![0, n_obs as u32],
            has_unit_column: false,
            group_labels: vec![labels],
            group_columns: vec!["g".into()],
        };
        let Model { batch, names } = Model::new(&dataset, false).unwrap();
        let mut config = SamplerConfig::new(prior, 3, 300, 33, 10, 9 + r as u32);
        config.keep_thetas = false;
        config.update = Update::Collapsed;
        config.hyper_rounds = Update::Collapsed.default_rounds();
        let fit = run(&batch, &config, Device::Cpu, None).unwrap();
        let find = |name: &str| names.iter().position(|n| n == name).unwrap();
        let checked = [
            (find("omega"), omega),
            (find("omega[g0]"), first_group[0]),
            (find("kappa[g0]"), first_group[1]),
        ];
        for (k, (param, truth)) in checked.into_iter().enumerate() {
            let draws = (0..fit.n_chains).flat_map(|c| fit.chain(param, c).iter().copied());
            ranks[k].push(rank(truth, draws));
        }
    }
    for (what, ranks) in ["omega", "omega[g0]", "kappa[g0]"].iter().zip(&ranks) {
        assert_uniform(&format!("two levels, {what}"), ranks);
    }
}

/// The methylation site model at fixed genome-wide priors, as stage 2 runs it: mu_0 ~ Beta(a,
/// b); with probability w the groups differ, logit mu_1 = logit mu_0 + tau t_2, else mu_1 =
/// mu_0; log phi = m0 + s0 t_4; each sample's proportion ~ Beta(mu_g phi, (1 - mu_g) phi) and
/// its methylated reads ~ Binomial(coverage, proportion), three samples a group. Checked: both
/// groups' mu.
#[test]
fn site_sampler_is_calibrated() {
    const CHAINS: u32 = 3;
    /// Recorded sweeps per chain, every THIN-th kept for the ranks.
    const THIN: usize = 8;
    let per_chain = DRAWS / CHAINS as usize;
    let ([a, b, m0, s0], w, tau) = ([2.0f32, 3.0, 2.5, 0.6], 0.3, 1.0);
    let mut batch = SiteBatch::new();
    let mut truth = Vec::new();
    for r in 0..REPLICATIONS {
        let mut rng = UniformStream::new(2018, 1, r as u32, 0, 0, Stream::Predictive);
        let mu0 = beta(f64::from(a), f64::from(b), &mut rng);
        let mu1 = if rng.next_f64() < w {
            let logit = (mu0 / (1.0 - mu0)).ln() + tau * student_t(2.0, &mut rng);
            1.0 / (1.0 + (-logit).exp())
        } else {
            mu0
        };
        let phi = (f64::from(m0) + f64::from(s0) * student_t(4.0, &mut rng)).exp();
        for (group, mu) in [
            (0u32, mu0),
            (0, mu0),
            (0, mu0),
            (1, mu1),
            (1, mu1),
            (1, mu1),
        ] {
            let p = beta(mu * phi, (1.0 - mu) * phi, &mut rng);
            let total = 3 + ((r * 11 + batch.samples.len() * 3) % 28) as u32;
            batch.samples.push(SiteSample {
                group,
                methylated: binomial(total, p, &mut rng),
                total,
                _pad: 0,
            });
        }
        batch.end_site(betagibbs::rng::site_id(0, r as u64));
        truth.push([mu0, mu1]);
    }
    let draws = (per_chain * THIN) as u32;
    let params = common::site_params(11, REPLICATIONS as u32, CHAINS, (50, draws), 0.1);
    let hyper = vec![SiteHyper::new([a, b, m0, s0], w, tau); CHAINS as usize];
    let mut out = SiteOutputs::new(&params);
    site_update_twin(&params, &batch, &hyper, &mut out);
    let recorded = &out.draws;
    let mut ranks = [Vec::new(), Vec::new()];
    for (site, truth) in truth.iter().enumerate() {
        for (g, ranks) in ranks.iter_mut().enumerate() {
            // Draws are laid out per (site, chain, draw, group).
            let kept = (0..CHAINS as usize).flat_map(|c| {
                (0..per_chain).map(move |d| {
                    let draw = d * THIN + THIN - 1;
                    recorded[((site * CHAINS as usize + c) * draws as usize + draw) * 2 + g]
                })
            });
            ranks.push(rank(truth[g], kept.map(f64::from)));
        }
    }
    assert_uniform("site model, mu of group 0", &ranks[0]);
    assert_uniform("site model, mu of group 1", &ranks[1]);
}

/// The rank of `truth` among `draws`, ties broken at random: the tested coefficient's spike
/// puts the truth and many draws at exactly 0, where `rank` would count none of them.
fn rank_with_ties(truth: f64, draws: &[f64], rng: &mut UniformStream) -> usize {
    let below = draws.iter().filter(|&&d| d < truth).count();
    let tied = draws.iter().filter(|&&d| d == truth).count();
    below + ((tied + 1) as f64 * rng.next_f64()) as usize
}

/// A design's site regression at fixed genome-wide priors, as stage 2 runs it on the CPU
/// (four chains in lanes): 12 samples, `~ batch + age + group`, coefficients drawn from the
/// priors the kernel states (inverse logit of the intercept ~ Beta(a, b); batch 0.4 t_4, age
/// 0.1 t_4; group 0 with probability 1 - w, else tau t_2; log phi = m0 + s0 t_4), each
/// sample's proportion ~ Beta(mu_j phi, (1 - mu_j) phi) and its reads ~ Binomial. Checked:
/// mu at both levels of the group and the group's coefficient.
#[test]
fn site_regression_is_calibrated() {
    use betagibbs::kernels::cpu::site_regression::site_regression;
    use betagibbs::kernels::regression_layout::{
        RegressionDesign, RegressionHyper, RegressionOutputs, MAX_COEFS, REG_STATE_STRIDE,
    };
    const SAMPLES: usize = 12;
    const CHAINS: u32 = 4;
    const THIN: usize = 8;
    // 4 x 25 thinned draws; the last is left out so that ranks run over 0..=DRAWS.
    let per_chain = DRAWS.div_ceil(CHAINS as usize);
    let rows = common::benchmark_design_rows(SAMPLES);
    let x: Vec<f64> = rows.iter().flatten().copied().collect();
    let levels = [vec![1.0, 0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0, 1.0]];
    let design = RegressionDesign::new(&x, SAMPLES, 4, 3, &levels, (0, 1), 0.1).expect("full rank");
    let ([a, b, m0, s0], w, tau) = ([2.0f32, 3.0, 2.5, 0.6], 0.3, 1.0);
    let scales = [0.4f32, 0.1];
    let mut nuisance_scale = [1.0f32; MAX_COEFS];
    nuisance_scale[1..3].copy_from_slice(&scales);
    let hyper = vec![
        RegressionHyper {
            site: SiteHyper::new([a, b, m0, s0], w, tau),
            nuisance_scale,
        };
        CHAINS as usize
    ];
    let sigmoid = |u: f64| 1.0 / (1.0 + (-u).exp());
    let mut batch = SiteBatch::new();
    let mut truth = Vec::new();
    for r in 0..REPLICATIONS {
        let mut rng = UniformStream::new(2018, 2, r as u32, 0, 0, Stream::Predictive);
        let mu0 = beta(f64::from(a), f64::from(b), &mut rng);
        let coef = [
            (mu0 / (1.0 - mu0)).ln(),
            f64::from(scales[0]) * student_t(4.0, &mut rng),
            f64::from(scales[1]) * student_t(4.0, &mut rng),
            if rng.next_f64() < w {
                tau * student_t(2.0, &mut rng)
            } else {
                0.0
            },
        ];
        let phi = (f64::from(m0) + f64::from(s0) * student_t(4.0, &mut rng)).exp();
        for (j, row) in rows.iter().enumerate() {
            let mu = sigmoid(row.iter().zip(&coef).map(|(x, c)| x * c).sum());
            let p = beta(mu * phi, (1.0 - mu) * phi, &mut rng);
            let total = 3 + ((r * 11 + j * 7) % 28) as u32;
            batch.samples.push(SiteSample {
                group: j as u32, // a design's samples carry their row
                methylated: binomial(total, p, &mut rng),
                total,
                _pad: 0,
            });
        }
        batch.end_site(betagibbs::rng::site_id(0, r as u64));
        truth.push([mu0, sigmoid(coef[0] + coef[3]), coef[3]]);
    }
    let draws = (per_chain * THIN) as u32;
    let params = common::site_params(11, REPLICATIONS as u32, CHAINS, (50, draws), 0.1);
    let slots = design.draw_slots();
    let n = REPLICATIONS * CHAINS as usize;
    let mut out = RegressionOutputs {
        state: vec![0.0; n * REG_STATE_STRIDE],
        draws: vec![0.0; n * draws as usize * slots],
    };
    site_regression(&params, &design, &batch, &hyper, &mut out);
    let mut ties = UniformStream::new(2018, 3, 0, 0, 0, Stream::Predictive);
    let mut ranks = [Vec::new(), Vec::new(), Vec::new()];
    for (site, truth) in truth.iter().enumerate() {
        for (k, ranks) in ranks.iter_mut().enumerate() {
            // Draws are laid out per (site, chain, draw, slot): mu at each level, then the coefficient.
            let kept: Vec<f64> = (0..CHAINS as usize)
                .flat_map(|c| (0..per_chain).map(move |d| (c, d * THIN + THIN - 1)))
                .take(DRAWS)
                .map(|(c, draw)| {
                    let at = ((site * CHAINS as usize + c) * draws as usize + draw) * slots + k;
                    f64::from(out.draws[at])
                })
                .collect();
            ranks.push(rank_with_ties(truth[k], &kept, &mut ties));
        }
    }
    assert_uniform("site regression, mu at the reference", &ranks[0]);
    assert_uniform("site regression, mu at group B", &ranks[1]);
    assert_uniform("site regression, the group's coefficient", &ranks[2]);
}
