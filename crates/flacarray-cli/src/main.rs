//! The `flacarray` command line tool. See `flacarray --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use flacarray_cli::{Reported, UsageError, cli::Cli, is_broken_pipe, one_line, run};

fn main() -> ExitCode {
    // Usage errors (unknown flags, a level out of 0..=8, ...) exit with status 2 here.
    let cli = Cli::parse();
    if let Err(err) = flacarray_cli::output::install_signal_cleanup() {
        eprintln!("flacarray: error: {}", one_line(&err));
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our standard output has gone (`| head`): it has what it wanted.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<UsageError>().is_some() => {
            eprintln!("flacarray: error: {}", one_line(&err));
            ExitCode::from(2)
        }
        Err(err) => {
            if !err.is::<Reported>() {
                eprintln!("flacarray: error: {}", one_line(&err));
            }
            ExitCode::FAILURE
        }
    }
}
