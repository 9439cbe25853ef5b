//! The element types beyond 0.4.1's four, kept NaN/inf and empty arrays, in memory:
//! round trips with extreme values, non-finite patterns, empty shapes on every axis,
//! the format version each needs, and hostile extension metadata.
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::synth::SplitMix64;
use flacarray_core::{
    CompressOptions, DType, DecodedArray, Error, FlacArray, LogicalArray, LogicalDType, NonFinite,
    QuantaOption, ReadOptions, SampleSlice, Value,
};
use half::f16;
use ndarray::{ArrayD, Axis, IxDyn, Slice};

/// Value patterns of one integer type: min, max, all equal, alternating extremes,
/// random.
fn int_patterns<T: Value>(min: T, max: T, from_bits: impl Fn(u64) -> T) -> Vec<Vec<T>> {
    let n = 5000;
    let mut r = SplitMix64::new(7);
    vec![
        vec![min; n],
        vec![max; n],
        vec![from_bits(12345); n],
        (0..n).map(|i| if i % 2 == 0 { min } else { max }).collect(),
        (0..n).map(|_| from_bits(r.next_u64())).collect(),
        vec![min, max, from_bits(1)],
    ]
}

/// Compresses `x` as (2, 3, len/6) when it divides, else 1-d; checks the exact round
/// trip in the logical type, the widened stored values and the format version.
fn check_lossless<T: Value>(x: &[T], want_version: impl Fn(&[T]) -> u32) {
    let shape: Vec<usize> = if x.len().is_multiple_of(6) {
        vec![2, 3, x.len() / 6]
    } else {
        vec![x.len()]
    };
    let a = ArrayD::from_shape_vec(IxDyn(&shape), x.to_vec()).unwrap();
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    let what = format!("{} {:?}..", T::LOGICAL, &x[..x.len().min(3)]);
    assert_eq!(fa.logical_dtype(), T::LOGICAL, "{what}");
    assert_eq!(fa.dtype(), T::LOGICAL.stored(), "{what}");
    assert_eq!(fa.format_version(), want_version(x), "{what}");
    assert_eq!(fa.to_values_typed::<T>().unwrap(), a, "{what}");
    // The stored values are the widened ones.
    let stored = LogicalArray::from_decoded(fa.to_array().unwrap(), T::LOGICAL).unwrap();
    assert_eq!(stored.into_array::<T>().unwrap(), a, "{what}");
    // A selection in the logical type.
    let key = if shape.len() == 3 {
        "1, ::-1, 2:9"
    } else {
        "1:"
    };
    let sel = fa.select_values(key).unwrap();
    assert_eq!(sel.dtype(), T::LOGICAL);
    let want = if shape.len() == 3 {
        a.index_axis(Axis(0), 1)
            .slice_axis(Axis(0), Slice::new(0, None, -1))
            .slice_axis(Axis(1), Slice::from(2..9))
            .to_owned()
    } else {
        a.slice_axis(Axis(0), Slice::from(1..)).to_owned()
    };
    assert_eq!(sel.into_array::<T>().unwrap(), want, "{what}");
}

fn v1<T>(_: &[T]) -> u32 {
    1
}

fn zeros<T: Clone>(shape: &[usize], t: T) -> ArrayD<T> {
    ArrayD::from_elem(IxDyn(shape), t)
}

#[test]
fn small_integers_round_trip_in_format_1() {
    #[allow(clippy::cast_possible_truncation)]
    {
        for x in int_patterns(i8::MIN, i8::MAX, |b| b as i8) {
            check_lossless(&x, v1);
        }
        for x in int_patterns(i16::MIN, i16::MAX, |b| b as i16) {
            check_lossless(&x, v1);
        }
        for x in int_patterns(u8::MIN, u8::MAX, |b| b as u8) {
            check_lossless(&x, v1);
        }
        for x in int_patterns(u16::MIN, u16::MAX, |b| b as u16) {
            check_lossless(&x, v1);
        }
        for x in int_patterns(u32::MIN, u32::MAX, |b| b as u32) {
            check_lossless(&x, v1);
        }
        for x in int_patterns(false, true, |b| b & 1 == 1) {
            check_lossless(&x, v1);
        }
    }
    // The stored type is the widened one, as 0.4.1 reads it.
    let a = ndarray::arr2(&[[u16::MAX, 0, 1]]);
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    assert_eq!(
        fa.to_array().unwrap(),
        DecodedArray::Int32(ndarray::arr2(&[[65535_i32, 0, 1]]).into_dyn())
    );
    assert_eq!(fa.to_string(), "<FlacArray uint16 shape=(1, 3) bytes=60>");
}

#[test]
fn uint64_is_lossless_and_needs_format_2_only_above_2_63() {
    let v = |x: &[u64]| {
        if x.iter().any(|&v| v >= 1 << 63) {
            2
        } else {
            1
        }
    };
    for x in int_patterns(u64::MIN, u64::MAX, |b| b) {
        check_lossless(&x, v);
    }
    let small: Vec<u64> = (0..600).map(|i| i * 1_000_003).collect();
    check_lossless(&small, v);
    let top: Vec<u64> = (0..600).map(|i| u64::MAX - i).collect();
    check_lossless(&top, v);
    // The int64 path's other types stay as they were.
    let i: Vec<i64> = vec![i64::MIN, i64::MAX, 0, -1];
    check_lossless(&i, |_| 1);
}

#[test]
fn float16_goes_through_float32_and_rounds_back() {
    let mut r = SplitMix64::new(3);
    let vals: Vec<f16> = (0..6000)
        .map(|i| f16::from_f32(((i as f32) * 0.01).sin() * 100.0 + (r.next_u64() % 7) as f32))
        .collect();
    let extremes = vec![
        f16::MIN,
        f16::MAX,
        f16::MIN_POSITIVE,
        f16::ZERO,
        f16::NEG_ONE,
        f16::ONE,
    ];
    for (x, q) in [
        (vals, 0.01),
        (extremes, 1.0),
        (vec![f16::from_f32(3.5); 60], 0.1),
    ] {
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 3, x.len() / 6]), x.clone()).unwrap();
        let opts = CompressOptions {
            quanta: Some(QuantaOption::Scalar(q)),
            ..Default::default()
        };
        let fa = FlacArray::from_array(&a, &opts).unwrap();
        assert_eq!((fa.dtype(), fa.format_version()), (DType::Float32, 1));
        assert_eq!(fa.logical_dtype(), LogicalDType::Float16);
        let f32s = fa.to_array_typed::<f32>().unwrap();
        let back = fa.to_values_typed::<f16>().unwrap();
        for ((&h, &w), &orig) in back.iter().zip(&f32s).zip(&x) {
            // Ours is exactly the float32 value rounded to float16 (what 0.4.1 reads,
            // narrowed), and within half a quanta of the input.
            assert_eq!(h, f16::from_f32(w));
            let err = (w - orig.to_f32()).abs();
            // Half a quanta plus the float32 rounding of the result.
            assert!(
                f64::from(err) <= q * 0.5 + f64::from(w.abs()) * 2.0_f64.powi(-22),
                "{orig} -> {w} (quanta {q})"
            );
        }
    }
}

/// Non-finite patterns over a stream of `n` samples.
fn nonfinite_patterns(n: usize) -> Vec<(&'static str, Vec<Option<f64>>)> {
    let mut out: Vec<(&str, Vec<Option<f64>>)> = Vec::new();
    let base = |i: usize| Some((i as f64 * 0.05).sin() * 10.0);
    out.push(("none", (0..n).map(base).collect()));
    let mut one: Vec<_> = (0..n).map(base).collect();
    one[n / 2] = Some(f64::NAN);
    out.push(("one", one));
    out.push(("all nan", vec![Some(f64::NAN); n]));
    out.push((
        "all mixed",
        (0..n)
            .map(|i| Some([f64::INFINITY, f64::NEG_INFINITY, f64::NAN][i % 3]))
            .collect(),
    ));
    let mut ends: Vec<_> = (0..n).map(base).collect();
    for v in ends.iter_mut().take(7) {
        *v = Some(f64::NAN);
    }
    for v in ends.iter_mut().skip(n - 5) {
        *v = Some(f64::NEG_INFINITY);
    }
    out.push(("runs at both ends", ends));
    out.push((
        "alternating",
        (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    Some(f64::INFINITY)
                } else {
                    base(i)
                }
            })
            .collect(),
    ));
    let mut payload: Vec<_> = (0..n).map(base).collect();
    for v in payload.iter_mut().skip(10).take(4) {
        // A NaN with a payload (kept bit for bit): `None` marks it.
        *v = None;
    }
    out.push(("nan payload", payload));
    out
}

fn bits32(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn nonfinite_samples_are_kept_bit_for_bit_on_request() {
    let n = 9000;
    let q = 1e-3;
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(q)),
        keep_nonfinite: true,
        ..Default::default()
    };
    for (name, pat) in nonfinite_patterns(n) {
        let payload32 = f32::from_bits(0x7f80_0123);
        let payload64 = f64::from_bits(0xfff0_0000_0000_0abc);
        // Stream 1 of 3 holds the pattern; the others are finite.
        let f32s: Vec<f32> = (0..3 * n)
            .map(|k| {
                let (s, i) = (k / n, k % n);
                if s == 1 {
                    #[allow(clippy::cast_possible_truncation)]
                    pat[i].map_or(payload32, |v| v as f32)
                } else {
                    (i as f32 * 0.01).cos()
                }
            })
            .collect();
        let f64s: Vec<f64> = (0..3 * n)
            .map(|k| {
                let (s, i) = (k / n, k % n);
                if s == 1 {
                    pat[i].unwrap_or(payload64)
                } else {
                    (i as f64 * 0.01).cos()
                }
            })
            .collect();
        let a32 = ArrayD::from_shape_vec(IxDyn(&[3, n]), f32s.clone()).unwrap();
        let a64 = ArrayD::from_shape_vec(IxDyn(&[3, n]), f64s.clone()).unwrap();
        let fa32 = FlacArray::from_array(&a32, &opts).unwrap();
        let fa64 = FlacArray::from_array(&a64, &opts).unwrap();
        let has_nf = name != "none";
        for fa in [&fa32, &fa64] {
            assert_eq!(fa.format_version(), if has_nf { 2 } else { 1 }, "{name}");
            assert_eq!(fa.nonfinite().is_some(), has_nf, "{name}");
            if let Some(nf) = fa.nonfinite() {
                assert_eq!(nf.flags(n)[0], 0);
                assert_eq!(nf.flags(n)[2], 0);
                let want = if name.starts_with("all") { 2 } else { 1 };
                assert_eq!(nf.flags(n)[1], want, "{name}");
            }
        }
        let back32 = fa32.to_array_typed::<f32>().unwrap();
        let back64 = fa64.to_array_typed::<f64>().unwrap();
        for (k, (&w, &g)) in f32s.iter().zip(&back32).enumerate() {
            if w.is_finite() {
                assert!(
                    (w - g).abs() <= 0.5e-3 * 1.001 + 1e-6,
                    "{name} f32 {k}: {w} {g}"
                );
            } else {
                assert_eq!(w.to_bits(), g.to_bits(), "{name} f32 sample {k}");
            }
        }
        for (k, (&w, &g)) in f64s.iter().zip(&back64).enumerate() {
            if w.is_finite() {
                assert!((w - g).abs() <= 0.5e-3 * 1.001, "{name} f64 {k}: {w} {g}");
            } else {
                assert_eq!(w.to_bits(), g.to_bits(), "{name} f64 sample {k}");
            }
        }
        // Partial reads see the same samples: a sample window and one kept stream.
        let keep = [false, true, false];
        let sel = fa32
            .decompress(&ReadOptions {
                keep: Some(&keep),
                stream_slice: SampleSlice::new(Some(3), Some(-2)),
                ..Default::default()
            })
            .unwrap()
            .array
            .into_array::<f32>()
            .unwrap();
        assert_eq!(
            bits32(sel.as_slice().unwrap()),
            bits32(&back32.as_slice().unwrap()[n + 3..2 * n - 2]),
            "{name}"
        );
        let rev = fa32.select("1, ::-3").unwrap().into_array::<f32>().unwrap();
        let want: Vec<f32> = back32.as_slice().unwrap()[n..2 * n]
            .iter()
            .rev()
            .step_by(3)
            .copied()
            .collect();
        assert_eq!(bits32(rev.as_slice().unwrap()), bits32(&want), "{name}");
        let kept = fa64.keep_streams(&keep, false).unwrap();
        let k64 = kept.to_array_typed::<f64>().unwrap();
        let row: Vec<u64> = back64.as_slice().unwrap()[n..2 * n]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let got: Vec<u64> = k64.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, row, "{name}");
        // Without the option, the first non-finite sample is an error naming stream (1,).
        if has_nf {
            let strict = CompressOptions {
                keep_nonfinite: false,
                ..opts.clone()
            };
            let e = FlacArray::from_array(&a32, &strict).unwrap_err();
            assert!(e.to_string().starts_with("stream (1,): "), "{e}");
        }
    }
}

#[test]
fn float16_nonfinite_samples_survive() {
    let x: Vec<f16> = (0..400)
        .map(|i| match i % 50 {
            0 => f16::NAN,
            1 => f16::INFINITY,
            2 => f16::NEG_INFINITY,
            3 => f16::from_bits(0x7c01),
            _ => f16::from_f32(i as f32 * 0.25),
        })
        .collect();
    let a = ArrayD::from_shape_vec(IxDyn(&[400]), x.clone()).unwrap();
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(0.25)),
        keep_nonfinite: true,
        ..Default::default()
    };
    let fa = FlacArray::from_array(&a, &opts).unwrap();
    assert_eq!(fa.format_version(), 2);
    let back = fa.to_values_typed::<f16>().unwrap();
    let bits = |v: &[f16]| v.iter().map(|h| h.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(back.as_slice().unwrap()), bits(&x));
}

#[test]
fn empty_shapes_on_every_axis() {
    let shapes: [&[usize]; 6] = [&[0], &[0, 10], &[10, 0], &[2, 0, 3], &[2, 3, 0], &[0, 0]];
    for shape in shapes {
        let check = |fa: FlacArray, dtype: LogicalDType| {
            assert_eq!(fa.shape(), shape, "{dtype}");
            assert_eq!(fa.nbytes(), 0);
            assert_eq!(fa.format_version(), 2);
            assert!(fa.is_empty());
            assert_eq!(fa.logical_dtype(), dtype);
            let v = fa.to_values().unwrap();
            assert_eq!((v.dtype(), v.shape()), (dtype, shape));
            let d = fa.to_array().unwrap();
            assert_eq!(d.shape(), shape);
            // Selections of an empty array are empty.
            let s = fa.select("...").unwrap();
            assert_eq!(s.shape(), shape);
            // A round trip through the parts keeps it.
            let lead = fa.leading_shape().to_vec();
            let back = FlacArray::from_parts(fa.into_parts()).unwrap();
            assert_eq!(back.leading_shape(), lead);
        };
        let opts = CompressOptions::default();
        let fopts = CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..Default::default()
        };
        check(
            FlacArray::from_array(&zeros(shape, 0_i32), &opts).unwrap(),
            LogicalDType::Int32,
        );
        check(
            FlacArray::from_array(&zeros(shape, 0_u8), &opts).unwrap(),
            LogicalDType::Uint8,
        );
        check(
            FlacArray::from_array(&zeros(shape, 0_u64), &opts).unwrap(),
            LogicalDType::Uint64,
        );
        check(
            FlacArray::from_array(&zeros(shape, false), &opts).unwrap(),
            LogicalDType::Bool,
        );
        check(
            FlacArray::from_array(&zeros(shape, 0_f64), &fopts).unwrap(),
            LogicalDType::Float64,
        );
        check(
            FlacArray::from_array(&zeros(shape, f16::ZERO), &fopts).unwrap(),
            LogicalDType::Float16,
        );
    }
}

#[test]
fn hostile_extensions_are_refused() {
    let f = ndarray::Array2::from_shape_fn((2, 50), |(i, k)| (i * 50 + k) as f32);
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(0.5)),
        ..Default::default()
    };
    let fa = FlacArray::from_array(&f, &q).unwrap();
    let ints =
        FlacArray::from_array(&ndarray::arr2(&[[1_i32, 2]]), &CompressOptions::default()).unwrap();
    let err = |r: Result<FlacArray, Error>, want: &str| match r {
        Ok(_) => panic!("accepted, wanted {want}"),
        Err(e) => assert!(e.to_string().contains(want), "{e} (want {want})"),
    };
    // A type the stored one does not carry.
    err(
        fa.clone().with_extension(LogicalDType::Uint8, None),
        "not stored as",
    );
    err(
        ints.clone().with_extension(LogicalDType::Float16, None),
        "not stored as",
    );
    // Non-finite runs that do not fit.
    let v2 = |fa: &FlacArray| {
        let mut p = fa.clone().into_parts();
        p.format_version = 2;
        FlacArray::from_parts(p).unwrap()
    };
    // One run of 60 samples in streams of 50.
    let long = NonFinite::decode(&[2, 0], &[1, 0, 60, 0], 60, &[2], false).unwrap();
    err(
        v2(&fa).with_extension(LogicalDType::Float32, Some(long)),
        "invalid",
    );
    assert!(NonFinite::decode(&[2, 0], &[1, 0, 60, 0], 50, &[2], false).is_err());
    let three = NonFinite::decode(&[1, 0, 0], &[1, 0, 1, 0], 50, &[3], false).unwrap();
    err(
        v2(&fa).with_extension(LogicalDType::Float32, Some(three)),
        "streams described",
    );
    let ok = NonFinite::decode(&[1, 0], &[1, 0, 1, 0], 50, &[2], false).unwrap();
    // A valid table applies: stream 0's sample 0 reads as NaN.
    let good = v2(&fa)
        .with_extension(LogicalDType::Float32, Some(ok.clone()))
        .unwrap();
    let back = good.to_array_typed::<f32>().unwrap();
    assert!(back[[0, 0]].is_nan());
    assert_eq!(back[[0, 1]], 1.0);
    assert_eq!(back[[1, 0]], 50.0);
    // Format 1 may not carry non-finite samples (0.4.1 would read the filled values).
    err(
        fa.clone()
            .with_extension(LogicalDType::Float32, Some(ok.clone())),
        "format 1",
    );
    err(
        v2(&ints).with_extension(LogicalDType::Int32, Some(ok.clone())),
        "int32 data",
    );
    let wide = NonFinite::decode(&[1, 0], &[1, 0, 1, 0], 50, &[2], true).unwrap();
    err(
        v2(&fa).with_extension(LogicalDType::Float32, Some(wide)),
        "float width",
    );
    // Unknown kinds and flags.
    assert!(NonFinite::decode(&[1, 0], &[1, 0, 1, 9], 50, &[2], false).is_err());
    assert!(NonFinite::decode(&[5, 0], &[], 50, &[2], false).is_err());
    // Streams of 0 samples with bytes.
    let mut p = fa.clone().into_parts();
    p.format_version = 2;
    p.stream_size = 0;
    assert!(FlacArray::from_parts(p).is_err());
}

#[test]
fn stored_extensions_round_trip_through_a_store() {
    use flacarray_core::{
        MemoryStore, StoredExtension, read_array, read_flacarray, read_flacarray_rows, write_array,
    };
    // uint8 (format 1 + recorded type), float64 with NaN (format 2), empty (format 2).
    let u = ndarray::Array3::from_shape_fn((3, 2, 40), |(i, j, k)| (i * 80 + j * 40 + k) as u8);
    let mut store = MemoryStore::new();
    write_array(&mut store, &u, &CompressOptions::default()).unwrap();
    let fa = read_flacarray(&store, None, false).unwrap();
    assert_eq!(
        (fa.format_version(), fa.logical_dtype()),
        (1, LogicalDType::Uint8)
    );
    assert_eq!(fa.to_values_typed::<u8>().unwrap(), u.clone().into_dyn());

    let mut f = ndarray::Array2::from_shape_fn((4, 300), |(i, k)| (i * 300 + k) as f64 * 0.5);
    f[[1, 0]] = f64::NAN;
    f[[3, 299]] = f64::NEG_INFINITY;
    f.row_mut(2).fill(f64::INFINITY);
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(0.25)),
        keep_nonfinite: true,
        ..Default::default()
    };
    write_array(&mut store, &f, &opts).unwrap();
    let same = |a: &ArrayD<f64>, b: &ArrayD<f64>| {
        a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()) && a.shape() == b.shape()
    };
    let all = read_flacarray(&store, None, false).unwrap();
    assert_eq!(all.format_version(), 2);
    assert!(same(
        &all.to_array_typed::<f64>().unwrap(),
        &f.clone().into_dyn()
    ));
    // Kept streams and MPI-style row slabs carry their own runs.
    let keep = [false, true, false, true];
    let sel = read_array(
        &store,
        &ReadOptions {
            keep: Some(&keep),
            ..Default::default()
        },
    )
    .unwrap()
    .array
    .into_array::<f64>()
    .unwrap();
    assert!(sel[[0, 0]].is_nan() && sel[[1, 299]] == f64::NEG_INFINITY);
    assert_eq!(sel[[0, 1]], 150.5);
    let slab = read_flacarray_rows(&store, 2..4, None, false).unwrap();
    let s = slab.to_array_typed::<f64>().unwrap();
    assert!((0..300).all(|k| s[[0, k]] == f64::INFINITY));
    assert_eq!(s[[1, 299]], f64::NEG_INFINITY);

    // Hostile extensions written next to good data are refused on read.
    let good = StoredExtension::of(&all);
    let (flags, runs) = good.nonfinite.clone().unwrap();
    let hostile = [
        (
            Some("uint99".to_string()),
            good.nonfinite.clone(),
            "unknown type",
        ),
        (
            Some("int8".to_string()),
            good.nonfinite.clone(),
            "not stored as",
        ),
        (
            None,
            Some((flags[..3].to_vec(), runs.clone())),
            "3 flags for 4",
        ),
        (
            None,
            Some((flags.clone(), [&runs[..], &[0]].concat())),
            "left after",
        ),
        (
            None,
            Some((flags.clone(), runs[..runs.len() - 1].to_vec())),
            "ends inside",
        ),
    ];
    for (dtype, nonfinite, want) in hostile {
        let bad = std::mem::take(&mut store).with_extension(StoredExtension { dtype, nonfinite });
        let e = read_flacarray(&bad, None, false).unwrap_err();
        assert!(e.to_string().contains(want), "{e} (want {want})");
        store = bad;
    }

    let empty = ndarray::Array3::<u16>::zeros((2, 0, 5));
    write_array(&mut store, &empty, &CompressOptions::default()).unwrap();
    let back = read_flacarray(&store, None, false).unwrap();
    assert_eq!(back.shape(), vec![2, 0, 5]);
    assert_eq!(back.to_values_typed::<u16>().unwrap(), empty.into_dyn());
    let empty = ndarray::Array2::<f32>::zeros((3, 0));
    let fq = CompressOptions {
        quanta: Some(QuantaOption::Scalar(0.1)),
        ..Default::default()
    };
    write_array(&mut store, &empty, &fq).unwrap();
    let back = read_flacarray(&store, None, false).unwrap();
    assert_eq!(back.shape(), vec![3, 0]);
    assert_eq!(back.to_array_typed::<f32>().unwrap().shape(), &[3, 0]);
}

/// Rows of a noisy signal (so streams are long enough for range reads to fetch only
/// some frames) with NaN/inf runs at known places.
fn noisy_with_nonfinite(rows: usize, n: usize) -> ndarray::Array2<f64> {
    let mut r = SplitMix64::new(11);
    let mut a = ndarray::Array2::from_shape_fn((rows, n), |(i, j)| {
        let noise = r.next_f64() - 0.5;
        i as f64 + 0.2 * (j as f64 * 1e-3).sin() + 0.4 * noise
    });
    let nan_payload = f64::from_bits(0x7ff8_0000_0000_0123);
    a.row_mut(0)
        .slice_axis_mut(Axis(0), Slice::from(100_000..100_500))
        .fill(nan_payload);
    a[[0, 101_000]] = f64::INFINITY;
    a[[0, 101_001]] = f64::NEG_INFINITY;
    a.row_mut(rows - 1)
        .slice_axis_mut(Axis(0), Slice::from(300_000..300_010))
        .fill(f64::NAN);
    a
}

fn bits64(x: impl IntoIterator<Item = f64>) -> Vec<u64> {
    x.into_iter().map(f64::to_bits).collect()
}

#[test]
fn range_reads_restore_kept_nonfinite_samples() {
    use flacarray_core::{MemoryStore, read_array, write_array};
    let (rows, n) = (2, 400_000);
    let a = noisy_with_nonfinite(rows, n);
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        keep_nonfinite: true,
        ..Default::default()
    };
    let mut store = MemoryStore::new();
    write_array(&mut store, &a, &opts).unwrap();
    let stored = store.stored_bytes();
    let full = read_array(&store, &ReadOptions::default()).unwrap().array;
    let DecodedArray::Float64(full) = full else {
        panic!("float64 expected");
    };
    // The full decode keeps every non-finite sample with its bits.
    for (x, y) in a.iter().zip(full.iter()) {
        if !x.is_finite() {
            assert_eq!(x.to_bits(), y.to_bits());
        }
    }
    // 1% ranges across the runs (and one without any), with and without a keep mask.
    let one = n / 100;
    let keep_last = [false, true];
    for (start, keep) in [
        (99_000, None),
        (100_400, None),
        (200_000, None),
        (298_000, Some(&keep_last[..])),
    ] {
        store.reset_counters();
        let sel = read_array(
            &store,
            &ReadOptions {
                keep,
                stream_slice: SampleSlice::new(Some(start as i64), Some((start + one) as i64)),
                ..Default::default()
            },
        )
        .unwrap();
        let read = store.bytes_read();
        // Only the frames of the range were read, not whole streams.
        assert!(read * 10 < stored, "{start}: read {read} of {stored}");
        let DecodedArray::Float64(got) = sel.array else {
            panic!("float64 expected");
        };
        let rows_read: Vec<usize> = match keep {
            None => (0..rows).collect(),
            Some(_) => vec![rows - 1],
        };
        let want: Vec<u64> = rows_read
            .iter()
            .flat_map(|&r| {
                let row = full.index_axis(Axis(0), r);
                bits64(
                    row.slice_axis(Axis(0), Slice::from(start..start + one))
                        .iter()
                        .copied(),
                )
            })
            .collect();
        assert_eq!(bits64(got.iter().copied()), want, "range from {start}");
    }
}

#[test]
fn concatenation_carries_kept_nonfinite_samples_and_the_logical_type() {
    let (rows, n) = (2, 400_000);
    let a = noisy_with_nonfinite(rows, n);
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        keep_nonfinite: true,
        ..Default::default()
    };
    let whole = FlacArray::from_array(&a, &opts).unwrap();
    // Row 1 has NaN too; a part without any is format 1 and mixes with format 2.
    let mut b = a.clone();
    b.row_mut(1)
        .mapv_inplace(|v| if v.is_finite() { v } else { 1.0 });
    let parts: Vec<FlacArray> = [a.row(0), b.row(1)]
        .iter()
        .map(|r| FlacArray::from_array(&r.insert_axis(Axis(0)), &opts).unwrap())
        .collect();
    assert_eq!(parts[0].format_version(), 2);
    assert_eq!(parts[1].format_version(), 1);
    let c = FlacArray::concat(&parts).unwrap();
    assert_eq!(c.format_version(), 2);
    let DecodedArray::Float64(got) = c.to_array().unwrap() else {
        panic!("float64 expected");
    };
    let DecodedArray::Float64(want) = whole.to_array().unwrap() else {
        panic!("float64 expected");
    };
    assert_eq!(
        bits64(got.index_axis(Axis(0), 0).iter().copied()),
        bits64(want.index_axis(Axis(0), 0).iter().copied())
    );
    assert!(got.index_axis(Axis(0), 1).iter().all(|v| v.is_finite()));
    // The same rows, both with their runs, concatenate to the array compressed whole.
    let same: Vec<FlacArray> = [0..1, 1..2]
        .into_iter()
        .map(|r| FlacArray::from_array(&a.slice_axis(Axis(0), Slice::from(r)), &opts).unwrap())
        .collect();
    assert_eq!(FlacArray::concat(&same).unwrap(), whole);
    // Another logical type is refused, naming it.
    let u = FlacArray::from_array(&ndarray::arr2(&[[1u16, 2, 3]]), &CompressOptions::default())
        .unwrap();
    let i = FlacArray::from_array(&ndarray::arr2(&[[1i32, 2, 3]]), &CompressOptions::default())
        .unwrap();
    let e = FlacArray::concat(&[i, u]).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(e.to_string().contains("logical dtype is uint16"), "{e}");
}
