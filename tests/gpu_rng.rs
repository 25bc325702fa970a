//! The WGSL Philox4x32-10 against Random123's published known answers, and against the Rust twin.

mod common;

use betagibbs::rng::{philox4x32_10, PHILOX_KAT};

#[test]
fn rust_philox_matches_random123() {
    for (ctr, key, expected) in PHILOX_KAT {
        assert_eq!(philox4x32_10(ctr, key), expected);
    }
}

#[test]
fn wgsl_philox_matches_random123_and_the_rust_twin() {
    let Some(gpu) = common::gpu_or_skip("wgsl_philox") else {
        return;
    };
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
    let got = gpu.philox_on_gpu(&cases).expect("GPU run");
    for (i, expected_kat) in PHILOX_KAT.iter().enumerate() {
        assert_eq!(got[i], expected_kat.2, "known answer {i}");
    }
    for (i, (c, k)) in cases.iter().enumerate() {
        assert_eq!(got[i], philox4x32_10(*c, *k), "case {i}");
    }
}
