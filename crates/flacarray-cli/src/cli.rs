//! Command line definition (clap derive).
//!
//! Usage errors, such as an unknown flag, a missing argument or a value out of its
//! allowed set, are reported by clap and exit with status 2.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, value_parser};

use crate::slice::SampleSlice;

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
    /// Encode or decode one FLAC stream from or to raw samples.
    #[command(subcommand)]
    Stream(StreamCommand),
    /// Codec round-trip demo on synthetic detector timestreams.
    Demo(DemoArgs),
}

/// `flacarray stream ...`: one FLAC stream at a time.
#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Encode raw samples (little-endian, channel-interleaved signed 32-bit) to one FLAC stream.
    Encode(EncodeArgs),
    /// Decode one FLAC stream to raw samples (little-endian, channel-interleaved signed 32-bit).
    Decode(DecodeArgs),
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
    /// Samples per channel the stream holds. Needed only when the stream's STREAMINFO
    /// does not record it (total_samples = 0, as flacarray 0.4.1 writes); if both are
    /// known they must agree.
    #[arg(long, value_name = "N")]
    pub stream_size: Option<u64>,
}

/// Arguments of `flacarray demo`.
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

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, error::ErrorKind};

    use super::{Cli, Command, StreamCommand};

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn encode_defaults() {
        let cli = Cli::try_parse_from(["flacarray", "stream", "encode", "a.raw", "b.flac"])
            .expect("parses");
        match cli.command {
            Command::Stream(StreamCommand::Encode(a)) => {
                assert_eq!(a.channels, 1);
                assert_eq!(a.level, 5);
                assert_eq!(a.input.to_str(), Some("a.raw"));
                assert_eq!(a.output.to_str(), Some("b.flac"));
            }
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn bad_level_and_channels_are_usage_errors() {
        for args in [
            ["flacarray", "stream", "encode", "a", "b", "--level", "9"],
            ["flacarray", "stream", "encode", "a", "b", "--channels", "3"],
            ["flacarray", "stream", "encode", "a", "b", "--channels", "0"],
        ] {
            let err = Cli::try_parse_from(args).expect_err("must be rejected");
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{args:?}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn negative_slice_start_is_a_value_not_a_flag() {
        let cli = Cli::try_parse_from([
            "flacarray",
            "stream",
            "decode",
            "a.flac",
            "b.raw",
            "--samples",
            "-10:",
        ])
        .expect("parses");
        match cli.command {
            Command::Stream(StreamCommand::Decode(a)) => {
                let s = a.samples.expect("slice given");
                assert_eq!((s.start, s.stop), (Some(-10), None));
                assert_eq!(a.stream_size, None);
            }
            other => panic!("wrong command {other:?}"),
        }
    }
}
