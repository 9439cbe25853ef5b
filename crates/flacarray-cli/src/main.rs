//! The `flacarray` command line tool. See `flacarray --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use flacarray_cli::{cli::Cli, one_line, report, run};

fn main() -> ExitCode {
    // Usage errors (unknown flags, a level out of 0..=8, ...) exit with status 2 here.
    let cli = Cli::parse();
    if let Err(err) = flacarray_cli::output::install_signal_cleanup() {
        eprintln!("flacarray: error: {}", one_line(&err));
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => ExitCode::from(report(&err)),
    }
}
