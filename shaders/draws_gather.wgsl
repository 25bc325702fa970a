// The recorded draws of chosen sites, gathered from a site stage's draws buffer into one
// compact run, so that only the sites the host still needs (those that lean towards a
// difference, for the regions, and those of --draws-region) come back from the device.
// CPU twin: src/kernels/cpu/draws_gather.rs. Layout: src/kernels/summary_layout.rs.

struct GatherParams {
    n_sites: u32,
    per_site: u32,
    _pad0: u32,
    _pad1: u32,
}

const GATHER_WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: GatherParams;
// Per site, `per_site` floats.
@group(0) @binding(1) var<storage, read> draws: array<f32>;
// The chosen sites, ascending.
@group(0) @binding(2) var<storage, read> sites: array<u32>;
@group(0) @binding(3) var<storage, read_write> gathered: array<f32>;

@compute @workgroup_size(GATHER_WORKGROUP)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
    let i = id.x + id.y * grid.x * GATHER_WORKGROUP;
    if (i >= params.n_sites * params.per_site) {
        return;
    }
    let k = i / params.per_site;
    gathered[i] = draws[sites[k] * params.per_site + (i - k * params.per_site)];
}
