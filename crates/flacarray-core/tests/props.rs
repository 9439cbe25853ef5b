//! Property tests: lossless integers, the float error bound, selections equal to
//! slicing the full decode (keep masks, sample slices, numpy indexing with negative
//! steps), and thread-count independence of the bytes.
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::{
    CompressOptions, FlacArray, Index, QuantaOption, ReadOptions, SampleSlice,
    conformance::reference_read,
};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

/// A shape of 1 to 3 axes with a stream length that sometimes crosses a frame.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    (
        prop::collection::vec(1usize..4, 0..3),
        prop_oneof![1usize..20, 1100usize..1300, 4090usize..4200],
    )
        .prop_map(|(mut lead, n)| {
            lead.push(n);
            lead
        })
}

/// Integers of a random magnitude (small, mid, full range), mixed with a walk so that
/// LPC/fixed predictors are exercised.
fn ints(shape: &[usize], seed: u64, bits: u32) -> Vec<i64> {
    let len: usize = shape.iter().product();
    let mut s = seed | 1;
    let mut walk: i64 = 0;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let r = s as i64;
            walk = walk.wrapping_add(r >> (64 - bits.min(63)));
            if seed.is_multiple_of(3) {
                r >> (64 - bits)
            } else {
                walk
            }
        })
        .collect()
}

fn opts(level: u8, threads: Option<usize>) -> CompressOptions {
    CompressOptions {
        level,
        threads,
        ..Default::default()
    }
}

/// numpy's positions for `start:stop:step` on an axis of `n` (CPython's algorithm,
/// written as a loop).
fn numpy_positions(start: Option<i64>, stop: Option<i64>, step: i64, n: i64) -> Vec<usize> {
    let mut out = Vec::new();
    if step > 0 {
        let norm = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
        let (mut i, e) = (start.map_or(0, norm), stop.map_or(n, norm));
        while i < e {
            out.push(i as usize);
            i += step;
        }
    } else {
        let norm = |v: i64| if v < 0 { (v + n).max(-1) } else { v.min(n - 1) };
        let (mut i, e) = (start.map_or(n - 1, norm), stop.map_or(-1, norm));
        while i > e {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

/// A random key item for an axis of length `n`.
fn key_item() -> impl Strategy<Value = (u8, i64, i64, i64, bool, bool)> {
    (
        0u8..3,
        -30i64..30,
        -30i64..30,
        prop_oneof![1i64..4, -4i64..-1],
        any::<bool>(),
        any::<bool>(),
    )
}

/// Applies a numpy key (ints and slices only) to `full` by brute force.
fn numpy_get(full: &ArrayD<i64>, key: &[Index]) -> ArrayD<i64> {
    let mut lists: Vec<Vec<usize>> = Vec::new();
    let mut shape = Vec::new();
    for (ax, &n) in full.shape().iter().enumerate() {
        match key.get(ax).copied().unwrap_or(Index::FULL) {
            Index::Int(i) => lists.push(vec![(if i < 0 { i + n as i64 } else { i }) as usize]),
            Index::Slice { start, stop, step } => {
                let p = numpy_positions(start, stop, step.unwrap_or(1), n as i64);
                shape.push(p.len());
                lists.push(p);
            }
            _ => unreachable!(),
        }
    }
    let mut vals = Vec::new();
    let mut idx = vec![0usize; lists.len()];
    let total: usize = lists.iter().map(Vec::len).product();
    for mut flat in 0..total {
        for ax in (0..lists.len()).rev() {
            idx[ax] = lists[ax][flat % lists[ax].len()];
            flat /= lists[ax].len();
        }
        vals.push(full[IxDyn(&idx)]);
    }
    ArrayD::from_shape_vec(IxDyn(&shape), vals).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn integers_round_trip_exactly(shape in shape(), seed in any::<u64>(), bits in 2u32..64, level in 0u8..=8) {
        let v = ints(&shape, seed, bits);
        let a64 = ArrayD::from_shape_vec(IxDyn(&shape), v.clone()).unwrap();
        let fa = FlacArray::from_array(&a64, &opts(level, None)).unwrap();
        prop_assert_eq!(fa.to_array_typed::<i64>().unwrap(), a64);
        let a32 = ArrayD::from_shape_vec(IxDyn(&shape), v.iter().map(|&x| (x >> 32) as i32 ^ x as i32).collect()).unwrap();
        let fa = FlacArray::from_array(&a32, &opts(level, None)).unwrap();
        prop_assert_eq!(fa.to_array_typed::<i32>().unwrap(), a32);
    }

    #[test]
    fn floats_within_half_a_quantum(shape in shape(), seed in any::<u64>(), qexp in -6i32..1, scale in 1e-2f64..1e3) {
        let q = 10f64.powi(qexp);
        let v: Vec<f64> = ints(&shape, seed, 20).iter().map(|&x| x as f64 / (1 << 19) as f64 * scale).collect();
        let a = ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap();
        let o = CompressOptions { quanta: Some(QuantaOption::Scalar(q)), ..Default::default() };
        let back = FlacArray::from_array(&a, &o).unwrap().to_array_typed::<f64>().unwrap();
        // |error| <= q/2, plus the rounding of `x - off`, `gain * d` and `off + coeff * i`:
        // a few ulp of the largest magnitude in play (the data or the offset, which
        // are at most the array's largest |value|). Streams of one array share it.
        let big = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (x, y) in a.iter().zip(back.iter()) {
            prop_assert!((x - y).abs() <= 0.5 * q * (1.0 + 1e-9) + 4.0 * f64::EPSILON * big, "{x} {y} q={q}");
        }
        let a32 = a.mapv(|x| x as f32);
        let q32 = q.max(1e-3);
        let o = CompressOptions { quanta: Some(QuantaOption::Scalar(q32)), ..Default::default() };
        let back = FlacArray::from_array(&a32, &o).unwrap().to_array_typed::<f32>().unwrap();
        let big32 = a32.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        for (x, y) in a32.iter().zip(back.iter()) {
            let bound = 0.5 * q32 as f32 * (1.0 + 1e-6) + 4.0 * f32::EPSILON * big32;
            prop_assert!((x - y).abs() <= bound, "{x} {y} q={q32}");
        }
    }

    #[test]
    fn keep_and_slice_equal_slicing_the_full_decode(
        shape in shape(), seed in any::<u64>(), mask in any::<u64>(),
        start in prop::option::of(-5000i64..5000), stop in prop::option::of(-5000i64..0), use_keep in any::<bool>(), no_flatten in any::<bool>(),
    ) {
        let a = ArrayD::from_shape_vec(IxDyn(&shape), ints(&shape, seed, 30)).unwrap();
        let fa = FlacArray::from_array(&a, &opts(5, None)).unwrap();
        let n = fa.n_streams();
        let keep: Vec<bool> = (0..n).map(|i| mask >> (i % 64) & 1 == 1).collect();
        let slice = SampleSlice::new(start, stop);
        let ro = ReadOptions { keep: use_keep.then_some(&keep[..]), stream_slice: slice, keep_indices: true, no_flatten, threads: None };
        let got = fa.decompress(&ro).unwrap().array.into_array::<i64>().unwrap();
        let global = a.to_shape(IxDyn(&fa.global_shape())).unwrap().to_owned();
        let range = slice.resolve(fa.stream_size()).unwrap();
        let mut want = reference_read(&global, use_keep.then_some(&keep[..]), range, no_flatten);
        // In memory a 2-d `(1, N)` array keeps its shape (only 1-d input reads back 1-d).
        if !use_keep && !fa.is_one_d() && want.ndim() == 1 {
            want = want.insert_axis(ndarray::Axis(0));
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn numpy_indexing_equals_numpy(shape in shape(), seed in any::<u64>(), items in prop::collection::vec(key_item(), 0..4)) {
        let a = ArrayD::from_shape_vec(IxDyn(&shape), ints(&shape, seed, 40)).unwrap();
        let fa = FlacArray::from_array(&a, &opts(5, None)).unwrap();
        let key: Vec<Index> = items.iter().take(shape.len()).zip(&shape).map(|(&(kind, s, e, st, hs, he), &n)| {
            if kind == 0 {
                Index::Int(s.rem_euclid(2 * n as i64) - n as i64)
            } else {
                Index::Slice { start: hs.then_some(s), stop: he.then_some(e), step: Some(st) }
            }
        }).collect();
        let got = fa.get_typed::<i64>(&key).unwrap();
        prop_assert_eq!(got, numpy_get(&a, &key), "key {:?}", key);
    }

    #[test]
    fn thread_count_does_not_change_the_bytes(shape in shape(), seed in any::<u64>(), level in 0u8..=8) {
        let a = ArrayD::from_shape_vec(IxDyn(&shape), ints(&shape, seed, 24)).unwrap();
        let f = a.mapv(|x| x as f32 * 1e-3);
        let reference = FlacArray::from_array(&a, &opts(level, Some(1))).unwrap();
        let fref = FlacArray::from_array(&f, &CompressOptions { quanta: Some(QuantaOption::Scalar(1e-3)), threads: Some(1), level, ..Default::default() }).unwrap();
        for t in [Some(2), Some(4), None] {
            prop_assert_eq!(&FlacArray::from_array(&a, &opts(level, t)).unwrap(), &reference);
            let o = CompressOptions { quanta: Some(QuantaOption::Scalar(1e-3)), threads: t, level, ..Default::default() };
            prop_assert_eq!(&FlacArray::from_array(&f, &o).unwrap(), &fref);
            let ro = ReadOptions { threads: t, ..Default::default() };
            prop_assert_eq!(fref.decompress(&ro).unwrap(), fref.decompress(&ReadOptions::default()).unwrap());
        }
    }
}

#[test]
fn many_streams_cross_chunk_and_wave_boundaries() {
    // 3000 streams of 200 samples: more than one chunk (2^18 samples) and, with 4
    // threads, more than one wave of chunks; bytes must still be identical.
    let a = ArrayD::from_shape_vec(IxDyn(&[3000, 200]), ints(&[3000, 200], 99, 20)).unwrap();
    let one = FlacArray::from_array(&a, &opts(5, Some(1))).unwrap();
    let four = FlacArray::from_array(&a, &opts(5, Some(4))).unwrap();
    assert_eq!(one, four);
    assert_eq!(four.to_array_typed::<i64>().unwrap(), a);
}

#[test]
fn negative_step_over_samples_and_streams() {
    let a = ArrayD::from_shape_fn(IxDyn(&[3, 9000]), |d| (d[0] * 100_000 + d[1]) as i64);
    let fa = FlacArray::from_array(&a, &opts(5, None)).unwrap();
    let key = flacarray_core::parse_index("::-1, 8500:3000:-7").unwrap();
    assert_eq!(fa.get_typed::<i64>(&key).unwrap(), numpy_get(&a, &key));
    let e = fa.select("-1, -1").unwrap().into_array::<i64>().unwrap();
    assert_eq!((e.ndim(), e[[]]), (0, 208_999));
    let n = fa.select("None, 1, ..., None, 4095:4097").unwrap();
    assert_eq!(n.shape(), &[1, 1, 2]);
}
