//! Helpers shared by the integration tests: fixture paths, `.npy` and `case.json`.
#![allow(dead_code, reason = "each test file uses a subset")]
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test helpers"
)]

use flacarray_quant::QuantFloat;
use std::path::{Path, PathBuf};

/// `fixtures/<sub>` at the workspace root.
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(sub)
}

/// Shape and values of a `.npy` file.
pub fn npy<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, Vec<T>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = file.shape().to_vec();
    (shape, file.into_vec::<T>().unwrap())
}

/// A case's `case.json`.
pub fn case_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("case.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A JSON number or (nested) list of numbers, flattened in C order.
pub fn flat_f64(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat_f64).collect(),
        other => vec![other.as_f64().unwrap()],
    }
}

/// The float types of the fixtures, with exact conversion from the JSON `f64`s
/// (Python prints float32 values as the shortest `f64` repr, which parses back
/// exactly) and bit patterns for exact comparison.
pub trait Fixture: QuantFloat + npyz::Deserialize {
    const DTYPE: &'static str;
    /// A stored result (offset, gain): must convert exactly.
    fn from_json(v: f64) -> Self;
    /// A parameter (quanta): rounded to the data type, as numpy's `astype` does.
    fn from_param(v: f64) -> Self;
    fn bits(self) -> u64;
}

impl Fixture for f32 {
    const DTYPE: &'static str = "float32";
    fn from_json(v: f64) -> Self {
        let r = v as f32;
        assert_eq!(f64::from(r), v, "JSON value {v} is not an f32");
        r
    }
    fn from_param(v: f64) -> Self {
        v as f32
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Fixture for f64 {
    const DTYPE: &'static str = "float64";
    fn from_json(v: f64) -> Self {
        v
    }
    fn from_param(v: f64) -> Self {
        v
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

/// Asserts two float slices are equal bit for bit, naming the first difference.
pub fn assert_bits_eq<T: Fixture>(what: &str, got: &[T], want: &[T]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some(i) = (0..got.len()).find(|&i| got[i].bits() != want[i].bits()) {
        panic!(
            "{what}: element {i} differs: got {:?}, want {:?}",
            got[i], want[i]
        );
    }
}
