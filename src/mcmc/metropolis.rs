//! Adaptive two-dimensional Metropolis–Hastings: the collapsed update's move for a unit's
//! coordinates z, whose target needs a pass over the unit's data per evaluation, so that
//! every (chain, unit) proposes once per device dispatch.
//!
//! Warm-up uses a random walk and tunes it (Haario et al. 2001; Andrieu & Thoms 2008): its
//! shape is the covariance of the warm-up draws, its scale follows the acceptance rate
//! towards TARGET_ACCEPT by Robbins–Monro. After warm-up the kernel is frozen: each step is,
//! with equal probability, that random walk or an independence proposal from a multivariate
//! t (INDEPENDENCE_DF degrees of freedom) centred on the warm-up mean with the warm-up
//! covariance. Where the posterior is near Gaussian in z, as a group's (logit omega,
//! log(kappa - 2)) is, the independence step accepts most proposals and each is a fresh
//! draw; the random walk keeps the chain moving where it is not. A fixed mixture of two
//! Metropolis–Hastings kernels leaves the posterior invariant.

use crate::rng::UniformStream;

/// Acceptance rate the scale is tuned to: near-optimal for a 2-D random walk (Roberts &
/// Rosenthal 2001: 0.35 in 2-D, 0.234 as the dimension grows).
pub(crate) const TARGET_ACCEPT: f64 = 0.35;
/// Proposal sd in each coordinate before warm-up has measured the posterior's covariance.
const INITIAL_SD: f64 = 0.1;
/// Draws of warm-up covariance needed before it replaces the initial proposal.
const MIN_COVARIANCE_DRAWS: f64 = 20.0;
/// Added to the covariance's diagonal: keeps it positive definite when a chain sat still.
const COVARIANCE_JITTER: f64 = 1e-8;
/// Robbins–Monro step exponent: steps shrink as t^-0.6, slowly enough to still adapt.
const ADAPT_DECAY: f64 = 0.6;
/// Degrees of freedom of the independence proposal: tails heavier than the target's, so
/// the importance ratio stays bounded (Tierney 1994), and 4 as in Albert's SIR.
pub(crate) const INDEPENDENCE_DF: f64 = 4.0;
/// Share of independence proposals drawn from the tail component (when the prior has one).
const TAIL_WEIGHT: f64 = 0.1;
/// Warm-up draws the independence proposal needs; with fewer, every step is a random walk.
const MIN_INDEPENDENCE_DRAWS: f64 = 100.0;

/// Running mean and covariance (Welford) of 2-D points.
#[derive(Debug, Clone, Copy, Default)]
struct RunningCovariance {
    n: f64,
    mean: [f64; 2],
    /// Sums of cross-products of deviations: xx, xy, yy.
    m2: [f64; 3],
}

impl RunningCovariance {
    fn push(&mut self, z: [f64; 2]) {
        self.n += 1.0;
        let d0 = z[0] - self.mean[0];
        let d1 = z[1] - self.mean[1];
        self.mean[0] += d0 / self.n;
        self.mean[1] += d1 / self.n;
        self.m2[0] += d0 * (z[0] - self.mean[0]);
        self.m2[1] += d0 * (z[1] - self.mean[1]);
        self.m2[2] += d1 * (z[1] - self.mean[1]);
    }

    /// Lower Cholesky factor (l00, l10, l11) of the sample covariance.
    fn cholesky(&self) -> [f64; 3] {
        let k = 1.0 / (self.n - 1.0);
        let (xx, xy, yy) = (
            self.m2[0] * k + COVARIANCE_JITTER,
            self.m2[1] * k,
            self.m2[2] * k + COVARIANCE_JITTER,
        );
        let l00 = xx.sqrt();
        let l10 = xy / l00;
        [l00, l10, (yy - l10 * l10).max(COVARIANCE_JITTER).sqrt()]
    }
}

/// The independence proposal: a bivariate t centred on the warm-up mean with the warm-up
/// covariance as its scale, mixed, when the prior has one, with a component for the long
/// left tail of z1 (log concentration): z0 from the t's marginal, z1 = mean1 - Exp(rate).
/// A vague Gamma(shape, rate) on the concentration gives the posterior of z1 a tail like
/// e^(shape z1) wherever the data stop constraining it; a proposal with the same tail keeps
/// the importance ratio bounded, so a chain that strays there returns at once (Tierney 1994).
#[derive(Debug, Clone, Copy)]
struct Independence {
    mean: [f64; 2],
    chol: [f64; 3],
    /// The prior's left-tail rate of z1 (`HyperPrior::left_tail_rate`), if any.
    tail_rate: Option<f64>,
}

impl Independence {
    /// A draw, with log q(z) - log q(draw). `u`: two uniforms, to choose the component and
    /// for the tail's exponential.
    fn step(&self, z: [f64; 2], e: [f64; 2], chi2: f64, u: [f64; 2]) -> ([f64; 2], f64) {
        let w = (INDEPENDENCE_DF / chi2).sqrt();
        let [l00, l10, l11] = self.chol;
        let z0 = self.mean[0] + w * l00 * e[0];
        let x = match self.tail_rate {
            Some(rate) if u[0] < TAIL_WEIGHT => [z0, self.mean[1] + u[1].ln() / rate],
            _ => [z0, self.mean[1] + w * (l10 * e[0] + l11 * e[1])],
        };
        (x, self.log_density(z) - self.log_density(x))
    }

    /// Normalised log density (the mixture needs the constants).
    fn log_density(&self, z: [f64; 2]) -> f64 {
        let [l00, l10, l11] = self.chol;
        let u0 = (z[0] - self.mean[0]) / l00;
        let u1 = (z[1] - self.mean[1] - l10 * u0) / l11;
        // Bivariate t with 4 degrees of freedom: (1 + d^2/4)^-3 / (2 pi |L|).
        let t2 = -3.0 * (1.0 + (u0 * u0 + u1 * u1) / INDEPENDENCE_DF).ln()
            - (std::f64::consts::TAU * l00 * l11).ln();
        let Some(rate) = self.tail_rate else {
            return t2;
        };
        // Univariate t4 of z0: (3/8) (1 + u^2/4)^-2.5 / scale; exponential tail of z1.
        let below = z[1] - self.mean[1];
        let tail = if below <= 0.0 {
            (3.0f64 / 8.0).ln() - 2.5 * (1.0 + u0 * u0 / INDEPENDENCE_DF).ln() - l00.ln()
                + rate.ln()
                + rate * below
        } else {
            f64::NEG_INFINITY
        };
        let (a, b) = ((1.0 - TAIL_WEIGHT).ln() + t2, TAIL_WEIGHT.ln() + tail);
        let m = a.max(b);
        m + ((a - m).exp() + (b - m).exp()).ln()
    }
}

/// A chi-square with 4 degrees of freedom: -2 log of a product of two uniforms.
fn chi_square_4(rng: &mut UniformStream) -> f64 {
    -2.0 * (rng.next_f64() * rng.next_f64()).ln()
}

/// Two standard normals from two uniforms (Box–Muller).
fn normal_pair(rng: &mut UniformStream) -> (f64, f64) {
    let radius = (-2.0 * rng.next_f64().ln()).sqrt();
    let angle = std::f64::consts::TAU * rng.next_f64();
    (radius * angle.cos(), radius * angle.sin())
}

/// One (chain, unit)'s proposal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RandomWalk {
    log_scale: f64,
    chol: [f64; 3],
    moments: RunningCovariance,
    steps: f64,
    /// Set by `finish_warmup` when warm-up gave enough draws.
    independence: Option<Independence>,
}

impl Default for RandomWalk {
    fn default() -> Self {
        RandomWalk {
            // 2.38 / sqrt(d): the optimal scale for a Gaussian target (Gelman et al. 1996).
            log_scale: (2.38 / 2f64.sqrt()).ln(),
            chol: [INITIAL_SD, 0.0, INITIAL_SD],
            moments: RunningCovariance::default(),
            steps: 0.0,
            independence: None,
        }
    }
}

impl RandomWalk {
    /// A proposal from z and log q(z | proposal) - log q(proposal | z), the Hastings
    /// correction (0 for the symmetric random walk). Uses seven uniforms of `rng`.
    pub(crate) fn propose(&self, z: [f64; 2], rng: &mut UniformStream) -> ([f64; 2], f64) {
        let (e0, e1) = normal_pair(rng);
        let choice = rng.next_f64();
        let chi2 = chi_square_4(rng);
        let u = [rng.next_f64(), rng.next_f64()];
        match self.independence {
            Some(t) if choice < 0.5 => t.step(z, [e0, e1], chi2, u),
            _ => {
                let s = self.log_scale.exp();
                let [l00, l10, l11] = self.chol;
                ([z[0] + s * l00 * e0, z[1] + s * (l10 * e0 + l11 * e1)], 0.0)
            }
        }
    }

    /// After warm-up, an independence proposal and its Hastings correction (as `propose`);
    /// None when warm-up gave too few draws. Uses six uniforms of `rng`.
    pub(crate) fn propose_independent(
        &self,
        z: [f64; 2],
        rng: &mut UniformStream,
    ) -> Option<([f64; 2], f64)> {
        let t = self.independence?;
        let (e0, e1) = normal_pair(rng);
        let chi2 = chi_square_4(rng);
        Some(t.step(z, [e0, e1], chi2, [rng.next_f64(), rng.next_f64()]))
    }

    /// Metropolis acceptance of a proposal whose log target exceeds the current one by `log_ratio`.
    pub(crate) fn accept(log_ratio: f64, rng: &mut UniformStream) -> bool {
        rng.next_f64().ln() < log_ratio
    }

    /// Warm-up only: learn from one step's outcome and the point the chain is now at.
    pub(crate) fn adapt(&mut self, accepted: bool, z: [f64; 2]) {
        self.steps += 1.0;
        let accepted = if accepted { 1.0 } else { 0.0 };
        self.log_scale += (accepted - TARGET_ACCEPT) / self.steps.powf(ADAPT_DECAY);
        self.observe(z);
    }

    /// Warm-up only: record a point of the chain for the covariance and the independence proposal.
    pub(crate) fn observe(&mut self, z: [f64; 2]) {
        self.moments.push(z);
        if self.moments.n >= MIN_COVARIANCE_DRAWS {
            self.chol = self.moments.cholesky();
        }
    }

    /// End of warm-up: freeze the kernel and, given enough draws, add the independence
    /// proposal from their mean and covariance; `tail_rate`: the prior's left-tail rate of z1.
    pub(crate) fn finish_warmup(&mut self, tail_rate: Option<f64>) {
        if self.moments.n >= MIN_INDEPENDENCE_DRAWS {
            self.independence = Some(Independence {
                mean: self.moments.mean,
                chol: self.moments.cholesky(),
                tail_rate,
            });
        }
    }

    /// Forget the covariance of the draws so far (the early, transient part of warm-up);
    /// the current shape is kept until enough new draws arrive.
    pub(crate) fn restart_covariance(&mut self) {
        self.moments = RunningCovariance::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    /// A correlated Gaussian with very different scales, sampled from a poor start:
    /// adapted and then frozen, the walk must recover its mean and covariance.
    #[test]
    fn samples_a_correlated_gaussian_after_adapting() {
        let (sd, rho) = ([0.02, 3.0], 0.9);
        let log_target = |z: [f64; 2]| {
            let (u, v) = (z[0] / sd[0], (z[1] - 5.0) / sd[1]);
            -(u * u - 2.0 * rho * u * v + v * v) / (2.0 * (1.0 - rho * rho))
        };
        let mut walk = RandomWalk::default();
        let mut z = [1.0, -10.0];
        let mut here = log_target(z);
        let (warmup, draws) = (5_000u32, 100_000u32);
        let mut kept = RunningCovariance::default();
        let mut accepted = 0.0;
        for step in 0..warmup + draws {
            if step == warmup / 2 {
                walk.restart_covariance();
            }
            if step == warmup {
                walk.finish_warmup(None);
            }
            let mut rng = UniformStream::new(5, 0, 0, 0, step, Stream::Collapsed);
            let (proposal, hastings) = walk.propose(z, &mut rng);
            let there = log_target(proposal);
            let ok = RandomWalk::accept(there - here + hastings, &mut rng);
            if ok {
                (z, here) = (proposal, there);
            }
            if step < warmup {
                walk.adapt(ok, z);
            } else {
                kept.push(z);
                accepted += f64::from(u8::from(ok));
            }
        }
        let rate = accepted / f64::from(draws);
        // Half the steps are the walk (about TARGET_ACCEPT), half the independence t (most accept).
        assert!(rate > TARGET_ACCEPT + 0.1, "acceptance {rate}");
        assert!(walk.independence.is_some());
        // 100,000 draws at an ESS near 10,000: 0.05 sd is about 5 MCSE.
        assert!(kept.mean[0].abs() < 0.05 * sd[0], "{:?}", kept.mean);
        assert!((kept.mean[1] - 5.0).abs() < 0.05 * sd[1], "{:?}", kept.mean);
        let n1 = kept.n - 1.0;
        let (v0, c, v1) = (kept.m2[0] / n1, kept.m2[1] / n1, kept.m2[2] / n1);
        assert!((v0.sqrt() / sd[0] - 1.0).abs() < 0.05, "sd0 {}", v0.sqrt());
        assert!((v1.sqrt() / sd[1] - 1.0).abs() < 0.05, "sd1 {}", v1.sqrt());
        assert!((c / (v0 * v1).sqrt() - rho).abs() < 0.02, "rho");
    }

    /// The Hastings correction needs the mixture's normalised density: it must integrate
    /// to 1, tail component included (grid sum over z0 in ±60 scales, z1 down to -3,000).
    #[test]
    fn independence_density_integrates_to_one() {
        for tail_rate in [None, Some(0.01), Some(0.5)] {
            let q = Independence {
                mean: [0.3, 4.0],
                chol: [0.2, 0.1, 0.5],
                tail_rate,
            };
            // z1 steps: fine around the centre, coarse over the smooth exponential tail.
            let mut z1_cells: Vec<(f64, f64)> = (0..2_000)
                .map(|j| (24.0 - (f64::from(j) + 0.5) * 0.02, 0.02))
                .collect();
            z1_cells.extend((0..6_000).map(|j| (-16.0 - (f64::from(j) + 0.5) * 0.5, 0.5)));
            let h0 = 0.01;
            let mut total = 0.0;
            for i in 0..2_400 {
                let z0 = 0.3 + (f64::from(i) - 1_200.0 + 0.5) * h0;
                for &(z1, h1) in &z1_cells {
                    total += q.log_density([z0, z1]).exp() * h0 * h1;
                }
            }
            // The t4 tails beyond the grid hold about 1e-3 of the mass.
            assert!(
                (total - 1.0).abs() < 3e-3,
                "{tail_rate:?}: integral {total}"
            );
        }
    }
}
