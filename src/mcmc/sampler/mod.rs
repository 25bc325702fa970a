//! One sweep over a tree of levels: observations, their units (level 0, the groups
//! directly above the thetas), optionally groups of those, up to the roots.
//!
//! Level 0 moves by one of two algorithms (`Update`):
//! - gibbs: theta | (alpha, beta) on the device, then (alpha, beta) | theta on the host
//!   by slice sampling from the reduced sufficient statistics;
//! - collapsed: (alpha, beta) | y with the thetas integrated out, by random-walk
//!   Metropolis whose beta-binomial likelihoods the device sums for every (chain, unit)
//!   at once; thetas are then drawn conjugately on the sweeps whose draws are kept.
//!
//! Every level above moves by slice sampling given its children's modes: in the
//! mode/concentration form a child's omega ~ Beta(omega (kappa - 2) + 1, (1 - omega)(kappa - 2) + 1)
//! of its parent, so the sufficient statistics are Σ log omega and Σ log(1 - omega).
//!
//! The kernels run through `kernels::stages::ThetaStage`. One file per job: the `config`, a node's slice-sampler state
//! (`hyper`), the `levels` above the units, the `collapsed` update's state, the sweep loop
//! (`run`), and the `draws` it keeps.

mod collapsed;
mod config;
mod draws;
mod hyper;
mod levels;
mod run;

pub use crate::mcmc::batch::{Batch, HYPER_NAMES, NODE_NAMES};
pub use config::{SamplerConfig, Update, DEFAULT_COLLAPSED_STEPS, DEFAULT_HYPER_ROUNDS};
pub use draws::Fit;
pub use run::{run, run_streamed, DrawSink};
