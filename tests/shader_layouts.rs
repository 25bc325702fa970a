//! The structs the shaders share with the host, checked rather than commented: naga lays out
//! each WGSL struct of shaders/shared/ and its member offsets and size must equal the Rust
//! `#[repr(C)]` struct's, field by field.

use std::mem::{offset_of, size_of};

use betagibbs::kernels::layout::{Observation, Piece, ThetaParams};
use betagibbs::kernels::site_layout::{SiteHyper, SiteParams, SiteSample};

/// (name, offset) of every member of WGSL struct `name` in `file`, and its size, by naga.
fn wgsl_layout(file: &str, name: &str) -> (Vec<(String, u32)>, u32) {
    let path = format!("{}/shaders/shared/{file}", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap();
    let module = naga::front::wgsl::parse_str(&source).unwrap();
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    for (handle, ty) in module.types.iter() {
        if ty.name.as_deref() != Some(name) {
            continue;
        }
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            panic!("{name} is not a struct");
        };
        assert_eq!(layouter[handle].size, *span);
        // Padding is `_pad`, `_pad0`, `_pad1`, ... on either side: compared by offset alone.
        let members = members
            .iter()
            .map(|m| {
                let name = m.name.clone().unwrap_or_default();
                let name = if name.starts_with("_pad") {
                    "_pad".into()
                } else {
                    name
                };
                (name, m.offset)
            })
            .collect();
        return (members, *span);
    }
    panic!("{path}: no struct {name}");
}

/// Rust's (field, offset) pairs and size, to compare with `wgsl_layout`.
macro_rules! rust_layout {
    ($t:ty, [$($field:ident),* $(,)?]) => {
        (
            vec![$((stringify!($field).to_string(), offset_of!($t, $field) as u32)),*],
            size_of::<$t>() as u32,
        )
    };
}

#[test]
fn site_structs_match_their_wgsl() {
    assert_eq!(
        wgsl_layout("site_layout.wgsl", "SiteParams"),
        rust_layout!(
            SiteParams,
            [
                seed,
                n_sites,
                n_chains,
                n_groups,
                site_offset,
                first_sweep,
                warmup,
                n_draws,
                init,
                draws_total,
                draw_offset,
                random_walk,
                compare_first,
                compare_second,
                threshold,
                _pad,
            ]
        )
    );
    let (wgsl, size) = wgsl_layout("site_layout.wgsl", "SiteHyper");
    let (rust, rust_size) = rust_layout!(
        SiteHyper,
        [
            a,
            b,
            m0,
            s0,
            log_same,
            log_differ,
            ln_beta,
            slab_inv_scale2,
            ln_slab,
            _pad
        ]
    );
    // The Rust struct pads with one array where the WGSL has three scalars.
    assert_eq!(wgsl[..rust.len()], rust[..]);
    assert_eq!(size, rust_size);
    assert_eq!(
        wgsl_layout("site_layout.wgsl", "SiteSample"),
        rust_layout!(SiteSample, [group, methylated, total, _pad])
    );
}

#[test]
fn theta_structs_match_their_wgsl() {
    for (name, rust) in [
        ("Observation", (size_of::<Observation>() as u32)),
        ("Piece", (size_of::<Piece>() as u32)),
        ("ThetaParams", (size_of::<ThetaParams>() as u32)),
    ] {
        assert_eq!(wgsl_layout("layout.wgsl", name).1, rust, "{name}");
    }
}
