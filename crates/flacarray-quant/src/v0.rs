//! Reconstruction formulas of the legacy on-disk format version 0 (flacarray 0.2.x).
//!
//! Format 0 stores every dtype as one channel of `i32` samples:
//! * `int32`: the samples themselves;
//! * `int64`: `offset + i` with an `i64` offset per stream ([`add_offsets_i64`]);
//! * `float32` / `float64`: `offset + coeff * (T)i` with `coeff = (T)(1.0 / gain)`
//!   computed in `f64`, the product and the sum each rounded in `T`
//!   ([`dequantize`]). For `f32` this is the format-1 formula; for `f64` the `i32`
//!   sample converts to `f64` exactly.
//!
//! These are the formulas that reproduce every value flacarray 0.2.4 reads back from
//! its own files bit for bit (fixtures in `fixtures/python-reference-v0`).
//! flacarray 0.4.1 itself reads only the `int32` and `float32` files.

use crate::error::{Error, Result};
use crate::float::QuantFloat;
use crate::quant::{check_len, stream_count};

/// Reconstructs format-0 float streams (`f32` or `f64`) from their `i32` samples
/// into `out` (same length as `ints`), with one offset and gain per stream.
///
/// ```
/// let ints = [0_i32, 1, -2];
/// let out: Vec<f64> = flacarray_quant::v0::dequantize(&ints, 3, &[1.5], &[4.0])?;
/// assert_eq!(out, [1.5, 1.75, 1.0]);
/// # Ok::<(), flacarray_quant::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] when the lengths do not match.
pub fn dequantize_into<T: QuantFloat>(
    ints: &[i32],
    stream_size: usize,
    offsets: &[T],
    gains: &[T],
    out: &mut [T],
) -> Result<()> {
    let n = stream_count(ints.len(), stream_size)?;
    check_len("offsets", offsets.len(), n)?;
    check_len("gains", gains.len(), n)?;
    check_len("the float output", out.len(), ints.len())?;
    let streams = ints
        .chunks_exact(stream_size)
        .zip(out.chunks_exact_mut(stream_size));
    for ((i, o), (&off, &gain)) in streams.zip(offsets.iter().zip(gains)) {
        let coeff = T::from_f64(1.0 / gain.to_f64());
        T::reconstruct_i32(i, off, coeff, o);
    }
    Ok(())
}

/// Allocating form of [`dequantize_into`].
///
/// # Errors
/// As [`dequantize_into`].
pub fn dequantize<T: QuantFloat>(
    ints: &[i32],
    stream_size: usize,
    offsets: &[T],
    gains: &[T],
) -> Result<Vec<T>> {
    let mut out = vec![T::ZERO; ints.len()];
    dequantize_into(ints, stream_size, offsets, gains, &mut out)?;
    Ok(out)
}

/// Reconstructs format-0 `int64` streams: `offset + i` with exact 64-bit addition.
///
/// # Errors
/// [`Error::InvalidArgument`] when the lengths do not match, or when a sum
/// overflows `i64` (impossible for data 0.2.x wrote; the error names the stream).
pub fn add_offsets_i64_into(
    ints: &[i32],
    stream_size: usize,
    offsets: &[i64],
    out: &mut [i64],
) -> Result<()> {
    let n = stream_count(ints.len(), stream_size)?;
    check_len("offsets", offsets.len(), n)?;
    check_len("the output", out.len(), ints.len())?;
    let streams = ints
        .chunks_exact(stream_size)
        .zip(out.chunks_exact_mut(stream_size));
    for (stream, ((i, o), &off)) in streams.zip(offsets).enumerate() {
        let mut overflow = false;
        for (o, &i) in o.iter_mut().zip(i) {
            let (v, ovf) = off.overflowing_add(i64::from(i));
            *o = v;
            overflow |= ovf;
        }
        if overflow {
            return Err(Error::InvalidArgument(format!(
                "stream {stream}: offset {off} plus a sample overflows int64"
            )));
        }
    }
    Ok(())
}

/// Allocating form of [`add_offsets_i64_into`].
///
/// ```
/// let out = flacarray_quant::v0::add_offsets_i64(&[-1, 0, 5], 3, &[1 << 40])?;
/// assert_eq!(out, [(1 << 40) - 1, 1 << 40, (1 << 40) + 5]);
/// # Ok::<(), flacarray_quant::Error>(())
/// ```
///
/// # Errors
/// As [`add_offsets_i64_into`].
pub fn add_offsets_i64(ints: &[i32], stream_size: usize, offsets: &[i64]) -> Result<Vec<i64>> {
    let mut out = vec![0; ints.len()];
    add_offsets_i64_into(ints, stream_size, offsets, &mut out)?;
    Ok(out)
}
