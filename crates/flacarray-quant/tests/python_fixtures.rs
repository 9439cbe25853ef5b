//! Bit-exact agreement with flacarray 0.4.1 on the format-1 reference fixtures
//! (`fixtures/python-reference`, written by the real Python package).
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{Fixture, assert_bits_eq, case_json, fixtures, flat_f64, npy};
use flacarray_quant::{Precision, QuantSpec, Quanta, dequantize, quantize};
use serde_json::Value;
use std::path::Path;

/// Low-level case: our integers, offsets and gains equal `quantized.npy`,
/// `offsets.npy`, `gains.npy`, and dequantizing `quantized.npy` gives `expected.npy`,
/// all bit for bit.
fn check_lowlevel<T: Fixture>(name: &str, spec: &QuantSpec<'_, T>)
where
    T::Int: npyz::Deserialize,
{
    let dir = fixtures("python-reference").join(name);
    let (shape, input) = npy::<T>(&dir.join("input.npy"));
    let stream_size = usize::try_from(*shape.last().unwrap()).unwrap();
    let (_, ints) = npy::<T::Int>(&dir.join("quantized.npy"));
    let (_, offsets) = npy::<T>(&dir.join("offsets.npy"));
    let (_, gains) = npy::<T>(&dir.join("gains.npy"));
    let (_, expected) = npy::<T>(&dir.join("expected.npy"));

    let q = quantize(&input, stream_size, spec).unwrap();
    assert_bits_eq("offsets", &q.offsets, &offsets);
    assert_bits_eq("gains", &q.gains, &gains);
    if let Some(i) = (0..ints.len()).find(|&i| q.ints[i] != ints[i]) {
        panic!(
            "{name}: integer {i}: got {:?}, want {:?}",
            q.ints[i], ints[i]
        );
    }
    assert_eq!(q.ints.len(), ints.len());
    let back = dequantize(&ints, stream_size, &offsets, &gains).unwrap();
    assert_bits_eq("reconstruction", &back, &expected);
}

#[test]
fn lowlevel_f32_scalar_quanta() {
    check_lowlevel::<f32>(
        "ll_f32_3d_q1e-3_l5",
        &QuantSpec::Quanta(Quanta::Scalar(0.001)),
    );
}

#[test]
fn lowlevel_f64_precision() {
    check_lowlevel::<f64>(
        "ll_f64_1d_prec6_l0",
        &QuantSpec::Precision(Precision::Scalar(6)),
    );
}

/// What one float case checked.
struct Checked {
    name: String,
    full_read_compared: bool,
}

/// Any float case: quantize `input.npy` with the case's quanta or precision; the
/// offsets and gains equal `case.json`'s `stream_offsets` / `stream_gains` bit for
/// bit, and when read 0 is a full read, our reconstruction equals `expected.npy`.
fn check_case<T: Fixture>(dir: &Path, case: &Value) -> Checked {
    let name = case["name"].as_str().unwrap().to_string();
    let (shape, input) = npy::<T>(&dir.join("input.npy"));
    let stream_size = usize::try_from(*shape.last().unwrap()).unwrap();

    let quanta: Vec<T> = if case["quanta"].is_null() {
        Vec::new()
    } else {
        flat_f64(&case["quanta"])
            .into_iter()
            .map(T::from_param)
            .collect()
    };
    let precision: Vec<i32> = if case["precision"].is_null() {
        Vec::new()
    } else {
        flat_f64(&case["precision"])
            .into_iter()
            .map(|p| {
                assert_eq!(p.fract(), 0.0);
                #[allow(clippy::cast_possible_truncation, reason = "small integers from JSON")]
                let p = p as i32;
                p
            })
            .collect()
    };
    let spec = match (&case["quanta"], &case["precision"]) {
        (Value::Array(_), Value::Null) => QuantSpec::Quanta(Quanta::PerStream(&quanta)),
        (Value::Number(_), Value::Null) => QuantSpec::Quanta(Quanta::Scalar(quanta[0])),
        (Value::Null, Value::Array(_)) => QuantSpec::Precision(Precision::PerStream(&precision)),
        (Value::Null, Value::Number(_)) => QuantSpec::Precision(Precision::Scalar(precision[0])),
        other => panic!("{name}: unexpected quanta/precision {other:?}"),
    };

    let q = quantize(&input, stream_size, &spec).unwrap();
    let want_off: Vec<T> = flat_f64(&case["stream_offsets"])
        .into_iter()
        .map(T::from_json)
        .collect();
    let want_gain: Vec<T> = flat_f64(&case["stream_gains"])
        .into_iter()
        .map(T::from_json)
        .collect();
    assert_bits_eq(&format!("{name}: offsets"), &q.offsets, &want_off);
    assert_bits_eq(&format!("{name}: gains"), &q.gains, &want_gain);

    let read0 = &case["reads"][0];
    let full_read = read0["keep"].is_null() && read0["stream_slice"].is_null();
    if full_read {
        let (_, expected) = npy::<T>(&dir.join(read0["expected"].as_str().unwrap()));
        let back = dequantize(&q.ints, stream_size, &q.offsets, &q.gains).unwrap();
        assert_bits_eq(&format!("{name}: reconstruction"), &back, &expected);
    }
    Checked {
        name,
        full_read_compared: full_read,
    }
}

#[test]
fn every_float_case_offsets_gains_and_reconstruction() {
    let root = fixtures("python-reference");
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for dir in entries.iter().filter(|d| d.join("case.json").is_file()) {
        let case = case_json(dir);
        if case["stream_gains"].is_null() {
            continue;
        }
        match case["dtype"].as_str().unwrap() {
            "float32" => checked.push(check_case::<f32>(dir, &case)),
            "float64" => checked.push(check_case::<f64>(dir, &case)),
            other => panic!("gains on a {other} case"),
        }
    }
    // Every float case of the shared set, scalar/per-stream quanta and precision.
    let mut names: Vec<&str> = checked.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "f32_1d_q1e-3_l8_zarr3",
            "f32_2d_prec_perstream_l5_zarr2",
            "f32_2d_q1e-4_l5_h5",
            "f32_2d_quanta_perstream_l5_h5",
            "f32_3d_keep_slice_zarr3",
            "f32_3d_prec3_l0_h5",
            "f32_const_zero_short_l5_h5",
            "f32_large_dc_q1e-3_l5_h5",
            "f64_1d_prec6_l8_zarr3",
            "f64_2d_q1e-4_l5_h5",
            "f64_3d_q1e-15_l0_h5",
            "ll_f32_3d_q1e-3_l5",
            "ll_f64_1d_prec6_l0",
        ]
    );
    // Every case's read 0 is a full read, so every reconstruction was compared.
    assert!(checked.iter().all(|c| c.full_read_compared));
}
