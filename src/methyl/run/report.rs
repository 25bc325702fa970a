//! The run's report on stderr: the filters and the priors, the rate, the phases' busy
//! seconds, peak memory, and the calls.

use crate::methyl::config::MethylConfig;
use crate::methyl::hyper::Hyper;
use crate::methyl::run::calls::Calls;
use crate::methyl::run::MethylReport;

/// Prints the report of a finished run; `sites_kept` of `sites_seen` passed the filters.
pub(super) fn print_report(
    config: &MethylConfig,
    report: &MethylReport,
    hyper: &Hyper,
    (sites_kept, sites_seen): (u64, u64),
    calls: &Calls,
) {
    let phases = &report.phases;
    let (n_sites, seconds) = (report.sites, report.seconds);
    let tested = match config.design {
        None => "the groups differ",
        Some(_) => "the tested effect is nonzero",
    };
    // A resumed run read its priors back: it spent no time learning them.
    let learned = match phases.stage1 > 0.0 {
        true => format!("in {:.2} s", phases.stage1),
        false => "(read back)".to_string(),
    };
    eprintln!(
        "betagibbs: {} of {} sites passed the filters; priors from a sample of {} {learned}: mu ~ Beta({:.3}, {:.3}), log phi = {:.3} + {:.3} t4; {tested} at {:.1}% of sites (chains {:.1}% to {:.1}%), by logit differences of scale {:.3} (t2)",
        sites_kept, sites_seen, hyper.sites, hyper.mean[0], hyper.mean[1], hyper.mean[2], hyper.mean[3], 100.0 * hyper.mean[4], 100.0 * hyper.w_range.0, 100.0 * hyper.w_range.1, hyper.mean[5]
    );
    eprintln!(
        "betagibbs: {} sites in {:.2} s ({:.0} sites/s, {:.0}% in the site update, acceptance {:.2}) on {}",
        n_sites,
        seconds,
        n_sites as f64 / seconds,
        100.0 * phases.site_update / seconds,
        report.acceptance,
        report.device
    );
    eprintln!(
        "betagibbs: busy seconds (stage 2's overlap): chromosome scan {:.2}, reading {:.2}, stage 1 {:.2}, site update {:.2}, summaries {:.2}, writing {:.2}",
        phases.scan, phases.reading, phases.stage1, phases.site_update, phases.summaries, phases.writing
    );
    if let Some(on_device) = phases.on_device {
        // Stage 2's sweeps only: what the device's arithmetic limit is to be compared with.
        let fit = &config.fit;
        let chain_sweeps =
            n_sites as f64 * f64::from(fit.chains) * f64::from(fit.warmup + fit.draws);
        let kernels = match on_device.kernels {
            Some(k) => format!(
                "kernels {k:.2} s ({:.3e} chain-sweeps per kernel second)",
                chain_sweeps / k.max(1e-9)
            ),
            None => "kernels not timed (no timestamp queries)".to_string(),
        };
        let kernels = match on_device.summaries.filter(|&s| s > 0.0) {
            Some(s) => format!("{kernels}, the summaries' kernel {s:.2} s"),
            None => kernels,
        };
        eprintln!(
            "betagibbs: the site update's {:.2} busy s on the device: {kernels}; waiting for results {:.2} s, copying them back {:.2} s; {chain_sweeps:.3e} chain-sweeps",
            phases.site_update, on_device.waiting, on_device.copying
        );
    }
    let b = &phases.blocked;
    eprintln!(
        "betagibbs: stage 2's hand-offs, seconds each stage waited for the next to take a chunk: reading {:.2}, site update {:.2}, summaries {:.2}, writing {:.2}",
        b.reading, b.site_update, b.summaries, b.writing
    );
    if phases.core.total > 0.0 {
        eprintln!(
            "betagibbs: core-µs per site: {}",
            phases.core.per_site(n_sites)
        );
        eprintln!(
            "betagibbs: stage 2's one-thread stages, their own core-µs per site (each caps the sites a second at 1e6 over it): {}",
            phases.core.one_thread_per_site(n_sites)
        );
    }
    if let Some(bytes) = crate::io::peak_resident_bytes() {
        let cpu = crate::io::process_cpu_seconds().map_or(String::new(), |s| {
            format!(
                "; CPU {s:.1} core-s, {:.1} core-µs per site",
                s / n_sites.max(1) as f64 * 1e6
            )
        });
        eprintln!(
            "betagibbs: peak resident memory {:.0} MB{cpu}",
            bytes as f64 / 1e6
        );
    }
    eprintln!(
        "betagibbs: {} DMLs at P(|delta| > {d}) >= {:.4} (expected FDR {:.4} <= {fdr}); {} DMRs at P(|mean delta| > {d}) >= {:.4} (expected FDR {:.4}); wrote {}",
        calls.n_dml,
        calls.threshold,
        calls.expected_fdr,
        calls.n_dmr,
        calls.p_region_threshold,
        calls.dmr_fdr,
        config.out.display(),
        d = config.threshold,
        fdr = config.fdr,
    );
}
