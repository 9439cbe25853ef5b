//! Command line definition (clap derive).
//!
//! Usage errors, such as an unknown flag, a missing argument or a value out of its
//! allowed set, are reported by clap and exit with status 2.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, value_parser};

use flacarray::SampleSlice;

/// `flacarray`: N-d arrays stored as concatenated FLAC streams.
#[derive(Debug, Parser)]
#[command(name = "flacarray", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compress an .npy array into a FlacArray group of an HDF5 file or a Zarr store.
    Compress(CompressArgs),
    /// Decompress a stored FlacArray (or a selection of it) to an .npy file.
    Decompress(DecompressArgs),
    /// Describe a stored FlacArray without decoding it.
    Info(InfoArgs),
    /// Decode every stream of a stored FlacArray and report any error.
    Verify(VerifyArgs),
    /// Round trip of realistic synthetic timestreams through an HDF5 file, all four dtypes.
    Demo(ArrayDemoArgs),
    /// Compression and decompression speed and ratio of an .npy file or generated data.
    Bench(BenchArgs),
    /// Encode or decode one FLAC stream from or to raw samples; codec demo.
    #[command(subcommand)]
    Stream(StreamCommand),
}

/// `flacarray stream ...`: one FLAC stream at a time.
#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Encode raw samples (little-endian, channel-interleaved signed 32-bit) to one FLAC stream.
    Encode(EncodeArgs),
    /// Decode one FLAC stream to raw samples (little-endian, channel-interleaved signed 32-bit).
    Decode(DecodeArgs),
    /// Codec-level round trip (no array layer, no file) on synthetic detector timestreams.
    Demo(DemoArgs),
}

/// Options shared by the commands that may run long.
#[derive(Debug, Clone, Copy, Args)]
pub struct CommonArgs {
    /// Worker threads (default: one per CPU). Results never depend on it.
    #[arg(long, value_name = "N", value_parser = value_parser!(u64).range(1..=4096))]
    pub threads: Option<u64>,
    /// No progress display on stderr, and no summary line from compress/decompress.
    #[arg(long, short)]
    pub quiet: bool,
}

impl CommonArgs {
    /// `--threads` as the array layer takes it.
    #[must_use]
    pub fn threads(&self) -> Option<usize> {
        self.threads.and_then(|t| usize::try_from(t).ok())
    }
}

/// Where a stored array is: `INPUT` and `--group`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Input HDF5 file or Zarr store.
    pub input: PathBuf,
    /// Group holding the array.
    #[arg(long, default_value = "/")]
    pub group: String,
}

/// `--quanta` and `--precision`, of which at most one (group `quantization`).
#[derive(Debug, Clone, Copy, Args)]
pub struct QuantArgs {
    /// Float data: quantization step of every stream (the error is at most half of it).
    #[arg(
        long,
        group = "quantization",
        value_name = "Q",
        allow_hyphen_values = true
    )]
    pub quanta: Option<f64>,
    /// Float data: significant digits kept per stream (quanta = std / 10^P).
    #[arg(
        long,
        group = "quantization",
        value_name = "P",
        allow_hyphen_values = true
    )]
    pub precision: Option<i32>,
}

/// Arguments of `flacarray compress`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("quantization").multiple(false)))]
pub struct CompressArgs {
    /// Input .npy file: bool, int8/16/32/64, uint8/16/32/64 or float16/32/64, any
    /// number of dimensions, axes of length 0 included (`-`: standard input).
    pub input: PathBuf,
    /// Output: an HDF5 file, or a Zarr directory store when the name ends in `.zarr` or
    /// it is an existing directory (created, or the group is added in place).
    pub output: PathBuf,
    /// Group that receives the array (created if missing).
    #[arg(long, default_value = "/")]
    pub group: String,
    /// Compression level, 0 (fastest) to 8 (smallest), with libFLAC's meaning.
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u8).range(0..=8))]
    pub level: u8,
    /// `--quanta` and `--precision`.
    #[command(flatten)]
    pub quant: QuantArgs,
    /// Float data: .npy file of one quanta per stream (the input's shape without its last axis).
    #[arg(long, group = "quantization", value_name = "Q.npy")]
    pub quanta_file: Option<PathBuf>,
    /// Float data: .npy file of one integer precision per stream.
    #[arg(long, group = "quantization", value_name = "P.npy")]
    pub precision_file: Option<PathBuf>,
    /// Replace a FlacArray already stored in the group.
    #[arg(long)]
    pub force: bool,
    /// Float data: keep NaN and ±inf samples (stored beside the streams, format 2,
    /// which flacarray 0.4.1 refuses) instead of refusing them.
    #[arg(long)]
    pub keep_nonfinite: bool,
    /// Zarr format of the output (2 or 3): a new store is written in format 3 unless
    /// told, an existing one in its own format; ignored for HDF5.
    #[arg(long, value_parser = value_parser!(u8).range(2..=3))]
    pub zarr_format: Option<u8>,
    /// Threads and progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `flacarray decompress`.
#[derive(Debug, Clone, Args)]
pub struct DecompressArgs {
    /// The stored array.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output .npy file (`-`: standard output); written to a temporary name beside it,
    /// then renamed. An existing file is replaced only with `--force`.
    pub output: PathBuf,
    /// .npy bool mask over the leading shape (the shape without the last axis): only
    /// these streams, as a 2-d (kept, samples) array, 1-d when exactly one is kept.
    #[arg(long, value_name = "KEEP.npy", conflicts_with = "select")]
    pub keep: Option<PathBuf>,
    /// Only these samples of each stream, as a Python slice `A:B` (no step; negative
    /// counts from the end; out of range is an error), e.g. `100:200`, `-10:`.
    #[arg(long, value_name = "A:B", allow_hyphen_values = true,
          value_parser = SampleSlice::parse, conflicts_with = "select")]
    pub samples: Option<SampleSlice>,
    /// numpy basic indexing of the array, e.g. `'1, ::-1, 100:200'` or `'..., -1'`.
    #[arg(long, value_name = "INDEX", allow_hyphen_values = true)]
    pub select: Option<String>,
    /// Keep a single stream 2-d, `(1, N)`, instead of flattening it to `(N,)`.
    #[arg(long)]
    pub no_flatten: bool,
    /// Replace an existing output file.
    #[arg(long, short)]
    pub force: bool,
    /// Flush the output to the storage device (fsync) before renaming it into place.
    #[arg(long)]
    pub sync: bool,
    /// Threads and progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `flacarray info`.
#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// The stored array.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print one JSON object (with every stream's byte count) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `flacarray verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The stored array.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Threads and progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `flacarray demo`.
#[derive(Debug, Clone, Args)]
pub struct ArrayDemoArgs {
    /// Streams per case.
    #[arg(long, default_value_t = 50, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub streams: u64,
    /// Samples per stream.
    #[arg(long, default_value_t = 100_000, value_parser = value_parser!(u64).range(1..=100_000_000))]
    pub samples: u64,
    /// Compression level, 0 to 8.
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u8).range(0..=8))]
    pub level: u8,
    /// Seed of the synthetic data; the same seed gives the same data.
    #[arg(long, default_value_t = 123_456_789)]
    pub seed: u64,
    /// Keep the HDF5 file here (default: a temporary directory, removed at the end).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Threads and progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `flacarray bench`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("quantization").multiple(false)))]
#[command(mut_arg("quanta", |a| a.help("Float data: quantization step (generated data defaults to 1e-4)")))]
#[command(mut_arg("precision", |a| a.help("Float data: significant digits kept per stream")))]
pub struct BenchArgs {
    /// Input .npy file (default: generated float32 timestreams, see --streams/--samples).
    pub input: Option<PathBuf>,
    /// Streams of the generated data.
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=1_000_000),
          conflicts_with = "input")]
    pub streams: u64,
    /// Samples per stream of the generated data.
    #[arg(long, default_value_t = 100_000, value_parser = value_parser!(u64).range(1..=100_000_000),
          conflicts_with = "input")]
    pub samples: u64,
    /// Compression level, 0 to 8.
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u8).range(0..=8))]
    pub level: u8,
    /// `--quanta` and `--precision`.
    #[command(flatten)]
    pub quant: QuantArgs,
    /// Timed runs of each step; the best one is reported.
    #[arg(long, default_value_t = 3, value_parser = value_parser!(u64).range(1..=1000))]
    pub repeat: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Threads and progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `flacarray stream encode`.
#[derive(Debug, Clone, Args)]
pub struct EncodeArgs {
    /// Raw input: little-endian signed 32-bit samples, channels interleaved.
    pub input: PathBuf,
    /// FLAC output; written to a temporary name beside it, then renamed.
    pub output: PathBuf,
    /// Number of interleaved channels in the input (1 or 2).
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u32).range(1..=2))]
    pub channels: u32,
    /// Compression level, 0 (fastest) to 8 (smallest), with libFLAC's meaning.
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u8).range(0..=8))]
    pub level: u8,
    /// Replace an existing output file.
    #[arg(long, short)]
    pub force: bool,
}

/// Arguments of `flacarray stream decode`.
#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// FLAC input: one complete stream.
    pub input: PathBuf,
    /// Raw output: little-endian signed 32-bit samples, channels interleaved.
    pub output: PathBuf,
    /// Only these samples of each channel, as a Python slice `A:B` (either may be
    /// omitted, negative values count from the end, no step), e.g. `100:200`, `-10:`.
    #[arg(long, value_name = "A:B", allow_hyphen_values = true,
          value_parser = SampleSlice::parse)]
    pub samples: Option<SampleSlice>,
    /// Samples per channel the stream must hold. Without it, a stream whose STREAMINFO
    /// does not record its length (total_samples = 0, as flacarray 0.4.1 writes) is
    /// decoded to its last frame; if both are known they must agree.
    #[arg(long, value_name = "N")]
    pub stream_size: Option<u64>,
    /// Replace an existing output file.
    #[arg(long, short)]
    pub force: bool,
}

/// Arguments of `flacarray stream demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Streams per case.
    #[arg(long, default_value_t = 20, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub streams: u64,
    /// Samples per stream (per channel).
    #[arg(long, default_value_t = 200_000, value_parser = value_parser!(u64).range(1..=100_000_000))]
    pub samples: u64,
    /// Compression level, 0 to 8.
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u8).range(0..=8))]
    pub level: u8,
    /// Seed of the synthetic data; the same seed gives the same data.
    #[arg(long, default_value_t = 20_240_601)]
    pub seed: u64,
}
