//! Unit tests: the worked examples of the spec, the overflow boundary, error cases.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "tests: expected values are written with the same narrowing casts as the C code"
)]

use crate::quant::{dequantize_stream, quantize_stream};
use crate::{
    Error, Precision, QuantSpec, Quanta, StreamSpec, dequantize, quantize, quantize_into,
    quantize_streams_into, v0,
};

fn q32(x: &[f32], q: f32) -> Result<(crate::StreamParams<f32>, Vec<i32>), Error> {
    let mut out = vec![0; x.len()];
    quantize_stream(x, StreamSpec::Quanta(q), 0, &mut out).map(|p| (p, out))
}

fn q64(x: &[f64], q: f64) -> Result<(crate::StreamParams<f64>, Vec<i64>), Error> {
    let mut out = vec![0; x.len()];
    quantize_stream(x, StreamSpec::Quanta(q), 0, &mut out).map(|p| (p, out))
}

#[test]
fn spec_example_mid_range_snaps_toward_zero() {
    // flacarray 0.4.1's offset snap: mid-range -10.455 with q = 0.1 gives n = -104 and off = -10.4.
    let (p, ints) = q64(&[-10.455, -10.455], 0.1).unwrap();
    assert_eq!(p.offset, 0.1 * -104.0);
    assert_eq!(p.gain, 1.0 / 0.1);
    // d = -10.455 - (-10.4) = -0.055 -> p = -0.55 -> trunc(-1.05) = -1.
    assert_eq!(ints, [-1, -1]);
    // Rounding to nearest would have given -105 (off = -10.5); truncation gives -104.
    assert_ne!(p.offset, 0.1 * -105.0);

    // The same in f32: the division and product happen in f64, then round to f32.
    let (p, _) = q32(&[-10.455, -10.455], 0.1).unwrap();
    let n = (f64::from(-10.455_f32) / f64::from(0.1_f32)).trunc();
    assert_eq!(n, -104.0);
    assert_eq!(p.offset, (f64::from(0.1_f32) * n) as f32);
    assert_eq!(p.gain, (1.0 / f64::from(0.1_f32)) as f32);
}

#[test]
fn mid_range_not_mean() {
    // Mean would be 1/3 * (0 + 0 + 3) = 1; mid-range is 1.5, snapped to 1.5 (q = 0.5).
    let (p, ints) = q64(&[0.0, 0.0, 3.0], 0.5).unwrap();
    assert_eq!(p.offset, 1.5);
    assert_eq!(ints, [-3, -3, 3]);
}

#[test]
fn half_rounds_away_from_zero_by_sign_of_d() {
    // q = 1, off = 0 (mid-range 0): 0.5 -> 1 and -0.5 -> -1, 2.5 -> 3, -2.5 -> -3.
    let (p, ints) = q64(&[-2.5, -0.5, 0.5, 2.5], 1.0).unwrap();
    assert_eq!(p.offset, 0.0);
    assert_eq!(ints, [-3, -1, 1, 3]);
}

#[test]
fn constant_stream_with_quanta_follows_upstream() {
    // off = q * trunc(c / q) = 0.25 * 13 = 3.25; ints round(gain * (c - off)) = 0.
    let (p, ints) = q32(&[3.3, 3.3, 3.3], 0.25).unwrap();
    assert_eq!(p.offset, 3.25);
    assert_eq!(p.gain, 4.0);
    assert_eq!(ints, [0, 0, 0]);
}

#[test]
fn zero_and_negative_zero_streams_get_positive_zero_offset() {
    for x in [[0.0_f64, 0.0], [-0.0, -0.0], [0.0, -0.0], [-0.0, 0.0]] {
        let (p, ints) = q64(&x, 0.25).unwrap();
        assert_eq!(p.offset.to_bits(), 0.0_f64.to_bits(), "{x:?}");
        assert_eq!(ints, [0, 0]);
    }
    // A small negative mid-range truncates to n = -0 in f64; C's int64 gives +0.
    let (p, _) = q64(&[-0.01, -0.01], 1.0).unwrap();
    assert_eq!(p.offset.to_bits(), 0.0_f64.to_bits());
}

#[test]
fn single_sample_stream() {
    let (p, ints) = q32(&[7.3], 0.5).unwrap();
    assert_eq!(p.offset, 7.0);
    assert_eq!(ints, [1]); // 0.3 / 0.5 = 0.6 -> 1 (0.6 + 0.5 = 1.1 -> 1)
}

#[test]
fn f32_overflow_boundary() {
    // q = 1: [-2^31, 2^31 - 256] has mid-range -128, so off = -128 and the largest
    // product is 2^31 - 128 (the largest f32 below 2^31): fits.
    let lo = -2_147_483_648.0_f32;
    let (p, ints) = q32(&[lo, 2_147_483_392.0], 1.0).unwrap();
    assert_eq!(p.offset, -128.0);
    assert_eq!(ints, [-2_147_483_520, 2_147_483_520]);
    // [-2^31 - 256, 2^31]: off = -128 and 2^31 + 128 rounds to 2^31 in f32: overflow
    // (0.4.1 would store INT32_MIN there).
    let err = q32(&[-2_147_483_904.0, 2_147_483_648.0], 1.0).unwrap_err();
    let Error::Overflow {
        stream,
        value,
        quanta,
        min_quanta,
        bits,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((stream, value, quanta, bits), (0, 2_147_483_648.0, 1.0, 32));
    assert!(min_quanta > 1.0 && min_quanta < 1.0001, "{min_quanta}");
    let mq = min_quanta as f32;
    assert!(q32(&[-2_147_483_904.0, 2_147_483_648.0], mq).is_ok());
    let below = f32::from_bits(mq.to_bits() - 1);
    assert!(q32(&[-2_147_483_904.0, 2_147_483_648.0], below).is_err());
}

#[test]
fn products_exactly_at_minus_two_pow_bits_fit() {
    // In exact arithmetic the extreme products of a stream are symmetric about the
    // snapped offset, so reaching -2^31 exactly while the top stays below 2^31 needs
    // rounding. q = 3, x = [-3 * 2^31, 3 * 2^31 - 512]: mid = -256, n = trunc(-85.3)
    // = -85, off = -255; both differences round back to the inputs (spacing 512);
    // gain = f32(1/3) = 11184811 * 2^-25, so p_lo = -2^31 - 64 -> -2^31 in f32 (fits,
    // i32::MIN) and p_hi = 2^31 - 170.7 -> 2^31 - 128.
    let (p, ints) = q32(&[-6_442_450_944.0, 6_442_450_432.0], 3.0).unwrap();
    assert_eq!(p.offset, -255.0);
    assert_eq!(p.gain, 0.333_333_34);
    assert_eq!(ints, [i32::MIN, 2_147_483_520]);
    // With the top at 3 * 2^31, off = 0 and p_hi = 2^31 + 64 rounds to 2^31: overflow.
    let err = q32(&[-6_442_450_944.0, 6_442_450_944.0], 3.0).unwrap_err();
    assert!(matches!(err, Error::Overflow { value, .. } if value == 6_442_450_944.0));

    // f64: x = [-3 * 2^63, 3 * 2^63 - 4096], q = 3: off = 3 * -682 = -2046, gain =
    // (2^54 - 1) / 3 * 2^-54, p_lo = -(2^63 - 512) -> -2^63 (tie to even): i64::MIN;
    // p_hi = 2^63 - 1877.3 -> 2^63 - 2048.
    let top = 3.0 * 2.0_f64.powi(63);
    let (p, ints) = q64(&[-top, top - 4096.0], 3.0).unwrap();
    assert_eq!(p.offset, -2046.0);
    assert_eq!(ints, [i64::MIN, i64::MAX - 2047]);
    assert!(q64(&[-top, top], 3.0).is_err());
}

#[test]
fn non_finite_is_an_error_naming_stream_and_sample() {
    let mut data = vec![1.0_f32; 30];
    data[17] = f32::INFINITY;
    let spec = QuantSpec::Quanta(Quanta::Scalar(0.1));
    let err = quantize(&data, 10, &spec).unwrap_err();
    assert_eq!(
        err,
        Error::NonFinite {
            stream: 1,
            index: 7,
            value: f64::INFINITY
        }
    );
    data[17] = 1.0;
    data[20] = f32::NAN;
    let err = quantize(&data, 10, &spec).unwrap_err();
    assert!(matches!(err, Error::NonFinite { stream: 2, index: 0, value } if value.is_nan()));
    // NaN in the first element of a stream, and in the remainder after the lanes.
    let mut x = vec![0.5_f64; 19];
    x[18] = f64::NAN;
    assert!(matches!(
        q64(&x, 0.1).unwrap_err(),
        Error::NonFinite { index: 18, .. }
    ));
    assert!(matches!(
        q64(&[f64::NEG_INFINITY], 0.1).unwrap_err(),
        Error::NonFinite { index: 0, .. }
    ));
}

#[test]
fn invalid_quanta() {
    for q in [0.0_f32, -1.0, f32::NAN, f32::INFINITY, -0.0] {
        let err = q32(&[1.0, 2.0], q).unwrap_err();
        assert!(
            matches!(err, Error::InvalidQuanta { stream: 0, .. }),
            "{q}: {err:?}"
        );
    }
    // A subnormal quanta whose inverse overflows f32.
    let err = q32(&[1.0, 2.0], 1e-45).unwrap_err();
    assert!(
        matches!(err, Error::InvalidQuanta { reason, .. } if reason.contains("inverse")),
        "{err:?}"
    );
}

#[test]
fn precision_constant_stream_is_exact() {
    let data = [3.3_f32, 3.3, 3.3, 1.0, 2.0, 3.0];
    let q = quantize(&data, 3, &QuantSpec::Precision(Precision::Scalar(3))).unwrap();
    assert_eq!(q.offsets[0], 3.3);
    assert_eq!(q.gains[0], 1.0);
    assert_eq!(&q.ints[..3], &[0, 0, 0]);
    let back = dequantize(&q.ints, 3, &q.offsets, &q.gains).unwrap();
    assert_eq!(&back[..3], &[3.3, 3.3, 3.3]);
    // The second stream: std = sqrt(2/3), quanta = std / 1000 in f32.
    let std = crate::numpy_std(&data[3..]);
    assert_eq!(q.gains[1], (1.0 / f64::from(std / 1000.0)) as f32);
}

#[test]
fn precision_zero_or_infinite_quanta_is_an_error() {
    // 10^400 is infinite: the quanta is 0.
    let err = quantize(
        &[1.0_f64, 2.0],
        2,
        &QuantSpec::Precision(Precision::Scalar(400)),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidQuanta { stream: 0, .. }),
        "{err:?}"
    );
    // The squared deviations overflow f32: std is infinite.
    let err = quantize(
        &[-3e38_f32, 3e38],
        2,
        &QuantSpec::Precision(Precision::Scalar(1)),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidQuanta { stream: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn per_stream_specs_and_first_stream() {
    let data = [0.0_f64, 1.0, 0.0, 1.0, 0.0, 1.0];
    let quanta = [0.5, 0.25, 0.125];
    let q = quantize(&data, 2, &QuantSpec::Quanta(Quanta::PerStream(&quanta))).unwrap();
    assert_eq!(q.gains, [2.0, 4.0, 8.0]);
    assert_eq!(q.offsets, [0.5, 0.5, 0.5]);
    assert_eq!(q.ints, [-1, 1, -2, 2, -4, 4]);

    // A chunk of streams 1..3 with the global per-stream spec.
    let (mut out, mut offs, mut gains) = ([0_i64; 4], [0.0; 2], [0.0; 2]);
    let spec = QuantSpec::Quanta(Quanta::PerStream(&quanta));
    quantize_streams_into(&data[2..], 2, &spec, 1, &mut out, &mut offs, &mut gains).unwrap();
    assert_eq!(gains, [4.0, 8.0]);
    assert_eq!(out, [-2, 2, -4, 4]);
    // Errors carry the global stream index.
    let bad = [0.0, 1.0, f64::NAN, 1.0];
    let err =
        quantize_streams_into(&bad, 2, &spec, 1, &mut out, &mut offs, &mut gains).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFinite {
                stream: 2,
                index: 0,
                ..
            }
        ),
        "{err:?}"
    );
    // Too short a per-stream spec.
    let err = quantize_streams_into(&data[2..], 2, &spec, 2, &mut out, &mut offs, &mut gains)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    // quantize_into wants exactly one entry per stream.
    let (mut out6, mut o3, mut g3) = ([0_i64; 6], [0.0; 3], [0.0; 3]);
    let long = QuantSpec::Quanta(Quanta::PerStream(&[0.5, 0.5, 0.5, 0.5]));
    assert!(quantize_into(&data, 2, &long, &mut out6, &mut o3, &mut g3).is_err());
}

#[test]
fn argument_errors() {
    let spec = QuantSpec::Quanta(Quanta::Scalar(0.5_f32));
    assert!(matches!(
        quantize(&[1.0_f32; 6], 0, &spec),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        quantize(&[1.0_f32; 7], 2, &spec),
        Err(Error::InvalidArgument(_))
    ));
    // Zero streams is fine at this level.
    let q = quantize(&[] as &[f32], 4, &spec).unwrap();
    assert!(q.ints.is_empty() && q.offsets.is_empty());
    let mut out = [0_i32; 1];
    assert!(quantize_stream(&[] as &[f32], StreamSpec::Quanta(0.5), 3, &mut []).is_err());
    assert!(quantize_stream(&[1.0_f32, 2.0], StreamSpec::Quanta(0.5), 3, &mut out).is_err());
    assert!(dequantize(&[1_i32, 2], 2, &[0.0_f32], &[]).is_err());
    assert!(dequantize_stream(&[1_i32, 2], 0.0_f32, 1.0, &mut [0.0]).is_err());
    assert!(
        QuantSpec::from_options(Some(Quanta::Scalar(1.0_f64)), Some(Precision::Scalar(2))).is_err()
    );
    assert_eq!(
        QuantSpec::from_options(None, Some(Precision::Scalar(2))).unwrap(),
        QuantSpec::<f64>::Precision(Precision::Scalar(2))
    );
}

#[test]
fn dequantize_formula() {
    // f32: coeff = (f32)(1.0 / (f64)gain); out = off + coeff * (f32)i, all in f32.
    let gain = 999.999_94_f32;
    let coeff = (1.0 / f64::from(gain)) as f32;
    let ints = [0_i32, 1, -1, 16_777_217, i32::MIN];
    let out = dequantize(&ints, 5, &[0.25_f32], &[gain]).unwrap();
    #[allow(
        clippy::cast_precision_loss,
        reason = "the formula under test rounds like this"
    )]
    let want: Vec<f32> = ints.iter().map(|&i| 0.25 + coeff * (i as f32)).collect();
    assert_eq!(out, want);
    assert_eq!(out[0], 0.25);
    // (f32)16777217 rounds to 16777216.
    assert_eq!(out[3], 0.25 + coeff * 16_777_216.0);
    // f64: coeff = 1.0 / gain.
    let out = dequantize(&[3_i64, -2], 2, &[1.0_f64], &[10.0]).unwrap();
    assert_eq!(out, [1.0 + 0.1 * 3.0, 1.0 + 0.1 * -2.0]);
}

#[test]
fn v0_formulas() {
    // float32: same as format 1 with i32 samples.
    let gain = 1000.0_f32;
    let coeff = (1.0 / f64::from(gain)) as f32;
    let out = v0::dequantize(&[5_i32, -7], 2, &[2.5_f32], &[gain]).unwrap();
    assert_eq!(out, [2.5 + coeff * 5.0, 2.5 + coeff * -7.0]);
    // float64: coeff in f64, i32 -> f64 exact.
    let out = v0::dequantize(&[i32::MAX, i32::MIN], 2, &[-1.0_f64], &[3.0]).unwrap();
    assert_eq!(
        out,
        [
            -1.0 + (1.0 / 3.0) * 2_147_483_647.0,
            -1.0 + (1.0 / 3.0) * -2_147_483_648.0
        ]
    );
    // int64: exact offset addition, overflow is an error naming the stream.
    let out = v0::add_offsets_i64(&[-1, 1, 2, 3], 2, &[-(1 << 40), 1 << 40]).unwrap();
    assert_eq!(
        out,
        [-(1 << 40) - 1, -(1 << 40) + 1, (1 << 40) + 2, (1 << 40) + 3]
    );
    let err = v0::add_offsets_i64(&[0, 0, 0, 1], 2, &[0, i64::MAX]).unwrap_err();
    assert!(err.to_string().contains("stream 1"), "{err}");
    assert!(v0::add_offsets_i64(&[0, 0, 0], 2, &[0]).is_err());
}

#[test]
fn huge_offset_over_quanta_is_handled() {
    // off / q = 1e22 > 2^63: C's int64 cast is undefined (0.4.1 stores garbage).
    // The f64 truncation keeps the offset at the mid-range and the data fits.
    let x = [1e10_f64, 1e10 + 1e-6];
    let (p, ints) = q64(&x, 1e-12).unwrap();
    let mut back = [0.0; 2];
    dequantize_stream(&ints, p.offset, p.gain, &mut back).unwrap();
    for (a, b) in x.iter().zip(&back) {
        assert!(
            (a - b).abs() <= 0.5e-12 + 4.0 * f64::EPSILON * 1e10,
            "{a} {b}"
        );
    }
}

#[test]
fn mid_range_overflowing_the_type() {
    // smin + smax overflows f32; 0.4.1 gets an infinite offset. We halve first.
    let x = [3.0e38_f32, 3.0e38, 3.0e38];
    let (p, ints) = q32(&x, 1e31).unwrap();
    assert!(p.offset.is_finite());
    let mut back = [0.0; 3];
    dequantize_stream(&ints, p.offset, p.gain, &mut back).unwrap();
    assert!((f64::from(back[0]) - 3.0e38).abs() <= 0.5e31 + 3.0e38 * 1e-6);
}

/// A small deterministic generator for the piecewise-conversion test.
fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    // The top 53 bits as a fraction in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    let f = (*seed >> 11) as f64 / (1u64 << 53) as f64;
    f
}

#[test]
fn plan_converted_in_pieces_equals_the_whole_stream() {
    use crate::StreamPlan;
    let mut seed = 7_u64;
    // Walks of several amplitudes: small products (the f32 fast form), products
    // beyond 2^22 (the truncating form), a constant stream under a precision.
    for (len, amp, quanta) in [
        (1_usize, 1.0, 1e-3),
        (4095, 1.0, 1e-3),
        (4097, 50.0, 1e-4),
        (10_001, 3e3, 1e-4),
        (12_345, 1.0, 0.25),
    ] {
        let mut acc = 0.0;
        let x64: Vec<f64> = (0..len)
            .map(|_| {
                acc += (lcg(&mut seed) - 0.5) * amp;
                acc + 17.0
            })
            .collect();
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let consts = vec![2.5_f64; len];
        let specs64 = [
            StreamSpec::Quanta(quanta),
            StreamSpec::Precision {
                digits: 4,
                per_stream: false,
            },
        ];
        for piece in [1_usize, 7, 4096, len] {
            for spec in specs64 {
                for x in [&x64, &consts] {
                    let mut whole = vec![0_i64; len];
                    let p = quantize_stream(x, spec, 3, &mut whole).unwrap();
                    let plan = StreamPlan::new(x, spec, 3).unwrap();
                    let mut parts = vec![-1_i64; len];
                    for (xs, o) in x.chunks(piece).zip(parts.chunks_mut(piece)) {
                        plan.convert(xs, o).unwrap();
                    }
                    assert_eq!(plan.params(), p, "len {len} piece {piece}");
                    assert_eq!(parts, whole, "len {len} piece {piece}");
                }
            }
            let spec = StreamSpec::Quanta(quanta as f32);
            let mut whole = vec![0_i32; len];
            let p = quantize_stream(&x32, spec, 0, &mut whole).unwrap();
            let plan = StreamPlan::new(&x32, spec, 0).unwrap();
            let mut parts = vec![-1_i32; len];
            for (xs, o) in x32.chunks(piece).zip(parts.chunks_mut(piece)) {
                plan.convert(xs, o).unwrap();
            }
            assert_eq!(
                (plan.params(), parts),
                (p, whole),
                "f32 len {len} piece {piece}"
            );
        }
    }
    // The plan refuses what quantize_stream refuses, and checks the output length.
    let plan = StreamPlan::new(&[1.0_f32, 2.0], StreamSpec::Quanta(0.5), 0).unwrap();
    assert!(plan.convert(&[1.0], &mut [0, 0]).is_err());
    assert!(matches!(
        StreamPlan::new(&[1.0_f64, f64::NAN], StreamSpec::Quanta(0.5), 4),
        Err(Error::NonFinite {
            stream: 4,
            index: 1,
            ..
        })
    ));
    assert!(StreamPlan::<f64>::new(&[], StreamSpec::Quanta(0.5), 0).is_err());
}
