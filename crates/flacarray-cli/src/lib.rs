//! The logic behind the `flacarray` command line tool.
//!
//! The binary (`src/main.rs`) only parses arguments with [`cli::Cli`] and turns an error
//! into one line on stderr and exit status 1. Everything else lives here, in small
//! functions that unit tests call directly:
//!
//! - [`raw`]: little-endian, channel-interleaved signed 32-bit sample files;
//! - [`slice`](mod@slice): the `--samples A:B` Python-style slice of the per-channel sample axis;
//! - [`output`]: writing a file through a temporary name and an atomic rename;
//! - [`stream`]: the `stream encode` and `stream decode` commands;
//! - [`prng`] and [`demo`]: synthetic detector timestreams and the codec round-trip demo.

pub mod cli;
pub mod demo;
pub mod output;
pub mod prng;
pub mod raw;
pub mod slice;
pub mod stream;

/// Runs one parsed command line.
///
/// # Errors
///
/// Returns the first error met, with the file name and the cause in its context chain.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        cli::Command::Stream(cli::StreamCommand::Encode(args)) => stream::encode_file(&args),
        cli::Command::Stream(cli::StreamCommand::Decode(args)) => stream::decode_file(&args),
        cli::Command::Demo(args) => demo::run_and_print(&args),
    }
}

/// Renders an error and its causes as one line: `outer: inner: innermost`.
///
/// Line breaks inside any message are replaced by spaces, so the result is always a
/// single line fit for stderr.
#[must_use]
pub fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}")
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn one_line_joins_context_and_strips_newlines() {
        let err = anyhow::anyhow!("bad\nthing").context("file.flac");
        assert_eq!(one_line(&err), "file.flac: bad thing");
    }
}
