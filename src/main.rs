//! The `betagibbs` binary: parse the flags, turn them into one validated config
//! (`app::cli`), run the command (`app::<command>::run`), map the outcome to an exit code.
//!
//! Exit codes:
//! - 0: success;
//! - 1: a failure of the program or the machine (I/O, the GPU, a bug);
//! - 2: a problem with the input or the flags, from clap or a `UserError` (the message
//!   says what and where).

use std::process::ExitCode;

use betagibbs::app;
use betagibbs::app::cli::{Cli, Command, Demo, MethylJob};
use betagibbs::error::UserError;
use betagibbs::methyl::tracks::TrackConfig;
use clap::Parser;

fn main() -> ExitCode {
    quiet_vulkan_loader();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("betagibbs: error: {e:#}");
            if e.downcast_ref::<UserError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Without XDG_RUNTIME_DIR, the Vulkan drivers' Wayland probe prints "error: XDG_RUNTIME_DIR
/// is invalid or not set" twice on every run, GPU or not; a headless compute program needs no
/// Wayland, so the probe gets the temporary directory to look in (and finds nothing there).
fn quiet_vulkan_loader() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: the first statement of main, before any thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
}

/// One command: its flags into its config, then its run.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Sample(args) => {
            let config = args.into_config()?;
            match &config.design {
                Some(design) => app::regression::run(&config, design),
                None => app::sample::run(&config),
            }
        }
        Command::Demo(args) => match args.into_demo()? {
            Demo::Sample(config) => app::sample::run(&config),
            Demo::Methyl(demo) => app::demo::run_methyl_demo(&demo),
        },
        Command::Bench(args) => app::bench::run(&args.into_job()?),
        Command::Methyl(args) => match args.into_job()? {
            MethylJob::Run {
                config,
                export,
                plot,
            } => {
                app::methyl::run(&config)?;
                if export {
                    app::export::run(&TrackConfig {
                        dir: config.out.clone(),
                        out: config.out.join("browser"),
                    })?;
                }
                if let Some(format) = plot {
                    app::plot::run(&app::plot::methyl_figures(&config.out, format), None)?;
                }
                Ok(())
            }
            MethylJob::Prior(config) => app::methyl::prior(&config),
            MethylJob::Fit { config, prior } => app::methyl::fit(&config, &prior),
            MethylJob::Call(config) => app::methyl::call(&config),
        },
        Command::Simulate(args) => app::simulate::run(&args.into_config()?),
        Command::Compare(args) => app::compare::run(&args.into_config()?),
        Command::Plot(args) => {
            let (config, sheet) = args.into_config()?;
            app::plot::run(&config, sheet.as_deref())
        }
        Command::Export(args) => app::export::run(&args.into_config()),
    }
}
