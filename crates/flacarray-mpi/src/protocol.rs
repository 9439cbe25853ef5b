//! The wire format of the messages between ranks: little-endian integers, floats,
//! strings and length-prefixed lists ([`Enc`], [`Dec`]), and the messages built from
//! them — a local array's metadata and stream table ([`encode_header`]), a row
//! distribution or rank 0's error ([`encode_dist`]), the file target
//! ([`encode_target`]) and the read options ([`encode_read_options`]).
//!
//! Every decoder checks each length against the bytes actually received before
//! allocating, and fails with [`Error::Protocol`] on a malformed message.

#[cfg(any(feature = "mpio", test))]
use std::path::PathBuf;

use flacarray_core::{DType, FlacArray, FlacArrayParts, LogicalDType, NonFinite, StreamScaling};

use crate::error::{Error, Result};

pub(crate) fn dtype_code(d: DType) -> u64 {
    match d {
        DType::Int32 => 0,
        DType::Int64 => 1,
        DType::Float32 => 2,
        DType::Float64 => 3,
    }
}

pub(crate) fn dtype_of(code: u64) -> Result<DType> {
    Ok(match code {
        0 => DType::Int32,
        1 => DType::Int64,
        2 => DType::Float32,
        3 => DType::Float64,
        _ => return Err(Error::Protocol(format!("unknown dtype code {code}"))),
    })
}

/// Kinds of the header that precedes a local array sent between ranks.
const KIND_ERROR: u64 = 0;
const KIND_NONE: u64 = 1;
const KIND_ARRAY: u64 = 2;

/// Version of the array header's layout, sent right after [`KIND_ARRAY`]. Version 2
/// added the logical element type and the kept non-finite samples (format-2 data);
/// version 1 (no version field) is no longer sent or accepted.
pub(crate) const HEADER_VERSION: u64 = 2;

/// The wire code of a logical element type: its index in [`LogicalDType::ALL`].
pub(crate) fn logical_code(t: LogicalDType) -> u64 {
    LogicalDType::ALL
        .iter()
        .position(|&x| x == t)
        .map_or(u64::MAX, |i| i as u64)
}

/// The logical element type of a wire code.
pub(crate) fn logical_of(code: u64) -> Result<LogicalDType> {
    usize::try_from(code)
        .ok()
        .and_then(|i| LogicalDType::ALL.get(i).copied())
        .ok_or_else(|| Error::Protocol(format!("unknown logical dtype code {code}")))
}

/// Encodes a local array's metadata and stream table (everything but the bytes), an
/// absent array, or an error.
///
/// An array is sent as: kind, [`HEADER_VERSION`], format version, stored dtype,
/// logical dtype, 1-d flag, stream size, leading shape, starts, byte counts, scaling,
/// the non-finite table (0, or 1 followed by the stored per-stream flags and run bytes
/// of `docs/format.md`) and the number of compressed bytes that follow.
pub(crate) fn encode_header(piece: &Result<Option<&FlacArray>>) -> Vec<u8> {
    let mut e = Enc::default();
    match piece {
        Err(err) => {
            e.u64(KIND_ERROR);
            e.str(&err.to_string());
        }
        Ok(None) => e.u64(KIND_NONE),
        Ok(Some(fa)) => {
            let nonfinite = fa
                .nonfinite()
                .map(|nf| (nf.flags(fa.stream_size()), nf.encode()));
            encode_array(&mut e, fa, nonfinite.as_ref());
        }
    }
    e.0
}

/// The array header of `fa` with the non-finite table `nonfinite` (stored flags and
/// run bytes).
fn encode_array(e: &mut Enc, fa: &FlacArray, nonfinite: Option<&(Vec<u8>, Vec<u8>)>) {
    e.u64(KIND_ARRAY);
    e.u64(HEADER_VERSION);
    e.u64(u64::from(fa.format_version()));
    e.u64(dtype_code(fa.dtype()));
    e.u64(logical_code(fa.logical_dtype()));
    e.u64(u64::from(fa.is_one_d()));
    e.usize(fa.stream_size());
    e.usizes(fa.leading_shape());
    e.u64s(fa.stream_starts());
    e.u64s(fa.stream_nbytes());
    match fa.scaling() {
        StreamScaling::None => e.u64(0),
        StreamScaling::F32 { offsets, gains } => {
            e.u64(1);
            e.f32s(offsets);
            e.f32s(gains);
        }
        StreamScaling::F64 { offsets, gains } => {
            e.u64(2);
            e.f64s(offsets);
            e.f64s(gains);
        }
        StreamScaling::I64Offsets(o) => {
            e.u64(3);
            e.i64s(o);
        }
    }
    match nonfinite {
        None => e.u64(0),
        Some((flags, runs)) => {
            e.u64(1);
            e.bytes(flags);
            e.bytes(runs);
        }
    }
    e.usize(fa.nbytes());
}

/// An array header: the parts (with an empty `compressed`), what format 2 adds to
/// them, and the number of compressed bytes that follow.
#[derive(Debug)]
pub(crate) struct ArrayHeader {
    pub(crate) parts: FlacArrayParts,
    pub(crate) logical: LogicalDType,
    pub(crate) nonfinite: Option<NonFinite>,
    pub(crate) nbytes: usize,
}

impl ArrayHeader {
    /// The array, once its `bytes` arrived: checked as [`FlacArray::from_parts`] and
    /// [`FlacArray::with_extension`] check a stored one.
    ///
    /// # Errors
    /// [`Error::Protocol`] when the byte count differs from the announced one;
    /// [`Error::Core`] for inconsistent parts.
    pub(crate) fn into_array(self, bytes: Vec<u8>) -> Result<FlacArray> {
        if bytes.len() != self.nbytes {
            return Err(Error::Protocol(format!(
                "{} compressed bytes announced, {} received",
                self.nbytes,
                bytes.len()
            )));
        }
        let parts = FlacArrayParts {
            compressed: bytes,
            ..self.parts
        };
        Ok(FlacArray::from_parts(parts)?.with_extension(self.logical, self.nonfinite)?)
    }
}

/// What a header says: an error message from the sender, nothing, or an array.
pub(crate) enum Header {
    Error(String),
    None,
    Array(Box<ArrayHeader>),
}

/// Decodes what [`encode_header`] encoded. The logical dtype must be carried by the
/// stored one, and a non-finite table is accepted only for float data in format 2,
/// with one flag per stream and runs inside the streams (checked as a stored table
/// is, before anything is sized from it).
pub(crate) fn decode_header(buf: &[u8]) -> Result<Header> {
    let mut d = Dec::new(buf);
    let header = match d.u64()? {
        KIND_ERROR => Header::Error(d.str()?),
        KIND_NONE => Header::None,
        KIND_ARRAY => Header::Array(Box::new(decode_array(&mut d)?)),
        k => return Err(Error::Protocol(format!("unknown header kind {k}"))),
    };
    if d.remaining() != 0 {
        return Err(Error::Protocol(format!(
            "{} bytes left after the header",
            d.remaining()
        )));
    }
    Ok(header)
}

fn decode_array(d: &mut Dec<'_>) -> Result<ArrayHeader> {
    let version = d.u64()?;
    if version != HEADER_VERSION {
        return Err(Error::Protocol(format!(
            "array header version {version}, expected {HEADER_VERSION} (ranks running \
             different versions of flacarray-mpi?)"
        )));
    }
    let format_version = u32::try_from(d.u64()?)
        .map_err(|_| Error::Protocol("format version out of range".into()))?;
    let dtype = dtype_of(d.u64()?)?;
    let logical = logical_of(d.u64()?)?;
    if logical.stored() != dtype {
        return Err(Error::Protocol(format!(
            "logical dtype {logical} is not stored as {dtype}"
        )));
    }
    let one_d = d.u64()? != 0;
    let stream_size = d.usize()?;
    let leading_shape = d.usizes()?;
    let starts = d.u64s()?;
    let nbytes = d.u64s()?;
    let scaling = match d.u64()? {
        0 => StreamScaling::None,
        1 => StreamScaling::F32 {
            offsets: d.f32s()?,
            gains: d.f32s()?,
        },
        2 => StreamScaling::F64 {
            offsets: d.f64s()?,
            gains: d.f64s()?,
        },
        3 => StreamScaling::I64Offsets(d.i64s()?),
        k => return Err(Error::Protocol(format!("unknown scaling kind {k}"))),
    };
    let nonfinite = match d.u64()? {
        0 => None,
        1 => {
            let flags = d.bytes()?;
            let runs = d.bytes()?;
            if !dtype.is_float() || format_version < 2 {
                return Err(Error::Protocol(format!(
                    "a non-finite table for {dtype} data in format {format_version}"
                )));
            }
            // The table describes exactly the announced streams (checked before the
            // runs are parsed, so nothing is sized from a count the shape does not back).
            let n_streams = leading_shape
                .iter()
                .try_fold(1usize, |a, &b| a.checked_mul(b));
            if n_streams != Some(flags.len()) || starts.len() != flags.len() {
                return Err(Error::Protocol(format!(
                    "{} non-finite flags for the leading shape {leading_shape:?} ({} streams \
                     in the table)",
                    flags.len(),
                    starts.len()
                )));
            }
            let nf = NonFinite::decode(
                &flags,
                &runs,
                stream_size,
                &leading_shape,
                dtype == DType::Float64,
            )
            .map_err(|e| Error::Protocol(format!("non-finite table: {e}")))?;
            Some(nf)
        }
        k => {
            return Err(Error::Protocol(format!(
                "unknown non-finite table kind {k}"
            )));
        }
    };
    let n = d.usize()?;
    Ok(ArrayHeader {
        parts: FlacArrayParts {
            leading_shape,
            stream_size,
            one_d,
            dtype,
            compressed: Vec::new(),
            starts,
            nbytes,
            scaling,
            format_version,
        },
        logical,
        nonfinite,
        nbytes: n,
    })
}

/// Encodes rank 0's answer to "which rows does each rank read": the distribution, or
/// the error that stopped rank 0.
pub(crate) fn encode_dist<E: std::fmt::Display>(dist: Result<&[(usize, usize)], &E>) -> Vec<u8> {
    let mut e = Enc::default();
    match dist {
        Ok(dist) => {
            e.u64(1);
            e.usizes(&flatten_pairs(dist));
        }
        Err(err) => {
            e.u64(0);
            e.str(&err.to_string());
        }
    }
    e.0
}

/// Decodes what [`encode_dist`] encoded: `Ok(Ok(dist))`, or `Ok(Err(message))` when
/// rank 0 failed.
pub(crate) fn decode_dist(buf: &[u8]) -> Result<Result<Vec<(usize, usize)>, String>> {
    let mut d = Dec::new(buf);
    Ok(if d.u64()? == 1 {
        Ok(pairs(&d.usizes()?)?)
    } else {
        Err(d.str()?)
    })
}

/// Encodes the file target of a write or read: path (in its lossy UTF-8 form when it
/// is not UTF-8), group and the `replace` flag.
#[cfg(any(feature = "mpio", test))]
pub(crate) fn encode_target(path: &std::path::Path, group: &str, replace: bool) -> Vec<u8> {
    let mut e = Enc::default();
    e.str(&path.to_string_lossy());
    e.str(group);
    e.u64(u64::from(replace));
    e.0
}

/// Decodes what [`encode_target`] encoded.
#[cfg(any(feature = "mpio", test))]
pub(crate) fn decode_target(buf: &[u8]) -> Result<(PathBuf, String, bool)> {
    let mut d = Dec::new(buf);
    Ok((PathBuf::from(d.str()?), d.str()?, d.u64()? == 1))
}

/// The options of a distributed read, as rank 0 gives them to every rank.
#[cfg(any(feature = "mpio", test))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadOptions {
    /// Keep mask over the global leading shape.
    pub(crate) keep: Option<Vec<bool>>,
    /// Requested distribution.
    pub(crate) mpi_dist: Option<Vec<(usize, usize)>>,
    /// Do not flatten single-row or single-stream slabs to 1-d.
    pub(crate) no_flatten: bool,
}

/// Encodes the read options.
#[cfg(any(feature = "mpio", test))]
pub(crate) fn encode_read_options(
    keep: Option<&[bool]>,
    mpi_dist: Option<&[(usize, usize)]>,
    no_flatten: bool,
) -> Vec<u8> {
    let mut e = Enc::default();
    e.u64(u64::from(no_flatten));
    match keep {
        Some(k) => {
            e.u64(1);
            e.usizes(&k.iter().map(|&b| usize::from(b)).collect::<Vec<_>>());
        }
        None => e.u64(0),
    }
    match mpi_dist {
        Some(d) => {
            e.u64(1);
            e.usizes(&flatten_pairs(d));
        }
        None => e.u64(0),
    }
    e.0
}

/// Decodes what [`encode_read_options`] encoded.
#[cfg(any(feature = "mpio", test))]
pub(crate) fn decode_read_options(buf: &[u8]) -> Result<ReadOptions> {
    let mut d = Dec::new(buf);
    let no_flatten = d.u64()? == 1;
    let keep = match d.u64()? {
        1 => Some(d.usizes()?.iter().map(|&v| v == 1).collect()),
        _ => None,
    };
    let mpi_dist = match d.u64()? {
        1 => Some(pairs(&d.usizes()?)?),
        _ => None,
    };
    Ok(ReadOptions {
        keep,
        mpi_dist,
        no_flatten,
    })
}

fn flatten_pairs(p: &[(usize, usize)]) -> Vec<usize> {
    p.iter().flat_map(|&(a, b)| [a, b]).collect()
}

fn pairs(flat: &[usize]) -> Result<Vec<(usize, usize)>> {
    if !flat.len().is_multiple_of(2) {
        return Err(Error::Protocol(format!(
            "a list of ranges has an odd length {}",
            flat.len()
        )));
    }
    Ok(flat.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

/// Little-endian encoder of the small headers this crate sends.
#[derive(Default)]
pub(crate) struct Enc(pub(crate) Vec<u8>);

impl Enc {
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }

    pub(crate) fn u64s(&mut self, v: &[u64]) {
        self.usize(v.len());
        for &x in v {
            self.u64(x);
        }
    }

    pub(crate) fn usizes(&mut self, v: &[usize]) {
        self.usize(v.len());
        for &x in v {
            self.usize(x);
        }
    }

    pub(crate) fn f32s(&mut self, v: &[f32]) {
        self.usize(v.len());
        for &x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub(crate) fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        for &x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub(crate) fn i64s(&mut self, v: &[i64]) {
        self.usize(v.len());
        for &x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.usize(b.len());
        self.0.extend_from_slice(b);
    }
}

/// Decoder matching [`Enc`].
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self
            .pos
            .checked_add(N)
            .and_then(|e| self.buf.get(self.pos..e))
            .ok_or_else(|| Error::Protocol("header ends early".into()))?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        self.pos += N;
        Ok(a)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take::<8>()?))
    }

    pub(crate) fn usize(&mut self) -> Result<usize> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| Error::Protocol(format!("{v} does not fit in usize")))
    }

    /// A length, checked against the bytes left (each element at least `min_size`).
    fn len(&mut self, min_size: usize) -> Result<usize> {
        let n = self.usize()?;
        if n.saturating_mul(min_size) > self.buf.len() - self.pos {
            return Err(Error::Protocol(format!("length {n} exceeds the header")));
        }
        Ok(n)
    }

    pub(crate) fn u64s(&mut self) -> Result<Vec<u64>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.u64()).collect()
    }

    pub(crate) fn usizes(&mut self) -> Result<Vec<usize>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.usize()).collect()
    }

    pub(crate) fn f32s(&mut self) -> Result<Vec<f32>> {
        let n = self.len(4)?;
        (0..n)
            .map(|_| Ok(f32::from_le_bytes(self.take::<4>()?)))
            .collect()
    }

    pub(crate) fn f64s(&mut self) -> Result<Vec<f64>> {
        let n = self.len(8)?;
        (0..n)
            .map(|_| Ok(f64::from_le_bytes(self.take::<8>()?)))
            .collect()
    }

    pub(crate) fn i64s(&mut self) -> Result<Vec<i64>> {
        let n = self.len(8)?;
        (0..n)
            .map(|_| Ok(i64::from_le_bytes(self.take::<8>()?)))
            .collect()
    }

    pub(crate) fn str(&mut self) -> Result<String> {
        let n = self.len(1)?;
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(String::from_utf8_lossy(b).into_owned())
    }

    pub(crate) fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.len(1)?;
        let b = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(b)
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

#[cfg(test)]
mod tests {
    use flacarray_core::{CompressOptions, FlacArray, LogicalDType, QuantaOption};
    use ndarray::Array2;

    use super::*;

    fn opts() -> CompressOptions {
        CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..Default::default()
        }
    }

    fn sample() -> FlacArray {
        let a = Array2::from_shape_fn((3, 200), |(i, k)| (i as f32) * 0.5 + (k as f32).sin());
        FlacArray::from_array(&a, &opts()).expect("compress")
    }

    /// Sends `fa` through a header and its bytes.
    fn round_trip(fa: &FlacArray) -> FlacArray {
        let buf = encode_header(&Ok(Some(fa)));
        let Header::Array(h) = decode_header(&buf).expect("decode") else {
            panic!("not an array header");
        };
        assert_eq!(h.nbytes, fa.nbytes());
        h.into_array(fa.compressed().to_vec()).expect("array")
    }

    fn keep_nonfinite() -> CompressOptions {
        CompressOptions {
            keep_nonfinite: true,
            ..opts()
        }
    }

    /// float32 streams with NaN/inf runs at starts and ends, an all-NaN stream,
    /// alternating NaN/-inf, a NaN with a payload and a stream without any.
    fn nonfinite_sample() -> FlacArray {
        let odd_nan = f32::from_bits(0x7fc0_1234);
        let a = Array2::from_shape_fn((5, 64), |(i, k)| match i {
            0 if !(3..60).contains(&k) => f32::NAN,
            1 => f32::NAN,
            2 if k % 2 == 0 => f32::NEG_INFINITY,
            3 if k == 10 => odd_nan,
            3 if k == 11 => f32::INFINITY,
            _ => (i * 64 + k) as f32 * 0.25,
        });
        FlacArray::from_array(&a, &keep_nonfinite()).expect("compress")
    }

    #[test]
    fn header_round_trips_an_array() {
        let fa = sample();
        assert_eq!(round_trip(&fa), fa);
    }

    #[test]
    fn header_round_trips_the_logical_dtype_and_nonfinite_samples() {
        let fa = nonfinite_sample();
        assert_eq!(fa.format_version(), 2);
        assert!(fa.nonfinite().is_some());
        let back = round_trip(&fa);
        assert_eq!(back, fa);
        let bits = |a: &FlacArray| -> Vec<u32> {
            a.to_array_typed::<f32>()
                .expect("decode")
                .iter()
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(bits(&back), bits(&fa));
        assert_eq!(bits(&back)[3 * 64 + 10], 0x7fc0_1234);

        let u16s = ndarray::arr2(&[[0_u16, 65535, 7], [1, 2, 3]]);
        let fa = FlacArray::from_array(&u16s, &CompressOptions::default()).expect("u16");
        let back = round_trip(&fa);
        assert_eq!(back.logical_dtype(), LogicalDType::Uint16);
        assert_eq!(back.to_values_typed::<u16>().expect("u16"), u16s.into_dyn());
        // uint64 beyond 2^63 is format 2 without a non-finite table.
        let u64s = ndarray::arr2(&[[u64::MAX, 0, 1 << 63]]);
        let fa = FlacArray::from_array(&u64s, &CompressOptions::default()).expect("u64");
        assert_eq!(
            round_trip(&fa).to_values_typed::<u64>().expect("u64"),
            u64s.into_dyn()
        );
        // Empty axes: no streams, or streams of no samples.
        for shape in [(0, 10), (10, 0)] {
            let e = Array2::from_elem(shape, flacarray_core::f16::ZERO);
            let fa = FlacArray::from_array(&e, &opts()).expect("empty");
            let back = round_trip(&fa);
            assert_eq!(back, fa, "{shape:?}");
            assert_eq!(back.shape(), [shape.0, shape.1]);
            assert_eq!(back.logical_dtype(), LogicalDType::Float16);
        }
    }

    #[test]
    fn every_truncated_extension_header_is_refused() {
        let buf = encode_header(&Ok(Some(&nonfinite_sample())));
        for len in 0..buf.len() {
            assert!(
                matches!(decode_header(&buf[..len]), Err(Error::Protocol(_))),
                "a header cut to {len} of {} bytes was accepted",
                buf.len()
            );
        }
        let mut longer = buf.clone();
        longer.push(0);
        let err = decode_header(&longer).err().expect("accepted");
        assert!(err.to_string().contains("1 bytes left"), "{err}");
    }

    /// The header of `fa` with the non-finite table `flags`, `runs`.
    fn with_table(fa: &FlacArray, flags: &[u8], runs: &[u8]) -> Vec<u8> {
        let mut e = Enc::default();
        encode_array(&mut e, fa, Some(&(flags.to_vec(), runs.to_vec())));
        e.0
    }

    fn refused(buf: &[u8]) -> String {
        match decode_header(buf) {
            Ok(Header::Array(h)) => panic!("accepted: {:?}", h.nonfinite),
            Ok(_) => panic!("not an array header"),
            Err(e) => {
                assert!(matches!(e, Error::Protocol(_)), "{e}");
                e.to_string()
            }
        }
    }

    #[test]
    fn hostile_nonfinite_tables_are_refused() {
        let fa = nonfinite_sample(); // 5 streams of 64 samples
        let ok = fa.nonfinite().expect("runs");
        let (flags, runs) = (ok.flags(64), ok.encode());
        assert!(decode_header(&with_table(&fa, &flags, &runs)).is_ok());
        let cases: Vec<(Vec<u8>, Vec<u8>, &str)> = vec![
            // A run longer than the stream, one starting past its end, of length 0.
            (vec![1, 0, 0, 0, 0], vec![1, 0, 65, 0], "does not fit"),
            (vec![1, 0, 0, 0, 0], vec![1, 64, 1, 0], "does not fit"),
            (vec![1, 0, 0, 0, 0], vec![1, 0, 0, 0], "does not fit"),
            // Lengths far beyond any stream (LEB128 of 2^62).
            (
                vec![1, 0, 0, 0, 0],
                vec![
                    1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0,
                ],
                "does not fit",
            ),
            // A huge run count with few bytes behind it.
            (
                vec![1, 0, 0, 0, 0],
                vec![0xff, 0xff, 0xff, 0x7f, 0, 1, 0],
                "runs in",
            ),
            (vec![1, 0, 0, 0, 0], vec![1, 0, 1, 9], "unknown kind"),
            (vec![2, 0, 0, 0, 0], vec![1, 0, 3, 0], "flag All"),
            (vec![7, 0, 0, 0, 0], vec![], "unknown flag"),
            (vec![0, 0, 0, 0, 0], vec![1, 0, 1, 0], "left after"),
            (vec![1, 0, 0, 0], vec![1, 0, 1, 0], "4 non-finite flags"),
            (
                flags.clone(),
                runs[..runs.len() - 1].to_vec(),
                "ends inside",
            ),
        ];
        for (flags, runs, want) in cases {
            let msg = refused(&with_table(&fa, &flags, &runs));
            assert!(
                msg.contains(want),
                "{flags:?} {runs:?}: {msg} (want {want})"
            );
            assert!(msg.starts_with("malformed MPI message"), "{msg}");
        }
        // A table over integer or format-1 data.
        let ints =
            FlacArray::from_array(&Array2::<i32>::zeros((5, 64)), &CompressOptions::default())
                .expect("i32");
        let msg = refused(&with_table(&ints, &flags, &runs));
        assert!(msg.contains("int32 data in format 1"), "{msg}");
        let msg = refused(&with_table(&sample(), &[1, 0, 0], &[1, 0, 1, 0]));
        assert!(msg.contains("float32 data in format 1"), "{msg}");
    }

    #[test]
    fn inconsistent_dtypes_and_versions_are_refused() {
        let buf = encode_header(&Ok(Some(&sample())));
        let at = |i: usize, v: u64| {
            let mut b = buf.clone();
            b[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
            b
        };
        // Fields: kind, header version, format version, dtype, logical dtype.
        let msg = refused(&at(1, 1));
        assert!(msg.contains("array header version 1, expected 2"), "{msg}");
        let msg = refused(&at(4, 12));
        assert!(msg.contains("unknown logical dtype code 12"), "{msg}");
        let uint8 = logical_code(LogicalDType::Uint8);
        let msg = refused(&at(4, uint8));
        assert!(
            msg.contains("logical dtype uint8 is not stored as float32"),
            "{msg}"
        );
        for t in LogicalDType::ALL {
            assert_eq!(logical_of(logical_code(t)).expect("code"), t);
        }
    }

    #[test]
    fn header_round_trips_none_and_errors() {
        assert!(matches!(
            decode_header(&encode_header(&Ok(None))),
            Ok(Header::None)
        ));
        let err = Error::Mismatch("x differs".into());
        match decode_header(&encode_header(&Err(err))) {
            Ok(Header::Error(m)) => assert_eq!(m, "ranks disagree: x differs"),
            _ => panic!("not an error header"),
        }
    }

    #[test]
    fn every_truncated_header_is_refused() {
        let buf = encode_header(&Ok(Some(&sample())));
        for len in 0..buf.len() {
            assert!(
                matches!(decode_header(&buf[..len]), Err(Error::Protocol(_))),
                "a header cut to {len} of {} bytes was accepted",
                buf.len()
            );
        }
    }

    #[test]
    fn a_huge_length_is_refused_before_allocating() {
        let mut e = Enc::default();
        e.u64(u64::MAX / 2);
        let err = Dec::new(&e.0).u64s().expect_err("accepted");
        assert!(err.to_string().contains("exceeds the header"), "{err}");
    }

    #[test]
    fn unknown_kinds_are_refused() {
        let mut e = Enc::default();
        e.u64(9);
        let err = decode_header(&e.0).err().expect("accepted");
        assert_eq!(
            err.to_string(),
            "malformed MPI message: unknown header kind 9"
        );
        assert!(matches!(dtype_of(4), Err(Error::Protocol(_))));
    }

    #[test]
    fn dist_target_and_read_options_round_trip() {
        let dist = [(0, 2), (2, 2), (2, 5)];
        let buf = encode_dist::<Error>(Ok(&dist));
        assert_eq!(decode_dist(&buf).expect("decode"), Ok(dist.to_vec()));
        let err = Error::InvalidArgument("bad".into());
        let buf = encode_dist(Err(&err));
        assert_eq!(
            decode_dist(&buf).expect("decode"),
            Err("invalid argument: bad".to_owned())
        );

        let buf = encode_target("a/b.h5".as_ref(), "/g", true);
        assert_eq!(
            decode_target(&buf).expect("decode"),
            (PathBuf::from("a/b.h5"), "/g".to_owned(), true)
        );

        let keep = [true, false, true];
        let buf = encode_read_options(Some(&keep), Some(&dist), true);
        assert_eq!(
            decode_read_options(&buf).expect("decode"),
            ReadOptions {
                keep: Some(keep.to_vec()),
                mpi_dist: Some(dist.to_vec()),
                no_flatten: true
            }
        );
        let buf = encode_read_options(None, None, false);
        assert_eq!(
            decode_read_options(&buf).expect("decode"),
            ReadOptions {
                keep: None,
                mpi_dist: None,
                no_flatten: false
            }
        );
    }

    #[test]
    fn an_odd_range_list_is_refused() {
        let mut e = Enc::default();
        e.u64(1);
        e.usizes(&[0, 1, 2]);
        assert!(matches!(decode_dist(&e.0), Err(Error::Protocol(_))));
    }
}
