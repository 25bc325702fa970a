// Test stage: Philox4x32-10 on given (counter, key) pairs, for the known-answer test
// of the WGSL generator against Random123's vectors (tests/gpu_rng.rs).

#import philox

struct KatInput {
    counter: vec4<u32>,
    key: vec2<u32>,
    _pad: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> inputs: array<KatInput>;
@group(0) @binding(1) var<storage, read_write> outputs: array<vec4<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&inputs)) {
        return;
    }
    outputs[i] = philox4x32_10(inputs[i].counter, inputs[i].key);
}
