//! Helpers shared by the integration tests: fixtures, `.npy` files, and decoding a
//! stored [`FlacArray`] to values with the codec and quantization crates.
#![allow(dead_code, unused_imports, reason = "each test file uses a subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "test helpers"
)]

use std::ops::Range;
use std::path::Path;

use flacarray_core::{DType, FlacArray, StreamScaling};

pub use flacarray_testkit::{Case, fixtures, flat_bools};

/// Every case with an HDF5 file under `fixtures/<sub>`, sorted by name.
pub fn hdf5_cases(sub: &str) -> Vec<Case> {
    flacarray_testkit::cases(sub, "data.h5")
}

/// Decoded data of one dtype.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Values {
    /// Bit patterns, for exact comparison (floats compared by bits, NaN-safe).
    pub fn bits(&self) -> Vec<u64> {
        match self {
            Self::I32(v) => v.iter().map(|&x| u64::from(x as u32)).collect(),
            Self::I64(v) => v.iter().map(|&x| x as u64).collect(),
            Self::F32(v) => v.iter().map(|&x| u64::from(x.to_bits())).collect(),
            Self::F64(v) => v.iter().map(|&x| x.to_bits()).collect(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::I32(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }
}

/// Loads a `.npy` file as bit patterns, with its shape and numpy dtype name.
pub fn npy_bits(path: &Path) -> (Vec<u64>, String, Vec<u64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = file.shape().to_vec();
    let descr = file.dtype().descr().trim_matches('\'').to_owned();
    let (name, bits) = match descr.as_str() {
        "<i4" => ("int32", Values::I32(file.into_vec::<i32>().unwrap()).bits()),
        "<i8" => ("int64", Values::I64(file.into_vec::<i64>().unwrap()).bits()),
        "<f4" => (
            "float32",
            Values::F32(file.into_vec::<f32>().unwrap()).bits(),
        ),
        "<f8" => (
            "float64",
            Values::F64(file.into_vec::<f64>().unwrap()).bits(),
        ),
        other => panic!("{}: dtype {other}", path.display()),
    };
    (shape, name.to_owned(), bits)
}

/// The bytes of stream `i`.
pub fn stream_bytes(arr: &FlacArray, i: usize) -> &[u8] {
    let s = usize::try_from(arr.stream_starts()[i]).unwrap();
    let n = usize::try_from(arr.stream_nbytes()[i]).unwrap();
    &arr.compressed()[s..s + n]
}

/// Decodes samples `range` of every stream of `arr` and turns them into values with
/// the format's formulas; streams are concatenated in order.
pub fn decode_range(arr: &FlacArray, range: Range<u64>) -> Values {
    let dtype = arr.dtype();
    let n = arr.stream_starts().len();
    let ss = arr.stream_size() as u64;
    let len = usize::try_from(range.end - range.start).unwrap();
    let mut out = match dtype {
        DType::Int32 => Values::I32(Vec::new()),
        DType::Int64 => Values::I64(Vec::new()),
        DType::Float32 => Values::F32(Vec::new()),
        DType::Float64 => Values::F64(Vec::new()),
    };
    for i in 0..n {
        let dec = flacarray_flac::decode_range(stream_bytes(arr, i), ss, range.clone())
            .unwrap_or_else(|e| panic!("stream {i}: {e}"));
        let samples = dec.samples;
        let channels = dtype.channels(arr.format_version()) as usize;
        assert_eq!(samples.len(), len * channels, "stream {i}: sample count");
        if len == 0 {
            continue;
        }
        let wide = || -> Vec<i64> {
            samples
                .chunks_exact(2)
                .map(|p| (i64::from(p[1]) << 32) | i64::from(p[0] as u32))
                .collect()
        };
        match (arr.format_version(), &mut out) {
            (_, Values::I32(v)) => v.extend_from_slice(&samples),
            (1, Values::I64(v)) => v.extend(wide()),
            (0, Values::I64(v)) => {
                let StreamScaling::I64Offsets(off) = arr.scaling() else {
                    panic!("v0 int64 without int64 offsets")
                };
                v.extend(flacarray_quant::v0::add_offsets_i64(&samples, len, &[off[i]]).unwrap());
            }
            (version, Values::F32(v)) => {
                let StreamScaling::F32 {
                    offsets: off,
                    gains: gain,
                } = arr.scaling()
                else {
                    panic!("float32 without float32 offsets/gains")
                };
                let mut o = vec![0f32; len];
                if version == 1 {
                    flacarray_quant::dequantize_stream::<f32>(&samples, off[i], gain[i], &mut o)
                        .unwrap();
                } else {
                    o = flacarray_quant::v0::dequantize(&samples, len, &[off[i]], &[gain[i]])
                        .unwrap();
                }
                v.extend(o);
            }
            (version, Values::F64(v)) => {
                let StreamScaling::F64 {
                    offsets: off,
                    gains: gain,
                } = arr.scaling()
                else {
                    panic!("float64 without float64 offsets/gains")
                };
                let mut o = vec![0f64; len];
                if version == 1 {
                    flacarray_quant::dequantize_stream::<f64>(&wide(), off[i], gain[i], &mut o)
                        .unwrap();
                } else {
                    o = flacarray_quant::v0::dequantize(&samples, len, &[off[i]], &[gain[i]])
                        .unwrap();
                }
                v.extend(o);
            }
            (v, _) => panic!("format {v}"),
        }
    }
    out
}

/// Decodes every stream of `arr` whole.
pub fn decode_all(arr: &FlacArray) -> Values {
    decode_range(arr, 0..arr.stream_size() as u64)
}

/// A format-1 [`FlacArray`] of the given stored parts (streams encoded by the test),
/// as a group holds it: a single stream keeps its leading shape `[1]`.
pub fn stored(
    dtype: DType,
    leading_shape: Vec<usize>,
    stream_size: u64,
    starts: Vec<i64>,
    nbytes: Vec<i64>,
    scaling: StreamScaling,
    compressed: Vec<u8>,
) -> FlacArray {
    let u = |v: Vec<i64>| v.into_iter().map(|x| u64::try_from(x).unwrap()).collect();
    FlacArray::from_parts(flacarray_core::FlacArrayParts {
        leading_shape,
        stream_size: usize::try_from(stream_size).unwrap(),
        one_d: false,
        dtype,
        compressed,
        starts: u(starts),
        nbytes: u(nbytes),
        scaling,
        format_version: 1,
    })
    .unwrap()
}
