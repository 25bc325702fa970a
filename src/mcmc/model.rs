//! From a validated `Dataset` to what the sampler runs (`Batch`) and what the outputs call
//! its parameters: one level (units with their own alpha, beta) or a tree of groups.
//!
//! Names. One level: `theta[<id>]`, then `alpha`, `beta`, `mu`, `kappa`, each prefixed by
//! `<unit>/` when there is a unit column. Multi-level: every `theta[<id>]` (grouped by
//! innermost group, groups in order of first appearance), then for each level from the
//! innermost out `omega[<label>]`, `kappa[<label>]` per group, and last the root's `omega`,
//! `kappa`. Labels of different levels must differ (checked on load), so a name is unique
//! whatever the depth; spaces, commas and brackets in labels are kept as they are.

use std::collections::HashMap;

use crate::error::UserError;
use crate::kernels::layout::MAX_TRIALS;
use crate::mcmc::dataset::Dataset;
use crate::mcmc::sampler::{Batch, HYPER_NAMES, NODE_NAMES};

/// A batch ready to sample and the names of its parameters, in `Fit` order.
pub struct Model {
    pub batch: Batch,
    pub names: Vec<String>,
}

impl Model {
    pub fn new(ds: &Dataset, keep_thetas: bool) -> Result<Model, UserError> {
        if let Some(o) = ds.trials.iter().position(|&n| n > MAX_TRIALS) {
            return Err(UserError(format!(
                "{}: observation {} ({}) has {} trials; at most {MAX_TRIALS} are supported (the kernels work in f32)",
                ds.source,
                o + 1,
                ds.ids[o],
                ds.trials[o]
            )));
        }
        if ds.group_labels.is_empty() {
            let batch = Batch::new(&ds.successes, &ds.trials, ds.unit_offsets.clone());
            return Ok(Model {
                names: one_level_names(ds, keep_thetas),
                batch,
            });
        }
        Ok(grouped(ds, keep_thetas))
    }
}

fn one_level_names(ds: &Dataset, keep_thetas: bool) -> Vec<String> {
    let mut names = Vec::new();
    for u in 0..ds.n_units() {
        let prefix = if ds.has_unit_column {
            format!("{}/", ds.unit_labels[u])
        } else {
            String::new()
        };
        if keep_thetas {
            for o in ds.unit_range(u) {
                names.push(format!("{prefix}theta[{}]", ds.ids[o]));
            }
        }
        for h in HYPER_NAMES {
            names.push(format!("{prefix}{h}"));
        }
    }
    names
}

/// Index labels in order of first appearance.
fn index_labels<'a>(labels: impl Iterator<Item = &'a str>) -> (Vec<String>, Vec<u32>) {
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut distinct = Vec::new();
    let of = labels
        .map(|l| {
            *index.entry(l).or_insert_with(|| {
                distinct.push(l.to_string());
                distinct.len() as u32 - 1
            })
        })
        .collect();
    (distinct, of)
}

/// A tree: the innermost groups become the batch's units (observations sorted by them,
/// stably), each outer level maps its inner groups to parents, and one root tops it.
fn grouped(ds: &Dataset, keep_thetas: bool) -> Model {
    let (unit_labels, unit_of) = index_labels(ds.group_labels[0].iter().map(String::as_str));
    let mut order: Vec<usize> = (0..ds.n_obs()).collect();
    order.sort_by_key(|&o| unit_of[o]);
    let mut unit_offsets = vec![0u32; unit_labels.len() + 1];
    for &u in &unit_of {
        unit_offsets[u as usize + 1] += 1;
    }
    for u in 0..unit_labels.len() {
        unit_offsets[u + 1] += unit_offsets[u];
    }
    // Per level: labels and, for every inner group, its parent (nesting was checked on load).
    let mut level_labels = vec![unit_labels];
    let mut parents = Vec::new();
    let mut inner_of = unit_of;
    for level in 1..ds.group_labels.len() {
        let (labels, outer_of) = index_labels(ds.group_labels[level].iter().map(String::as_str));
        let mut parent = vec![0u32; level_labels[level - 1].len()];
        for (o, &inner) in inner_of.iter().enumerate() {
            parent[inner as usize] = outer_of[o];
        }
        parents.push(parent);
        level_labels.push(labels);
        inner_of = outer_of;
    }
    parents.push(vec![0; level_labels.last().map_or(0, Vec::len)]);

    let successes: Vec<u32> = order.iter().map(|&o| ds.successes[o]).collect();
    let trials: Vec<u32> = order.iter().map(|&o| ds.trials[o]).collect();
    let batch = Batch::with_levels(&successes, &trials, unit_offsets, parents);
    let mut names = Vec::new();
    if keep_thetas {
        names.extend(order.iter().map(|&o| format!("theta[{}]", ds.ids[o])));
    }
    for labels in &level_labels {
        for label in labels {
            names.extend(NODE_NAMES.iter().map(|n| format!("{n}[{label}]")));
        }
    }
    names.extend(NODE_NAMES.iter().map(|n| n.to_string()));
    debug_assert_eq!(names.len(), batch.n_params(keep_thetas));
    Model { batch, names }
}
