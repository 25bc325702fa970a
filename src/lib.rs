//! betagibbs: hierarchical beta-binomial models by Gibbs sampling, with the
//! per-observation updates in WGSL compute shaders (wgpu) and a CPU twin of
//! every shader.
//!
//! The layers, each using only those below it (tests/layers.rs checks it):
//! - `app`: the command line and one module per command;
//! - `methyl`, `ladder`, `plot`: the domains (methylation studies, the estimation
//!   ladder, figures);
//! - `io`: readers, Parquet writers, atomic files, read-back;
//! - `mcmc`: priors, slice and Metropolis steps, the sampler, diagnostics, design matrices;
//! - `kernels`: the shaders' CPU twins, the GPU stages and their shared layouts;
//! - `rng`, `math`, `error`: Philox streams, special functions, the user-error type.
//!
//! One sweep, per chain and unit (see `mcmc::sampler`):
//! 1. `theta_update` (GPU: shaders/theta_update.wgsl, CPU: `kernels::cpu::theta_update`)
//!    draws every theta_i ~ Beta(alpha + y_i, beta + n_i - y_i) and reduces
//!    (Σ log theta, Σ log(1 - theta));
//! 2. the host slice-samples (alpha, beta) from those two sums (`mcmc::prior`, `mcmc::slice`).
//!
//! Randomness is Philox4x32-10 (`rng`), keyed by (seed, chain) and counted by
//! (observation, unit, sweep, stream), so both paths draw the same numbers.

pub mod app;
pub mod error;
pub mod io;
pub mod kernels;
pub mod ladder;
pub mod math;
pub mod mcmc;
pub mod methyl;
pub mod plot;
pub mod rng;
