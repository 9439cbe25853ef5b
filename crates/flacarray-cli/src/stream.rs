//! `flacarray stream encode` and `flacarray stream decode`: one FLAC stream from or to
//! a raw sample file (see [`crate::raw`]).

use std::path::Path;

use anyhow::{Context, Result, bail};
use flacarray_flac::{EncoderConfig, StreamInfo};

use crate::cli::{DecodeArgs, EncodeArgs};
use crate::output::write_atomic;
use crate::raw;
use crate::slice::SampleSlice;

/// Reads a whole input file, naming it in the error.
///
/// # Errors
///
/// The file cannot be read.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// Encodes raw little-endian interleaved 32-bit samples to one FLAC stream at 32 bits
/// per sample, with the codec's defaults otherwise (44100 Hz, no MD5, no
/// VORBIS_COMMENT block).
///
/// # Errors
///
/// The raw bytes do not hold whole samples for `channels` channels, or the codec
/// rejects the configuration.
pub fn encode_raw(raw_bytes: &[u8], channels: u32, level: u8) -> Result<Vec<u8>> {
    let samples = raw::parse_samples(raw_bytes, channels)?;
    let config = EncoderConfig {
        level,
        channels,
        bits_per_sample: 32,
        ..EncoderConfig::default()
    };
    Ok(flacarray_flac::encode(&samples, &config)?)
}

/// Runs `flacarray stream encode`.
///
/// # Errors
///
/// The input cannot be read or encoded, or the output cannot be written; the message
/// names the file.
pub fn encode_file(args: &EncodeArgs) -> Result<()> {
    let input = read_input(&args.input)?;
    let flac = encode_raw(&input, args.channels, args.level)
        .with_context(|| args.input.display().to_string())?;
    write_atomic(&args.output, &flac)
}

/// Decides how many samples per channel the stream must hold: STREAMINFO's
/// `total_samples` when it is recorded (non-zero), else the `--stream-size` value.
///
/// # Errors
///
/// Neither is known, or both are known and disagree.
pub fn stream_size(info: &StreamInfo, given: Option<u64>) -> Result<u64> {
    match (info.total_samples, given) {
        (0, Some(n)) => Ok(n),
        (0, None) => bail!(
            "the stream does not record its length (STREAMINFO total_samples = 0); \
             pass --stream-size N"
        ),
        (total, Some(n)) if n != total => {
            bail!("--stream-size {n} disagrees with the stream's STREAMINFO total_samples {total}")
        }
        (total, _) => Ok(total),
    }
}

/// Decodes one FLAC stream to raw little-endian interleaved 32-bit samples, optionally
/// only the per-channel sample slice `samples`.
///
/// # Errors
///
/// The stream is truncated or corrupt, holds a different number of samples than
/// expected, or the slice lies outside it.
pub fn decode_to_raw(
    flac: &[u8],
    samples: Option<SampleSlice>,
    given_stream_size: Option<u64>,
) -> Result<Vec<u8>> {
    let info = flacarray_flac::read_stream_info(flac)?;
    let n = stream_size(&info, given_stream_size)?;
    let decoded = match samples {
        None => flacarray_flac::decode(flac, n)?,
        Some(slice) => {
            let range = slice.resolve(n).map_err(anyhow::Error::msg)?;
            flacarray_flac::decode_range(flac, n, range)?
        }
    };
    Ok(raw::to_bytes(&decoded.samples))
}

/// Runs `flacarray stream decode`.
///
/// # Errors
///
/// The input cannot be read or decoded, or the output cannot be written; the message
/// names the file.
pub fn decode_file(args: &DecodeArgs) -> Result<()> {
    let input = read_input(&args.input)?;
    let raw_bytes = decode_to_raw(&input, args.samples, args.stream_size)
        .with_context(|| args.input.display().to_string())?;
    write_atomic(&args.output, &raw_bytes)
}

#[cfg(test)]
mod tests {
    use super::{decode_to_raw, encode_raw, stream_size};
    use crate::raw;
    use crate::slice::SampleSlice;

    fn ramp(n: i32, channels: i32) -> Vec<i32> {
        (0..n * channels).map(|i| i * 7919 - 1_000_000).collect()
    }

    #[test]
    fn raw_round_trip_one_and_two_channels() {
        for channels in [1u32, 2] {
            let samples = ramp(5000, i32::try_from(channels).expect("small"));
            let bytes = raw::to_bytes(&samples);
            let flac = encode_raw(&bytes, channels, 5).expect("encode");
            let info = flacarray_flac::read_stream_info(&flac).expect("info");
            assert_eq!(info.channels, channels);
            assert_eq!(info.total_samples, 5000);
            assert_eq!(info.bits_per_sample, 32);
            assert_eq!(decode_to_raw(&flac, None, None).expect("decode"), bytes);
        }
    }

    #[test]
    fn slice_selects_per_channel_samples() {
        let samples = ramp(6000, 2);
        let bytes = raw::to_bytes(&samples);
        let flac = encode_raw(&bytes, 2, 0).expect("encode");
        let slice = SampleSlice::parse("-1500:-2").expect("slice");
        let got = decode_to_raw(&flac, Some(slice), None).expect("decode");
        assert_eq!(got, &bytes[4500 * 8..5998 * 8]);
        let slice = SampleSlice::parse("0:6001").expect("slice");
        let err = decode_to_raw(&flac, Some(slice), None).expect_err("past the end");
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn stream_size_rules() {
        let flac = encode_raw(&raw::to_bytes(&ramp(10, 1)), 1, 5).expect("encode");
        let mut info = flacarray_flac::read_stream_info(&flac).expect("info");
        assert_eq!(stream_size(&info, None).expect("recorded"), 10);
        assert_eq!(stream_size(&info, Some(10)).expect("agrees"), 10);
        let e = stream_size(&info, Some(11)).expect_err("disagrees");
        assert!(e.to_string().contains("disagrees"), "{e}");
        info.total_samples = 0;
        assert_eq!(stream_size(&info, Some(11)).expect("given"), 11);
        let e = stream_size(&info, None).expect_err("unknown");
        assert!(e.to_string().contains("--stream-size"), "{e}");
    }
}
