//! The samplers' host side: hyperpriors, slice and Metropolis updates, batches of models,
//! the Gibbs loop over the kernels, and what is computed from its draws (diagnostics,
//! posterior predictive checks, contrasts) and the design matrices of R formulas (`design`).

pub mod batch;
pub mod contrast;
pub mod dataset;
pub mod design;
pub mod diagnostics;
pub mod metropolis;
pub mod model;
pub mod ppc;
pub mod prior;
pub mod regression;
pub mod sampler;
pub mod slice;
