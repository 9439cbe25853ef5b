//! Every error path returns an error, and per-stream errors name the stream by its
//! leading index.
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::{
    CompressOptions, DType, Error, FlacArray, Index, PrecisionOption, QuantaOption, ReadOptions,
    SampleSlice, StreamScaling, parse_index,
};
use ndarray::{Array1, Array2, Array3, arr0};

fn q(v: f64) -> CompressOptions {
    CompressOptions {
        quanta: Some(QuantaOption::Scalar(v)),
        ..Default::default()
    }
}

fn ramp3() -> Array3<i32> {
    Array3::from_shape_fn((2, 3, 500), |(i, j, k)| {
        (i * 1000 + j * 100) as i32 + k as i32
    })
}

#[test]
fn zero_dim_arrays() {
    // Arrays with an axis of length 0 are stored (tests/dtypes.rs); 0-d ones are not.
    let e = FlacArray::from_array(&arr0(1.5_f64), &q(1.0)).unwrap_err();
    assert!(e.to_string().contains("0-dimensional"), "{e}");
}

#[test]
fn nan_and_inf_name_the_stream() {
    let mut a = Array3::<f32>::from_shape_fn((2, 3, 10), |(i, j, k)| (i + j + k) as f32 * 0.1);
    a[[1, 2, 4]] = f32::NAN;
    let e = FlacArray::from_array(&a, &q(1e-3)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Quantize {
                source: flacarray_quant::Error::NonFinite { index: 4, .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("stream (1, 2)"), "{e}");
    let mut b = Array1::<f64>::linspace(0.0, 1.0, 50);
    b[7] = f64::NEG_INFINITY;
    let e = FlacArray::from_array(&b, &q(1e-3)).unwrap_err();
    assert!(e.to_string().contains("stream (0,)"), "{e}");
    assert!(e.to_string().contains("sample 7"), "{e}");
    // The same with a precision and with several threads: still the first bad stream.
    let mut c = Array2::<f64>::from_shape_fn((40, 100), |(i, k)| (i * k) as f64);
    c[[33, 1]] = f64::NAN;
    c[[35, 1]] = f64::NAN;
    let opts = CompressOptions {
        precision: Some(PrecisionOption::Scalar(3)),
        threads: Some(4),
        ..Default::default()
    };
    let e = FlacArray::from_array(&c, &opts).unwrap_err();
    assert!(e.to_string().contains("stream (33,)"), "{e}");
}

#[test]
fn overflow_names_the_stream_and_the_smallest_quanta() {
    let mut a = Array2::<f32>::zeros((3, 20));
    a[[1, 3]] = 1e6;
    let e = FlacArray::from_array(&a, &q(1e-6)).unwrap_err();
    let Error::Quantize {
        stream,
        source: flacarray_quant::Error::Overflow {
            min_quanta, bits, ..
        },
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(stream, "(1,)");
    assert_eq!(*bits, 32);
    assert!(
        e.to_string().contains("stream (1,)") && e.to_string().contains("smallest quanta"),
        "{e}"
    );
    // The suggested quanta works, and is the smallest (a quanta just below fails).
    let ok = FlacArray::from_array(&a, &q(*min_quanta)).unwrap();
    let back = ok.to_array_typed::<f32>().unwrap();
    assert!((back[[1, 3]] - 1e6).abs() <= (*min_quanta as f32) * 0.5 + 0.1);
    let below = f32::from_bits((*min_quanta as f32).to_bits() - 1);
    assert!(FlacArray::from_array(&a, &q(f64::from(below))).is_err());
    // float64 data overflows int64 likewise.
    let b =
        Array2::<f64>::from_shape_fn((2, 4), |(i, k)| if i == 1 && k == 0 { 1e300 } else { 0.0 });
    let e = FlacArray::from_array(&b, &q(1.0)).unwrap_err();
    assert!(
        e.to_string().contains("stream (1,)") && e.to_string().contains("64-bit"),
        "{e}"
    );
}

#[test]
fn quanta_and_precision_rules() {
    let f = Array2::<f32>::ones((2, 10));
    let both = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1.0)),
        precision: Some(PrecisionOption::Scalar(2)),
        ..Default::default()
    };
    assert!(
        FlacArray::from_array(&f, &both)
            .unwrap_err()
            .to_string()
            .contains("not both")
    );
    assert!(
        FlacArray::from_array(&f, &CompressOptions::default())
            .unwrap_err()
            .to_string()
            .contains("requires")
    );
    let i = Array2::<i64>::ones((2, 10));
    assert!(
        FlacArray::from_array(&i, &q(1.0))
            .unwrap_err()
            .to_string()
            .contains("float data only")
    );
    let short = CompressOptions {
        quanta: Some(QuantaOption::PerStream(vec![1.0])),
        ..Default::default()
    };
    assert!(
        FlacArray::from_array(&f, &short)
            .unwrap_err()
            .to_string()
            .contains("1 entries for 2 streams")
    );
    let e = FlacArray::from_array(&f, &q(0.0)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Quantize {
                source: flacarray_quant::Error::InvalidQuanta { .. },
                ..
            }
        ) && e.to_string().contains("stream (0,)"),
        "{e}"
    );
    let e = FlacArray::from_array(&f, &q(-1.0)).unwrap_err();
    assert!(e.to_string().contains("stream (0,)"), "{e}");
}

#[test]
fn bad_level_and_threads() {
    let a = ramp3();
    let e = FlacArray::from_array(
        &a,
        &CompressOptions {
            level: 9,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    let e = FlacArray::from_array(
        &a,
        &CompressOptions {
            threads: Some(0),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("threads"), "{e}");
}

#[test]
fn corrupt_stream_bytes_name_the_stream() {
    let fa = FlacArray::from_array(&ramp3(), &CompressOptions::default()).unwrap();
    let mut p = fa.into_parts();
    // Flip a bit inside the frames of stream (1, 0) (flat 3), just before its CRC-16.
    let s = (p.starts[3] + p.nbytes[3] - 3) as usize;
    p.compressed[s] ^= 0x10;
    let bad = FlacArray::from_parts(p).unwrap();
    let e = bad.to_array().unwrap_err();
    assert!(matches!(e, Error::Flac { .. }), "{e:?}");
    assert!(e.to_string().contains("stream (1, 0)"), "{e}");
    // Other streams still decode on their own.
    let keep = [true, true, true, false, true, true];
    let ok = bad
        .decompress(&ReadOptions {
            keep: Some(&keep),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ok.array.shape(), &[5, 500]);
}

#[test]
fn inconsistent_parts_are_rejected() {
    let fa = FlacArray::from_array(&ramp3(), &CompressOptions::default()).unwrap();
    let good = fa.into_parts();
    let mut p = good.clone();
    p.nbytes[5] += 1;
    let e = FlacArray::from_parts(p).unwrap_err();
    assert!(
        matches!(e, Error::Corrupt(_)) && e.to_string().contains("stream (1, 2)"),
        "{e}"
    );
    let mut p = good.clone();
    p.starts.pop();
    assert!(FlacArray::from_parts(p).is_err());
    let mut p = good.clone();
    p.scaling = StreamScaling::F32 {
        offsets: vec![0.0; 6],
        gains: vec![1.0; 6],
    };
    assert!(FlacArray::from_parts(p).is_err());
    let mut p = good.clone();
    p.dtype = DType::Int64;
    // Decoding 1-channel streams as 2-channel int64 fails, naming the first stream.
    let e = FlacArray::from_parts(p).unwrap().to_array().unwrap_err();
    assert!(e.to_string().contains("stream (0, 0)"), "{e}");
    let mut p = good;
    p.format_version = 3;
    assert!(matches!(
        FlacArray::from_parts(p).unwrap_err(),
        Error::Unsupported(_)
    ));
}

#[test]
fn selection_errors() {
    let fa = FlacArray::from_array(&ramp3(), &CompressOptions::default()).unwrap();
    let keep = [true; 5];
    let e = fa
        .decompress(&ReadOptions {
            keep: Some(&keep),
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("5 entries"), "{e}");
    let e = fa
        .decompress(&ReadOptions {
            stream_slice: SampleSlice::new(Some(0), Some(501)),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(e, Error::Index(_)), "{e}");
    let e = fa
        .get(&[Index::Int(0), Index::Int(0), Index::Int(0), Index::Int(0)])
        .unwrap_err();
    assert!(e.to_string().contains("too many indices"), "{e}");
    let e = fa.get(&[Index::Int(2)]).unwrap_err();
    assert!(
        e.to_string()
            .contains("out of bounds for axis 0 with size 2"),
        "{e}"
    );
    let e = fa.get(&[Index::Int(-3)]).unwrap_err();
    assert!(e.to_string().contains("index -3"), "{e}");
    let e = fa.select("0, 0, 500").unwrap_err();
    assert!(e.to_string().contains("axis 2"), "{e}");
    let e = fa.select("::0").unwrap_err();
    assert!(e.to_string().contains("zero"), "{e}");
    assert!(fa.select("..., ...").is_err());
    assert!(parse_index("1, a").is_err());
    assert!(fa.get_typed::<f32>(&[]).is_err());
    let mut buf = vec![0_i32; 10];
    assert!(
        fa.decompress_into(&ReadOptions::default(), &mut buf)
            .is_err()
    );
    let mut wrong = vec![0_f32; 3000];
    assert!(
        fa.decompress_into(&ReadOptions::default(), &mut wrong)
            .is_err()
    );
}

#[test]
fn non_contiguous_input_is_copied() {
    let a = Array2::from_shape_fn((30, 7), |(i, j)| (i * 7 + j) as i64);
    let t = a.t(); // (7, 30), Fortran layout
    let fa = FlacArray::from_array(&t, &CompressOptions::default()).unwrap();
    assert_eq!(fa.shape(), vec![7, 30]);
    assert_eq!(fa.to_array_typed::<i64>().unwrap(), t.to_owned().into_dyn());
    let s = a.slice_each_axis(|ax| match ax.axis.index() {
        0 => ndarray::Slice::new(0, None, 3),
        _ => ndarray::Slice::new(1, None, 1),
    });
    let fa = FlacArray::from_array(&s, &CompressOptions::default()).unwrap();
    assert_eq!(fa.to_array_typed::<i64>().unwrap(), s.to_owned().into_dyn());
}

#[test]
fn constant_stream_with_precision_is_exact() {
    // Our decision: 0.4.1 would round 3.3 to 3.0.
    let a = Array2::from_shape_fn(
        (2, 50),
        |(i, k)| if i == 0 { 3.3_f64 } else { k as f64 * 0.37 },
    );
    let opts = CompressOptions {
        precision: Some(PrecisionOption::Scalar(3)),
        ..Default::default()
    };
    let back = FlacArray::from_array(&a, &opts)
        .unwrap()
        .to_array_typed::<f64>()
        .unwrap();
    assert!(
        back.index_axis(ndarray::Axis(0), 0)
            .iter()
            .all(|&v| v == 3.3)
    );
}
