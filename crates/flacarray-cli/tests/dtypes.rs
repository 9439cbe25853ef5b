//! The commands on the element types beyond flacarray 0.4.1's four (bool, small and
//! unsigned integers, float16), kept NaN/inf (`--keep-nonfinite`) and empty arrays,
//! in HDF5 files and Zarr stores; and flacarray 0.4.1 reading each such HDF5 file
//! either as our values (possibly widened) or not at all.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{Dir, assert_fails, assert_ok, flacarray, p, stdout};
use flacarray::{LogicalArray, f16};
use flacarray_cli::npy;
use ndarray::{ArrayD, Axis, IxDyn, Slice};

/// A well-mixed 64-bit value of `k` (splitmix64's finalizer).
fn mix(k: u64) -> u64 {
    let mut z = k.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Per integer type a `(4, 300)` array: min and max alternating, all max, random
/// (every bit pattern of the type likely), all min.
macro_rules! int_cases {
    ($($t:ty => $v:ident),*) => {
        vec![$((
            stringify!($t),
            LogicalArray::$v(ArrayD::from_shape_fn(IxDyn(&[4, 300]), |i| {
                let k = i[1] as u64;
                match i[0] {
                    0 if k.is_multiple_of(2) => <$t>::MIN,
                    0 | 1 => <$t>::MAX,
                    // Truncation keeps the low bits: random values of the type.
                    2 => mix(k) as $t,
                    _ => <$t>::MIN,
                }
            })),
        )),*]
    };
}

fn lossless_cases() -> Vec<(&'static str, LogicalArray)> {
    let mut v = int_cases!(i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
        u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64);
    let b = ArrayD::from_shape_fn(IxDyn(&[3, 300]), |i| match i[0] {
        0 => mix(i[1] as u64) & 1 == 1,
        1 => true,
        _ => false,
    });
    v.push(("bool", LogicalArray::Bool(b)));
    v
}

/// Compresses `input` into `store` (group `group`, `extra` options), decompresses the
/// whole array and `--samples 100:200` of it, and checks `info` and `verify`.
/// Returns the whole array read back and the selection.
fn round_trip(
    d: &Dir,
    input: &Path,
    store: &Path,
    group: &str,
    extra: &[&str],
) -> (LogicalArray, LogicalArray) {
    let mut args = vec!["compress", p(input), p(store), "--group", group];
    args.extend(extra);
    assert_ok(&flacarray(&args));
    let out = d.path(&format!("{group}.back.npy"));
    let run = flacarray(&["decompress", p(store), p(&out), "--group", group, "-f"]);
    assert_ok(&run);
    let sel = d.path(&format!("{group}.sel.npy"));
    let g = ["--group", group, "-f", "--samples", "100:200"];
    assert_ok(&flacarray(
        &[&["decompress", p(store), p(&sel)][..], &g[..]].concat(),
    ));
    assert_ok(&flacarray(&["verify", p(store), "--group", group]));
    (
        npy::read_values(&out).unwrap(),
        npy::read_values(&sel).unwrap(),
    )
}

/// Samples `100..200` of the last axis.
fn samples_100_200(a: &LogicalArray) -> LogicalArray {
    macro_rules! cut {
        ($($v:ident),*) => {
            match a {
                $(LogicalArray::$v(x) => {
                    let last = Axis(x.ndim() - 1);
                    LogicalArray::$v(x.slice_axis(last, Slice::from(100..200)).to_owned())
                })*
            }
        };
    }
    cut!(
        Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float16, Float32, Float64
    )
}

/// The HDF5 files written by the tests, with the group and the `.npy` file of the
/// values we read back, for the flacarray 0.4.1 check.
type Written = Vec<(PathBuf, String, PathBuf)>;

/// Every integer type and bool, extreme and random values, through HDF5 and Zarr:
/// back bit for bit in its own dtype (uint64 values of 2^63 and more included), also
/// a `--samples` range; `info` names the dtype and what stores it.
#[test]
fn every_integer_dtype_round_trips_exactly() {
    let d = Dir::new();
    for (name, a) in lossless_cases() {
        let input = d.npy(&format!("{name}.npy"), &a);
        for ext in ["h5", "zarr"] {
            let store = d.path(&format!("ints.{ext}"));
            let (back, sel) = round_trip(&d, &input, &store, name, &[]);
            assert_eq!(back, a, "{name} {ext}");
            assert_eq!(sel, samples_100_200(&a), "{name} {ext}: --samples");
            let info = flacarray(&["info", p(&store), "--group", name]);
            assert_ok(&info);
            let stored = a.dtype().stored();
            let want = if a.dtype().is_stored() {
                format!("dtype:            {stored}\n")
            } else {
                format!("dtype:            {} (stored as {stored})\n", a.dtype())
            };
            assert!(stdout(&info).contains(&want), "{}", stdout(&info));
            let json = flacarray(&["info", p(&store), "--group", name, "--json"]);
            let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
            assert_eq!(v["dtype"], a.dtype().name());
            assert_eq!(v["stored_dtype"], stored.name());
            // uint64 beyond 2^63 needs format 2; the others stay format 1.
            let version = if name == "u64" { 2 } else { 1 };
            assert_eq!(v["format_version"], version, "{name}");
        }
    }
}

/// float16 is quantized as float32 and read back as float16: every value within half
/// a quantum (plus float16 rounding) of the input, extremes included.
#[test]
fn float16_round_trips_within_the_quanta() {
    let d = Dir::new();
    let a = ArrayD::from_shape_fn(IxDyn(&[4, 300]), |i| {
        let k = i[1] as u64;
        match i[0] {
            0 if k.is_multiple_of(2) => f16::MIN,
            0 | 1 => f16::MAX,
            2 => f16::from_f64((mix(k) % 20_001) as f64 * 0.05 - 500.0),
            _ => f16::from_f32(-3.5),
        }
    });
    let a = LogicalArray::Float16(a);
    let input = d.npy("f16.npy", &a);
    for ext in ["h5", "zarr"] {
        let store = d.path(&format!("f16.{ext}"));
        let (back, sel) = round_trip(&d, &input, &store, "f16", &["--quanta", "0.01"]);
        let (LogicalArray::Float16(x), LogicalArray::Float16(y)) = (&a, &back) else {
            panic!("{ext}: dtype {}", back.dtype());
        };
        assert_eq!(x.shape(), y.shape());
        for (u, v) in x.iter().zip(y) {
            let (u, v) = (u.to_f64(), v.to_f64());
            // Half a quantum, then rounding to float16 (relative 2^-11).
            assert!(
                (u - v).abs() <= 0.005 * 1.001 + u.abs() * 2f64.powi(-10),
                "{u} {v}"
            );
        }
        assert_eq!(sel, samples_100_200(&back), "{ext}: --samples");
    }
}

/// A `(6, 200)` float array with one stream per NaN/inf pattern: none, one, all,
/// runs at the start and end, alternating, and every kind mixed.
fn nonfinite_patterns<T: Copy>(nan: T, pos: T, neg: T, val: impl Fn(usize) -> T) -> ArrayD<T> {
    ArrayD::from_shape_fn(IxDyn(&[6, 200]), |i| {
        let (s, k) = (i[0], i[1]);
        match s {
            1 if k == 57 => nan,
            2 => neg,
            3 if k < 10 => nan,
            3 if k >= 190 => pos,
            4 if k.is_multiple_of(2) => nan,
            5 => [nan, pos, neg, val(k)][k % 4],
            _ => val(s * 1000 + k),
        }
    })
}

/// The bit patterns of a float array, widened to 64 bits.
fn bits(a: &LogicalArray) -> Vec<u64> {
    match a {
        LogicalArray::Float32(x) => x.iter().map(|v| u64::from(v.to_bits())).collect(),
        LogicalArray::Float64(x) => x.iter().map(|v| v.to_bits()).collect(),
        other => panic!("not float: {}", other.dtype()),
    }
}

/// With `--keep-nonfinite`, every NaN/inf pattern comes back bit for bit at its
/// place and the finite samples within half a quantum, in both float types and
/// backends, also through `--samples`; `info` counts what is kept; without the flag
/// the NaN is refused naming the stream.
#[test]
fn nan_and_inf_are_kept_with_the_flag_and_refused_without() {
    let d = Dir::new();
    let wave = |k: usize| (k as f64 * 0.01).sin() * 10.0;
    let cases = [
        (
            "f32",
            LogicalArray::Float32(nonfinite_patterns(
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                |k| wave(k) as f32,
            )),
        ),
        (
            "f64",
            LogicalArray::Float64(nonfinite_patterns(
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                wave,
            )),
        ),
    ];
    for (name, a) in cases {
        let input = d.npy(&format!("{name}.npy"), &a);
        let refused = flacarray(&[
            "compress",
            p(&input),
            p(&d.path("no.h5")),
            "--quanta",
            "1e-3",
        ]);
        assert_fails(&refused, 1, &["stream (", &format!("{name}.npy")]);
        for ext in ["h5", "zarr"] {
            let store = d.path(&format!("nf.{ext}"));
            let opts = ["--quanta", "1e-3", "--keep-nonfinite"];
            let (back, sel) = round_trip(&d, &input, &store, name, &opts);
            assert_eq!(back.shape(), a.shape());
            for (i, (u, v)) in bits(&a).into_iter().zip(bits(&back)).enumerate() {
                let (fu, fv) = match &a {
                    LogicalArray::Float32(_) => (
                        f64::from(f32::from_bits(u as u32)),
                        f64::from(f32::from_bits(v as u32)),
                    ),
                    _ => (f64::from_bits(u), f64::from_bits(v)),
                };
                if fu.is_finite() {
                    assert!(
                        (fu - fv).abs() <= 0.5e-3 * 1.001 + 1e-5,
                        "{name} {i}: {fu} {fv}"
                    );
                } else {
                    assert_eq!(u, v, "{name} {ext}: sample {i} kept bit for bit");
                }
            }
            assert_eq!(bits(&sel), bits(&samples_100_200(&back)), "{name} {ext}");
            let info = flacarray(&["info", p(&store), "--group", name]);
            assert_ok(&info);
            // NaN: 1 + 10 + 100 + 50; +inf: 10 + 50; -inf: 200 + 50.
            let want = "non-finite kept:  161 NaN, 60 +inf, 250 -inf in 5 stream(s)";
            assert!(stdout(&info).contains(want), "{}", stdout(&info));
            let json = flacarray(&["info", p(&store), "--group", name, "--json"]);
            let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
            assert_eq!(v["nonfinite"]["nan"], 161);
            assert_eq!(v["format_version"], 2);
        }
    }
}

/// Arrays with an axis of length 0, on every axis, both backends: compressed, read
/// back with their shape and dtype, described by `info` and verified.
#[test]
fn empty_shapes_on_every_axis() {
    let d = Dir::new();
    for shape in [&[0, 10][..], &[10, 0], &[0], &[3, 0, 4], &[3, 4, 0]] {
        let tag = shape
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("x");
        let ints = LogicalArray::Uint16(ArrayD::zeros(IxDyn(shape)));
        let floats = LogicalArray::Float32(ArrayD::zeros(IxDyn(shape)));
        for (a, extra) in [(ints, &[][..]), (floats, &["--quanta", "0.1"][..])] {
            let group = format!("{}_{tag}", a.dtype());
            let input = d.npy(&format!("{group}.npy"), &a);
            for ext in ["h5", "zarr"] {
                let store = d.path(&format!("empty.{ext}"));
                let mut args = vec!["compress", p(&input), p(&store), "--group", &group];
                args.extend(extra);
                assert_ok(&flacarray(&args));
                let out = d.path("empty.back.npy");
                let g = ["--group", group.as_str(), "-f"];
                let args = [&["decompress", p(&store), p(&out)][..], &g[..]].concat();
                assert_ok(&flacarray(&args));
                assert_eq!(npy::read_values(&out).unwrap(), a, "{group} {ext}");
                let info = flacarray(&["info", p(&store), "--group", &group]);
                assert_ok(&info);
                assert!(
                    stdout(&info).contains("none (empty array)"),
                    "{}",
                    stdout(&info)
                );
                assert_ok(&flacarray(&["verify", p(&store), "--group", &group]));
            }
        }
    }
}

/// A uint64 group written by the library, with values of 2^63 and above (format
/// 2), decompresses to a uint64 `.npy` file bit for bit (a Zarr store: this process
/// keeps no HDF5 file open that the command would then find locked).
#[test]
fn decompress_writes_uint64_bit_for_bit() {
    let d = Dir::new();
    let h5 = d.path("u64.zarr");
    let data = ndarray::Array2::from_shape_fn((2, 3000), |(i, k)| {
        u64::MAX - (i as u64) * 1_000_003 - (k as u64) * 7
    });
    let fa =
        flacarray::FlacArray::from_array(&data, &flacarray::CompressOptions::default()).unwrap();
    assert_eq!(fa.format_version(), 2);
    flacarray::store::Store::for_path(&h5, "/u")
        .write(&fa, false)
        .unwrap();
    let out = d.path("u64.npy");
    assert_ok(&flacarray(&[
        "decompress",
        p(&h5),
        p(&out),
        "--group",
        "/u",
    ]));
    assert_eq!(
        npy::read_values(&out).unwrap(),
        LogicalArray::Uint64(data.into_dyn())
    );
}

/// Writes every case of this file's kinds into one HDF5 file and returns what
/// flacarray 0.4.1 should be asked to read.
fn written_files(d: &Dir) -> Written {
    let h5 = d.path("all.h5");
    let mut cases: Vec<(String, LogicalArray, Vec<&str>)> = lossless_cases()
        .into_iter()
        .map(|(n, a)| (n.to_owned(), a, vec![]))
        .collect();
    let f16s = ArrayD::from_shape_fn(IxDyn(&[3, 200]), |i| f16::from_f64(i[1] as f64 * 0.25));
    cases.push((
        "f16".into(),
        LogicalArray::Float16(f16s),
        vec!["--quanta", "0.01"],
    ));
    let nf = nonfinite_patterns(f32::NAN, f32::INFINITY, f32::NEG_INFINITY, |k| k as f32);
    let q = vec!["--quanta", "0.01", "--keep-nonfinite"];
    cases.push(("nonfinite".into(), LogicalArray::Float32(nf), q));
    cases.push((
        "empty".into(),
        LogicalArray::Int16(ArrayD::zeros(IxDyn(&[0, 5]))),
        vec![],
    ));
    let mut out = Vec::new();
    for (name, a, extra) in cases {
        let input = d.npy(&format!("py_{name}.npy"), &a);
        let mut args = vec!["compress", p(&input), p(&h5), "--group", &name];
        args.extend(extra);
        assert_ok(&flacarray(&args));
        let back = d.path(&format!("py_{name}.back.npy"));
        assert_ok(&flacarray(&[
            "decompress",
            p(&h5),
            p(&back),
            "--group",
            &name,
        ]));
        out.push((h5.clone(), name, back));
    }
    out
}

/// flacarray 0.4.1 reads each group the command wrote with a new dtype, kept NaN/inf
/// or an empty axis either as our values (in the stored, wider dtype) or refuses it;
/// never different values. Skipped without the reference venv.
#[test]
fn flacarray_041_reads_new_dtypes_right_or_refuses() {
    let Some(py) = flacarray_testkit::python(
        "FLACARRAY_PYTHON",
        ".venv-interop/bin/python",
        "flacarray, h5py, numpy",
    ) else {
        return;
    };
    let d = Dir::new();
    let list: Vec<String> = written_files(&d)
        .iter()
        .map(|(h5, g, back)| format!("{} {g} {}", h5.display(), back.display()))
        .collect();
    let cases = d.write("cases.txt", list.join("\n").as_bytes());
    let script = r#"
import sys, numpy as np, h5py
from flacarray import hdf5 as fh
for line in open(sys.argv[1]):
    h5, group, back = line.split()
    ours = np.load(back)
    try:
        with h5py.File(h5, 'r') as f:
            theirs = fh.read_array(f[group])
    except Exception as e:
        print('refused', group, type(e).__name__)
        continue
    assert theirs.shape == ours.shape, (group, theirs.shape, ours.shape)
    same = np.array_equal(theirs.astype(ours.dtype), ours, equal_nan=True)
    if ours.dtype.kind in 'biu':
        same = same and np.array_equal(theirs, ours.astype(theirs.dtype))
    assert same, (group, theirs.dtype, ours.dtype)
    print('equal', group, theirs.dtype)
"#;
    let dir = d.path("");
    let out = flacarray_testkit::run_python(&py, &dir, "read041.py", script, &[p(&cases)]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), list.len(), "{out}");
    // Widened small integers and float16 stay format 1, which 0.4.1 reads right.
    for g in ["i8", "i16", "u8", "u16", "u32", "bool", "f16"] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("equal {g} "))),
            "{g}: {out}"
        );
    }
    // Kept NaN/inf and uint64 ≥ 2^63 are format 2, which 0.4.1 must not read.
    for g in ["nonfinite", "u64"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("refused {g} "))),
            "{g}: {out}"
        );
    }
}

/// A recorded dtype that is unknown, or not carried by the stored type, is refused by
/// `info`, `verify` and `decompress` with an error naming the attribute.
#[test]
fn hostile_recorded_dtype_is_refused_naming_it() {
    let d = Dir::new();
    let a = LogicalArray::Uint16(ArrayD::from_shape_fn(IxDyn(&[2, 50]), |i| i[1] as u16));
    let input = d.npy("u16.npy", &a);
    let store = d.path("bad.zarr");
    assert_ok(&flacarray(&["compress", p(&input), p(&store)]));
    let meta = store.join("zarr.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    assert!(text.contains("\"uint16\""), "{text}");
    for bad in ["uint99", "float16"] {
        std::fs::write(&meta, text.replace("\"uint16\"", &format!("\"{bad}\""))).unwrap();
        for cmd in ["info", "verify"] {
            let run = flacarray(&[cmd, p(&store)]);
            assert_fails(&run, 1, &["bad.zarr", "flacarray_dtype", bad]);
        }
        let out = d.path("out.npy");
        let run = flacarray(&["decompress", p(&store), p(&out)]);
        assert_fails(&run, 1, &["bad.zarr", "flacarray_dtype"]);
        assert!(!out.exists());
    }
}
