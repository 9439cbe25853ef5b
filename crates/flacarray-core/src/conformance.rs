//! A conformance suite for storage backends (feature `conformance`).
//!
//! A backend crate adds `flacarray-core = { ..., features = ["conformance"] }` to its
//! dev-dependencies and calls [`run_all`] with a closure that creates a fresh, empty
//! store (a new HDF5 group, a new Zarr group, ...). The suite writes arrays of every
//! dtype, several shapes (1-d, `(1, N)`, 2-d, 3-d), stream lengths (1, 3, 5000 across a
//! frame boundary) and levels through [`crate::write_array`], reads them back through
//! [`crate::read_array`] / [`crate::read_flacarray`] with keep masks, sample slices,
//! kept indices and `no_flatten`, and asserts every value against the in-memory
//! [`FlacArray`] decode of the same input (which for integers equals the input). It
//! panics with a message naming the case on the first mismatch.
//!
//! ```
//! flacarray_core::conformance::run_all(flacarray_core::MemoryStore::new);
//! ```
//!
//! [`run_extended`] covers what flacarray-rs stores beyond flacarray 0.4.1 (more element
//! types, kept NaN/inf, empty arrays) for backends that store it.

use std::fmt::Debug;

use ndarray::{ArrayD, Axis, Dimension, IxDyn, Slice};

use crate::array::{FlacArray, ReadOptions};
use crate::codec::{CompressOptions, PrecisionOption, QuantaOption};
use crate::dtype::{DType, DecodedArray, Element};
use crate::logical::Value;
use crate::select::SampleSlice;
use crate::store::{
    FlacArrayReader, FlacArrayWriter, read_array, read_flacarray, read_flacarray_rows, write_array,
};

/// Element types the suite can synthesize data for.
pub trait Synth: Element {
    /// A value from a pseudo-random `i64` and a smooth `f64` component.
    fn synth(raw: i64, smooth: f64) -> Self;
}

impl Synth for i32 {
    fn synth(raw: i64, smooth: f64) -> Self {
        // Keep a wide, varied range: the low 20 bits of noise plus a large smooth part.
        #[allow(clippy::cast_possible_truncation)]
        let v = (raw % (1 << 20)) as i32 + (smooth * 1e6) as i32;
        v
    }
}
impl Synth for i64 {
    fn synth(raw: i64, smooth: f64) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let s = (smooth * 1e9) as i64;
        (raw % (1 << 40)) + s + (1 << 41)
    }
}
impl Synth for f32 {
    fn synth(raw: i64, smooth: f64) -> Self {
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let v = (smooth * 3.0 + (raw % 1000) as f64 * 1e-3) as f32;
        v
    }
}
impl Synth for f64 {
    fn synth(raw: i64, smooth: f64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let v = smooth * 3.0 + (raw % 100_000) as f64 * 1e-5 - 7.0;
        v
    }
}

/// Deterministic test data of `shape`.
pub fn synth_array<T: Synth>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    ArrayD::from_shape_fn(IxDyn(shape), |idx| {
        // 64-bit LCG (Knuth's MMIX constants); the top bits are the noise.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let raw = i64::from_ne_bytes((state >> 1).to_ne_bytes());
        #[allow(clippy::cast_precision_loss)]
        let t = idx.slice().iter().fold(0.0, |a, &i| a * 0.7 + i as f64);
        T::synth(raw, (t * 0.01).sin())
    })
}

/// `global` (leading shape + samples) with a keep mask and a sample range applied,
/// shaped as [`crate::read_array`] returns it: kept streams 2-d (1-d when one is
/// kept), else the stored leading shape, with a stored single stream flattened;
/// `no_flatten` disables both flattenings.
///
/// # Panics
/// When the arguments do not fit `global`.
#[must_use]
pub fn reference_read<T: Clone>(
    global: &ArrayD<T>,
    keep: Option<&[bool]>,
    range: std::ops::Range<usize>,
    no_flatten: bool,
) -> ArrayD<T> {
    let nd = global.ndim();
    let n = global.shape()[nd - 1];
    let lead = global.shape()[..nd - 1].to_vec();
    let rows_total = global.len() / n.max(1);
    #[allow(clippy::unwrap_used)]
    let flat = global.to_shape((rows_total, n)).unwrap().to_owned();
    let rows: Vec<usize> = (0..rows_total)
        .filter(|&i| keep.is_none_or(|k| k[i]))
        .collect();
    let picked = flat.select(Axis(0), &rows);
    let sliced = picked.slice_axis(Axis(1), Slice::from(range)).to_owned();
    let len = sliced.ncols();
    let mut shape = match keep {
        None => lead.clone(),
        Some(_) => vec![rows.len()],
    };
    let single = match keep {
        None => lead == [1],
        Some(_) => rows.len() == 1,
    };
    if single && !no_flatten {
        shape.clear();
    }
    shape.push(len);
    #[allow(clippy::unwrap_used)]
    let out = sliced.into_shape_with_order(IxDyn(&shape)).unwrap();
    out
}

fn check<T, S, F>(make: &F, data: &ArrayD<T>, opts: &CompressOptions, name: &str)
where
    T: Synth,
    S: FlacArrayWriter + FlacArrayReader,
    <S as FlacArrayWriter>::Error: Debug,
    <S as FlacArrayReader>::Error: Debug,
    F: Fn() -> S,
{
    let mut store = make();
    if let Err(e) = write_array(&mut store, data, opts) {
        panic!("{name}: write failed: {e:?}");
    }
    let mem = FlacArray::from_array(data, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let global: ArrayD<T> = mem
        .decompress(&ReadOptions {
            no_flatten: true,
            ..ReadOptions::default()
        })
        .and_then(|s| s.array.into_array::<T>())
        .unwrap_or_else(|e| panic!("{name}: in-memory decode: {e}"));
    if !T::DTYPE.is_float() {
        let flat: Vec<T> = data.iter().copied().collect();
        let back: Vec<T> = global.iter().copied().collect();
        assert!(flat == back, "{name}: integer data is not lossless");
    }
    let n_streams = mem.n_streams();
    let ss = mem.stream_size();

    let mut keeps: Vec<Option<Vec<bool>>> = vec![None];
    keeps.push(Some(
        (0..n_streams)
            .map(|i| i % 2 == 1 || n_streams == 1)
            .collect(),
    ));
    keeps.push(Some((0..n_streams).map(|i| i == n_streams - 1).collect()));
    keeps.push(Some(vec![false; n_streams]));
    keeps.push(Some(vec![true; n_streams]));
    let mut slices = vec![SampleSlice::FULL, SampleSlice::new(Some(-1), None)];
    if ss > 3 {
        slices.push(SampleSlice::new(Some(1), Some(-1)));
    }
    if ss > 4200 {
        slices.push(SampleSlice::new(Some(4096), Some(4200)));
        slices.push(SampleSlice::new(Some(4095), Some(4097)));
    }
    for keep in &keeps {
        for &slice in &slices {
            for no_flatten in [false, true] {
                let what = format!("{name}: keep {keep:?} slice {slice:?} no_flatten {no_flatten}");
                let ro = ReadOptions {
                    keep: keep.as_deref(),
                    stream_slice: slice,
                    keep_indices: true,
                    no_flatten,
                    threads: None,
                };
                let sel = read_array(&store, &ro).unwrap_or_else(|e| panic!("{what}: {e:?}"));
                let got = sel
                    .array
                    .into_array::<T>()
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                #[allow(clippy::unwrap_used)]
                let range = slice.resolve(ss).unwrap();
                let want = reference_read(&global, keep.as_deref(), range, no_flatten);
                assert!(
                    got == want,
                    "{what}: got shape {:?}, want {:?} (or values differ)",
                    got.shape(),
                    want.shape()
                );
                match keep {
                    None => assert!(sel.indices.is_none(), "{what}: indices without keep"),
                    Some(k) => {
                        let kept = sel.indices.unwrap_or_else(|| panic!("{what}: no indices"));
                        assert_eq!(
                            kept.len(),
                            k.iter().filter(|&&b| b).count(),
                            "{what}: indices"
                        );
                    }
                }
            }
        }
    }
    // The whole array through read_flacarray keeps the stream table and bytes intact.
    let fa = read_flacarray(&store, None, true).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_eq!(
        fa.compressed(),
        mem.compressed(),
        "{name}: stored bytes differ"
    );
    assert_eq!(
        fa.stream_starts(),
        mem.stream_starts(),
        "{name}: stored starts differ"
    );
    assert_eq!(
        fa.stream_nbytes(),
        mem.stream_nbytes(),
        "{name}: stored nbytes differ"
    );
    assert_eq!(
        fa.scaling(),
        mem.scaling(),
        "{name}: stored offsets/gains differ"
    );
    assert_eq!(fa.dtype(), T::DTYPE, "{name}: stored dtype");
    assert_eq!(
        fa.global_shape(),
        mem.global_shape(),
        "{name}: stored shape"
    );

    // Slabs of rows (what an MPI rank reads), with and without a global keep mask.
    let lead0 = mem.leading_shape()[0];
    let per = n_streams / lead0;
    for rows in [0..0, 0..lead0, (lead0 / 2)..lead0] {
        let what = format!("{name}: rows {rows:?}");
        let slab = read_flacarray_rows(&store, rows.clone(), None, true)
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let got = slab
            .to_array()
            .and_then(|a| a.into_array::<T>())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let want = global
            .slice_axis(Axis(0), Slice::from(rows.clone()))
            .to_owned();
        assert!(got == want, "{what}: slab differs");
        let keep: Vec<bool> = (0..n_streams).map(|i| i % 3 != 1).collect();
        let slab = read_flacarray_rows(&store, rows.clone(), Some(&keep), true)
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let got = slab
            .decompress(&ReadOptions {
                no_flatten: true,
                ..ReadOptions::default()
            })
            .and_then(|s| s.array.into_array::<T>())
            .unwrap_or_else(|e| panic!("{what} keep: {e}"));
        let slab_keep: Vec<bool> = (0..n_streams)
            .map(|i| keep[i] && i >= rows.start * per && i < rows.end * per)
            .collect();
        let want = reference_read(&global, Some(&slab_keep), 0..ss, true);
        assert!(got == want, "{what}: slab with keep differs");
    }
}

fn float_opts(dtype: DType, level: u8, i: usize, n_streams: usize) -> CompressOptions {
    let mut o = CompressOptions {
        level,
        ..CompressOptions::default()
    };
    #[allow(clippy::cast_precision_loss)]
    match (dtype.is_float(), i % 3) {
        (false, _) => {}
        (true, 0) => o.quanta = Some(QuantaOption::Scalar(1e-4)),
        (true, 1) => o.precision = Some(PrecisionOption::Scalar(5)),
        (true, _) => {
            o.quanta = Some(QuantaOption::PerStream(
                (0..n_streams).map(|k| 1e-3 / (k + 1) as f64).collect(),
            ));
        }
    }
    o
}

fn run_dtype<T, S, F>(make: &F)
where
    T: Synth,
    S: FlacArrayWriter + FlacArrayReader,
    <S as FlacArrayWriter>::Error: Debug,
    <S as FlacArrayReader>::Error: Debug,
    F: Fn() -> S,
{
    let shapes: [&[usize]; 7] = [
        &[5000],
        &[1, 5000],
        &[3, 5000],
        &[2, 3, 300],
        &[1],
        &[4, 1],
        &[2, 2, 3],
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let level = [5u8, 0, 8][i % 3];
        let n_streams: usize = shape[..shape.len() - 1].iter().product();
        let opts = float_opts(T::DTYPE, level, i, n_streams.max(1));
        let data = synth_array::<T>(shape, 17 + i as u64);
        let name = format!("{} shape {shape:?} level {level}", T::DTYPE);
        check(make, &data, &opts, &name);
    }
}

/// Runs the whole suite against stores made by `make_store` (each call must return
/// a fresh, empty store).
///
/// # Panics
/// On the first mismatch, with a message naming the case.
pub fn run_all<S, F>(make_store: F)
where
    S: FlacArrayWriter + FlacArrayReader,
    <S as FlacArrayWriter>::Error: Debug,
    <S as FlacArrayReader>::Error: Debug,
    F: Fn() -> S,
{
    run_dtype::<i32, S, F>(&make_store);
    run_dtype::<i64, S, F>(&make_store);
    run_dtype::<f32, S, F>(&make_store);
    run_dtype::<f64, S, F>(&make_store);
}

/// Whether two decoded arrays have the same type, shape and bit patterns (NaN
/// payloads included).
#[must_use]
pub fn same_bits(a: &DecodedArray, b: &DecodedArray) -> bool {
    fn go<T: Copy, U: PartialEq>(x: &ArrayD<T>, y: &ArrayD<T>, f: impl Fn(T) -> U) -> bool {
        x.shape() == y.shape() && x.iter().zip(y).all(|(&p, &q)| f(p) == f(q))
    }
    match (a, b) {
        (DecodedArray::Int32(x), DecodedArray::Int32(y)) => go(x, y, |v| v),
        (DecodedArray::Int64(x), DecodedArray::Int64(y)) => go(x, y, |v| v),
        (DecodedArray::Float32(x), DecodedArray::Float32(y)) => go(x, y, f32::to_bits),
        (DecodedArray::Float64(x), DecodedArray::Float64(y)) => go(x, y, f64::to_bits),
        _ => false,
    }
}

/// Writes `data`, reads it back whole, with a keep mask and sample slice, and as row
/// slabs, and compares each with the in-memory array's decode bit for bit, plus the
/// format version, the logical type and the values in that type.
fn check_extended<T, S, F>(
    make: &F,
    data: &ArrayD<T>,
    opts: &CompressOptions,
    want_version: u32,
    name: &str,
) where
    T: Value,
    S: FlacArrayWriter + FlacArrayReader,
    <S as FlacArrayWriter>::Error: Debug,
    <S as FlacArrayReader>::Error: Debug,
    F: Fn() -> S,
{
    let mut store = make();
    if let Err(e) = write_array(&mut store, data, opts) {
        panic!("{name}: write failed: {e:?}");
    }
    let mem = FlacArray::from_array(data, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(mem.format_version(), want_version, "{name}: format version");
    let fa = read_flacarray(&store, None, true).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_eq!(
        fa.format_version(),
        want_version,
        "{name}: stored format version"
    );
    assert_eq!(fa.logical_dtype(), T::LOGICAL, "{name}: stored type");
    assert_eq!(
        fa.global_shape(),
        mem.global_shape(),
        "{name}: stored shape"
    );
    let all = ReadOptions {
        no_flatten: true,
        ..ReadOptions::default()
    };
    let want = mem
        .decompress(&all)
        .unwrap_or_else(|e| panic!("{name}: in-memory decode: {e}"))
        .array;
    let got = fa
        .decompress(&all)
        .unwrap_or_else(|e| panic!("{name}: decode: {e}"))
        .array;
    assert!(same_bits(&got, &want), "{name}: values differ");
    let values = fa
        .to_values()
        .unwrap_or_else(|e| panic!("{name}: values: {e}"));
    assert_eq!(values.dtype(), T::LOGICAL, "{name}: value type");
    if !T::LOGICAL.stored().is_float() {
        let back = values
            .into_array::<T>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            back.iter().eq(data.iter()),
            "{name}: integer data is not lossless"
        );
    }
    if mem.is_empty() {
        return;
    }
    let n_streams = mem.n_streams();
    let keep: Vec<bool> = (0..n_streams).map(|i| i % 2 == 0).collect();
    let ro = ReadOptions {
        keep: Some(&keep),
        stream_slice: SampleSlice::new(Some(1), Some(-1)),
        no_flatten: true,
        ..ReadOptions::default()
    };
    let got = read_array(&store, &ro).unwrap_or_else(|e| panic!("{name}: keep: {e:?}"));
    let want = mem
        .decompress(&ro)
        .unwrap_or_else(|e| panic!("{name}: keep: {e}"));
    assert!(
        same_bits(&got.array, &want.array),
        "{name}: keep and slice differ"
    );
    let lead0 = mem.leading_shape()[0];
    let per = n_streams / lead0;
    let rows = lead0 / 2..lead0;
    let slab = read_flacarray_rows(&store, rows.clone(), None, true)
        .unwrap_or_else(|e| panic!("{name}: rows: {e:?}"));
    let got = slab
        .decompress(&all)
        .unwrap_or_else(|e| panic!("{name}: rows: {e}"));
    let in_rows: Vec<bool> = (0..n_streams)
        .map(|i| i >= rows.start * per && i < rows.end * per)
        .collect();
    let want = mem
        .decompress(&ReadOptions {
            keep: Some(&in_rows),
            no_flatten: true,
            ..ReadOptions::default()
        })
        .unwrap_or_else(|e| panic!("{name}: rows: {e}"));
    let flat = |d: DecodedArray| -> DecodedArray {
        let n = d.shape().iter().product::<usize>();
        match d {
            DecodedArray::Int32(a) => DecodedArray::Int32(flat_of(a, n)),
            DecodedArray::Int64(a) => DecodedArray::Int64(flat_of(a, n)),
            DecodedArray::Float32(a) => DecodedArray::Float32(flat_of(a, n)),
            DecodedArray::Float64(a) => DecodedArray::Float64(flat_of(a, n)),
        }
    };
    assert!(
        same_bits(&flat(got.array), &flat(want.array)),
        "{name}: rows {rows:?} differ"
    );
}

fn flat_of<T: Clone>(a: ArrayD<T>, n: usize) -> ArrayD<T> {
    let v: Vec<T> = a.iter().cloned().collect();
    #[allow(clippy::unwrap_used)]
    let out = ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap();
    out
}

/// Runs the cases of what flacarray-rs stores beyond flacarray 0.4.1 against stores
/// made by `make_store`: every carried type with extreme values (format 1, or 2 for
/// `uint64` values ≥ 2^63), NaN/±inf kept in `float32`, `float64` and `float16` data
/// (format 2), and empty arrays on each axis (format 2).
///
/// # Panics
/// On the first mismatch, with a message naming the case.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn run_extended<S, F>(make_store: F)
where
    S: FlacArrayWriter + FlacArrayReader,
    <S as FlacArrayWriter>::Error: Debug,
    <S as FlacArrayReader>::Error: Debug,
    F: Fn() -> S,
{
    let make = &make_store;
    let ints = CompressOptions::default();
    let shape = [3usize, 2, 700];
    // Raw pseudo-random bits, with each type's minimum and maximum planted.
    let raw = synth_array::<i64>(&shape, 5);
    macro_rules! int_case {
        ($t:ty, $version:expr) => {{
            let mut i = 0;
            let data: ArrayD<$t> = raw.mapv(|v| {
                i += 1;
                // Scrambled so that the high bits vary too; MIN and MAX planted.
                let b = (v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                match i % 97 {
                    0 => <$t>::MIN,
                    1 => <$t>::MAX,
                    _ => b as $t,
                }
            });
            let name = format!("{} {:?}", <$t as Value>::LOGICAL, shape);
            check_extended(make, &data, &ints, $version, &name);
        }};
    }
    int_case!(i8, 1);
    int_case!(i16, 1);
    int_case!(u8, 1);
    int_case!(u16, 1);
    int_case!(u32, 1);
    int_case!(u64, 2);
    let small: ArrayD<u64> = raw.mapv(|v| (v as u64) >> 2);
    check_extended(make, &small, &ints, 1, "uint64 below 2^63");
    let flags: ArrayD<bool> = raw.mapv(|v| v & 4 != 0);
    check_extended(make, &flags, &ints, 1, "bool");
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..CompressOptions::default()
    };
    let halfs: ArrayD<half::f16> = synth_array::<f32>(&shape, 9).mapv(half::f16::from_f32);
    check_extended(make, &halfs, &q, 1, "float16");
    // Non-finite samples: a run at the start of stream 0, one in the middle of stream
    // 2, the end of stream 3, a NaN with a payload, and stream 4 all infinite.
    let keep = CompressOptions {
        keep_nonfinite: true,
        ..q.clone()
    };
    let plant = |flat: usize, k: usize| -> Option<f64> {
        match (flat, k) {
            (0, 0..=9) | (2, 300..=310) => Some(f64::NAN),
            (3, 690..) => Some(f64::NEG_INFINITY),
            (1, 5) => Some(f64::from_bits(0x7ff0_0000_0000_0bad)),
            (4, _) => Some(f64::INFINITY),
            _ => None,
        }
    };
    let mut f64s = synth_array::<f64>(&shape, 11);
    let mut f32s = synth_array::<f32>(&shape, 12);
    let mut f16s = synth_array::<f32>(&shape, 13).mapv(half::f16::from_f32);
    for (n, ((a, b), c)) in f64s
        .iter_mut()
        .zip(f32s.iter_mut())
        .zip(f16s.iter_mut())
        .enumerate()
    {
        if let Some(v) = plant(n / shape[2], n % shape[2]) {
            *a = v;
            *b = if v.is_nan() && v.to_bits() != f64::NAN.to_bits() {
                f32::from_bits(0x7f80_0bad)
            } else {
                v as f32
            };
            *c = half::f16::from_f64(v);
        }
    }
    check_extended(make, &f64s, &keep, 2, "float64 with NaN/inf");
    check_extended(make, &f32s, &keep, 2, "float32 with NaN/inf");
    check_extended(make, &f16s, &keep, 2, "float16 with NaN/inf");
    // Empty arrays, on every axis.
    let e = |s: &[usize]| ArrayD::<i32>::zeros(IxDyn(s));
    check_extended(make, &e(&[0, 10]), &ints, 2, "int32 (0, 10)");
    check_extended(make, &e(&[0]), &ints, 2, "int32 (0,)");
    check_extended(
        make,
        &e(&[2, 0, 4]).mapv(|v| v as u16),
        &ints,
        2,
        "uint16 (2, 0, 4)",
    );
    let z = ArrayD::<f32>::zeros(IxDyn(&[3, 0]));
    check_extended(make, &z, &q, 2, "float32 (3, 0)");
    let z = ArrayD::<f64>::zeros(IxDyn(&[2, 3, 0]));
    check_extended(make, &z, &q, 2, "float64 (2, 3, 0)");
}

/// One array of each addition beyond flacarray 0.4.1, named, for interoperability
/// tests: every carried type (format 1; `uint64` with values ≥ 2^63 in format 2),
/// kept NaN/inf in float32 and float64 (format 2) and empty arrays (format 2).
///
/// # Panics
/// Never for these inputs (the compression of fixed data).
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn extended_cases() -> Vec<(&'static str, FlacArray)> {
    fn fa<T: Value>(a: &ArrayD<T>, o: &CompressOptions) -> FlacArray {
        FlacArray::from_array(a, o).unwrap_or_else(|e| panic!("{e}"))
    }
    let ints = CompressOptions::default();
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..CompressOptions::default()
    };
    let keep = CompressOptions {
        keep_nonfinite: true,
        ..q.clone()
    };
    let raw = synth_array::<i64>(&[3, 500], 21);
    let mut nan = synth_array::<f32>(&[3, 500], 22);
    nan[[0, 0]] = f32::NAN;
    nan[[1, 250]] = f32::INFINITY;
    nan[[2, 499]] = f32::NEG_INFINITY;
    let mut inf = synth_array::<f64>(&[2, 400], 23);
    for k in 100..140 {
        inf[[1, k]] = f64::NAN;
    }
    vec![
        ("bool", fa(&raw.mapv(|v| v & 1 == 1), &ints)),
        ("int8", fa(&raw.mapv(|v| v as i8), &ints)),
        ("int16", fa(&raw.mapv(|v| v as i16), &ints)),
        ("uint8", fa(&raw.mapv(|v| v as u8), &ints)),
        ("uint16", fa(&raw.mapv(|v| v as u16), &ints)),
        ("uint32", fa(&raw.mapv(|v| v as u32), &ints)),
        ("uint64_small", fa(&raw.mapv(|v| (v as u64) >> 1), &ints)),
        (
            "uint64_big",
            fa(&raw.mapv(|v| (v as u64) | (1 << 63)), &ints),
        ),
        (
            "float16",
            fa(
                &synth_array::<f32>(&[2, 600], 24).mapv(half::f16::from_f32),
                &q,
            ),
        ),
        ("float32_nan", fa(&nan, &keep)),
        ("float64_nan", fa(&inf, &keep)),
        (
            "int32_empty_rows",
            fa(&ArrayD::<i32>::zeros(IxDyn(&[0, 10])), &ints),
        ),
        (
            "float32_empty_streams",
            fa(&ArrayD::<f32>::zeros(IxDyn(&[4, 0])), &q),
        ),
    ]
}
