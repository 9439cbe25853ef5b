//! End-to-end tests of the array commands (`compress`, `decompress`, `info`, `verify`,
//! `demo`, `bench`) on temporary `.npy` and HDF5 files. Expected selections are
//! computed with ndarray slicing of the input, the numpy equivalents.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{Dir, assert_fails, assert_ok, flacarray, p, stderr, stdout};
use flacarray::DecodedArray;
use flacarray_cli::npy;
use ndarray::{ArrayD, Dimension, IxDyn, s};
use npyz::WriterBuilder;

/// Deterministic test values: a smooth signal plus hashed noise, per flat index.
fn values(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |idx| {
        let flat = idx
            .slice()
            .iter()
            .zip(shape)
            .fold(0usize, |acc, (&i, &n)| acc * n + i);
        let h = (flat as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        let k = *idx.slice().last().unwrap() as f64;
        (flat / shape.last().unwrap()) as f64 * 3.0
            + 20.0 * (k * 0.01).sin()
            + (h % 1000) as f64 / 500.0
    })
}

fn all_dtypes(shape: &[usize]) -> Vec<DecodedArray> {
    let v = values(shape);
    vec![
        DecodedArray::Int32(v.mapv(|x| (x * 1000.0).round() as i32)),
        DecodedArray::Int64(v.mapv(|x| (x * 1000.0).round() as i64 * 1_000_003 - (1 << 40))),
        DecodedArray::Float32(v.mapv(|x| x as f32)),
        DecodedArray::Float64(v.clone()),
    ]
}

/// Largest absolute difference of two arrays of the same type and shape.
fn max_diff(a: &DecodedArray, b: &DecodedArray) -> f64 {
    assert_eq!(a.shape(), b.shape());
    match (a, b) {
        (DecodedArray::Int32(x), DecodedArray::Int32(y)) => x
            .iter()
            .zip(y)
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
            .fold(0.0, f64::max),
        (DecodedArray::Int64(x), DecodedArray::Int64(y)) => {
            if x == y {
                0.0
            } else {
                f64::INFINITY
            }
        }
        (DecodedArray::Float32(x), DecodedArray::Float32(y)) => x
            .iter()
            .zip(y)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max),
        (DecodedArray::Float64(x), DecodedArray::Float64(y)) => x
            .iter()
            .zip(y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max),
        _ => panic!("dtype {} vs {}", a.dtype(), b.dtype()),
    }
}

#[test]
fn round_trip_all_dtypes_and_ranks() {
    let d = Dir::new();
    for shape in [vec![3000], vec![3, 1000], vec![2, 3, 500]] {
        for arr in all_dtypes(&shape) {
            let name = format!("{}_{}", arr.dtype(), shape.len());
            let input = d.npy(&format!("{name}.npy"), &arr);
            let h5 = d.path(&format!("{name}.h5"));
            let back = d.path(&format!("{name}.back.npy"));
            let mut args = vec!["compress", p(&input), p(&h5)];
            if arr.dtype().is_float() {
                args.extend(["--quanta", "1e-3"]);
            }
            let c = flacarray(&args);
            assert_ok(&c);
            // `--sync` (fsync before the rename) on every other case: same output.
            let dec = if shape.len() == 2 {
                flacarray(&["decompress", "--force", "--sync", p(&h5), p(&back)])
            } else {
                flacarray(&["decompress", "--force", p(&h5), p(&back)])
            };
            assert_ok(&dec);
            // stderr is not a terminal here: no progress display, nothing on stderr.
            assert_eq!((stderr(&c), stderr(&dec)), (String::new(), String::new()));
            assert!(
                stdout(&c).contains(&format!(
                    "{} bytes ->",
                    arr.shape().iter().product::<usize>()
                        * if arr.dtype().is_64bit() { 8 } else { 4 }
                )),
                "{}",
                stdout(&c)
            );
            let got = npy::read_array(&back).expect("read back");
            assert_eq!(got.shape(), shape.as_slice(), "{name}");
            let err = max_diff(&arr, &got);
            if arr.dtype().is_float() {
                // Half a quantum plus float32 rounding of values below ~100.
                assert!(err <= 0.5e-3 + 2e-5, "{name}: {err}");
                assert!(err > 0.0, "{name}: floats are quantized");
            } else {
                assert_eq!(err, 0.0, "{name}");
            }
            // No temporary file is left beside the outputs.
            let leftovers: Vec<_> = d
                .names()
                .into_iter()
                .filter(|n| n.ends_with(".tmp"))
                .collect();
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }
}

/// A bool `.npy` file of `shape` (the `--keep` masks).
fn write_mask(path: &Path, shape: &[u64], values: impl IntoIterator<Item = bool>) {
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(std::fs::File::create(path).unwrap())
        .begin_nd()
        .unwrap();
    w.extend(values).unwrap();
    w.finish().unwrap();
}

fn int_fixture(d: &Dir) -> (ArrayD<i32>, PathBuf) {
    let a = values(&[2, 3, 700]).mapv(|x| (x * 1000.0).round() as i32);
    let input = d.npy("in.npy", &DecodedArray::Int32(a.clone()));
    let h5 = d.path("a.h5");
    assert_ok(&flacarray(&[
        "compress",
        p(&input),
        p(&h5),
        "--group",
        "/obs/sig",
    ]));
    (a, h5)
}

fn decompress_i32(h5: &Path, out: &Path, extra: &[&str]) -> ArrayD<i32> {
    let mut args = vec![
        "decompress",
        "--force",
        p(h5),
        p(out),
        "--group",
        "/obs/sig",
    ];
    args.extend_from_slice(extra);
    assert_ok(&flacarray(&args));
    match npy::read_array(out).expect("read") {
        DecodedArray::Int32(a) => a,
        other => panic!("dtype {}", other.dtype()),
    }
}

#[test]
fn keep_samples_and_select_match_numpy_slicing() {
    let d = Dir::new();
    let (a, h5) = int_fixture(&d);
    let out = d.path("out.npy");

    // --keep: streams (0, 1) and (1, 2), samples 10:20 -> a[keep][:, 10:20].
    let mut keep = ArrayD::from_elem(IxDyn(&[2, 3]), false);
    keep[[0, 1]] = true;
    keep[[1, 2]] = true;
    let keep_path = d.path("keep.npy");
    npyz::to_file_1d(&keep_path, keep.iter().copied()).expect("mask");
    // A flat mask of 6 does not have the leading shape (2, 3): rejected.
    let r = flacarray(&[
        "decompress",
        "--force",
        p(&h5),
        p(&out),
        "--group",
        "/obs/sig",
        "--keep",
        p(&keep_path),
    ]);
    assert_fails(&r, 1, &["keep.npy", "(2, 3)"]);
    write_mask(&keep_path, &[2, 3], keep.iter().copied());
    let got = decompress_i32(&h5, &out, &["--keep", p(&keep_path), "--samples", "10:20"]);
    assert_eq!(got.shape(), &[2, 10]);
    assert_eq!(got.slice(s![0, ..]), a.slice(s![0, 1, 10..20]));
    assert_eq!(got.slice(s![1, ..]), a.slice(s![1, 2, 10..20]));

    // Exactly one kept stream reads 1-d, or (1, N) with --no-flatten.
    let mut one = ArrayD::from_elem(IxDyn(&[2, 3]), false);
    one[[1, 0]] = true;
    let one_path = d.path("one.npy");
    write_mask(&one_path, &[2, 3], one.iter().copied());
    let got = decompress_i32(&h5, &out, &["--keep", p(&one_path), "--samples", "-50:"]);
    assert_eq!(got.shape(), &[50]);
    assert_eq!(got, a.slice(s![1, 0, 650..]).into_dyn());
    let got = decompress_i32(&h5, &out, &["--keep", p(&one_path), "--no-flatten"]);
    assert_eq!(got.shape(), &[1, 700]);
    assert_eq!(got.slice(s![0, ..]), a.slice(s![1, 0, ..]));

    // --samples alone keeps the leading shape.
    let got = decompress_i32(&h5, &out, &["--samples", ":5"]);
    assert_eq!(got, a.slice(s![.., .., ..5]).into_dyn());

    // --select: numpy basic indexing.
    let got = decompress_i32(&h5, &out, &["--select", "1, ::-1, 100:200"]);
    assert_eq!(got, a.slice(s![1, ..;-1, 100..200]).into_dyn());
    let got = decompress_i32(&h5, &out, &["--select", "..., -1"]);
    assert_eq!(got, a.slice(s![.., .., -1]).into_dyn());
    let got = decompress_i32(&h5, &out, &["--select", "-1, 0:3:2, ::-7"]);
    assert_eq!(got, a.slice(s![-1, 0..3;2, ..;-7]).into_dyn());
    let got = decompress_i32(&h5, &out, &["--select", "0, 2, 5"]);
    assert_eq!(got.ndim(), 0);
    assert_eq!(got[[]], a[[0, 2, 5]]);

    // Out of range and malformed selections fail with one line.
    let r = flacarray(&[
        "decompress",
        "--force",
        p(&h5),
        p(&out),
        "--group",
        "/obs/sig",
        "--select",
        "2, 0",
    ]);
    assert_fails(&r, 1, &["a.h5"]);
    let r = flacarray(&[
        "decompress",
        "--force",
        p(&h5),
        p(&out),
        "--group",
        "/obs/sig",
        "--samples",
        "0:701",
    ]);
    assert_fails(&r, 1, &["--samples", "701"]);
    // --select excludes --keep and --samples: usage error.
    let r = flacarray(&[
        "decompress",
        "--force",
        p(&h5),
        p(&out),
        "--select",
        "0",
        "--samples",
        "1:2",
    ]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
}

#[test]
fn float_select_and_one_d_no_flatten() {
    let d = Dir::new();
    let v = values(&[4000]);
    let input = d.npy("f.npy", &DecodedArray::Float64(v.clone()));
    let h5 = d.path("f.h5");
    assert_ok(&flacarray(&[
        "compress",
        p(&input),
        p(&h5),
        "--precision",
        "8",
    ]));
    let out = d.path("o.npy");
    assert_ok(&flacarray(&[
        "decompress",
        "--force",
        p(&h5),
        p(&out),
        "--select",
        "100:110",
    ]));
    let DecodedArray::Float64(got) = npy::read_array(&out).unwrap() else {
        panic!("dtype")
    };
    assert_eq!(got.shape(), &[10]);
    for (x, y) in got.iter().zip(v.slice(s![100..110])) {
        assert!((x - y).abs() < 1e-6, "{x} {y}");
    }
    assert_ok(&flacarray(&[
        "decompress",
        "--force",
        p(&h5),
        p(&out),
        "--no-flatten",
    ]));
    assert_eq!(npy::read_array(&out).unwrap().shape(), &[1, 4000]);
}

#[test]
fn info_json_reports_the_layout() {
    let d = Dir::new();
    let a = values(&[5, 20000]).mapv(|x| (x * 1000.0).round() as i64);
    let input = d.npy("i.npy", &DecodedArray::Int64(a));
    let h5 = d.path("i.h5");
    assert_ok(&flacarray(&[
        "compress",
        p(&input),
        p(&h5),
        "--level",
        "1",
        "--group",
        "g",
    ]));
    let out = flacarray(&["info", p(&h5), "--group", "g", "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(v["dtype"], "int64");
    assert_eq!(v["group"], "/g");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["shape"], serde_json::json!([5, 20000]));
    assert_eq!(v["leading_shape"], serde_json::json!([5]));
    assert_eq!(v["stream_size"], 20000);
    assert_eq!(v["n_streams"], 5);
    assert_eq!(v["input_bytes"], 5 * 20000 * 8);
    let all: Vec<u64> = v["stream_bytes"]["all"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(all.len(), 5);
    let total: u64 = all.iter().sum();
    assert_eq!(v["compressed_bytes"].as_u64(), Some(total));
    assert_eq!(v["stream_bytes"]["min"].as_u64(), all.iter().min().copied());
    assert_eq!(v["stream_bytes"]["max"].as_u64(), all.iter().max().copied());
    let ratio = v["ratio"].as_f64().unwrap();
    assert!((ratio - 800_000.0 / total as f64).abs() < 1e-9, "{ratio}");
    assert!(ratio > 1.0);
    assert_eq!(v["flac"]["channels"], 2);
    assert_eq!(v["flac"]["bits_per_sample"], 32);
    assert_eq!(v["flac"]["max_block_size"], 1152);
    assert_eq!(v["flac"]["levels"], "0-2");
    assert_eq!(v["flac"]["total_samples"], 20000);

    // Text form.
    let out = flacarray(&["info", p(&h5), "--group", "/g"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("dtype:            int64"), "{text}");
    assert!(text.contains("shape:            (5, 20000)"), "{text}");
    assert!(text.contains("block size 1152 (levels 0-2)"), "{text}");

    // A group without a FlacArray.
    let out = flacarray(&["info", p(&h5)]);
    assert_fails(&out, 1, &["i.h5"]);
}

#[test]
fn verify_passes_then_catches_a_flipped_byte() {
    let d = Dir::new();
    let a = values(&[3, 30000]).mapv(|x| x as f32);
    let input = d.npy("v.npy", &DecodedArray::Float32(a));
    let h5 = d.path("v.h5");
    assert_ok(&flacarray(&[
        "compress",
        p(&input),
        p(&h5),
        "--quanta",
        "1e-4",
    ]));
    let out = flacarray(&["verify", p(&h5)]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("ok: 3 streams, 90000 samples"),
        "{}",
        stdout(&out)
    );

    // Flip a byte inside the first stream's frames (past its 42-byte header).
    let mut bytes = std::fs::read(&h5).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == b"fLaC")
        .expect("FLAC bytes in the file");
    bytes[at + 42 + 300] ^= 0x5A;
    std::fs::write(&h5, &bytes).unwrap();
    let out = flacarray(&["verify", p(&h5)]);
    assert_fails(&out, 1, &["v.h5", "stream (0,)"]);
    let out = flacarray(&["decompress", "--force", p(&h5), p(&d.path("x.npy"))]);
    assert_fails(&out, 1, &["stream (0,)"]);
    assert!(!d.path("x.npy").exists());
}

#[test]
fn force_replaces_and_other_groups_are_kept() {
    let d = Dir::new();
    let a = values(&[2, 1000]).mapv(|x| x.round() as i32);
    let b = a.mapv(|x| x * 2 + 1);
    let ia = d.npy("a.npy", &DecodedArray::Int32(a.clone()));
    let ib = d.npy("b.npy", &DecodedArray::Int32(b.clone()));
    let h5 = d.path("f.h5");
    assert_ok(&flacarray(&["compress", p(&ia), p(&h5)]));
    let out = flacarray(&["compress", p(&ib), p(&h5)]);
    assert_fails(&out, 1, &["f.h5", "already exists"]);
    // A second group in the same file.
    assert_ok(&flacarray(&[
        "compress",
        p(&ib),
        p(&h5),
        "--group",
        "other",
    ]));
    assert_ok(&flacarray(&["compress", p(&ib), p(&h5), "--force"]));
    let back = d.path("back.npy");
    for (group, want) in [("/", &b), ("/other", &b)] {
        assert_ok(&flacarray(&[
            "decompress",
            "--force",
            p(&h5),
            p(&back),
            "--group",
            group,
        ]));
        assert_eq!(
            npy::read_array(&back).unwrap(),
            DecodedArray::Int32(want.clone())
        );
    }
}

#[test]
fn quantization_options_are_checked() {
    let d = Dir::new();
    let f = d.npy(
        "f.npy",
        &DecodedArray::Float32(values(&[3, 500]).mapv(|x| x as f32)),
    );
    let i = d.npy(
        "i.npy",
        &DecodedArray::Int32(values(&[3, 500]).mapv(|x| x as i32)),
    );
    let h5 = d.path("q.h5");
    let out = flacarray(&["compress", p(&f), p(&h5)]);
    assert_fails(&out, 1, &["f.npy", "float32", "--quanta"]);
    assert!(!h5.exists());
    let out = flacarray(&["compress", p(&i), p(&h5), "--quanta", "0.1"]);
    // Options that do not fit the data: a usage error.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("int32"), "{}", stderr(&out));
    let out = flacarray(&[
        "compress",
        p(&f),
        p(&h5),
        "--quanta",
        "0.1",
        "--precision",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Per-stream quanta: one per stream of the leading shape (3,).
    let q = d.npy(
        "q.npy",
        &DecodedArray::Float64(
            ArrayD::from_shape_vec(IxDyn(&[3]), vec![1e-2, 1e-3, 1e-4]).unwrap(),
        ),
    );
    assert_ok(&flacarray(&[
        "compress",
        p(&f),
        p(&h5),
        "--quanta-file",
        p(&q),
    ]));
    let back = d.path("b.npy");
    assert_ok(&flacarray(&["decompress", "--force", p(&h5), p(&back)]));
    let (DecodedArray::Float32(x), DecodedArray::Float32(y)) = (
        npy::read_array(&f).unwrap(),
        npy::read_array(&back).unwrap(),
    ) else {
        panic!("dtype")
    };
    for (row, q) in [1e-2_f32, 1e-3, 1e-4].iter().enumerate() {
        let err = x
            .slice(s![row, ..])
            .iter()
            .zip(y.slice(s![row, ..]))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max);
        assert!(err <= q / 2.0 + 2e-5, "row {row}: {err}");
        assert!(err > q / 20.0, "row {row}: {err} should reflect quanta {q}");
    }
    let bad = d.npy(
        "bad.npy",
        &DecodedArray::Float64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1e-2, 1e-3]).unwrap()),
    );
    let out = flacarray(&[
        "compress",
        p(&f),
        p(&h5),
        "--force",
        "--quanta-file",
        p(&bad),
    ]);
    assert_fails(&out, 1, &["bad.npy", "(3,)"]);
    let prec = d.npy(
        "p.npy",
        &DecodedArray::Int32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![2, 3, 4]).unwrap()),
    );
    assert_ok(&flacarray(&[
        "compress",
        p(&f),
        p(&h5),
        "--force",
        "--precision-file",
        p(&prec),
    ]));
}

#[test]
fn nan_input_fails_naming_the_stream() {
    let d = Dir::new();
    let mut a = values(&[3, 200]);
    a[[1, 17]] = f64::NAN;
    let input = d.npy("nan.npy", &DecodedArray::Float64(a));
    let h5 = d.path("nan.h5");
    let out = flacarray(&["compress", p(&input), p(&h5), "--precision", "5"]);
    assert_fails(&out, 1, &["nan.npy", "stream (1,)", "NaN"]);
    assert!(!h5.exists());
}

/// The commands work unchanged on Zarr stores, v3 by default and v2 on request: the
/// same values come back as from the input, selections match ndarray slicing, `info`
/// reports the layout, `verify` passes and existing groups are protected.
#[test]
fn zarr_stores_v3_and_v2() {
    let d = Dir::new();
    let a = values(&[2, 3, 700]).mapv(|x| (x * 1000.0).round() as i32);
    let input = d.npy("in.npy", &DecodedArray::Int32(a.clone()));
    for (name, fmt) in [("v3.zarr", "3"), ("v2.zarr", "2")] {
        let store = d.path(name);
        assert_ok(&flacarray(&[
            "compress",
            p(&input),
            p(&store),
            "--group",
            "obs/sig",
            "--zarr-format",
            fmt,
        ]));
        // The format is the one asked for.
        let marker = if fmt == "3" { "zarr.json" } else { ".zgroup" };
        assert!(store.join(marker).is_file(), "{name}: no {marker}");
        assert!(store.join("obs/sig").is_dir(), "{name}");

        let back = d.path(&format!("{name}.npy"));
        let full = decompress_i32(&store, &back, &[]);
        assert_eq!(full, a, "{name}");
        let sel = decompress_i32(&store, &back, &["--select", "1, ::-1, 100:200"]);
        assert_eq!(sel, a.slice(s![1, ..;-1, 100..200]).into_dyn(), "{name}");
        let keep = d.path("keep.npy");
        write_mask(&keep, &[2, 3], [false, true, false, false, false, true]);
        let kept = decompress_i32(&store, &back, &["--keep", p(&keep), "--samples", "-10:"]);
        assert_eq!(kept.shape(), &[2, 10]);
        assert_eq!(kept.slice(s![0, ..]), a.slice(s![0, 1, 690..]), "{name}");
        assert_eq!(kept.slice(s![1, ..]), a.slice(s![1, 2, 690..]), "{name}");

        let info = flacarray(&["info", p(&store), "--group", "/obs/sig", "--json"]);
        assert_ok(&info);
        let v: serde_json::Value = serde_json::from_str(&stdout(&info)).unwrap();
        assert_eq!(v["shape"], serde_json::json!([2, 3, 700]), "{name}");
        assert_eq!(v["dtype"], "int32");
        assert_eq!(v["group"], "/obs/sig");
        assert_ok(&flacarray(&["verify", p(&store), "--group", "obs/sig"]));

        // The group exists: refused without --force, replaced with it (in the store's
        // own format when none is given).
        let again = flacarray(&["compress", p(&input), p(&store), "--group", "obs/sig"]);
        assert_fails(&again, 1, &[name, "already"]);
        if fmt == "2" {
            let mixed = flacarray(&[
                "compress",
                p(&input),
                p(&store),
                "--group",
                "other",
                "--zarr-format",
                "3",
            ]);
            assert_fails(&mixed, 1, &[name, "V2"]);
        }
        assert_ok(&flacarray(&[
            "compress",
            p(&input),
            p(&store),
            "--group",
            "obs/sig",
            "--force",
        ]));
        assert_eq!(decompress_i32(&store, &back, &[]), a, "{name}");
    }
    // A store that is not there is named in the error.
    let out = flacarray(&["info", p(&d.path("missing.zarr"))]);
    assert_fails(&out, 1, &["missing.zarr"]);
}

#[test]
fn demo_and_bench_run_small() {
    let d = Dir::new();
    let h5 = d.path("demo.h5");
    let out = flacarray(&[
        "demo",
        "--streams",
        "2",
        "--samples",
        "5000",
        "--out",
        p(&h5),
    ]);
    assert_ok(&out);
    let text = stdout(&out);
    for case in [
        "float32, quanta 1e-4",
        "float64, precision 6",
        "int32",
        "int64",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(case))
            .unwrap_or_else(|| panic!("no line for {case} in {text}"));
        assert!(line.ends_with("ok"), "{line}");
    }
    assert!(text.contains("all 4 cases round-tripped"), "{text}");
    for group in ["/float32", "/float64", "/int32", "/int64"] {
        assert_ok(&flacarray(&["verify", p(&h5), "--group", group]));
    }
    let out = flacarray(&[
        "bench",
        "--streams",
        "2",
        "--samples",
        "5000",
        "--repeat",
        "2",
        "--json",
    ]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(v["dtype"], "float32");
    assert_eq!(v["shape"], serde_json::json!([2, 5000]));
    assert_eq!(v["input_bytes"], 40000);
    assert_eq!(v["compress_seconds"].as_array().unwrap().len(), 2);
    assert!(v["ratio"].as_f64().unwrap() > 1.0);
    assert!(v["compress_mb_s"].as_f64().unwrap() > 0.0);
    // The decode into fresh huge-page memory and into a new Vec, each timed twice
    // (the bench fails if their values differ).
    assert_eq!(v["decompress_seconds"].as_array().unwrap().len(), 2);
    assert_eq!(v["decompress_vec_seconds"].as_array().unwrap().len(), 2);
    assert!(v["decompress_vec_mb_s"].as_f64().unwrap() > 0.0);
    assert!(v["huge_pages"].is_boolean());
    let input = d.npy(
        "b.npy",
        &DecodedArray::Int32(values(&[2, 3000]).mapv(|x| x as i32)),
    );
    let out = flacarray(&["bench", p(&input), "--repeat", "1"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("int32 (2, 3000)"), "{}", stdout(&out));
    assert!(stdout(&out).contains("into a new Vec"), "{}", stdout(&out));
    // int64 and an empty array take the same two decodes.
    for (name, arr) in [
        (
            "c.npy",
            DecodedArray::Int64(values(&[3, 2000]).mapv(|x| x as i64 * 1_000_003)),
        ),
        (
            "e.npy",
            DecodedArray::Int32(values(&[0, 10]).mapv(|x| x as i32)),
        ),
    ] {
        let input = d.npy(name, &arr);
        let out = flacarray(&["bench", p(&input), "--repeat", "1", "--json"]);
        assert_ok(&out);
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
        assert_eq!(v["shape"].as_array().unwrap().len(), 2, "{v}");
    }
}
