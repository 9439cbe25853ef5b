//! The low-level `ll_*` fixtures of flacarray 0.4.1 (`array_compress` outputs), and
//! quantization parity on every float case of the reference set.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{assert_same, fixtures, json, npy, npy_array, npy_decoded};
use flacarray_core::{
    CompressOptions, DType, DecodedArray, DecompressOptions, PrecisionOption, QuantaOption,
    StreamScaling, StreamsRef, array_compress, array_decompress, array_decompress_slice,
};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use std::path::Path;

/// Compression options from a case's `level`, `quanta` and `precision`.
fn options(case: &serde_json::Value) -> CompressOptions {
    let level = case["level"].as_u64().unwrap() as u8;
    let quanta = match &case["quanta"] {
        serde_json::Value::Null => None,
        serde_json::Value::Array(a) => Some(QuantaOption::PerStream(common_flat_f64(a))),
        v => Some(QuantaOption::Scalar(v.as_f64().unwrap())),
    };
    let precision = match &case["precision"] {
        serde_json::Value::Null => None,
        serde_json::Value::Array(a) => Some(PrecisionOption::PerStream(
            common_flat_f64(a).iter().map(|&p| p as i32).collect(),
        )),
        v => Some(PrecisionOption::Scalar(v.as_i64().unwrap() as i32)),
    };
    CompressOptions {
        level,
        quanta,
        precision,
        ..Default::default()
    }
}

fn common_flat_f64(a: &[serde_json::Value]) -> Vec<f64> {
    a.iter()
        .flat_map(|v| match v {
            serde_json::Value::Array(b) => common_flat_f64(b),
            x => vec![x.as_f64().unwrap()],
        })
        .collect()
}

/// Reads stored offsets/gains (`.npy`) as a [`StreamScaling`].
fn scaling(dir: &Path, dtype: DType) -> StreamScaling {
    match dtype {
        DType::Float32 => StreamScaling::F32 {
            offsets: npy::<f32>(&dir.join("offsets.npy")).1,
            gains: npy::<f32>(&dir.join("gains.npy")).1,
        },
        DType::Float64 => StreamScaling::F64 {
            offsets: npy::<f64>(&dir.join("offsets.npy")).1,
            gains: npy::<f64>(&dir.join("gains.npy")).1,
        },
        _ => StreamScaling::None,
    }
}

/// Compresses `input.npy` of a case with its parameters.
fn compress_input(dir: &Path, dtype: DType, opts: &CompressOptions) -> flacarray_core::Compressed {
    let input = dir.join("input.npy");
    match dtype {
        DType::Int32 => array_compress(&npy_array::<i32>(&input), opts),
        DType::Int64 => array_compress(&npy_array::<i64>(&input), opts),
        DType::Float32 => array_compress(&npy_array::<f32>(&input), opts),
        DType::Float64 => array_compress(&npy_array::<f64>(&input), opts),
    }
    .unwrap()
}

/// Decodes raw streams to their integers (float data without its scaling).
fn decode_ints(
    compressed: &[u8],
    starts: ArrayViewD<'_, i64>,
    nbytes: ArrayViewD<'_, i64>,
    ss: usize,
    wide: bool,
) -> DecodedArray {
    let src = StreamsRef {
        compressed,
        stream_size: ss,
        starts,
        nbytes,
        scaling: &StreamScaling::None,
        is_int64: wide,
    };
    array_decompress(
        &src,
        &DecompressOptions {
            no_flatten: true,
            ..Default::default()
        },
    )
    .unwrap()
}

fn ll_case(name: &str) {
    let dir = fixtures("python-reference").join(name);
    let case = json(&dir.join("case.json"));
    let dtype = DType::from_name(case["dtype"].as_str().unwrap()).unwrap();
    let ss = case["stream_size"].as_u64().unwrap() as usize;
    let opts = options(&case);
    let wide = dtype.is_64bit();

    // 1. Their bytes through our array_decompress equal what 0.4.1 returned.
    let compressed = npy::<u8>(&dir.join("compressed.npy")).1;
    let starts: ArrayD<i64> = npy_array(&dir.join("starts.npy"));
    let nbytes: ArrayD<i64> = npy_array(&dir.join("nbytes.npy"));
    let their_scaling = scaling(&dir, dtype);
    let src = StreamsRef {
        compressed: &compressed,
        stream_size: ss,
        starts: starts.view(),
        nbytes: nbytes.view(),
        scaling: &their_scaling,
        is_int64: wide,
    };
    let ours = array_decompress(&src, &DecompressOptions::default()).unwrap();
    assert_same(
        &ours,
        &npy_decoded(&dir.join("expected.npy"), dtype),
        &format!("{name} decode of 0.4.1 bytes"),
    );
    for t in [Some(1), Some(2)] {
        let again = array_decompress(
            &src,
            &DecompressOptions {
                threads: t,
                ..Default::default()
            },
        )
        .unwrap();
        assert_same(&again, &ours, &format!("{name} threads {t:?}"));
    }

    // 2. Our compression: same quantized integers, offsets and gains, bit for bit.
    let c = compress_input(&dir, dtype, &opts);
    assert_eq!(c.starts.shape(), starts.shape(), "{name}: starts shape");
    assert_eq!(c.nbytes.shape(), nbytes.shape(), "{name}: nbytes shape");
    assert_eq!(c.scaling, their_scaling, "{name}: offsets/gains");
    let our_ints = decode_ints(&c.compressed, c.starts.view(), c.nbytes.view(), ss, wide);
    let their_ints = decode_ints(&compressed, starts.view(), nbytes.view(), ss, wide);
    assert_same(&our_ints, &their_ints, &format!("{name}: integers"));
    if dtype.is_float() {
        // quantized.npy has the array's shape; ours is (streams, ss) with no_flatten.
        let q = npy_decoded(
            &dir.join("quantized.npy"),
            if wide { DType::Int64 } else { DType::Int32 },
        );
        assert_eq!(
            common::bits(&our_ints).1,
            common::bits(&q).1,
            "{name}: quantized.npy"
        );
    } else {
        let input = npy_decoded(&dir.join("input.npy"), dtype);
        assert_eq!(
            common::bits(&our_ints).1,
            common::bits(&input).1,
            "{name}: lossless"
        );
    }
    // Our bytes decode through the public path to their expected values.
    let src = StreamsRef {
        compressed: &c.compressed,
        starts: c.starts.view(),
        nbytes: c.nbytes.view(),
        scaling: &c.scaling,
        ..src
    };
    let ours = array_decompress(&src, &DecompressOptions::default()).unwrap();
    assert_same(
        &ours,
        &npy_decoded(&dir.join("expected.npy"), dtype),
        &format!("{name} decode of our bytes"),
    );

    // 3. array_decompress_slice reads recorded in case.json.
    for read in case["reads"].as_array().unwrap().iter().skip(1) {
        assert_eq!(
            read["function"],
            "flacarray.decompress.array_decompress_slice"
        );
        let keep = common::flat_bools(&read["keep"]);
        let first = read["first_stream_sample"].as_u64();
        let last = read["last_stream_sample"].as_u64();
        let theirs = StreamsRef {
            compressed: &compressed,
            stream_size: ss,
            starts: starts.view(),
            nbytes: nbytes.view(),
            scaling: &their_scaling,
            is_int64: wide,
        };
        let opts = DecompressOptions {
            first_stream_sample: first,
            last_stream_sample: last,
            ..Default::default()
        };
        let (arr, idx) = array_decompress_slice(&theirs, Some(&keep), &opts).unwrap();
        let exp = npy_decoded(&dir.join(read["expected"].as_str().unwrap()), dtype);
        assert_same(&arr, &exp, &format!("{name} slice read"));
        let want = flacarray_testkit::index_tuples(&read["expected_keep_indices"]);
        assert_eq!(idx.unwrap(), want, "{name}: keep indices");
    }
}

#[test]
fn ll_i32_2d_l5() {
    ll_case("ll_i32_2d_l5");
}

#[test]
fn ll_i64_2d_l8() {
    ll_case("ll_i64_2d_l8");
}

#[test]
fn ll_f32_3d_q1e_3_l5() {
    ll_case("ll_f32_3d_q1e-3_l5");
}

#[test]
fn ll_f64_1d_prec6_l0() {
    ll_case("ll_f64_1d_prec6_l0");
}

/// Every float case of the reference set (scalar and per-stream quanta, scalar and
/// per-stream precision, HDF5 and Zarr): compressing `input.npy` with the case's
/// parameters gives the stored offsets, gains and integers bit for bit.
#[test]
fn quantization_parity_with_every_float_case() {
    let index = json(&fixtures("flac-streams").join("index.json"));
    let mut checked = 0;
    for g in index["groups"].as_array().unwrap() {
        let path = g["path"].as_str().unwrap();
        if !path.starts_with("v1/") || !g["dtype"].as_str().unwrap().starts_with("float") {
            continue;
        }
        let gdir = fixtures("flac-streams").join(path);
        let meta = json(&gdir.join("meta.json"));
        let case_dir = fixtures("python-reference").join(meta["case"].as_str().unwrap());
        let case = json(&case_dir.join("case.json"));
        if case["error_bound_applies"] == false {
            continue;
        }
        let dtype = DType::from_name(meta["dtype"].as_str().unwrap()).unwrap();
        let ss = meta["stream_size"].as_u64().unwrap() as usize;
        let mut opts = options(&case);
        opts.level = meta["level"].as_u64().unwrap() as u8;
        let c = compress_input(&case_dir, dtype, &opts);
        assert_eq!(c.scaling, scaling(&gdir, dtype), "{path}: offsets/gains");
        let compressed = npy::<u8>(&gdir.join("compressed.npy")).1;
        let starts: ArrayD<i64> = npy_array(&gdir.join("starts.npy"));
        let nbytes: ArrayD<i64> = npy_array(&gdir.join("nbytes.npy"));
        let wide = dtype.is_64bit();
        let theirs = decode_ints(&compressed, starts.view(), nbytes.view(), ss, wide);
        let ours = decode_ints(&c.compressed, c.starts.view(), c.nbytes.view(), ss, wide);
        assert_same(&ours, &theirs, &format!("{path}: integers"));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} float groups checked");
}

#[test]
fn starts_and_nbytes_are_consistent() {
    let a = ArrayD::from_shape_fn(IxDyn(&[3, 2, 700]), |d| {
        (d[0] * 7 + d[1] * 3 + d[2]) as i64 - 900
    });
    let c = array_compress(&a, &CompressOptions::default()).unwrap();
    let starts: Vec<i64> = c.starts.iter().copied().collect();
    let nbytes: Vec<i64> = c.nbytes.iter().copied().collect();
    assert_eq!(starts[0], 0);
    for i in 1..starts.len() {
        assert_eq!(starts[i], starts[i - 1] + nbytes[i - 1]);
    }
    assert_eq!((starts[5] + nbytes[5]) as usize, c.compressed.len());
    for &s in &starts {
        assert_eq!(&c.compressed[s as usize..s as usize + 4], b"fLaC");
    }
}
