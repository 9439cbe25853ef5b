//! `flacarray stream encode` and `flacarray stream decode`: one FLAC stream from or to
//! a raw sample file (see [`crate::raw`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use flacarray::flac::{self, EncoderConfig, StreamInfo};

use crate::cli::{DecodeArgs, EncodeArgs};
use crate::output::{with_temp_path, write_atomic};
use crate::raw;
use flacarray::SampleSlice;

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
    Ok(flac::encode(&samples, &config)?)
}

/// Runs `flacarray stream encode`.
///
/// # Errors
///
/// The input cannot be read or encoded, or the output cannot be written; the message
/// names the file.
pub fn encode_file(args: &EncodeArgs) -> Result<()> {
    let target = checked_output(&args.output, &args.input, args.force)?;
    let input = read_input(&args.input)?;
    let flac = encode_raw(&input, args.channels, args.level)
        .with_context(|| args.input.display().to_string())?;
    write_atomic(&target, &flac)
}

/// The file to write for `output` under the same rules as `decompress` (see
/// [`crate::outcheck`]): a symbolic link's target, never the input, never a FIFO or
/// device, an existing file only with `--force`.
fn checked_output(output: &Path, input: &Path, force: bool) -> Result<PathBuf> {
    crate::outcheck::checked(output, &[input], crate::outcheck::OutputKind::File, force)
}

/// Decides how many samples per channel the stream must hold: STREAMINFO's
/// `total_samples` when it is recorded (non-zero), else the `--stream-size` value,
/// else `None`: the stream is decoded to its last frame.
///
/// # Errors
///
/// Both are known and disagree.
pub fn stream_size(info: &StreamInfo, given: Option<u64>) -> Result<Option<u64>> {
    match (info.total_samples, given) {
        (0, given) => Ok(given),
        (total, Some(n)) if n != total => {
            bail!("--stream-size {n} disagrees with the stream's STREAMINFO total_samples {total}")
        }
        (total, _) => Ok(Some(total)),
    }
}

/// Decodes one FLAC stream to `out` as raw little-endian interleaved 32-bit samples,
/// optionally only the per-channel sample slice `samples`, and returns the number of
/// values written.
///
/// The samples are written frame by frame as they are decoded: memory is one frame
/// (at most 65535 samples per channel) however far the stream expands, so a small
/// stream of constant frames cannot make this hold gigabytes. When the stream does
/// not record its length and no `--stream-size` is given, it is decoded to its last
/// frame; a slice then first counts the samples by walking the frames.
///
/// # Errors
///
/// The stream is truncated or corrupt, holds a different number of samples than
/// expected, the slice lies outside it, or `out` fails. On error, part of the output
/// may have been written already.
pub fn decode_to_writer<W: Write>(
    flac: &[u8],
    samples: Option<SampleSlice>,
    given_stream_size: Option<u64>,
    out: &mut W,
) -> Result<u64> {
    let info = flac::read_stream_info(flac)?;
    let mut n = stream_size(&info, given_stream_size)?;
    let range = match samples {
        None => None,
        Some(slice) => {
            let total = match n {
                Some(total) => total,
                None => flac::count_samples(flac)?,
            };
            n = Some(total);
            let r = slice.resolve_strict(usize::try_from(total)?)?;
            Some(r.start as u64..r.end as u64)
        }
    };
    let mut bytes: Vec<u8> = Vec::new();
    let mut written = 0u64;
    flac::Decoder::new().decode_with(flac, n, range, |frame| {
        bytes.clear();
        bytes.reserve(frame.len() * raw::SAMPLE_BYTES);
        for v in frame {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        written += frame.len() as u64;
        out.write_all(&bytes)
    })?;
    Ok(written)
}

/// Decodes one FLAC stream to raw little-endian interleaved 32-bit samples in memory
/// (see [`decode_to_writer`]).
///
/// # Errors
///
/// As [`decode_to_writer`].
pub fn decode_to_raw(
    flac: &[u8],
    samples: Option<SampleSlice>,
    given_stream_size: Option<u64>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    decode_to_writer(flac, samples, given_stream_size, &mut out)?;
    Ok(out)
}

/// Runs `flacarray stream decode`: the samples go to a temporary file beside the
/// output as they are decoded, which is renamed over the output once the whole
/// stream has decoded.
///
/// # Errors
///
/// The input cannot be read or decoded, or the output cannot be written; the message
/// names the file.
pub fn decode_file(args: &DecodeArgs) -> Result<()> {
    let target = checked_output(&args.output, &args.input, args.force)?;
    let input = read_input(&args.input)?;
    Ok(with_temp_path(&target, |tmp| {
        let file = File::create_new(tmp)
            .with_context(|| format!("cannot create temporary file {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        decode_to_writer(&input, args.samples, args.stream_size, &mut w)
            .with_context(|| args.input.display().to_string())?;
        w.flush()
            .with_context(|| format!("cannot write {}", tmp.display()))
    })?)
}
