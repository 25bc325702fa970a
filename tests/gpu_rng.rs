//! Philox4x32-10 against Random123's published known answers: the Rust generator, and the
//! WGSL one (shaders/shared/philox.wgsl, through shaders/philox_kat.wgsl) against both the
//! known answers and the Rust twin.

mod common;

use betagibbs::kernels::gpu::Gpu;
use betagibbs::rng::philox4x32_10;
use wgpu::util::DeviceExt;

/// Known answers from Random123's `kat_vectors` file (philox4x32, 10 rounds): (counter,
/// key, output).
const PHILOX_KAT: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
    (
        [0, 0, 0, 0],
        [0, 0],
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ),
    (
        [u32::MAX; 4],
        [u32::MAX; 2],
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ),
    (
        [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
        [0xa4093822, 0x299f31d0],
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ),
];

/// The expanded known-answer shader (build.rs): one invocation per (counter, key) pair.
const PHILOX_KAT_WGSL: &str = include_str!(concat!(env!("OUT_DIR"), "/philox_kat.wgsl"));
/// `@workgroup_size` of philox_kat.wgsl.
const WORKGROUP_SIZE: u32 = 64;

#[test]
fn rust_philox_matches_random123() {
    for (ctr, key, expected) in PHILOX_KAT {
        assert_eq!(philox4x32_10(ctr, key), expected);
    }
}

/// Philox4x32-10 of every (counter, key) evaluated by the WGSL generator.
fn philox_on_gpu(gpu: &Gpu, cases: &[([u32; 4], [u32; 2])]) -> Vec<[u32; 4]> {
    // KatInput: counter, key, two words of padding.
    let inputs: Vec<[u32; 8]> = cases
        .iter()
        .map(|(c, k)| [c[0], c[1], c[2], c[3], k[0], k[1], 0, 0])
        .collect();
    let size = (cases.len() * std::mem::size_of::<[u32; 4]>()) as u64;
    let device = &gpu.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("philox_kat"),
        source: wgpu::ShaderSource::Wgsl(PHILOX_KAT_WGSL.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("philox_kat"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("kat inputs"),
        contents: bytemuck::cast_slice(&inputs),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let buffer = |label, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    };
    let output = buffer(
        "kat outputs",
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    );
    let readback = buffer(
        "kat readback",
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    );
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: input.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: output.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((cases.len() as u32).div_ceil(WORKGROUP_SIZE), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&output, 0, &readback, 0, size);
    gpu.queue.submit([encoder.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |r| tx.send(r).unwrap());
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("GPU poll");
    rx.recv().unwrap().expect("map the readback buffer");
    let view = readback
        .slice(..)
        .get_mapped_range()
        .expect("read the mapped buffer");
    bytemuck::cast_slice(&view).to_vec()
}

#[test]
#[ignore = "needs a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"]
fn wgsl_philox_matches_random123_and_the_rust_twin() {
    let gpu = common::gpu();
    let mut cases: Vec<([u32; 4], [u32; 2])> =
        PHILOX_KAT.iter().map(|(c, k, _)| (*c, *k)).collect();
    // Plus a spread of counters and keys that exercise every carry of the 16-bit multiply.
    let mut x = 0x1234_5678u32;
    for _ in 0..1000 {
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        cases.push(([next(), next(), next(), next()], [next(), next()]));
    }
    let got = philox_on_gpu(&gpu, &cases);
    for (i, expected_kat) in PHILOX_KAT.iter().enumerate() {
        assert_eq!(got[i], expected_kat.2, "known answer {i}");
    }
    for (i, (c, k)) in cases.iter().enumerate() {
        assert_eq!(got[i], philox4x32_10(*c, *k), "case {i}");
    }
}
