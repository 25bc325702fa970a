//! `bench --sheet`: `methyl` on each path (the CPU's lanes, its scalar twin, the GPU) over one
//! sample sheet, side by side, with DSS's DMLtest as the reference where asked.

use anyhow::Context;

use crate::kernels::DeviceChoice;
use crate::methyl::config::MethylConfig;
use crate::methyl::run::run_methyl;

/// `bench --sheet`: `methyl` on the CPU path, then the GPU path when there is one, side by
/// side in one run, into a temporary directory. Prints sites per second, acceptance, the
/// sites' median R-hat and bulk ESS, and the GPU's bytes per site; with `dss`, DSS's DMLtest
/// on the same files and the CPU path's ratio to it.
pub fn run_methyl_bench(config: &MethylConfig, gpu: bool, dss: bool) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("betagibbs-bench-{}", std::process::id()));
    // The CPU path four chains at a time, then by its scalar twin (the shader's operations
    // one chain at a time), then the GPU.
    let mut devices = vec![(DeviceChoice::Cpu, false), (DeviceChoice::Cpu, true)];
    if gpu {
        match crate::kernels::gpu::Gpu::open(true) {
            Ok(_) => devices.push((DeviceChoice::Gpu, false)),
            Err(e) => eprintln!("betagibbs: {e}; timing the CPU path only"),
        }
    }
    println!(
        "methyl on {}: {} chains x ({} warm-up + {} draws) per site; priors from a sample of {} ({} + {} sweeps)",
        config.sheet.display(),
        config.fit.chains,
        config.fit.warmup,
        config.fit.draws,
        config.fit.hyper_sites,
        config.fit.hyper_warmup,
        config.fit.hyper_draws
    );
    println!(
        "{:<52} {:>8} {:>8} {:>10} {:>10} {:>9} {:>9} {:>12}",
        "path", "sites", "wall s", "sites/s", "acceptance", "R-hat p50", "ESS p50", "GPU B/site"
    );
    // The reference first: a sheet it cannot read fails before the long part.
    let reference = if dss {
        let cores = rayon::current_num_threads();
        let compare = (config.compare.0.as_str(), config.compare.1.as_str());
        let (sites, seconds) =
            crate::methyl::reference::time_dss_dmltest(&config.sheet, compare, cores, &dir)?;
        Some((sites, seconds, cores))
    } else {
        None
    };
    let mut cpu_rate = None;
    let mut core = Vec::new();
    for (device, scalar_twin) in devices {
        let out = dir.join(format!("{device:?}-{scalar_twin}"));
        let mut run = MethylConfig {
            device,
            out: out.clone(),
            quiet: true,
            ..config.clone()
        };
        run.fit.scalar_twin = scalar_twin;
        let report = run_methyl(&run)?;
        let path = if scalar_twin {
            report.device.replace("cpu", "cpu, scalar twin")
        } else {
            report.device.clone()
        };
        let (r_hat, ess) = median_diagnostics(&out.join("sites.parquet"))?;
        let rate = report.sites as f64 / report.seconds;
        if device == DeviceChoice::Cpu && !scalar_twin {
            cpu_rate = Some(rate);
        }
        if report.phases.core.total > 0.0 {
            core.push((path.clone(), report.phases.core.per_site(report.sites)));
        }
        println!(
            "{:<52} {:>8} {:>8.2} {:>10.0} {:>10.3} {:>9.3} {:>9.0} {:>12}",
            path,
            report.sites,
            report.seconds,
            rate,
            report.acceptance,
            r_hat,
            ess,
            report
                .bytes_per_site
                .map_or("-".to_string(), |b| format!("{b:.0}"))
        );
    }
    for (path, per_site) in core {
        println!("core-µs per site, {path}: {per_site}");
    }
    if let Some((sites, seconds, cores)) = reference {
        let rate = sites as f64 / seconds;
        println!(
            "{:<52} {:>8} {:>8.2} {:>10.0} {:>10} {:>9} {:>9} {:>12}",
            format!("reference: DSS DMLtest, no smoothing ({cores} cores)"),
            sites,
            seconds,
            rate,
            "-",
            "-",
            "-",
            "-"
        );
        if let Some(ours) = cpu_rate {
            println!(
                "cpu path / DSS: {:.2}x the sites per second (DSS's time is DMLtest's alone, without reading its files)",
                ours / rate
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Median R-hat and bulk ESS over the sites of a sites.parquet.
fn median_diagnostics(path: &std::path::Path) -> anyhow::Result<(f64, f64)> {
    use arrow::array::{Array, Float64Array};
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path)?,
    )?
    .build()?;
    let (mut r, mut e) = (Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch?;
        for (name, out) in [("r_hat", &mut r), ("ess_bulk", &mut e)] {
            let col = batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<Float64Array>().cloned())
                .context("sites.parquet lacks r_hat or ess_bulk")?;
            out.extend(col.values().iter().copied());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Ok((median(&mut r), median(&mut e)))
}
