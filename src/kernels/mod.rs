//! Everything that runs once per observation or per site, in WGSL on a GPU and in its CPU
//! twin: the `#[repr(C)]` layouts shared with the shaders, the twins under `cpu`, the GPU
//! stages under `gpu`, and the one `Device` enum that picks between them.

pub mod cpu;
pub mod device;
pub mod gpu;
pub mod layout;
pub mod regression_layout;
pub mod site_layout;
pub mod stages;
pub mod summary_layout;

pub use device::{Device, DeviceChoice};

// build.rs's compile-time checks that the structs and constants above match the shaders'.
include!(concat!(env!("OUT_DIR"), "/wgsl_abi.rs"));
