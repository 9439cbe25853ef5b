//! Interoperability with the reference Python package (flacarray 0.4.1 + h5py).
//!
//! Rust writes one HDF5 file holding all four dtypes (FLAC streams from
//! `flacarray-flac`, floats quantized by `flacarray-quant`) and the values it expects
//! as `.npy` files; Python flacarray reads the file with `flacarray.hdf5.read_array`
//! (full and keep-mask reads) and `FlacArray.read_hdf5(...).to_array()` and compares
//! bit for bit. Python then writes all four dtypes with `flacarray.hdf5.write_array`,
//! and Rust reads those groups and compares with what Python itself read back.
//!
//! The interpreter is `$FLACARRAY_PYTHON`, default `.venv-interop/bin/python` at the
//! repository root (made by `scripts/python-venv.sh`). The test is skipped, with a
//! note on stderr, only when that interpreter cannot `import flacarray, h5py`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;

use common::{Values, decode_all, npy_bits, stored};
use flacarray_core::{DType, FlacArray, StreamScaling};
use flacarray_flac::EncoderConfig;
use flacarray_hdf5::{Hdf5Store, WriteOptions, hdf5, read_file, read_file_meta, write_file};
use flacarray_quant::{Precision, QuantSpec, Quanta};
use flacarray_testkit::{python, run_python};
use serde_json::json;

/// What the interpreter must import for these tests to run.
const IMPORTS: &str = "flacarray, h5py, numpy";

/// Encodes `ints` (one or two channels interleaved) stream by stream.
fn pack(streams: &[Vec<i32>], channels: u32, level: u8) -> (Vec<i64>, Vec<i64>, Vec<u8>) {
    let config = EncoderConfig {
        level,
        channels,
        ..EncoderConfig::default()
    };
    let (mut starts, mut nbytes, mut compressed) = (Vec::new(), Vec::new(), Vec::new());
    for s in streams {
        let bytes = flacarray_flac::encode(s, &config).unwrap();
        starts.push(compressed.len() as i64);
        nbytes.push(bytes.len() as i64);
        compressed.extend_from_slice(&bytes);
    }
    (starts, nbytes, compressed)
}

fn split_i64(v: &[i64], stream_size: usize) -> Vec<Vec<i32>> {
    v.chunks(stream_size)
        .map(|c| {
            c.iter()
                .flat_map(|&x| [x as i32, (x >> 32) as i32])
                .collect()
        })
        .collect()
}

struct Written {
    group: &'static str,
    arr: FlacArray,
    shape: Vec<usize>,
    expected: Values,
}

fn build() -> Vec<Written> {
    let mut out = Vec::new();

    // int32, 3-d (2, 3, 500).
    let ss = 500;
    let v: Vec<i32> = (0..6 * ss)
        .map(|i| {
            let t = i as f64;
            ((t * 0.05).sin() * 1e6 + (t * 0.31).cos() * 3e3) as i32 ^ ((i as i32 % 7) << 20)
        })
        .collect();
    let streams: Vec<Vec<i32>> = v.chunks(ss).map(<[i32]>::to_vec).collect();
    let (starts, nbytes, comp) = pack(&streams, 1, 5);
    out.push(Written {
        group: "/",
        arr: stored(
            DType::Int32,
            vec![2, 3],
            ss as u64,
            starts,
            nbytes,
            StreamScaling::None,
            comp,
        ),
        shape: vec![2, 3, ss],
        expected: Values::I32(v),
    });

    // int64 crossing 2^32 boundaries and near the extremes, (3, 1000), level 8.
    let ss = 1000;
    let v: Vec<i64> = (0..3 * ss as i64)
        .map(|i| match i / ss as i64 {
            0 => (5 << 32) - 500 + i * 3,
            1 => i64::MIN + (i * i) % 1000,
            _ => -(1 << 40) + ((i as f64 * 0.01).sin() * 1e9) as i64,
        })
        .collect();
    let (starts, nbytes, comp) = pack(&split_i64(&v, ss), 2, 8);
    out.push(Written {
        group: "/i64",
        arr: stored(
            DType::Int64,
            vec![3],
            ss as u64,
            starts,
            nbytes,
            StreamScaling::None,
            comp,
        ),
        shape: vec![3, ss],
        expected: Values::I64(v),
    });

    // float32, (2, 2000), quanta 1e-3, level 0.
    let ss = 2000;
    let x: Vec<f32> = (0..2 * ss)
        .map(|i| (i as f32 * 0.01).sin() * 20.0 + 1000.0 * (i / ss) as f32)
        .collect();
    let q = flacarray_quant::quantize(&x, ss, &QuantSpec::Quanta(Quanta::Scalar(1e-3))).unwrap();
    let streams: Vec<Vec<i32>> = q.ints.chunks(ss).map(<[i32]>::to_vec).collect();
    let (starts, nbytes, comp) = pack(&streams, 1, 0);
    let expected = flacarray_quant::dequantize(&q.ints, ss, &q.offsets, &q.gains).unwrap();
    out.push(Written {
        group: "/f32",
        arr: stored(
            DType::Float32,
            vec![2],
            ss as u64,
            starts,
            nbytes,
            StreamScaling::F32 {
                offsets: q.offsets,
                gains: q.gains,
            },
            comp,
        ),
        shape: vec![2, ss],
        expected: Values::F32(expected),
    });

    // float64, (4, 777), precision 6, in a nested group.
    let ss = 777;
    let x: Vec<f64> = (0..4 * ss)
        .map(|i| (i as f64 * 0.003).cos() * 1e-3 * (1 + i / ss) as f64 + 273.15)
        .collect();
    let q = flacarray_quant::quantize(&x, ss, &QuantSpec::Precision(Precision::Scalar(6))).unwrap();
    let (starts, nbytes, comp) = pack(&split_i64(&q.ints, ss), 2, 5);
    let expected = flacarray_quant::dequantize(&q.ints, ss, &q.offsets, &q.gains).unwrap();
    out.push(Written {
        group: "/deep/er/f64",
        arr: stored(
            DType::Float64,
            vec![4],
            ss as u64,
            starts,
            nbytes,
            StreamScaling::F64 {
                offsets: q.offsets,
                gains: q.gains,
            },
            comp,
        ),
        shape: vec![4, ss],
        expected: Values::F64(expected),
    });

    // A single int32 stream (a 1-d array, leading shape [1]).
    let ss = 1234;
    let v: Vec<i32> = (0..ss as i32).map(|i| i * i - 600_000).collect();
    let (starts, nbytes, comp) = pack(std::slice::from_ref(&v), 1, 3);
    out.push(Written {
        group: "/single",
        arr: stored(
            DType::Int32,
            vec![1],
            ss as u64,
            starts,
            nbytes,
            StreamScaling::None,
            comp,
        ),
        shape: vec![ss],
        expected: Values::I32(v),
    });
    out
}

fn write_npy(path: &Path, values: &Values) {
    match values {
        Values::I32(v) => npyz::to_file_1d(path, v.iter().copied()),
        Values::I64(v) => npyz::to_file_1d(path, v.iter().copied()),
        Values::F32(v) => npyz::to_file_1d(path, v.iter().copied()),
        Values::F64(v) => npyz::to_file_1d(path, v.iter().copied()),
    }
    .unwrap();
}

/// Held by each test for its whole run. HDF5 locks the files it opens with `flock`,
/// and a Python process spawned by one test while the other has an HDF5 file open
/// inherits that descriptor, lock included, until it exits: the other test's next open
/// of its file then fails with "unable to lock file" (seen under load). One test at a
/// time avoids the race.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const PY_SCRIPT: &str = r#"
import json, sys
import h5py, numpy as np
import flacarray
from flacarray.hdf5 import read_array, write_array
import interop

d = sys.argv[1]
manifest = json.load(open(f"{d}/manifest.json"))
with h5py.File(f"{d}/rust.h5", "r") as f:
    for e in manifest:
        g = f[e["group"]]
        interop.check_group(g, e, d, read_array, flacarray.FlacArray.read_hdf5, "read_hdf5")
        if e["group"] == "/f32":
            assert g.attrs["units"] == "K", "user attribute lost"
            assert g.attrs["flacarray_format_version"] == "1"

# Python writes all four dtypes; Rust reads them back.
with h5py.File(f"{d}/python.h5", "w") as f:
    for name, (arr, kw) in interop.python_arrays(np.random.default_rng(5)).items():
        g = f.require_group(f"/py/{name}")
        write_array(arr, g, level=5, **kw)
        back = read_array(g)
        np.save(f"{d}/py_{name}.npy", back.reshape(-1))
print(f"OK {interop.checks}")
"#;

#[test]
fn python_flacarray_reads_rust_files_and_rust_reads_python_files() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(py) = python("FLACARRAY_PYTHON", ".venv-interop/bin/python", IMPORTS) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let h5 = d.join("rust.h5");
    let written = build();
    let mut manifest = Vec::new();
    for (k, w) in written.iter().enumerate() {
        // What Rust expects is also what Rust itself decodes.
        assert_eq!(decode_all(&w.arr), w.expected, "{}", w.group);
        if w.group == "/f32" {
            let f = hdf5::File::append(&h5).unwrap();
            f.create_group("f32")
                .unwrap()
                .new_attr::<hdf5::types::VarLenUnicode>()
                .create("units")
                .unwrap()
                .write_scalar(&"K".parse::<hdf5::types::VarLenUnicode>().unwrap())
                .unwrap();
        }
        write_file(&h5, w.group, &w.arr, WriteOptions::default()).unwrap();
        assert_eq!(read_file(&h5, w.group, None).unwrap(), w.arr);
        let npy = format!("expected_{k}.npy");
        write_npy(&d.join(&npy), &w.expected);
        manifest.push(json!({"group": w.group, "npy": npy, "shape": w.shape}));
    }
    std::fs::write(
        d.join("manifest.json"),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
    let stdout = run_python(&py, d, "check.py", PY_SCRIPT, &[d.to_str().unwrap()]);
    // 3 comparisons per group.
    assert_eq!(stdout.trim(), format!("OK {}", 3 * written.len()));

    // Rust reads what Python wrote and matches what Python read back.
    let py_h5 = d.join("python.h5");
    for (name, dtype) in [
        ("i32", DType::Int32),
        ("i64", DType::Int64),
        ("f32", DType::Float32),
        ("f64", DType::Float64),
    ] {
        let group = format!("/py/{name}");
        let meta = read_file_meta(&py_h5, &group).unwrap();
        assert_eq!(meta.dtype, dtype);
        let store = Hdf5Store::open(&py_h5, &group).unwrap();
        assert_eq!(store.software_version().unwrap(), Some("0.4.1"));
        drop(store);
        let arr = read_file(&py_h5, &group, None).unwrap();
        let (_, npy_dtype, bits) = npy_bits(&d.join(format!("py_{name}.npy")));
        assert_eq!(npy_dtype, dtype.name());
        assert!(decode_all(&arr).bits() == bits, "{group}: values differ");
    }
}

/// Python (flacarray 0.4.1) writes a matrix of groups: every level 0-8, all four
/// dtypes, 1-D to 4-D shapes, quanta and precision, groups at depths 0 to 3; the Rust
/// read path (`Hdf5Store` + `flacarray_core::read_array`) must return exactly what
/// Python's own `read_array` returns, shape and bits.
const PY_MATRIX: &str = r#"
import json, sys
import h5py, numpy as np
from flacarray.hdf5 import read_array, write_array
d = sys.argv[1]
rng = np.random.default_rng(11)
shapes = [(1500,), (3, 1200), (2, 2, 900), (2, 1, 2, 700)]
dtypes = ["int32", "int64", "float32", "float64"]
cases = []
with h5py.File(f"{d}/matrix.h5", "w") as f:
    for level in range(9):
        for k, dt in enumerate(dtypes):
            shape = shapes[(level + k) % 4]
            base = np.cumsum(rng.normal(size=shape) * 50.0, axis=-1) + rng.normal(size=shape) * 20.0
            kw = {}
            if dt.startswith("int"):
                arr = (base + (2**40 if dt == "int64" else 0)).astype(dt)
            else:
                arr = base.astype(dt)
                kw = {"quanta": 1e-3} if (level + k) % 2 == 0 else {"precision": 4}
            # Depths 1 to 3 below a per-case group; level 0 int32 alone goes to the root.
            depth = 0 if (level, k) == (0, 0) else 1 + (level + k) % 3
            group = "/" + "/".join([f"l{level}_{dt}", "deep", "er"][:depth]) if depth else None
            g = f if group is None else f.require_group(group)
            write_array(arr, g, level=level, **kw)
            back = read_array(g)
            npy = f"m_{level}_{dt}.npy"
            np.save(f"{d}/{npy}", back)
            cases.append({"group": group or "/", "npy": npy, "shape": list(back.shape), "dtype": dt})
json.dump(cases, open(f"{d}/matrix.json", "w"))
print(len(cases))
"#;

#[test]
fn rust_reads_python_written_matrix_bit_for_bit() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    use flacarray_core::{DecodedArray, ReadOptions, read_array};
    use flacarray_hdf5::Hdf5Store;
    let Some(py) = python("FLACARRAY_PYTHON", ".venv-interop/bin/python", IMPORTS) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_python(&py, d, "matrix.py", PY_MATRIX, &[d.to_str().unwrap()]);
    let cases: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(d.join("matrix.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 36);
    let path = d.join("matrix.h5");
    for c in &cases {
        let group = c["group"].as_str().unwrap();
        let (shape, dtype, bits) = npy_bits(&d.join(c["npy"].as_str().unwrap()));
        let store = Hdf5Store::open(&path, group).unwrap();
        let sel = read_array(&store, &ReadOptions::default()).unwrap();
        let got_shape: Vec<u64> = sel.array.shape().iter().map(|&s| s as u64).collect();
        assert_eq!(got_shape, shape, "{group}: shape");
        let got = match sel.array {
            DecodedArray::Int32(a) => Values::I32(a.iter().copied().collect()),
            DecodedArray::Int64(a) => Values::I64(a.iter().copied().collect()),
            DecodedArray::Float32(a) => Values::F32(a.iter().copied().collect()),
            DecodedArray::Float64(a) => Values::F64(a.iter().copied().collect()),
        };
        assert_eq!(dtype, c["dtype"].as_str().unwrap(), "{group}");
        assert!(
            got.bits() == bits,
            "{group} ({dtype}): values differ from Python's read"
        );
    }
}
