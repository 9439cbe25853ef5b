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

use flacarray_core::{DType, FlacArray, FlacArrayParts, StreamScaling};

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

/// Encodes a local array's metadata and stream table (everything but the bytes), an
/// absent array, or an error.
pub(crate) fn encode_header(piece: &Result<Option<&FlacArray>>) -> Vec<u8> {
    let mut e = Enc::default();
    match piece {
        Err(err) => {
            e.u64(KIND_ERROR);
            e.str(&err.to_string());
        }
        Ok(None) => e.u64(KIND_NONE),
        // The header carries no kept NaN/inf table: sending a format-2 array would
        // hand the receiver the filled values. Refused until the protocol carries it.
        Ok(Some(fa)) if fa.format_version() >= 2 => {
            e.u64(KIND_ERROR);
            e.str(&format!(
                "a format-2 array ({}, shape {:?}{}) cannot be sent between MPI ranks",
                fa.logical_dtype(),
                fa.shape(),
                if fa.nonfinite().is_some() {
                    ", with kept NaN/inf"
                } else {
                    ""
                }
            ));
        }
        Ok(Some(fa)) => {
            e.u64(KIND_ARRAY);
            e.u64(u64::from(fa.format_version()));
            e.u64(dtype_code(fa.dtype()));
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
            e.usize(fa.nbytes());
        }
    }
    e.0
}

/// What a header says: an error message from the sender, nothing, or an array's parts
/// (with an empty `compressed`) and the number of bytes that follow.
pub(crate) enum Header {
    Error(String),
    None,
    Array(FlacArrayParts, usize),
}

/// Decodes what [`encode_header`] encoded.
pub(crate) fn decode_header(buf: &[u8]) -> Result<Header> {
    let mut d = Dec::new(buf);
    Ok(match d.u64()? {
        KIND_ERROR => Header::Error(d.str()?),
        KIND_NONE => Header::None,
        KIND_ARRAY => {
            let format_version = u32::try_from(d.u64()?)
                .map_err(|_| Error::Protocol("format version out of range".into()))?;
            let dtype = dtype_of(d.u64()?)?;
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
            let n = d.usize()?;
            Header::Array(
                FlacArrayParts {
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
                n,
            )
        }
        k => return Err(Error::Protocol(format!("unknown header kind {k}"))),
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
        self.usize(s.len());
        self.0.extend_from_slice(s.as_bytes());
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
}

#[cfg(test)]
mod tests {
    use flacarray_core::{CompressOptions, FlacArray, QuantaOption};
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

    #[test]
    fn header_round_trips_an_array() {
        let fa = sample();
        let buf = encode_header(&Ok(Some(&fa)));
        let Header::Array(mut parts, n) = decode_header(&buf).expect("decode") else {
            panic!("not an array header");
        };
        assert_eq!(n, fa.nbytes());
        parts.compressed = fa.compressed().to_vec();
        let back = FlacArray::from_parts(parts).expect("parts");
        assert_eq!(back, fa);
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
