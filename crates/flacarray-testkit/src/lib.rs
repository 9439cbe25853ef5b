//! Test support shared by the integration tests of the workspace (a dev-dependency
//! only, never published): the reference fixtures under `fixtures/` (cases written by
//! Python flacarray, each a folder with a `case.json`), `.npy` files, bit-exact
//! comparison of decoded arrays, and the numpy-style reference selection that reads
//! are checked against.
//!
//! Every function panics with a message naming the file on any problem: these are
//! test helpers, where a panic is the failure report.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a panic is the test failure"
)]

use std::ops::Range;
use std::path::{Path, PathBuf};

use flacarray_core::{DType, DecodedArray};
use ndarray::{ArrayD, Axis, IxDyn, Slice};
use serde_json::Value;

/// `fixtures/<sub>` at the workspace root.
#[must_use]
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(sub)
}

/// A JSON file.
#[must_use]
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture case: its folder and its parsed `case.json`.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case folder.
    pub dir: PathBuf,
    /// `case.json`.
    pub json: Value,
}

impl Case {
    /// The folder name.
    #[must_use]
    pub fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    /// The HDF5 file of an HDF5 case.
    #[must_use]
    pub fn h5(&self) -> PathBuf {
        self.dir.join("data.h5")
    }

    /// The store of a Zarr case.
    #[must_use]
    pub fn zarr(&self) -> PathBuf {
        self.dir.join("data.zarr")
    }

    /// The groups written in the file.
    #[must_use]
    pub fn groups(&self) -> Vec<String> {
        self.json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_owned())
            .collect()
    }

    /// The array's element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        let name = self.json["dtype"].as_str().unwrap();
        DType::from_name(name).unwrap_or_else(|e| panic!("{}: dtype {name}: {e}", self.name()))
    }

    /// The shape of the array written.
    #[must_use]
    pub fn shape(&self) -> Vec<u64> {
        self.json["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    }

    /// The stored leading shape: `shape[..-1]`, or `[1]` for a 1-d array.
    #[must_use]
    pub fn leading_shape(&self) -> Vec<usize> {
        let shape = self.shape();
        if shape.len() == 1 {
            vec![1]
        } else {
            shape[..shape.len() - 1]
                .iter()
                .map(|&d| usize::try_from(d).unwrap())
                .collect()
        }
    }

    /// Samples per stream.
    #[must_use]
    pub fn stream_size(&self) -> u64 {
        self.json["stream_size"].as_u64().unwrap()
    }

    /// The reads the reference made, with their expected outputs.
    #[must_use]
    pub fn reads(&self) -> Vec<Value> {
        self.json["reads"].as_array().unwrap().clone()
    }
}

/// Every case under `fixtures/<sub>` whose `case.json` names `file` (`data.h5` or
/// `data.zarr`), sorted by name.
#[must_use]
pub fn cases(sub: &str, file: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures(sub)).unwrap() {
        let dir = entry.unwrap().path();
        let cj = dir.join("case.json");
        if !cj.exists() {
            continue;
        }
        let json = json(&cj);
        if json["file"].as_str() == Some(file) {
            out.push(Case { dir, json });
        }
    }
    out.sort_by_key(Case::name);
    out
}

/// Shape and values of a `.npy` file.
#[must_use]
pub fn npy<T: npyz::Deserialize>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = file
        .shape()
        .iter()
        .map(|&s| usize::try_from(s).unwrap())
        .collect();
    (shape, file.into_vec::<T>().unwrap())
}

/// A `.npy` file as an ndarray.
#[must_use]
pub fn npy_array<T: npyz::Deserialize>(path: &Path) -> ArrayD<T> {
    let (shape, v) = npy::<T>(path);
    ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
}

/// The dtype string of a `.npy` file (`"<i4"`, `"<f8"`, ...).
#[must_use]
pub fn npy_dtype(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    file.header().dtype().descr()
}

/// A `.npy` file as a [`DecodedArray`] of `dtype`.
#[must_use]
pub fn npy_decoded(path: &Path, dtype: DType) -> DecodedArray {
    match dtype {
        DType::Int32 => DecodedArray::Int32(npy_array(path)),
        DType::Int64 => DecodedArray::Int64(npy_array(path)),
        DType::Float32 => DecodedArray::Float32(npy_array(path)),
        DType::Float64 => DecodedArray::Float64(npy_array(path)),
    }
}

/// Writes a decoded array as a 1-d `.npy` (the shape travels separately).
pub fn write_npy(path: &Path, a: &DecodedArray) {
    match a {
        DecodedArray::Int32(a) => npyz::to_file_1d(path, a.iter().copied()),
        DecodedArray::Int64(a) => npyz::to_file_1d(path, a.iter().copied()),
        DecodedArray::Float32(a) => npyz::to_file_1d(path, a.iter().copied()),
        DecodedArray::Float64(a) => npyz::to_file_1d(path, a.iter().copied()),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Shape and bit patterns of a decoded array, for exact comparison (floats by bits,
/// so `-0.0` differs from `0.0` and NaNs compare by payload).
#[must_use]
pub fn bits(a: &DecodedArray) -> (Vec<usize>, Vec<u64>) {
    let shape = a.shape().to_vec();
    // `as` reinterprets the integers' two's-complement bits, which is the point.
    #[allow(clippy::cast_sign_loss)]
    let v: Vec<u64> = match a {
        DecodedArray::Int32(a) => a.iter().map(|&x| u64::from(x as u32)).collect(),
        DecodedArray::Int64(a) => a.iter().map(|&x| x as u64).collect(),
        DecodedArray::Float32(a) => a.iter().map(|&x| u64::from(x.to_bits())).collect(),
        DecodedArray::Float64(a) => a.iter().map(|&x| x.to_bits()).collect(),
    };
    (shape, v)
}

/// Asserts two decoded arrays are equal bit for bit (dtype, shape, every value).
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
#[must_use]
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
#[must_use]
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

/// `full` (the global array) with `keep` over its streams and the samples `range`
/// applied, as numpy (and flacarray 0.4.1) return them: kept streams come out 2-d,
/// 1-d when exactly one is kept or the array holds one stream, unless `no_flatten`.
#[must_use]
pub fn reference_slice<T: Clone>(
    full: &ArrayD<T>,
    keep: Option<&[bool]>,
    range: Range<usize>,
    no_flatten: bool,
) -> ArrayD<T> {
    let n = *full.shape().last().unwrap();
    let flat = full.to_shape((full.len() / n, n)).unwrap().to_owned();
    let rows: Vec<usize> = match keep {
        None => (0..flat.nrows()).collect(),
        Some(k) => (0..flat.nrows()).filter(|&i| k[i]).collect(),
    };
    let picked = flat.select(Axis(0), &rows);
    let sliced = picked.slice_axis(Axis(1), Slice::from(range)).to_owned();
    let mut shape: Vec<usize> = match keep {
        None => full.shape()[..full.ndim() - 1].to_vec(),
        Some(_) => vec![rows.len()],
    };
    shape.push(sliced.ncols());
    if shape.len() == 2
        && shape[0] == 1
        && !no_flatten
        && (keep.is_some() || full.shape()[..full.ndim() - 1] == [1])
    {
        shape.remove(0);
    }
    sliced.into_shape_with_order(shape).unwrap().into_dyn()
}

/// [`reference_slice`] of any of the four element types.
#[must_use]
pub fn reference_decoded(
    full: &DecodedArray,
    keep: Option<&[bool]>,
    range: Range<usize>,
    no_flatten: bool,
) -> DecodedArray {
    match full {
        DecodedArray::Int32(a) => DecodedArray::Int32(reference_slice(a, keep, range, no_flatten)),
        DecodedArray::Int64(a) => DecodedArray::Int64(reference_slice(a, keep, range, no_flatten)),
        DecodedArray::Float32(a) => {
            DecodedArray::Float32(reference_slice(a, keep, range, no_flatten))
        }
        DecodedArray::Float64(a) => {
            DecodedArray::Float64(reference_slice(a, keep, range, no_flatten))
        }
    }
}

/// flacarray 0.2.4 returns a single stored stream as `(1, N)`; we follow 0.4.1 and
/// return `(N,)` (fixture README quirk 7, v0 README "shape differs"). Reshapes the
/// 0.2.4 expectation `exp` in that one case; values are still compared bit for bit.
#[must_use]
pub fn flatten_v0(exp: DecodedArray, ours: &DecodedArray) -> DecodedArray {
    let (es, os) = (exp.shape().to_vec(), ours.shape().to_vec());
    if es.len() == 2 && es[0] == 1 && os == es[1..] {
        let f = es[1..].to_vec();
        match exp {
            DecodedArray::Int32(a) => DecodedArray::Int32(a.into_shape_with_order(f).unwrap()),
            DecodedArray::Int64(a) => DecodedArray::Int64(a.into_shape_with_order(f).unwrap()),
            DecodedArray::Float32(a) => DecodedArray::Float32(a.into_shape_with_order(f).unwrap()),
            DecodedArray::Float64(a) => DecodedArray::Float64(a.into_shape_with_order(f).unwrap()),
        }
    } else {
        exp
    }
}

/// A small `(2, 300)` int32 FlacArray whose values scale with `seed`: different seeds
/// give different arrays, for tests that write, refuse and replace a group.
#[must_use]
pub fn seeded_array(seed: i32) -> flacarray_core::FlacArray {
    let a = ndarray::Array2::from_shape_fn((2, 300), |(i, j)| (i * 1000 + j) as i32 * seed);
    flacarray_core::FlacArray::from_array(&a, &flacarray_core::CompressOptions::default())
        .expect("compress the seeded test array")
}
