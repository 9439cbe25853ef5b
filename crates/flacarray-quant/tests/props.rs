//! Property tests: agreement with a plain replica of 0.4.1's C code, the round-trip
//! error bound, and the error cases (non-finite, overflow, constant streams).
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "tests: the replica casts exactly as the C code does"
)]

use flacarray_quant::{
    Error, Precision, QuantSpec, Quanta, StreamSpec, dequantize, quantize, quantize_stream,
    quantize_streams_into,
};
use proptest::prelude::*;

/// 0.4.1's `float32_to_int32` for one stream, written as plainly as the C: `None`
/// when some integer would leave the i32 range (C's cast would be undefined).
fn replica_f32(x: &[f32], q: f32) -> Option<(f32, f32, Vec<i32>)> {
    let (mut smin, mut smax) = (x[0], x[0]);
    for &v in &x[1..] {
        if v < smin {
            smin = v;
        }
        if v > smax {
            smax = v;
        }
    }
    let off = (0.5 * f64::from(smin + smax)) as f32;
    let ratio = f64::from(off) / f64::from(q);
    assert!(
        ratio.abs() < 9.2e18,
        "test data keeps the int64 cast defined"
    );
    let nquant = ratio as i64;
    let off = (f64::from(q) * nquant as f64) as f32;
    let gain = (1.0 / f64::from(q)) as f32;
    let mut ints = Vec::with_capacity(x.len());
    for &v in x {
        let d = v - off;
        let p = f64::from(gain * d);
        let r = if d >= 0.0 { p + 0.5 } else { p - 0.5 }.trunc();
        if !(-2_147_483_648.0..=2_147_483_647.0).contains(&r) {
            return None;
        }
        ints.push(r as i32);
    }
    Some((off, gain, ints))
}

/// 0.4.1's `float64_to_int64` for one stream, likewise; `Err` when `off / q` leaves
/// the int64 range, where C's cast is undefined (and 0.4.1's output garbage).
#[allow(clippy::type_complexity, reason = "test replica")]
fn replica_f64(x: &[f64], q: f64) -> Result<Option<(f64, f64, Vec<i64>)>, ()> {
    let (mut smin, mut smax) = (x[0], x[0]);
    for &v in &x[1..] {
        if v < smin {
            smin = v;
        }
        if v > smax {
            smax = v;
        }
    }
    let off = 0.5 * (smin + smax);
    let ratio = off / q;
    if ratio.abs() >= 9.2e18 {
        return Err(());
    }
    let off = q * (ratio as i64) as f64;
    let gain = 1.0 / q;
    let mut ints = Vec::with_capacity(x.len());
    for &v in x {
        let d = v - off;
        let p = gain * d;
        let r = if d >= 0.0 { p + 0.5 } else { p - 0.5 }.trunc();
        // r is an integer-valued f64; i64 holds [-2^63, 2^63).
        if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
            return Ok(None);
        }
        ints.push(r as i64);
    }
    Ok(Some((off, gain, ints)))
}

/// Streams of noise around a DC level (zero for about a third of the streams):
/// `(data, stream_size)`.
fn streams(max_streams: usize, max_len: usize) -> impl Strategy<Value = (Vec<f64>, usize)> {
    (1..=max_streams, 1..=max_len).prop_flat_map(|(n, len)| {
        (
            prop::collection::vec((-1.0_f64..1.0, -1e4_f64..1e4, -3.0_f64..3.0), n * len),
            prop::collection::vec(0_u8..3, n),
            Just(len),
        )
            .prop_map(|(v, zero_dc, len)| {
                // Per stream: DC level and scale from the stream's first triple.
                let mut out = Vec::with_capacity(v.len());
                for (s, z) in zero_dc.into_iter().enumerate() {
                    let (_, dc, lscale) = v[s * len];
                    let dc = if z == 0 { 0.0 } else { dc };
                    let scale = 10f64.powf(lscale);
                    out.extend(
                        v[s * len..(s + 1) * len]
                            .iter()
                            .map(|&(u, _, _)| dc + u * scale),
                    );
                }
                (out, len)
            })
    })
}

/// The round-trip bound derived in the crate docs' terms: with `u` the unit
/// roundoff, `|x̂ - x| <= e·coeff·(1 + 4u) + 5.01u·|x - off| + 1.01u·|x̂|`, where
/// `e = 0.5` (half a quantum) except when `|i| >= 2^52` in `f64`, where `p + 0.5` is
/// itself rounded and `e = 1`. Written with `eps = 2u` and rounded up.
fn bound(x: f64, back: f64, off: f64, coeff: f64, i_abs: f64, eps: f64) -> f64 {
    let e = if i_abs >= 4_503_599_627_370_496.0 {
        1.0
    } else {
        0.5
    };
    e * coeff * (1.0 + 2.0 * eps) + eps * (2.6 * (x - off).abs() + 0.6 * back.abs())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn f32_matches_replica_and_bound((data, len) in streams(4, 300), k in -1_i32..10) {
        let data: Vec<f32> = data.iter().map(|&v| v as f32).collect();
        // Quanta relative to the first stream's spread: up to 1e9 steps, which
        // overflows i32 for wide streams; both outcomes are checked.
        let spread = data[..len].iter().fold(0.0_f32, |m, &v| m.max((v - data[0]).abs())).max(1e-3);
        let q = spread / 10f32.powi(k);
        let spec = QuantSpec::Quanta(Quanta::Scalar(q));
        let ours = quantize(&data, len, &spec);
        let reference: Vec<_> = data.chunks(len).map(|x| replica_f32(x, q)).collect();
        match reference.iter().position(Option::is_none) {
            None => {
                let ours = ours.unwrap();
                for (s, r) in reference.iter().enumerate() {
                    let (off, gain, ints) = r.as_ref().unwrap();
                    prop_assert_eq!(ours.offsets[s].to_bits(), off.to_bits());
                    prop_assert_eq!(ours.gains[s].to_bits(), gain.to_bits());
                    prop_assert_eq!(&ours.ints[s * len..(s + 1) * len], &ints[..]);
                }
                let back = dequantize(&ours.ints, len, &ours.offsets, &ours.gains).unwrap();
                for (j, (&x, &b)) in data.iter().zip(&back).enumerate() {
                    let s = j / len;
                    let coeff = f64::from((1.0 / f64::from(ours.gains[s])) as f32);
                    let lim = bound(f64::from(x), f64::from(b), f64::from(ours.offsets[s]), coeff,
                        f64::from(ours.ints[j]).abs(), f64::from(f32::EPSILON));
                    prop_assert!((f64::from(b) - f64::from(x)).abs() <= lim, "{} vs {} (bound {})", x, b, lim);
                }
            }
            Some(first_bad) => {
                let err = ours.unwrap_err();
                let Error::Overflow { stream, min_quanta, bits, .. } = err else {
                    panic!("{err:?}");
                };
                prop_assert_eq!((stream, bits), (first_bad, 32));
                let x = &data[first_bad * len..(first_bad + 1) * len];
                let mq = min_quanta as f32;
                prop_assert_eq!(f64::from(mq), min_quanta);
                prop_assert!(replica_f32(x, mq).is_some(), "reported quanta does not fit");
                let mut out = vec![0; len];
                prop_assert!(quantize_stream(x, StreamSpec::Quanta(mq), 0, &mut out).is_ok());
                let below = f32::from_bits(mq.to_bits() - 1);
                prop_assert!(quantize_stream(x, StreamSpec::Quanta(below), 0, &mut out).is_err());
            }
        }
    }

    #[test]
    fn f64_matches_replica_and_bound((data, len) in streams(4, 300), k in -1_i32..20) {
        let spread = data[..len].iter().fold(0.0_f64, |m, &v| m.max((v - data[0]).abs())).max(1e-3);
        let q = spread / 10f64.powi(k);
        let spec = QuantSpec::Quanta(Quanta::Scalar(q));
        let ours = quantize(&data, len, &spec);
        let reference: Vec<_> = data.chunks(len).map(|x| replica_f64(x, q)).collect();
        // Where C's int64 cast of `off / q` is undefined there is nothing to match;
        // our result must still fit the error bound (or be an honest overflow).
        let defined = reference.iter().all(Result::is_ok);
        let first_bad = reference.iter().position(|r| matches!(r, Ok(None)));
        if let Ok(ours) = &ours {
            prop_assert!(first_bad.is_none());
            if defined {
                for (s, r) in reference.iter().enumerate() {
                    let (off, gain, ints) = r.as_ref().unwrap().as_ref().unwrap();
                    prop_assert_eq!(ours.offsets[s].to_bits(), off.to_bits());
                    prop_assert_eq!(ours.gains[s].to_bits(), gain.to_bits());
                    prop_assert_eq!(&ours.ints[s * len..(s + 1) * len], &ints[..]);
                }
            }
            let back = dequantize(&ours.ints, len, &ours.offsets, &ours.gains).unwrap();
            for (j, (&x, &b)) in data.iter().zip(&back).enumerate() {
                let s = j / len;
                let coeff = 1.0 / ours.gains[s];
                let lim = bound(x, b, ours.offsets[s], coeff, (ours.ints[j] as f64).abs(), f64::EPSILON);
                prop_assert!((b - x).abs() <= lim, "{} vs {} (bound {})", x, b, lim);
            }
        } else {
            let err = ours.unwrap_err();
            let Error::Overflow { stream, min_quanta, bits, .. } = err else {
                panic!("{err:?}");
            };
            prop_assert_eq!(bits, 64);
            if defined {
                prop_assert_eq!(Some(stream), first_bad);
            }
            let x = &data[stream * len..(stream + 1) * len];
            if let Ok(r) = replica_f64(x, min_quanta) {
                prop_assert!(r.is_some(), "reported quanta does not fit");
            }
            let mut out = vec![0; len];
            prop_assert!(quantize_stream(x, StreamSpec::Quanta(min_quanta), 0, &mut out).is_ok());
            let below = f64::from_bits(min_quanta.to_bits() - 1);
            prop_assert!(quantize_stream(x, StreamSpec::Quanta(below), 0, &mut out).is_err());
        }
    }

    #[test]
    fn f64_overflow_near_the_int64_limit(
        noise in prop::collection::vec(-1.0_f64..1.0, 1..200),
        lscale in -3.0_f64..3.0,
        k in 17.0_f64..20.0,
    ) {
        // Streams spanning [-scale, scale] (mid-range 0, so C's offset cast is
        // defined) with quanta scale / 10^k: the integers reach 10^k, crossing 2^63.
        let scale = 10f64.powf(lscale);
        let mut x: Vec<f64> = noise.iter().map(|&u| u * scale).collect();
        x.extend([scale, -scale]);
        let q = scale / 10f64.powf(k);
        let mut out = vec![0_i64; x.len()];
        let ours = quantize_stream(&x, StreamSpec::Quanta(q), 7, &mut out);
        match replica_f64(&x, q).unwrap() {
            Some((off, gain, ints)) => {
                let p = ours.unwrap();
                prop_assert_eq!((p.offset.to_bits(), p.gain.to_bits()), (off.to_bits(), gain.to_bits()));
                prop_assert_eq!(out, ints);
            }
            None => {
                let err = ours.unwrap_err();
                let Error::Overflow { stream: 7, min_quanta, .. } = err else { panic!("{err:?}") };
                prop_assert!(replica_f64(&x, min_quanta).unwrap().is_some());
                let below = f64::from_bits(min_quanta.to_bits() - 1);
                prop_assert!(replica_f64(&x, below).unwrap().is_none());
                prop_assert!(quantize_stream(&x, StreamSpec::Quanta(below), 7, &mut out).is_err());
            }
        }
    }

    #[test]
    fn non_finite_names_stream_and_sample(
        (data, len) in streams(5, 50),
        pick in any::<prop::sample::Index>(),
        kind in 0_usize..3,
    ) {
        let mut data: Vec<f32> = data.iter().map(|&v| v as f32).collect();
        let at = pick.index(data.len());
        let bad = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][kind];
        data[at] = bad;
        let err = quantize(&data, len, &QuantSpec::Quanta(Quanta::Scalar(1e-2))).unwrap_err();
        let Error::NonFinite { stream, index, value } = err else { panic!("{err:?}") };
        prop_assert_eq!((stream, index), (at / len, at % len));
        prop_assert_eq!(value.to_bits(), f64::from(bad).to_bits());
        // The precision path checks first as well.
        let err = quantize(&data, len, &QuantSpec::Precision(Precision::Scalar(3))).unwrap_err();
        let is_non_finite = matches!(err, Error::NonFinite { .. });
        prop_assert!(is_non_finite);
    }

    #[test]
    fn constant_stream_with_precision_is_exact(
        c in -1e30_f64..1e30,
        len in 1_usize..200,
        p in -3_i32..12,
        other in prop::collection::vec(-1.0_f64..1.0, 200),
    ) {
        // Stream 0 constant, stream 1 not: both quantize, stream 0 exactly.
        let mut data = vec![c; len];
        data.extend(other[..len].iter().map(|&u| 5.0 + u));
        let spec = QuantSpec::Precision(Precision::Scalar(p));
        match quantize(&data, len, &spec) {
            Ok(q) => {
                prop_assert_eq!(q.offsets[0], c);
                prop_assert_eq!(q.gains[0], 1.0);
                prop_assert!(q.ints[..len].iter().all(|&i| i == 0));
                let back = dequantize(&q.ints, len, &q.offsets, &q.gains).unwrap();
                prop_assert!(back[..len].iter().all(|&b| b == c));
            }
            // Only the non-constant stream can fail (e.g. a single sample with all
            // others equal is not possible here, but a too-fine precision is).
            Err(e) => {
                let about_stream_1 = matches!(e, Error::Overflow { stream: 1, .. }
                    | Error::InvalidQuanta { stream: 1, .. });
                prop_assert!(about_stream_1 || len == 1, "{:?}", e);
            }
        }
        let data32: Vec<f32> = data.iter().map(|&v| v as f32).collect();
        if let Ok(q) = quantize(&data32, len, &QuantSpec::Precision(Precision::PerStream(&[p, p]))) {
            let back = dequantize(&q.ints, len, &q.offsets, &q.gains).unwrap();
            prop_assert!(back[..len].iter().all(|&b| b == c as f32));
        }
    }

    #[test]
    fn chunked_calls_equal_one_call((data, len) in streams(6, 100), split in 0_usize..7, k in 0_i32..6) {
        let n = data.len() / len;
        let split = split.min(n);
        let quanta: Vec<f64> = (0..n).map(|s| 10f64.powi(-k - i32::try_from(s % 3).unwrap())).collect();
        let spec = QuantSpec::Quanta(Quanta::PerStream(&quanta));
        let whole = quantize(&data, len, &spec);
        let (mut ints, mut offs, mut gains) = (vec![0_i64; data.len()], vec![0.0; n], vec![0.0; n]);
        let (i0, i1) = ints.split_at_mut(split * len);
        let (o0, o1) = offs.split_at_mut(split);
        let (g0, g1) = gains.split_at_mut(split);
        let a = quantize_streams_into(&data[..split * len], len, &spec, 0, i0, o0, g0);
        let b = quantize_streams_into(&data[split * len..], len, &spec, split, i1, o1, g1);
        match whole {
            Ok(w) => {
                prop_assert!(a.is_ok() && b.is_ok());
                prop_assert_eq!(w.ints, ints);
                prop_assert_eq!(w.offsets, offs);
                prop_assert_eq!(w.gains, gains);
            }
            Err(e) => prop_assert!(a.err() == Some(e.clone()) || b.err() == Some(e)),
        }
    }
}

#[test]
fn numpy_std_is_close_to_exact_std() {
    // A sanity bound on the replica of np.std (its bit pattern is checked against
    // the Python fixtures): relative error well below 1e-5 for f32 sums.
    let x: Vec<f32> = (0..10_000)
        .map(|i| 3.0 + ((i * 7919) % 1000) as f32 * 1e-3)
        .collect();
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let exact = (x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let ours = f64::from(flacarray_quant::numpy_std(&x));
    assert!(((ours - exact) / exact).abs() < 1e-5, "{ours} vs {exact}");
}
