//! Raw sample files: little-endian signed 32-bit integers, channels interleaved
//! (`l0 r0 l1 r1 ...` for two channels), no header.

use anyhow::{Result, bail};

/// Bytes per raw sample.
pub const SAMPLE_BYTES: usize = 4;

/// Parses raw bytes into interleaved samples for `channels` channels.
///
/// # Errors
///
/// The input is empty, or its length is not a multiple of `4 * channels` bytes (a
/// partial sample or a partial interleaved frame).
pub fn parse_samples(bytes: &[u8], channels: u32) -> Result<Vec<i32>> {
    let frame = SAMPLE_BYTES * usize::try_from(channels.max(1))?;
    if bytes.is_empty() {
        bail!("raw input is empty (no samples to encode)");
    }
    if !bytes.len().is_multiple_of(frame) {
        bail!(
            "raw input length {} is not a multiple of {frame} bytes \
             ({channels} channel(s) of little-endian 32-bit samples)",
            bytes.len()
        );
    }
    Ok(bytes
        .chunks_exact(SAMPLE_BYTES)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Serializes samples as little-endian 32-bit integers.
#[must_use]
pub fn to_bytes(samples: &[i32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * SAMPLE_BYTES);
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}
