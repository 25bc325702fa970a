//! The one choice of device: the CPU twins or a GPU, and how a run opens it.

use crate::error::UserError;
use crate::kernels::gpu::{Gpu, GpuError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
/// Which device a run asks for (`--device`).
pub enum DeviceChoice {
    /// A hardware GPU when there is one, else the CPU (said on stderr).
    Auto,
    /// A GPU adapter, software drivers (lavapipe) included; an error when there is none.
    Gpu,
    /// The CPU path on all cores.
    Cpu,
}

/// Where the kernels run: the CPU twins on all cores, or the shaders on an open GPU.
#[derive(Clone, Copy)]
pub enum Device<'g> {
    Cpu,
    Gpu(&'g Gpu),
}

impl<'g> Device<'g> {
    /// The CPU without a GPU, else that GPU.
    pub fn from_gpu(gpu: Option<&'g Gpu>) -> Device<'g> {
        gpu.map_or(Device::Cpu, Device::Gpu)
    }
}

/// The device a run uses: a GPU, or None for the CPU path.
pub(crate) fn open_device(choice: DeviceChoice) -> Result<Option<Gpu>, UserError> {
    match choice {
        DeviceChoice::Cpu => Ok(None),
        DeviceChoice::Gpu => Gpu::open(true)
            .map(Some)
            .map_err(|e| UserError(e.to_string())),
        DeviceChoice::Auto => match Gpu::open(false) {
            Ok(gpu) => Ok(Some(gpu)),
            Err(e) => {
                // One line: where the run goes and why (the install hint is --device gpu's).
                let why = match e {
                    GpuError::NoAdapter { found } => format!("no GPU adapter found{found}"),
                    other => other.to_string(),
                };
                eprintln!(
                    "betagibbs: running on the CPU ({} threads): {why}",
                    rayon::current_num_threads()
                );
                Ok(None)
            }
        },
    }
}

pub(crate) fn describe_device(gpu: Option<&Gpu>) -> String {
    match gpu {
        Some(g) => format!("gpu: {}", g.describe()),
        None => format!("cpu: {} threads", rayon::current_num_threads()),
    }
}
