//! betagibbs: hierarchical beta-binomial models by Gibbs sampling, with the
//! per-observation updates in WGSL compute shaders (wgpu) and a CPU twin of
//! every shader.
//!
//! One sweep, per chain and unit (see `sampler`):
//! 1. `theta_update` (GPU: shaders/theta_update.wgsl, CPU: `cpu`) draws every
//!    theta_i ~ Beta(alpha + y_i, beta + n_i - y_i) and reduces
//!    (Σ log theta, Σ log(1 - theta));
//! 2. the host slice-samples (alpha, beta) from those two sums (`prior`, `slice`).
//!
//! Randomness is Philox4x32-10 (`rng`), keyed by (seed, chain) and counted by
//! (observation, unit, sweep, stream), so both paths draw the same numbers.

pub mod app;
pub mod batch;
pub mod betabinom;
pub mod cli;
pub mod compare;
pub mod cpu;
pub mod data;
pub mod diagnostics;
pub mod figures;
pub mod gpu;
pub mod host_variates;
pub mod ladder;
pub mod lanes;
pub mod layout;
pub mod methyl;
pub mod metropolis;
pub mod model;
pub mod output;
pub mod plot;
pub mod ppc;
pub mod prior;
pub mod readback;
pub mod rng;
pub mod sampler;
pub mod slice;
pub mod variates;
