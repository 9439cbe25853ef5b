//! Interoperability with the reference Python package (flacarray 0.4.1) through
//! zarr-python 3 and zarr-python 2.
//!
//! * Rust writes a Zarr v3 store and a Zarr v2 store holding all four dtypes (one
//!   group with small `compressed` chunks, so that it spans several), plus the values
//!   Rust itself decodes as `.npy`; Python flacarray reads both stores through
//!   zarr-python 3, and the v2 store through zarr-python 2, with
//!   `flacarray.zarr.read_array` (full and keep-mask reads) and
//!   `FlacArray.read_zarr(...).to_array()`, and compares bit for bit.
//! * Python writes all four dtypes with `flacarray.zarr.write_array` (zarr-python 3:
//!   a v3 store; zarr-python 2: a v2 store) and saves what it reads back; Rust reads
//!   those groups and compares bit for bit.
//!
//! Interpreters: `$FLACARRAY_PYTHON` (default `.venv-interop/bin/python`, needs
//! flacarray and zarr 3) and `$FLACARRAY_PYTHON_ZARR2` (default
//! `.venv-interop-zarr2/bin/python`, flacarray and zarr 2), made by
//! `scripts/python-venv.sh`. A test is skipped, with a note on stderr, only when its
//! interpreter cannot import them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;

use common::{assert_same, npy, write_npy};
use flacarray_core::{
    CompressOptions, DType, DecodedArray, FlacArrayReader, PrecisionOption, QuantaOption,
    ReadOptions, conformance, read_array, write_array,
};
use flacarray_testkit::{python, run_python};
use flacarray_zarr::{ZarrFormat, ZarrStore};
use ndarray::{ArrayD, IxDyn};
use serde_json::json;

/// What each interpreter must import for these tests to run.
const IMPORTS: &str = "flacarray, zarr, numpy";

struct Group {
    name: &'static str,
    data: DecodedArrayInput,
    opts: CompressOptions,
    chunk: Option<u64>,
}

enum DecodedArrayInput {
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
}

fn groups() -> Vec<Group> {
    let level = |level| CompressOptions {
        level,
        ..Default::default()
    };
    let mut extremes = conformance::synth_array::<i64>(&[3, 1000], 8);
    for (k, v) in extremes.iter_mut().enumerate() {
        if k / 1000 == 1 {
            *v = i64::MIN + (k as i64 * 7919) % 100_000;
        }
    }
    vec![
        Group {
            name: "/",
            data: DecodedArrayInput::I32(conformance::synth_array(&[2, 3, 500], 1)),
            opts: level(5),
            chunk: None,
        },
        Group {
            name: "/i64",
            data: DecodedArrayInput::I64(extremes),
            opts: level(8),
            chunk: None,
        },
        Group {
            name: "/f32",
            data: DecodedArrayInput::F32(conformance::synth_array(&[2, 2000], 3)),
            opts: CompressOptions {
                quanta: Some(QuantaOption::Scalar(1e-3)),
                level: 0,
                ..Default::default()
            },
            chunk: None,
        },
        Group {
            name: "/deep/er/f64",
            data: DecodedArrayInput::F64(conformance::synth_array(&[4, 3777], 4)),
            opts: CompressOptions {
                precision: Some(PrecisionOption::Scalar(6)),
                ..Default::default()
            },
            // Several chunks of `compressed`, with streams across chunk boundaries.
            chunk: Some(5000),
        },
        Group {
            name: "/sharded",
            data: DecodedArrayInput::F32(conformance::synth_array(&[6, 20_000], 6)),
            opts: CompressOptions {
                quanta: Some(QuantaOption::Scalar(1e-4)),
                ..Default::default()
            },
            // In a v3 store: shards of three 16 KiB inner chunks, streams across inner
            // chunk and shard boundaries.
            chunk: Some(40_000),
        },
        Group {
            name: "/single",
            data: DecodedArrayInput::I32(conformance::synth_array(&[1234], 5)),
            opts: level(3),
            chunk: None,
        },
    ]
}

/// Writes every group into a store of `format`; returns the manifest entries.
fn write_rust_store(
    path: &Path,
    format: ZarrFormat,
    dir: &Path,
    tag: &str,
) -> Vec<serde_json::Value> {
    let mut manifest = Vec::new();
    for (k, g) in groups().into_iter().enumerate() {
        let mut store = ZarrStore::create(path, g.name, false, format).unwrap();
        if let Some(c) = g.chunk {
            store = store.with_compressed_chunk(c);
        }
        let shape = match &g.data {
            DecodedArrayInput::I32(a) => {
                write_array(&mut store, a, &g.opts).unwrap();
                a.shape().to_vec()
            }
            DecodedArrayInput::I64(a) => {
                write_array(&mut store, a, &g.opts).unwrap();
                a.shape().to_vec()
            }
            DecodedArrayInput::F32(a) => {
                write_array(&mut store, a, &g.opts).unwrap();
                a.shape().to_vec()
            }
            DecodedArrayInput::F64(a) => {
                write_array(&mut store, a, &g.opts).unwrap();
                a.shape().to_vec()
            }
        };
        // What Rust decodes is what Python must return.
        let decoded = read_array(
            &ZarrStore::open(path, g.name).unwrap(),
            &ReadOptions::default(),
        )
        .unwrap()
        .array;
        assert_eq!(decoded.shape(), &shape[..], "{}", g.name);
        if let (DecodedArrayInput::I32(a), DecodedArray::Int32(b)) = (&g.data, &decoded) {
            assert_eq!(a, b, "{}: int32 is lossless", g.name);
        }
        if let (DecodedArrayInput::I64(a), DecodedArray::Int64(b)) = (&g.data, &decoded) {
            assert_eq!(a, b, "{}: int64 is lossless", g.name);
        }
        let npy_name = format!("{tag}_{k}.npy");
        write_npy(&dir.join(&npy_name), &decoded);
        manifest.push(json!({"group": g.name, "npy": npy_name, "shape": shape}));
    }
    manifest
}

const READ_RUST: &str = r#"
import json, sys
import zarr
import flacarray
from flacarray.zarr import read_array
import interop

d, store = sys.argv[1], sys.argv[2]
manifest = json.load(open(f"{d}/manifest_{store}.json"))
for e in manifest:
    path = e["group"].strip("/")
    g = zarr.open_group(store=f"{d}/{store}", mode="r", path=path) if path else zarr.open_group(store=f"{d}/{store}", mode="r")
    assert g.attrs["flacarray_format_version"] == "1"
    interop.check_group(g, e, d, read_array, flacarray.FlacArray.read_zarr, "read_zarr")
print(f"OK {interop.checks} zarr {zarr.__version__}")
"#;

const WRITE_PY: &str = r#"
import sys
import numpy as np
import zarr
from flacarray.zarr import read_array, write_array
import interop

d, store = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(5)
arrays = interop.python_arrays(rng)
# Large enough for zarr-python to split `compressed` into several chunks.
arrays["big"] = (rng.integers(-2**31, 2**31, size=(8, 200000)).astype(np.int32), {})
root = zarr.open_group(store=f"{d}/{store}", mode="w")
py = root.require_group("py")
for name, (arr, kw) in arrays.items():
    g = py.require_group(name)
    write_array(arr, g, level=5, **kw)
    back = read_array(g)
    np.save(f"{d}/{store}_{name}.npy", back)
if zarr.__version__.startswith("3"):
    # The int32 group again, re-chunked (compressed in 1000-byte chunks, tables in
    # chunks of 2 streams) with the gzip codec: any chunking, another codec.
    src = py["i32"]
    gz = py.require_group("gz")
    gz.attrs.update(dict(src.attrs))
    for name in ("stream_starts", "stream_bytes", "compressed"):
        a = src[name]
        chunks = (1000,) if name == "compressed" else (2,)
        b = gz.create_array(name, data=a[...], chunks=chunks,
                            compressors=zarr.codecs.GzipCodec(level=5))
        b.attrs.update(dict(a.attrs))
    np.save(f"{d}/{store}_gz.npy", read_array(gz))
print("OK", zarr.__version__)
"#;

/// Rust reads what Python wrote into `store` and compares with Python's own read.
fn rust_reads_python(d: &Path, store: &str, gzip: bool) -> usize {
    let path = d.join(store);
    let mut chunked = 0;
    let mut groups = vec![
        ("i32", DType::Int32),
        ("i64", DType::Int64),
        ("f32", DType::Float32),
        ("f64", DType::Float64),
        ("big", DType::Int32),
    ];
    if gzip {
        groups.push(("gz", DType::Int32));
    }
    for (name, dtype) in groups {
        let group = format!("/py/{name}");
        let zs = ZarrStore::open(&path, &group).unwrap_or_else(|e| panic!("{store}{group}: {e}"));
        assert_eq!(zs.software_version().unwrap(), Some("0.4.1"));
        let got = read_array(&zs, &ReadOptions::default()).unwrap().array;
        assert_eq!(got.dtype(), dtype, "{store}{group}");
        let file = d.join(format!("{store}_{name}.npy"));
        let want = match dtype {
            DType::Int32 => {
                let (s, v) = npy::<i32>(&file);
                DecodedArray::Int32(ArrayD::from_shape_vec(IxDyn(&s), v).unwrap())
            }
            DType::Int64 => {
                let (s, v) = npy::<i64>(&file);
                DecodedArray::Int64(ArrayD::from_shape_vec(IxDyn(&s), v).unwrap())
            }
            DType::Float32 => {
                let (s, v) = npy::<f32>(&file);
                DecodedArray::Float32(ArrayD::from_shape_vec(IxDyn(&s), v).unwrap())
            }
            DType::Float64 => {
                let (s, v) = npy::<f64>(&file);
                DecodedArray::Float64(ArrayD::from_shape_vec(IxDyn(&s), v).unwrap())
            }
        };
        assert_same(&got, &want, &format!("{store}{group}"));
        // A keep-mask read: the first and last streams.
        let n = zs.metadata().unwrap().n_streams();
        let keep: Vec<bool> = (0..n).map(|i| i == 0 || i == n - 1).collect();
        let kept = flacarray_testkit::read_kept(&zs, &keep).array;
        let (_, want_bits) = common::bits(&want);
        let (kept_shape, kept_bits) = common::bits(&kept);
        let ss = *want.shape().last().unwrap();
        assert_eq!(kept_shape, vec![2, ss], "{store}{group}: keep");
        assert_eq!(kept_bits[..ss], want_bits[..ss], "{store}{group}: keep");
        assert_eq!(
            kept_bits[ss..],
            want_bits[want_bits.len() - ss..],
            "{store}{group}: keep"
        );
        let chunks = common::files_under(&path.join(format!("py/{name}/compressed")))
            .into_iter()
            .filter(|f| !f.starts_with('.') && f != "zarr.json")
            .count();
        if chunks > 1 {
            chunked += 1;
        }
    }
    chunked
}

#[test]
fn python_zarr3_reads_rust_stores_and_rust_reads_python_stores() {
    let Some(py) = python("FLACARRAY_PYTHON", ".venv-interop/bin/python", IMPORTS) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (store, format) in [
        ("rust_v3.zarr", ZarrFormat::V3),
        ("rust_v2.zarr", ZarrFormat::V2),
    ] {
        let tag = store.trim_end_matches(".zarr");
        let manifest = write_rust_store(&d.join(store), format, d, tag);
        let meta = std::fs::read_to_string(d.join(store).join("sharded/compressed/zarr.json"));
        assert_eq!(
            meta.is_ok_and(|m| m.contains("sharding_indexed")),
            format == ZarrFormat::V3,
            "{store}: `compressed` of /sharded is sharded in v3 only"
        );
        std::fs::write(
            d.join(format!("manifest_{store}.json")),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
        let out = run_python(
            &py,
            d,
            "read_rust.py",
            READ_RUST,
            &[d.to_str().unwrap(), store],
        );
        assert!(
            out.trim()
                .starts_with(&format!("OK {} zarr 3.", 3 * manifest.len())),
            "{store}: {out}"
        );
    }
    let out = run_python(
        &py,
        d,
        "write.py",
        WRITE_PY,
        &[d.to_str().unwrap(), "python_v3.zarr"],
    );
    assert!(out.starts_with("OK 3."), "{out}");
    assert!(d.join("python_v3.zarr/py/i32/zarr.json").is_file());
    let chunked = rust_reads_python(d, "python_v3.zarr", true);
    assert!(d.join("python_v3.zarr/py/gz/compressed/c/5").is_file());
    let gz_meta =
        std::fs::read_to_string(d.join("python_v3.zarr/py/gz/compressed/zarr.json")).unwrap();
    assert!(gz_meta.contains("\"gzip\""), "{gz_meta}");
    // zarr-python 3 splits the large group's `compressed` into several chunks.
    assert!(chunked >= 1, "no multi-chunk group");
}

#[test]
fn python_zarr2_reads_rust_v2_stores_and_rust_reads_zarr2_stores() {
    let Some(py) = python(
        "FLACARRAY_PYTHON_ZARR2",
        ".venv-interop-zarr2/bin/python",
        IMPORTS,
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = "rust_v2.zarr";
    let manifest = write_rust_store(&d.join(store), ZarrFormat::V2, d, "rust_v2");
    std::fs::write(
        d.join(format!("manifest_{store}.json")),
        serde_json::to_string(&manifest).unwrap(),
    )
    .unwrap();
    let out = run_python(
        &py,
        d,
        "read_rust.py",
        READ_RUST,
        &[d.to_str().unwrap(), store],
    );
    assert!(
        out.trim()
            .starts_with(&format!("OK {} zarr 2.", 3 * manifest.len())),
        "{out}"
    );
    let out = run_python(
        &py,
        d,
        "write.py",
        WRITE_PY,
        &[d.to_str().unwrap(), "python_v2.zarr"],
    );
    assert!(out.starts_with("OK 2."), "{out}");
    assert!(d.join("python_v2.zarr/py/i32/.zgroup").is_file());
    assert!(d.join("python_v2.zarr/py/i32/compressed/.zarray").is_file());
    let chunked = rust_reads_python(d, "python_v2.zarr", false);
    assert!(chunked >= 1, "no multi-chunk group");
}
