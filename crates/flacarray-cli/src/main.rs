//! The `flacarray` command line tool. See `flacarray --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use flacarray_cli::{Reported, cli::Cli, one_line, run};

fn main() -> ExitCode {
    // Usage errors (unknown flags, a level out of 0..=8, ...) exit with status 2 here.
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if !err.is::<Reported>() {
                eprintln!("flacarray: error: {}", one_line(&err));
            }
            ExitCode::FAILURE
        }
    }
}
