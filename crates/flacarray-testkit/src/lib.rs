//! Test support shared by the integration tests of the workspace (a dev-dependency
//! only, never published): the reference fixtures under `fixtures/` (cases written by
//! Python flacarray, each a folder with a `case.json`), `.npy` files, bit-exact
//! comparison of decoded arrays, the numpy-style reference selection that reads
//! are checked against, and the running of the reference Python package
//! ([`python`], [`run_python`]).
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
use std::process::Command;

use std::cell::Cell;

use flacarray_core::integrity::StoredChecksums;
use flacarray_core::{
    CompressOptions, DType, DecodedArray, FlacArrayReader, QuantaOption, ReadOptions, SampleSlice,
    Selection, StoredMeta, StreamTable, read_array, read_flacarray,
};
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

/// The case `fixtures/<sub>/<name>`.
#[must_use]
pub fn case(sub: &str, name: &str) -> Case {
    let dir = fixtures(sub).join(name);
    let json = json(&dir.join("case.json"));
    Case { dir, json }
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

/// The helper module of the Python interop scripts (`interop.py`: `same`,
/// `check_group`, `python_arrays`), written next to each script by [`run_python`].
pub const INTEROP_PY: &str = include_str!("../python/interop.py");

/// The interpreter named by `$var` (default: `default`, relative to the workspace
/// root, a venv made by `scripts/python-venv.sh`), if it can `import {imports}`.
///
/// When it cannot, the test is skipped with a note on stderr, unless
/// `FLACARRAY_REQUIRE_PYTHON=1` (set by `scripts/test.sh`, so in CI): then a missing
/// reference package is a failure and this panics.
#[must_use]
pub fn python(var: &str, default: &str, imports: &str) -> Option<PathBuf> {
    let py = std::env::var_os(var).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(default)
        },
        PathBuf::from,
    );
    let ok = Command::new(&py)
        .args(["-c", &format!("import {imports}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(py)
    } else if std::env::var_os("FLACARRAY_REQUIRE_PYTHON").is_some_and(|v| v == "1") {
        panic!(
            "FLACARRAY_REQUIRE_PYTHON=1 but `{} -c \"import {imports}\"` failed; \
             run scripts/python-venv.sh",
            py.display()
        );
    } else {
        eprintln!(
            "NOTE: skipping a Python interop test: `{} -c \"import {imports}\"` failed. \
             Run scripts/python-venv.sh or set {var}.",
            py.display()
        );
        None
    }
}

/// Runs `script` (saved as `dir/<name>`, next to [`INTEROP_PY`] as `dir/interop.py`)
/// with `args`; returns its stdout, panicking with both streams when it fails.
pub fn run_python(py: &Path, dir: &Path, name: &str, script: &str, args: &[&str]) -> String {
    std::fs::write(dir.join("interop.py"), INTEROP_PY).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, script).unwrap();
    let out = Command::new(py).arg(&file).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} {name} failed:\nstdout: {stdout}\nstderr: {stderr}",
        py.display()
    );
    stdout
}

/// A read's `expected_keep_indices`: the leading index of every kept stream.
#[must_use]
pub fn index_tuples(v: &Value) -> Vec<Vec<usize>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t.as_array()
                .unwrap()
                .iter()
                .map(|v| usize::try_from(v.as_u64().unwrap()).unwrap())
                .collect()
        })
        .collect()
}

/// Counts of [`check_reference_reads`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadsChecked {
    /// Reads compared.
    pub reads: usize,
    /// Of those, full reads (no keep mask, no sample slice, no key).
    pub full: usize,
}

/// Replays every read the reference recorded in `reads` (a case's `case.json`) for
/// `group` against `store` and compares with the reference's output (`.npy` files
/// under `case_dir`), bit for bit: `[key]` reads through [`read_flacarray`] and
/// `FlacArray::select`; keep-mask and sample-slice reads through [`read_array`], the
/// in-memory path (read everything, then select) agreeing, and the kept indices when
/// asked. `v0` marks flacarray 0.2.4 output ([`flatten_v0`]); slices that 0.4.1 ignores
/// (a `None` or negative bound, its quirk 1) are compared with [`reference_decoded`].
pub fn check_reference_reads<R>(
    store: &R,
    case_dir: &Path,
    reads: &[Value],
    group: &str,
    v0: bool,
    what: &str,
) -> ReadsChecked
where
    R: FlacArrayReader,
    R::Error: std::fmt::Display,
{
    let meta = store.metadata().unwrap_or_else(|e| panic!("{what}: {e}"));
    let (dtype, ss) = (meta.dtype, meta.stream_size);
    let whole = |no_flatten| {
        read_array(
            store,
            &ReadOptions {
                no_flatten,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .array
    };
    // The same values in global shape, for computing the quirk reads.
    let global = whole(true);
    let mut done = ReadsChecked::default();
    for (k, read) in reads.iter().enumerate() {
        if read["group"].as_str() != Some(group) {
            continue;
        }
        let what = format!("{what}: read {k} ({})", read["function"]);
        let expected_file = case_dir.join(read["expected"].as_str().unwrap());
        let no_flatten = read["no_flatten"].as_bool().unwrap_or(false);
        if let Some(key) = read["key"].as_str() {
            let fa = read_flacarray(store, None, no_flatten).unwrap_or_else(|e| panic!("{e}"));
            let ours = fa.select(key).unwrap();
            assert_same(&ours, &npy_decoded(&expected_file, dtype), &what);
            done.reads += 1;
            continue;
        }
        let keep: Option<Vec<bool>> = (!read["keep"].is_null()).then(|| flat_bools(&read["keep"]));
        let (slice, quirk) = match read["stream_slice"].as_array() {
            None => (SampleSlice::FULL, false),
            Some(b) => {
                let s = SampleSlice::new(b[0].as_i64(), b[1].as_i64());
                // 0.4.1 ignores a slice with a None or negative bound (quirk 1).
                let quirk = b
                    .iter()
                    .any(|v| v.is_null() || v.as_i64().is_some_and(|x| x < 0));
                (s, quirk)
            }
        };
        let opts = ReadOptions {
            keep: keep.as_deref(),
            stream_slice: slice,
            keep_indices: read["keep_indices"].as_bool().unwrap_or(false),
            no_flatten,
            threads: None,
        };
        let sel = read_array(store, &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want = if quirk {
            reference_decoded(
                &global,
                keep.as_deref(),
                slice.resolve(ss).unwrap(),
                no_flatten,
            )
        } else if v0 {
            flatten_v0(npy_decoded(&expected_file, dtype), &sel.array)
        } else {
            npy_decoded(&expected_file, dtype)
        };
        assert_same(&sel.array, &want, &what);
        if keep.is_none() && read["stream_slice"].is_null() {
            assert_same(&whole(false), &want, &format!("{what}: full read"));
            done.full += 1;
        }
        if opts.keep_indices {
            let exp = index_tuples(&read["expected_keep_indices"]);
            assert_eq!(sel.indices.as_ref().unwrap(), &exp, "{what}: indices");
        }
        // The in-memory path (read everything, then select) agrees.
        let fa = read_flacarray(store, None, no_flatten).unwrap_or_else(|e| panic!("{e}"));
        let again = fa.decompress(&opts).unwrap();
        assert_same(&again.array, &sel.array, &format!("{what}: in-memory"));
        done.reads += 1;
    }
    done
}

/// [`read_array`] of every sample of the streams whose `keep` entry is true.
pub fn read_kept<R>(store: &R, keep: &[bool]) -> Selection
where
    R: FlacArrayReader,
    R::Error: std::fmt::Display,
{
    let opts = ReadOptions {
        keep: Some(keep),
        ..Default::default()
    };
    read_array(store, &opts).unwrap_or_else(|e| panic!("keep-mask read: {e}"))
}

/// Asserts that `text` (typically an error message) contains `needle`, showing the
/// whole text when it does not.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} not in: {text}");
}

/// A reader that counts the bytes it is asked for ([`check_range_reads`]).
pub struct Counting<R> {
    /// The reader counted.
    pub inner: R,
    /// Bytes of `compressed` asked for so far.
    pub bytes: Cell<u64>,
}

impl<R: FlacArrayReader> FlacArrayReader for Counting<R> {
    type Error = R::Error;
    fn metadata(&self) -> Result<StoredMeta, R::Error> {
        self.inner.metadata()
    }
    fn read_stream_table(
        &self,
        m: &StoredMeta,
        rows: Range<usize>,
    ) -> Result<StreamTable, R::Error> {
        self.inner.read_stream_table(m, rows)
    }
    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<(), R::Error> {
        self.bytes.set(self.bytes.get() + out.len() as u64);
        self.inner.read_bytes(start, out)
    }
    fn checksums(&self) -> Result<StoredChecksums, R::Error> {
        self.inner.checksums()
    }
}

/// Two float32 timestreams of `n` samples (drift, a tone and white noise) for
/// [`check_range_reads`]; [`range_read_options`] quantizes them.
#[must_use]
pub fn long_signal(n: usize) -> ndarray::Array2<f32> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    ndarray::Array2::from_shape_fn((2, n), |(r, i)| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = i as f64;
        let noise = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.4;
        (1.0 + r as f64 + 0.2 * (t * 1e-3).sin() + noise) as f32
    })
}

/// The compression of [`long_signal`] in the range-read tests: quanta 1e-4.
#[must_use]
pub fn range_read_options() -> CompressOptions {
    CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        ..Default::default()
    }
}

/// With `store` holding [`long_signal`] (written with [`range_read_options`]): a 1%
/// sample range of the second stream, at the start, the middle and the end, equals
/// the full decode's samples and fetches at most 3% of that stream's bytes.
pub fn check_range_reads<R: FlacArrayReader>(store: R)
where
    R::Error: std::fmt::Debug,
{
    let store = Counting {
        inner: store,
        bytes: Cell::new(0),
    };
    let meta = store.metadata().unwrap();
    let n = meta.stream_size;
    let full = read_array(&store, &ReadOptions::default()).unwrap().array;
    let full = full.as_array::<f32>().unwrap().clone();
    let total = store.bytes.get();
    assert_eq!(total, meta.total_bytes);
    for start in [0, 250_001, n - n / 100] {
        store.bytes.set(0);
        let keep = [false, true];
        let sel = read_array(
            &store,
            &ReadOptions {
                keep: Some(&keep),
                stream_slice: SampleSlice::new(Some(start as i64), Some((start + n / 100) as i64)),
                ..Default::default()
            },
        )
        .unwrap()
        .array;
        let got = sel.as_array::<f32>().unwrap();
        let row: Vec<f32> = full.index_axis(Axis(0), 1).iter().copied().collect();
        assert_eq!(got.as_slice().unwrap(), &row[start..start + n / 100]);
        // One stream of the two is kept: its bytes are half the total.
        let read = store.bytes.get();
        assert!(
            read * 100 <= total / 2 * 3,
            "1% from {start}: read {read} of the stream's {} bytes",
            total / 2
        );
    }
}

/// Bytes the calling thread has read through system calls so far (`rchar` of
/// `/proc/thread-self/io`: every `read` and `pread`, whatever the storage library
/// buffers), or `None` where the kernel does not tell (not Linux).
#[must_use]
pub fn thread_rchar() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/thread-self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
}

/// Bytes `f` reads through system calls on this thread (the reads of
/// `/proc/thread-self/io` itself taken out).
///
/// # Panics
/// Where [`thread_rchar`] is `None`.
pub fn syscall_bytes<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let rchar = || thread_rchar().expect("/proc/thread-self/io");
    let before = rchar();
    // One reading of the file costs this many bytes of rchar.
    let own = rchar() - before;
    let v = f();
    (v, rchar() - before - 2 * own)
}

/// With `open` opening a store that holds [`long_signal`] (written with
/// [`range_read_options`]): a 1% sample range of the second stream, at the start,
/// the middle and the end, opening the store included, reads from storage at most 3%
/// of the bytes a full decode reads for that stream (half of the full decode's reads),
/// counting the bytes of every system call, so that what the storage library reads
/// around the requested ranges (HDF5's sieve buffer, whole Zarr chunks) counts too.
/// Returns the bytes read by the full decode and by each range, for reports.
///
/// # Panics
/// When a range reads more, or where [`thread_rchar`] is `None`.
pub fn check_file_range_reads<R, F>(open: F) -> (u64, Vec<u64>)
where
    R: FlacArrayReader,
    R::Error: std::fmt::Debug,
    F: Fn() -> R,
{
    let (full, total) = syscall_bytes(|| read_array(&open(), &ReadOptions::default()).unwrap());
    let full = full.array.as_array::<f32>().unwrap().clone();
    let n = full.shape()[1];
    let row: Vec<f32> = full.index_axis(Axis(0), 1).iter().copied().collect();
    let mut reads = Vec::new();
    for start in [0, n / 4 + 1, n - n / 100] {
        let keep = [false, true];
        let opts = ReadOptions {
            keep: Some(&keep),
            stream_slice: SampleSlice::new(Some(start as i64), Some((start + n / 100) as i64)),
            ..Default::default()
        };
        let (sel, read) = syscall_bytes(|| read_array(&open(), &opts).unwrap());
        let got = sel.array.as_array::<f32>().unwrap();
        assert_eq!(got.as_slice().unwrap(), &row[start..start + n / 100]);
        assert!(
            read * 100 <= total / 2 * 3,
            "1% from {start}: read {read} bytes from storage, a full decode {total} \
             (3% of one stream's half: {})",
            total / 2 * 3 / 100
        );
        reads.push(read);
    }
    (total, reads)
}

/// Checks the verdicts printed by `interop.extended_verdicts` ([`INTEROP_PY`]) for
/// `cases` (name and format version of each group Rust wrote): flacarray 0.4.1 reads
/// every format-1 group as the values Rust decodes, and refuses every format-2 group
/// (it looks for a loader module named after the version, `load_v2`). `what` names
/// the store in messages.
///
/// # Panics
/// When a verdict is missing or not the expected one.
pub fn check_extended_verdicts(stdout: &str, cases: &[(&str, u32)], what: &str) {
    let verdict: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{what}: verdicts {stdout:?}: {e}"));
    for &(name, version) in cases {
        let v = verdict[name]
            .as_str()
            .unwrap_or_else(|| panic!("{what} {name}: no verdict"));
        if version == 1 {
            assert_eq!(v, "equal", "{what} {name}");
        } else {
            assert!(
                v.starts_with("refused") && v.contains("load_v2"),
                "{what} {name}: {v}"
            );
        }
    }
}
