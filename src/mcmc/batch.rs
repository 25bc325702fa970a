//! A batch as the kernels see it: observations grouped by unit and cut into pieces, the
//! tree of levels above the units, and where each parameter sits in a `Fit`.

use crate::kernels::layout::{
    build_pieces, unit_piece_offsets, Observation, Piece, ThetaParams, PIECE_LEN,
};

/// Hyperparameters reported per unit of a one-level model, after the unit's thetas (in this order).
pub const HYPER_NAMES: [&str; 4] = ["alpha", "beta", "mu", "kappa"];
/// Parameters reported per group of a multi-level model (and for its root).
pub const NODE_NAMES: [&str; 2] = ["omega", "kappa"];

/// The observations of a batch, laid out for the kernels, and the levels above them.
#[derive(Debug, Clone)]
pub struct Batch {
    pub observations: Vec<Observation>,
    /// len n_units + 1.
    pub unit_offsets: Vec<u32>,
    pub pieces: Vec<Piece>,
    /// Pieces of unit u: `unit_pieces[u]..unit_pieces[u + 1]`.
    pub unit_pieces: Vec<u32>,
    /// `parents[l][v]`: the node of level l + 1 above node v of level l (level 0: the units).
    /// Empty for a one-level model, whose units are independent roots.
    pub parents: Vec<Vec<u32>>,
    /// Nodes per level, level 0 (the units) first.
    pub level_sizes: Vec<usize>,
}

impl Batch {
    /// A one-level model: every unit is a root with its own (alpha, beta).
    pub fn new(successes: &[u32], trials: &[u32], unit_offsets: Vec<u32>) -> Batch {
        Batch::with_levels(successes, trials, unit_offsets, Vec::new())
    }

    /// A multi-level model: the units are the innermost groups and `parents` the levels
    /// above them (see the field); the last level must be a single root.
    pub(crate) fn with_levels(
        successes: &[u32],
        trials: &[u32],
        unit_offsets: Vec<u32>,
        parents: Vec<Vec<u32>>,
    ) -> Batch {
        let observations = successes
            .iter()
            .zip(trials)
            .map(|(&y, &n)| Observation {
                successes: y,
                trials: n,
            })
            .collect();
        let pieces = build_pieces(&unit_offsets, PIECE_LEN);
        let unit_pieces = unit_piece_offsets(&pieces, unit_offsets.len() - 1);
        let mut level_sizes = vec![unit_offsets.len() - 1];
        for level in &parents {
            level_sizes.push(level.iter().max().map_or(0, |&m| m as usize + 1));
        }
        assert!(
            parents.is_empty() || level_sizes.last() == Some(&1),
            "a multi-level model has one root"
        );
        Batch {
            observations,
            unit_offsets,
            pieces,
            unit_pieces,
            parents,
            level_sizes,
        }
    }

    pub fn n_units(&self) -> usize {
        self.unit_offsets.len() - 1
    }

    pub(crate) fn n_levels(&self) -> usize {
        self.level_sizes.len()
    }

    /// A multi-level model, reported in the mode/concentration form (omega, kappa).
    pub(crate) fn is_tree(&self) -> bool {
        !self.parents.is_empty()
    }

    /// Parameters of a theta_update dispatch over all units of this batch.
    pub fn theta_params(
        &self,
        seed: u32,
        sweep: u32,
        n_chains: u32,
        write_theta: bool,
    ) -> ThetaParams {
        ThetaParams {
            seed,
            sweep,
            chain_offset: 0,
            n_chains,
            unit_offset: 0,
            n_units: self.n_units() as u32,
            n_obs: self.n_obs() as u32,
            n_pieces: self.pieces.len() as u32,
            write_theta: u32::from(write_theta),
            _pad: [0; 3],
        }
    }

    pub fn n_obs(&self) -> usize {
        self.observations.len()
    }

    /// Parameters per chain: every theta when they are kept, then per unit HYPER_NAMES
    /// (one level) or per node of every level NODE_NAMES (multi-level).
    pub fn n_params(&self, keep_thetas: bool) -> usize {
        let thetas = if keep_thetas { self.n_obs() } else { 0 };
        if self.is_tree() {
            thetas + NODE_NAMES.len() * self.level_sizes.iter().sum::<usize>()
        } else {
            thetas + HYPER_NAMES.len() * self.n_units()
        }
    }

    /// One level: index of unit u's first parameter: its thetas (when kept), then HYPER_NAMES.
    pub fn unit_param_start(&self, u: usize, keep_thetas: bool) -> usize {
        assert!(!self.is_tree(), "multi-level models use node_param_start");
        HYPER_NAMES.len() * u
            + if keep_thetas {
                self.unit_offsets[u] as usize
            } else {
                0
            }
    }

    /// Each observation's theta's parameter index, thetas kept (one level: each unit's thetas
    /// precede its HYPER_NAMES; multi-level: all thetas come first).
    pub(crate) fn theta_param_indices(&self) -> Vec<usize> {
        if self.is_tree() {
            return (0..self.n_obs()).collect();
        }
        (0..self.n_units())
            .flat_map(|u| {
                let start = self.unit_param_start(u, true);
                let len = (self.unit_offsets[u + 1] - self.unit_offsets[u]) as usize;
                start..start + len
            })
            .collect()
    }

    /// Multi-level: index of node v of `level`'s omega (its kappa follows); thetas come first.
    pub fn node_param_start(&self, level: usize, node: usize, keep_thetas: bool) -> usize {
        assert!(self.is_tree(), "one-level models use unit_param_start");
        let before: usize = self.level_sizes[..level].iter().sum();
        (if keep_thetas { self.n_obs() } else { 0 }) + NODE_NAMES.len() * (before + node)
    }

    /// Pooled rate (y + 1/2) / (n + 1) of the observations of units `units`.
    pub(crate) fn pooled_rate(&self, units: std::ops::Range<usize>) -> f64 {
        let range = self.unit_offsets[units.start] as usize..self.unit_offsets[units.end] as usize;
        let (y, n) = self.observations[range]
            .iter()
            .fold((0.0, 0.0), |(y, n), o| {
                (y + f64::from(o.successes), n + f64::from(o.trials))
            });
        (y + 0.5) / (n + 1.0)
    }
}
