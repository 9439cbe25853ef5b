//! The logic behind the `flacarray` command line tool.
//!
//! The binary (`src/main.rs`) only parses arguments with [`cli::Cli`] and turns an error
//! into one line on stderr and exit status 1. Everything else lives here, in small
//! functions that unit tests call directly:
//!
//! - [`raw`]: little-endian, channel-interleaved signed 32-bit sample files;
//! - [`output`]: writing a file through a temporary name and an atomic rename;
//! - [`stream`]: the `stream encode` and `stream decode` commands;
//! - [`demo`]: the codec round-trip demo (`stream demo`);
//! - [`npy`]: numpy `.npy` files in and out;
//! - [`storage`]: where an array is stored (HDF5 file or Zarr store, and group);
//! - [`array_cmd`]: `compress`, `decompress`, `info` and `verify`;
//! - [`arraydemo`] and [`bench`](mod@bench): `demo` and `bench` (synthetic data from
//!   [`flacarray::synth`]);
//! - [`progress`]: the progress display on stderr;
//! - `mpi_cmd` (cargo feature `mpi`): `compress`, `decompress` and `verify` on all the
//!   ranks of an `mpirun` launch.
#![forbid(unsafe_code)]

pub mod array_cmd;
pub mod arraydemo;
pub mod bench;
pub mod cli;
pub mod demo;
#[cfg(feature = "mpi")]
pub mod mpi_cmd;
pub mod npy;
pub mod outcheck;
pub mod output;
pub mod progress;
pub mod raw;
pub mod storage;
pub mod stream;

/// Runs one parsed command line.
///
/// # Errors
///
/// Returns the first error met, with the file name and the cause in its context chain.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    #[cfg(feature = "mpi")]
    if mpi_cmd::launched_by_mpirun() {
        return mpi_cmd::run(cli, &mut out);
    }
    run_serial(cli.command, &mut out)
}

/// Runs one command in this process alone.
///
/// # Errors
///
/// As [`run`].
pub fn run_serial(command: cli::Command, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    match command {
        cli::Command::Compress(args) => array_cmd::compress(&args, out),
        cli::Command::Decompress(args) => array_cmd::decompress(&args, out),
        cli::Command::Info(args) => array_cmd::info(&args, out),
        cli::Command::Verify(args) => array_cmd::verify(&args, out),
        cli::Command::Demo(args) => arraydemo::run_and_print(&args, out),
        cli::Command::Bench(args) => bench::run_and_print(&args, out),
        cli::Command::Stream(cli::StreamCommand::Encode(args)) => stream::encode_file(&args),
        cli::Command::Stream(cli::StreamCommand::Decode(args)) => stream::decode_file(&args),
        cli::Command::Stream(cli::StreamCommand::Demo(args)) => demo::run_and_print(&args),
    }
}

/// An error in how the command was asked for (options that do not go together with
/// the data, for example): exit status 2, as clap's usage errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Whether the error comes from writing to a closed pipe (`flacarray info x | head -1`):
/// the reader has all it wanted, so the command ends quietly.
#[must_use]
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Formats a number as C's `%g` does in spirit: plain below 1e16 and from 1e-4, with
/// an exponent otherwise, and never more digits than the shortest exact form
/// (`1e-300`, `0.001`, `2.5e20`).
#[must_use]
pub fn fmt_g(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-4..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The error of a process whose failure has already been reported (by MPI rank 0,
/// for every rank): no message, exit status `.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported(pub u8);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed (reported by MPI rank 0)")
    }
}

impl std::error::Error for Reported {}

/// Reports a failed command: one line on stderr (nothing for a closed output pipe,
/// whose reader has what it wanted, or for an error already [`Reported`]), and the
/// exit status: 0 for the closed pipe, 2 for a [`UsageError`], else 1.
#[must_use]
pub fn report(err: &anyhow::Error) -> u8 {
    if let Some(r) = err.downcast_ref::<Reported>() {
        return r.0;
    }
    if is_broken_pipe(err) {
        return 0;
    }
    eprintln!("flacarray: error: {}", one_line(err));
    if err.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}

/// Runs `f` on a rayon pool of `threads` workers (`None`: the global pool), so that
/// array-layer calls without a thread option honour `--threads` too.
///
/// # Errors
/// `f`'s error.
pub fn with_pool<R: Send, E: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> Result<R, E> + Send,
) -> Result<R, E> {
    match threads.and_then(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().ok()) {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Renders an error and its causes as one line: `outer: inner: innermost`.
///
/// A cause whose text the line already contains is left out (some library errors
/// print their source and also return it as `source()`). Line breaks inside any
/// message are replaced by spaces, so the result is always a single line fit for
/// stderr.
#[must_use]
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let text = text
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
