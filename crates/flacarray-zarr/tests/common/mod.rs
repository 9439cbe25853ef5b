//! Helpers shared by the integration tests: fixture cases, `.npy` files, bit-exact
//! comparison of decoded arrays, copying stores.
#![allow(dead_code, reason = "each test file uses a subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "test helpers"
)]

use std::path::{Path, PathBuf};

use flacarray_core::{DType, DecodedArray};
use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

/// `fixtures/<sub>` at the workspace root.
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(sub)
}

/// A case folder with its parsed `case.json`.
pub struct Case {
    pub dir: PathBuf,
    pub json: Value,
}

impl Case {
    pub fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    pub fn zarr(&self) -> PathBuf {
        self.dir.join("data.zarr")
    }

    pub fn groups(&self) -> Vec<String> {
        self.json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_owned())
            .collect()
    }

    pub fn dtype(&self) -> DType {
        DType::from_name(self.json["dtype"].as_str().unwrap()).unwrap()
    }

    pub fn stream_size(&self) -> usize {
        self.json["stream_size"].as_u64().unwrap() as usize
    }

    pub fn reads(&self) -> Vec<Value> {
        self.json["reads"].as_array().unwrap().clone()
    }
}

/// Every case with a Zarr store under `fixtures/<sub>`, sorted by name.
pub fn zarr_cases(sub: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures(sub)).unwrap() {
        let dir = entry.unwrap().path();
        let cj = dir.join("case.json");
        if !cj.exists() {
            continue;
        }
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&cj).unwrap()).unwrap();
        if json["file"].as_str() == Some("data.zarr") {
            out.push(Case { dir, json });
        }
    }
    out.sort_by_key(Case::name);
    out
}

/// Shape and values of a `.npy` file.
pub fn npy<T: npyz::Deserialize>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = file.shape().iter().map(|&s| s as usize).collect();
    (shape, file.into_vec::<T>().unwrap())
}

fn npy_array<T: npyz::Deserialize>(path: &Path) -> ArrayD<T> {
    let (shape, v) = npy::<T>(path);
    ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
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

/// Writes a decoded array as `.npy` (flattened; the shape travels separately).
pub fn write_npy(path: &Path, a: &DecodedArray) {
    match a {
        DecodedArray::Int32(a) => npyz::to_file_1d(path, a.iter().copied()),
        DecodedArray::Int64(a) => npyz::to_file_1d(path, a.iter().copied()),
        DecodedArray::Float32(a) => npyz::to_file_1d(path, a.iter().copied()),
        DecodedArray::Float64(a) => npyz::to_file_1d(path, a.iter().copied()),
    }
    .unwrap();
}

/// Bit patterns of a decoded array (floats by bits, so `-0.0` differs from `0.0`).
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
    assert_eq!(b1.len(), b2.len(), "{what}: length");
    if let Some(i) = b1.iter().zip(&b2).position(|(a, b)| a != b) {
        panic!(
            "{what}: first difference at flat index {i}: {:#x} vs {:#x}",
            b1[i], b2[i]
        );
    }
}

/// A (nested) JSON list of bools, flattened in C order.
pub fn flat_bools(v: &Value) -> Vec<bool> {
    match v {
        Value::Array(a) => a.iter().flat_map(flat_bools).collect(),
        other => vec![other.as_bool().unwrap()],
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `dir` (relative paths, sorted).
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
