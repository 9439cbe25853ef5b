//! Format-0 reconstruction against the flacarray 0.2.4 fixtures
//! (`fixtures/python-reference-v0`).
//!
//! The fixtures hold the input, the stored offsets and gains (in `case.json`) and
//! what 0.2.4 read back, but not the `i32` samples (they are inside the HDF5/Zarr
//! FLAC streams). The test re-creates the samples with a replica of 0.2.4's encoder
//! (the formulas of the fixture README), checks that the replica's offsets and gains
//! equal the stored ones bit for bit, and then checks that this crate's format-0
//! reconstruction of those samples equals 0.2.4's output bit for bit.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "tests"
)]

mod common;

use common::{Fixture, assert_bits_eq, case_json, fixtures, flat_f64, npy};
use flacarray_quant::{numpy_std, v0};
use serde_json::Value;

/// 0.2.4's float encoder for one stream: `(offset, gain, samples)`.
fn v0_encode<T: Fixture + Into<f64>>(x: &[T], spec: &V0Spec) -> (T, T, Vec<i32>) {
    let (mut smin, mut smax) = (x[0], x[0]);
    for &v in x {
        if v < smin {
            smin = v;
        }
        if v > smax {
            smax = v;
        }
    }
    let off = T::from_param(0.5 * (smin + smax).into());
    let quanta = match *spec {
        V0Spec::Quanta(q) => T::from_param(q),
        V0Spec::Precision(p) => T::from_param(numpy_std(x).into() / 10f64.powi(p)),
        V0Spec::Auto => {
            let a = smin - off;
            let b = smax - off;
            let amp = if a > b { a } else { b };
            let amp = T::from_param(1.01 * amp.into());
            amp / T::from_param(1_073_741_824.0)
        }
    };
    let gain = if quanta.into() == 0.0 {
        T::from_param(1.0)
    } else {
        T::from_param(1.0 / quanta.into())
    };
    let ints = x
        .iter()
        .map(|&v| {
            let p: f64 = (gain * (v - off)).into();
            let r = (p + 0.5).trunc();
            assert!(r.abs() < 2_147_483_648.0);
            r as i32
        })
        .collect();
    (off, gain, ints)
}

enum V0Spec {
    Quanta(f64),
    Precision(i32),
    Auto,
}

fn check_float<T: Fixture + Into<f64>>(name: &str) {
    let dir = fixtures("python-reference-v0").join(name);
    let case = case_json(&dir);
    assert_eq!(case["dtype"].as_str().unwrap(), T::DTYPE);
    let spec = match (&case["quanta"], &case["precision"]) {
        (Value::Number(q), Value::Null) => V0Spec::Quanta(q.as_f64().unwrap()),
        (Value::Null, Value::Number(p)) => {
            V0Spec::Precision(i32::try_from(p.as_i64().unwrap()).unwrap())
        }
        (Value::Null, Value::Null) => V0Spec::Auto,
        other => panic!("{name}: {other:?}"),
    };
    let (shape, input) = npy::<T>(&dir.join("input.npy"));
    let stream_size = usize::try_from(*shape.last().unwrap()).unwrap();
    let (mut offsets, mut gains, mut ints) = (Vec::new(), Vec::new(), Vec::new());
    for x in input.chunks_exact(stream_size) {
        let (o, g, i) = v0_encode(x, &spec);
        offsets.push(o);
        gains.push(g);
        ints.extend(i);
    }
    let want_off: Vec<T> = flat_f64(&case["stream_offsets"])
        .into_iter()
        .map(T::from_json)
        .collect();
    let want_gain: Vec<T> = flat_f64(&case["stream_gains"])
        .into_iter()
        .map(T::from_json)
        .collect();
    assert_bits_eq(&format!("{name}: offsets"), &offsets, &want_off);
    assert_bits_eq(&format!("{name}: gains"), &gains, &want_gain);

    let read0 = &case["reads"][0];
    assert!(read0["keep"].is_null() && read0["stream_slice"].is_null());
    let (_, expected) = npy::<T>(&dir.join(read0["expected"].as_str().unwrap()));
    let back = v0::dequantize(&ints, stream_size, &want_off, &want_gain).unwrap();
    assert_bits_eq(&format!("{name}: reconstruction"), &back, &expected);
}

#[test]
fn v0_float32_quanta() {
    check_float::<f32>("f32_2d_q1e-3_l8_h5");
}

#[test]
fn v0_float32_auto_quanta_samples_beyond_2p24() {
    // Samples near 2^30: f32(i) rounds, which the reconstruction must replicate.
    check_float::<f32>("f32_2d_autoquanta_l5_h5");
}

#[test]
fn v0_float64_quanta() {
    check_float::<f64>("f64_2d_q1e-5_l0_zarr3");
    check_float::<f64>("f64_3d_keep_slice_zarr3");
}

#[test]
fn v0_float64_precision() {
    check_float::<f64>("f64_2d_prec3_l5_h5");
}

#[test]
fn v0_int64_offsets() {
    for name in ["i64_2d_off2p40_l8_h5group", "i64_2d_negoff_l5_zarr2"] {
        let dir = fixtures("python-reference-v0").join(name);
        let case = case_json(&dir);
        let offsets: Vec<i64> = case["stream_offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let (shape, input) = npy::<i64>(&dir.join("input.npy"));
        let stream_size = usize::try_from(*shape.last().unwrap()).unwrap();
        // The stored samples are x - offset, within +-2^30 (0.2.4's limit).
        let ints: Vec<i32> = input
            .chunks_exact(stream_size)
            .zip(&offsets)
            .flat_map(|(x, &o)| x.iter().map(move |&v| i32::try_from(v - o).unwrap()))
            .collect();
        assert!(ints.iter().all(|i| i.unsigned_abs() <= 1 << 30));
        let (_, expected) = npy::<i64>(&dir.join("expected.npy"));
        assert_eq!(
            v0::add_offsets_i64(&ints, stream_size, &offsets).unwrap(),
            expected
        );
    }
}
