//! The one judge of a stored array: every backend (HDF5, Zarr, MPI, the in-memory
//! store) fetches the metadata and the stream table and asks this module whether they
//! can be trusted, before anything is sized from them.
//!
//! Two steps, in the order a reader learns things:
//!
//! 1. [`check_meta`], right after the attributes and shapes are read and before any
//!    table is read: the leading shape, `stream_size` and the number of streams must be
//!    possible for the number of stored bytes.
//! 2. [`check_table`], once the table (or an MPI rank's slab of it) is read: every
//!    stream lies inside the stored bytes, is at least [`MIN_STREAM_BYTES`] long, can
//!    hold `stream_size` samples, shares no byte with another stream, and its offset and
//!    gain are usable numbers.
//!
//! A failure is an [`Invalid`]: the stored object to blame (`stream_starts`,
//! `stream_gains`, ...) and the reason, naming the stream the way Python prints a
//! tuple (`stream (1, 2)`). Backends prefix the file or store and the group.

use crate::dtype::{DType, StreamScaling};
use crate::error::{Error, stream_name};
use crate::layout::{
    ARR_COMPRESSED, ARR_GAINS, ARR_NBYTES, ARR_OFFSETS, ARR_STARTS, ATTR_STREAM_SIZE,
};
use crate::store::{StoredMeta, StreamTable};

/// `fLaC` (4 bytes), the STREAMINFO block header (4) and body (34).
pub const STREAM_HEADER_BYTES: u64 = 42;

/// The fewest bytes a FLAC frame can take. Header: sync code and flags (2 bytes),
/// block size, sample rate, channel and sample-size codes (2), the coded frame number
/// (at least 1) and the CRC-8 (1) make 6. Each subframe: a 1-byte header plus, for the
/// smallest kind (constant), one sample of at least 4 bits (the smallest sample size
/// FLAC allows; wasted bits are coded in unary, so they never shorten it), padded
/// with the rest of the frame to a byte boundary: at least 2 bytes for the first
/// subframe. Then the CRC-16 (2). 6 + 2 + 2 = 10.
pub const MIN_FRAME_BYTES: u64 = 10;

/// The most samples one FLAC frame can hold: the header codes a block size up to
/// 65536 (16-bit field holding `size - 1`).
pub const MAX_FRAME_SAMPLES: u64 = 65536;

/// The smallest possible FLAC stream of at least one sample: the stream header and
/// one frame.
pub const MIN_STREAM_BYTES: u64 = STREAM_HEADER_BYTES + MIN_FRAME_BYTES;

/// The most samples a FLAC stream of `nbytes` bytes can decode to: after the 42-byte
/// header, at most `(nbytes - 42) / 10` frames (each at least [`MIN_FRAME_BYTES`]),
/// each of at most 65536 samples. So a stream holds at most 6554 samples per byte;
/// that is what constant frames achieve, and it is the factor by which a hostile
/// table can make decoded output exceed the stored bytes, never more.
#[must_use]
pub fn max_samples(nbytes: u64) -> u64 {
    (nbytes.saturating_sub(STREAM_HEADER_BYTES) / MIN_FRAME_BYTES).saturating_mul(MAX_FRAME_SAMPLES)
}

/// Flat stream `flat` of `leading` as the tuple every message uses: `(1, 2)`, `(3,)`.
#[must_use]
pub fn stream_label(flat: usize, leading: &[usize]) -> String {
    stream_name(flat, leading)
}

/// Why a stored array was refused: the stored object to blame and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The array or attribute: `stream_starts`, `stream_bytes`, `stream_offsets`,
    /// `stream_gains`, `compressed` or `stream_size`.
    pub object: &'static str,
    /// What is wrong, naming the stream where there is one.
    pub reason: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.reason)
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Corrupt(e.to_string())
    }
}

fn invalid(object: &'static str, reason: String) -> Invalid {
    Invalid { object, reason }
}

/// Bytes per decoded element.
#[must_use]
pub fn element_bytes(dtype: DType) -> u64 {
    match dtype {
        DType::Int32 | DType::Float32 => 4,
        DType::Int64 | DType::Float64 => 8,
    }
}

/// Checks that decoding `n_streams` streams of `samples` samples of `dtype` gives an
/// output whose size fits in memory addressing (`isize`), so sizing that output can
/// never overflow.
///
/// # Errors
/// The output size, when it does not fit.
pub fn check_output(n_streams: usize, samples: usize, dtype: DType) -> Result<(), Invalid> {
    let bytes = (n_streams as u128) * (samples as u128) * u128::from(element_bytes(dtype));
    if bytes > isize::MAX as u128 {
        return Err(invalid(
            ATTR_STREAM_SIZE,
            format!(
                "{n_streams} streams of {samples} samples of {dtype} would decode to \
                 {bytes} bytes, more than memory can address"
            ),
        ));
    }
    Ok(())
}

/// Checks the metadata alone, before any table is read: at least one leading axis,
/// a positive `stream_size`, a known format version, no more streams than the stored
/// bytes can hold at [`MIN_STREAM_BYTES`] each, a `stream_size` that a stream can hold
/// in the stored bytes ([`max_samples`]), and a whole decoded array whose size fits in
/// memory addressing.
///
/// # Errors
/// The first inconsistency found.
pub fn check_meta(meta: &StoredMeta) -> Result<(), Invalid> {
    let n = leading_shape(&meta.leading_shape)?
        .iter()
        .product::<usize>();
    if meta.format_version > 2 {
        return Err(invalid(
            ARR_STARTS,
            format!("format version {} is unknown", meta.format_version),
        ));
    }
    if meta.stream_size == 0 {
        // Format 2 stores arrays whose last axis has length 0: no bytes at all.
        if meta.format_version < 2 {
            return Err(invalid(
                ATTR_STREAM_SIZE,
                "must be positive, found 0".into(),
            ));
        }
        if meta.total_bytes != 0 {
            return Err(invalid(
                ARR_COMPRESSED,
                format!("holds {} bytes for streams of 0 samples", meta.total_bytes),
            ));
        }
        return Ok(());
    }
    if n == 0 {
        return Ok(());
    }
    if n as u64 > meta.total_bytes / MIN_STREAM_BYTES {
        return Err(invalid(
            ARR_STARTS,
            format!(
                "{n} streams cannot fit in the {} bytes of {ARR_COMPRESSED} (a FLAC stream \
                 has at least {MIN_STREAM_BYTES} bytes)",
                meta.total_bytes
            ),
        ));
    }
    // The largest stream can have at most `total_bytes` bytes.
    let most = max_samples(meta.total_bytes);
    if meta.stream_size as u64 > most {
        return Err(invalid(
            ATTR_STREAM_SIZE,
            format!(
                "{} samples per stream cannot be stored in {} bytes of {ARR_COMPRESSED} \
                 (at most {most}: a FLAC frame of up to {MAX_FRAME_SAMPLES} samples takes \
                 at least {MIN_FRAME_BYTES} bytes)",
                meta.stream_size, meta.total_bytes
            ),
        ));
    }
    check_output(n, meta.stream_size, meta.dtype)
}

/// The leading shape of a group from the shape of its `stream_starts` array, as the
/// backend reports it (`usize` in HDF5, `u64` in Zarr): at least one axis, and a
/// number of streams that fits in memory addressing.
///
/// # Errors
/// [`Invalid`] naming `stream_starts` when the array is a scalar or too large.
pub fn leading_shape<T>(shape: &[T]) -> Result<Vec<usize>, Invalid>
where
    T: Copy + std::fmt::Debug + TryInto<usize>,
{
    if shape.is_empty() {
        return Err(invalid(
            ARR_STARTS,
            "is a scalar; it must have at least one axis (the leading shape)".into(),
        ));
    }
    shape
        .iter()
        .map(|&d| d.try_into().ok())
        .collect::<Option<Vec<usize>>>()
        .filter(|dims| {
            dims.iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .is_some()
        })
        .ok_or_else(|| {
            invalid(
                ARR_STARTS,
                format!("shape {shape:?} has more elements than fit in memory"),
            )
        })
}

/// Checks a table of `table.starts.len()` streams, the first being flat stream `first`
/// of the stored leading shape (an MPI rank's slab, or `0` for the whole table).
///
/// Every stream: `[start, start + nbytes)` inside the stored bytes, at least
/// [`MIN_STREAM_BYTES`] long, long enough to hold `stream_size` samples
/// ([`max_samples`]); no two streams share a byte (sorted by start; adjacent streams
/// are fine). Scaling: the kind fits the dtype and format, one value per stream,
/// offsets finite, gains (`1/quanta`) positive, finite and normal (not subnormal: a
/// subnormal gain's inverse overflows to infinity). flacarray 0.4.1 and this crate
/// only write positive gains (quanta and precision give positive quanta; a zero
/// quanta gives gain 1), so a negative or zero gain is damage.
///
/// # Errors
/// The first inconsistency found, naming the stream.
pub fn check_table(meta: &StoredMeta, t: &StreamTable, first: usize) -> Result<(), Invalid> {
    let n = t.starts.len();
    if t.nbytes.len() != n {
        return Err(invalid(
            ARR_NBYTES,
            format!("{} byte counts for {n} stream starts", t.nbytes.len()),
        ));
    }
    let name = |i: usize| stream_name(first + i, &meta.leading_shape);
    t.scaling
        .check(meta.dtype, meta.format_version, n)
        .map_err(|e| {
            invalid(
                ARR_OFFSETS,
                match e {
                    Error::InvalidArgument(m) => m,
                    other => other.to_string(),
                },
            )
        })?;
    if meta.stream_size == 0 {
        // Empty streams (format 2): no bytes, start 0.
        if let Some(i) = t
            .starts
            .iter()
            .zip(&t.nbytes)
            .position(|(&s, &b)| s != 0 || b != 0)
        {
            return Err(invalid(
                ARR_NBYTES,
                format!(
                    "stream {} of 0 samples has start {} and {} bytes (both must be 0)",
                    name(i),
                    t.starts[i],
                    t.nbytes[i]
                ),
            ));
        }
        return Ok(());
    }
    for (i, (&s, &b)) in t.starts.iter().zip(&t.nbytes).enumerate() {
        if s >= meta.total_bytes {
            return Err(invalid(
                ARR_STARTS,
                format!(
                    "stream {} starts at byte {s}, outside the {} bytes of {ARR_COMPRESSED}",
                    name(i),
                    meta.total_bytes
                ),
            ));
        }
        if b < MIN_STREAM_BYTES {
            return Err(invalid(
                ARR_NBYTES,
                format!(
                    "stream {} has {b} bytes; a FLAC stream has at least {MIN_STREAM_BYTES}",
                    name(i)
                ),
            ));
        }
        if s.checked_add(b).is_none_or(|e| e > meta.total_bytes) {
            return Err(invalid(
                ARR_NBYTES,
                format!(
                    "stream {}: bytes {s}..{s}+{b} end outside the {} bytes of {ARR_COMPRESSED}",
                    name(i),
                    meta.total_bytes
                ),
            ));
        }
        if meta.stream_size as u64 > max_samples(b) {
            return Err(invalid(
                ARR_NBYTES,
                format!(
                    "stream {} has {b} bytes, too few for {} samples (at most {})",
                    name(i),
                    meta.stream_size,
                    max_samples(b)
                ),
            ));
        }
    }
    check_overlap(meta, t, first)?;
    check_scaling(meta, &t.scaling, first)
}

/// No two streams share a byte (a table whose starts were zeroed, or a hostile one
/// pointing many streams at one, would otherwise decode copies).
fn check_overlap(meta: &StoredMeta, t: &StreamTable, first: usize) -> Result<(), Invalid> {
    let mut order: Vec<usize> = (0..t.starts.len()).collect();
    order.sort_unstable_by_key(|&i| t.starts[i]);
    for w in order.windows(2) {
        let (a, b) = (w[0], w[1]);
        // Both ranges were checked to end inside the stored bytes: no overflow.
        let end_a = t.starts[a] + t.nbytes[a];
        if end_a > t.starts[b] {
            return Err(invalid(
                ARR_STARTS,
                format!(
                    "stream {} (bytes {}..{end_a}) overlaps stream {} (starting at {}); \
                     streams never share bytes",
                    stream_name(first + a, &meta.leading_shape),
                    t.starts[a],
                    stream_name(first + b, &meta.leading_shape),
                    t.starts[b]
                ),
            ));
        }
    }
    Ok(())
}

/// A number the way `%g` prints it: plain in `[1e-4, 1e15)`, else in exponent form.
fn num<T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp>(t: T) -> String {
    let v: f64 = t.into();
    let a = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-4..1e15).contains(&a) {
        format!("{t}")
    } else {
        format!("{t:e}")
    }
}

fn check_scaling(meta: &StoredMeta, s: &StreamScaling, first: usize) -> Result<(), Invalid> {
    fn go<T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp>(
        meta: &StoredMeta,
        offsets: &[T],
        gains: &[T],
        first: usize,
        smallest_normal: f64,
    ) -> Result<(), Invalid> {
        let name = |i: usize| stream_name(first + i, &meta.leading_shape);
        for (i, &t) in offsets.iter().enumerate() {
            let o: f64 = t.into();
            if !o.is_finite() {
                return Err(invalid(
                    ARR_OFFSETS,
                    format!(
                        "stream {}: offset {} is not a finite number",
                        name(i),
                        num(t)
                    ),
                ));
            }
        }
        for (i, &t) in gains.iter().enumerate() {
            let g: f64 = t.into();
            if !(g.is_finite() && g >= smallest_normal) {
                return Err(invalid(
                    ARR_GAINS,
                    format!(
                        "stream {}: gain {} (a gain is 1/quanta: positive, finite and \
                         not subnormal)",
                        name(i),
                        num(t)
                    ),
                ));
            }
        }
        Ok(())
    }
    match s {
        StreamScaling::None | StreamScaling::I64Offsets(_) => Ok(()),
        StreamScaling::F32 { offsets, gains } => {
            go(meta, offsets, gains, first, f64::from(f32::MIN_POSITIVE))
        }
        StreamScaling::F64 { offsets, gains } => go(meta, offsets, gains, first, f64::MIN_POSITIVE),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn meta(leading: Vec<usize>, stream_size: usize, total: u64, dtype: DType) -> StoredMeta {
        StoredMeta {
            format_version: 1,
            dtype,
            leading_shape: leading,
            stream_size,
            total_bytes: total,
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(max_samples(41), 0);
        assert_eq!(max_samples(51), 0);
        assert_eq!(max_samples(52), 65536);
        assert_eq!(max_samples(u64::MAX), u64::MAX);
    }

    #[test]
    fn meta_refusals() {
        let ok = meta(vec![2], 1000, 200, DType::Int32);
        assert_eq!(check_meta(&ok), Ok(()));
        let e = check_meta(&meta(vec![2], 1 << 40, 63_000, DType::Int32)).unwrap_err();
        assert_eq!(e.object, ATTR_STREAM_SIZE);
        assert!(e.reason.contains("cannot be stored in 63000 bytes"), "{e}");
        let e = check_meta(&meta(vec![1], 1 << 62, 63_000, DType::Int64)).unwrap_err();
        assert_eq!(e.object, ATTR_STREAM_SIZE);
        let e = check_meta(&meta(vec![200_000], 10, 1000, DType::Int32)).unwrap_err();
        assert!(e.reason.contains("200000 streams cannot fit"), "{e}");
        let e = check_meta(&meta(vec![usize::MAX, 2], 10, 1000, DType::Int32)).unwrap_err();
        assert!(e.reason.contains("more elements"), "{e}");
        assert!(check_output(usize::MAX, 2, DType::Int32).is_err());
        assert!(check_output(1 << 20, 1 << 20, DType::Int64).is_ok());
        let e = check_meta(&meta(vec![2], 10, 1000, DType::Int32).with_version(3)).unwrap_err();
        assert!(e.reason.contains("format version 3 is unknown"), "{e}");
    }

    impl StoredMeta {
        fn with_version(mut self, v: u32) -> Self {
            self.format_version = v;
            self
        }
    }

    #[test]
    fn empty_streams_only_in_format_2_and_without_bytes() {
        let e = check_meta(&meta(vec![3], 0, 0, DType::Int32)).unwrap_err();
        assert!(e.reason.contains("must be positive"), "{e}");
        let m = meta(vec![3], 0, 0, DType::Int32).with_version(2);
        assert_eq!(check_meta(&m), Ok(()));
        let e = check_meta(&meta(vec![3], 0, 60, DType::Int32).with_version(2)).unwrap_err();
        assert!(
            e.reason.contains("60 bytes for streams of 0 samples"),
            "{e}"
        );
        let t = |starts: Vec<u64>, nbytes: Vec<u64>| StreamTable {
            starts,
            nbytes,
            scaling: StreamScaling::None,
        };
        assert_eq!(check_table(&m, &t(vec![0; 3], vec![0; 3]), 0), Ok(()));
        let e = check_table(&m, &t(vec![0; 3], vec![0, 52, 0]), 0).unwrap_err();
        assert!(e.reason.contains("stream (1,) of 0 samples"), "{e}");
        assert!(check_table(&m, &t(vec![0, 0, 7], vec![0; 3]), 0).is_err());
    }

    #[test]
    fn table_refusals() {
        let m = meta(vec![2, 2], 100, 400, DType::Float64);
        let table = |starts: Vec<u64>, nbytes: Vec<u64>, off: Vec<f64>, g: Vec<f64>| StreamTable {
            starts,
            nbytes,
            scaling: StreamScaling::F64 {
                offsets: off,
                gains: g,
            },
        };
        let good = table(
            vec![0, 100, 200, 300],
            vec![100; 4],
            vec![0.0, -0.0, 1.5, -3.0],
            vec![1.0, 2.0, 1e6, 1e-300],
        );
        assert_eq!(check_table(&m, &good, 0), Ok(()));
        // Overlap: all starts 0.
        let mut t = good.clone();
        t.starts = vec![0; 4];
        let e = check_table(&m, &t, 0).unwrap_err();
        assert_eq!(e.object, ARR_STARTS);
        assert!(e.reason.contains("overlaps"), "{e}");
        // Adjacent is fine, a one-byte overlap is not.
        t.starts = vec![0, 100, 200, 299];
        t.nbytes = vec![100, 100, 100, 100];
        let e = check_table(&m, &t, 0).unwrap_err();
        assert!(e.reason.contains("stream (1, 0) (bytes 200..300)"), "{e}");
        // Too short, outside.
        let mut t = good.clone();
        t.nbytes[3] = 51;
        let e = check_table(&m, &t, 0).unwrap_err();
        assert!(e.reason.contains("stream (1, 1) has 51 bytes"), "{e}");
        let mut t = good.clone();
        t.nbytes[3] = 101;
        assert!(check_table(&m, &t, 0).is_err());
        t.starts[3] = u64::MAX;
        assert!(check_table(&m, &t, 0).is_err());
        // Scaling.
        for (g, what) in [
            (0.0, "gain 0"),
            (f64::NAN, "gain NaN"),
            (f64::INFINITY, "gain inf"),
            (-1.0, "gain -1"),
            (1e-310, "gain 1e-310"),
        ] {
            let mut t = good.clone();
            if let StreamScaling::F64 { gains, .. } = &mut t.scaling {
                gains[2] = g;
            }
            let e = check_table(&m, &t, 0).unwrap_err();
            assert_eq!(e.object, ARR_GAINS);
            assert!(
                e.reason.starts_with(&format!("stream (1, 0): {what}")),
                "{e}"
            );
        }
        for o in [f64::NAN, f64::NEG_INFINITY] {
            let mut t = good.clone();
            if let StreamScaling::F64 { offsets, .. } = &mut t.scaling {
                offsets[1] = o;
            }
            let e = check_table(&m, &t, 2).unwrap_err();
            assert_eq!(e.object, ARR_OFFSETS);
            // `first` shifts the names: row 0 col 1 of the slab is stream 3 = (1, 1).
            assert!(e.reason.starts_with("stream (1, 1): offset"), "{e}");
        }
        // A float32 subnormal gain.
        let m32 = meta(vec![1], 100, 100, DType::Float32);
        let t = StreamTable {
            starts: vec![0],
            nbytes: vec![100],
            scaling: StreamScaling::F32 {
                offsets: vec![0.0],
                gains: vec![1e-39],
            },
        };
        assert_eq!(check_table(&m32, &t, 0).unwrap_err().object, ARR_GAINS);
        // Stream too short for stream_size samples.
        let big = meta(vec![1], 65537, 100, DType::Int32);
        let t = StreamTable {
            starts: vec![0],
            nbytes: vec![61],
            scaling: StreamScaling::None,
        };
        let e = check_table(&big, &t, 0).unwrap_err();
        assert!(e.reason.contains("too few for 65537 samples"), "{e}");
    }
}
