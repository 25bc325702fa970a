//! CPU twin of draws_gather.wgsl: the chosen sites' draws, one after another.

use crate::kernels::summary_layout::GatherParams;

/// The `per_site` floats of each of `sites` (ascending indices into `draws`), in order.
pub fn draws_gather(params: &GatherParams, draws: &[f32], sites: &[u32]) -> Vec<f32> {
    let per_site = params.per_site as usize;
    sites[..params.n_sites as usize]
        .iter()
        .flat_map(|&s| &draws[s as usize * per_site..][..per_site])
        .copied()
        .collect()
}
