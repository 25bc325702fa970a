//! The `betagibbs` binary: parse flags into a validated config, run, map errors to exit codes.
//!
//! Exit codes: 0 success; 1 a failure of the program or the machine (I/O, GPU);
//! 2 a problem with the input or the flags (the message says what and where).

use std::process::ExitCode;

use betagibbs::app::cli::{Cli, Command};
use betagibbs::app::{run_bench, run_sample};
use betagibbs::error::UserError;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sample(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(|c| run_sample(&c)),
        Command::Demo(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(|c| run_sample(&c)),
        Command::Bench(args) if args.accuracy => betagibbs::methyl::reference::run_accuracy(
            &args.data,
            args.quick,
            args.accuracy_out.as_deref(),
        ),
        Command::Bench(args) => match args.methyl_config() {
            Ok(Some(methyl)) => {
                betagibbs::methyl::run::run_methyl_bench(&methyl, !args.cpu_only, args.dss)
            }
            Ok(None) => args
                .into_config()
                .map_err(anyhow::Error::from)
                .and_then(|c| run_bench(&c).map(|_| ())),
            Err(e) => Err(e.into()),
        },
        Command::Methyl(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(|c| betagibbs::methyl::run::run_methyl(&c).map(|_| ())),
        Command::Simulate(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(|c| betagibbs::methyl::simulate::simulate(&c)),
        Command::Compare(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(|c| betagibbs::app::compare::run_compare(&c)),
        Command::Plot(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(|c| {
                for path in betagibbs::plot::figures::draw(&c)? {
                    println!("{}", path.display());
                }
                Ok(())
            }),
    };
    match result {
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
