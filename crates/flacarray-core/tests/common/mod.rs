//! Helpers shared by the integration tests: fixture paths, `.npy`, `case.json`, and
//! bit-exact comparison of decoded arrays.
#![allow(dead_code, reason = "each test file uses a subset")]
#![allow(clippy::unwrap_used, reason = "test helpers")]

use flacarray_core::{DType, DecodedArray};
use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

/// `fixtures/<sub>` at the workspace root.
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(sub)
}

/// Shape and values of a `.npy` file.
pub fn npy<T: npyz::Deserialize>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = file.shape().iter().map(|&s| s as usize).collect();
    (shape, file.into_vec::<T>().unwrap())
}

/// A `.npy` file as an ndarray.
pub fn npy_array<T: npyz::Deserialize>(path: &Path) -> ArrayD<T> {
    let (shape, v) = npy::<T>(path);
    ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
}

/// The dtype string of a `.npy` file (`"<i4"`, `"<f8"`, ...).
pub fn npy_dtype(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    file.header().dtype().descr()
}

/// A `.npy` file as a [`DecodedArray`] of `dtype`.
pub fn npy_decoded(path: &Path, dtype: DType) -> DecodedArray {
    match dtype {
        DType::Int32 => DecodedArray::Int32(npy_array(path)),
        DType::Int64 => DecodedArray::Int64(npy_array(path)),
        DType::Float32 => DecodedArray::Float32(npy_array(path)),
        DType::Float64 => DecodedArray::Float64(npy_array(path)),
    }
}

/// A JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Bit patterns of a decoded array, for exact comparison (floats by bits, so `-0.0`
/// differs from `0.0`).
pub fn bits(a: &DecodedArray) -> (Vec<usize>, Vec<u64>) {
    let shape = a.shape().to_vec();
    let v: Vec<u64> = match a {
        DecodedArray::Int32(a) => a.iter().map(|&x| u64::from(x as u32)).collect(),
        DecodedArray::Int64(a) => a.iter().map(|&x| x as u64).collect(),
        DecodedArray::Float32(a) => a.iter().map(|&x| u64::from(x.to_bits())).collect(),
        DecodedArray::Float64(a) => a.iter().map(|&x| x.to_bits()).collect(),
    };
    (shape, v)
}

/// Asserts two decoded arrays are equal bit for bit (shape, dtype, every value).
pub fn assert_same(ours: &DecodedArray, theirs: &DecodedArray, what: &str) {
    assert_eq!(ours.dtype(), theirs.dtype(), "{what}: dtype");
    let (s1, b1) = bits(ours);
    let (s2, b2) = bits(theirs);
    assert_eq!(s1, s2, "{what}: shape");
    if let Some(i) = b1.iter().zip(&b2).position(|(a, b)| a != b) {
        panic!(
            "{what}: first difference at flat index {i}: {:#x} vs {:#x}",
            b1[i], b2[i]
        );
    }
}

/// A (nested) JSON list of bools, flattened in C order.
pub fn flat_bools(v: &serde_json::Value) -> Vec<bool> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat_bools).collect(),
        other => vec![other.as_bool().unwrap()],
    }
}
