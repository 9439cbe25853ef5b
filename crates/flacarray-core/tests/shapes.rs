//! Shape rules: 1-d arrays, `(1, N)` arrays in memory and in storage (fixture README
//! quirk 7), keep flattening, `_into` decoding, properties and low-level shapes.
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::{
    CompressOptions, DType, DecompressOptions, FlacArray, MemoryStore, QuantaOption, ReadOptions,
    SampleSlice, StreamsRef, array_compress, array_decompress, read_array, read_flacarray,
    write_array,
};
use ndarray::{Array1, Array2, ArrayD, IxDyn};

#[test]
fn one_d_array_properties() {
    let a = Array1::from_iter((0..5000).map(|i| i as f32 * 0.5));
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(0.5)),
        ..Default::default()
    };
    let fa = FlacArray::from_array(&a, &opts).unwrap();
    assert_eq!(fa.shape(), vec![5000]);
    assert_eq!(fa.global_shape(), vec![1, 5000]);
    assert_eq!(fa.leading_shape(), &[1]);
    assert_eq!(fa.n_streams(), 1);
    assert!(fa.is_one_d());
    assert_eq!(fa.dtype(), DType::Float32);
    assert_eq!(fa.format_version(), 1);
    assert_eq!(
        fa.to_string(),
        format!("<FlacArray float32 shape=(5000,) bytes={}>", fa.nbytes())
    );
    assert_eq!(fa.to_array_typed::<f32>().unwrap(), a.clone().into_dyn());
    let nf = fa
        .decompress(&ReadOptions {
            no_flatten: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(nf.array.shape(), &[1, 5000]);
    // numpy indexing addresses the sample axis only.
    let v = fa.select("-3:").unwrap().into_array::<f32>().unwrap();
    assert_eq!(v.as_slice().unwrap(), &[2498.5, 2499.0, 2499.5]);
    assert!(fa.select("0, 0").is_err());
}

#[test]
fn one_by_n_in_memory_keeps_its_shape_but_storage_flattens() {
    let a = Array2::from_shape_fn((1, 300), |(_, j)| j as i64 - 150);
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    assert_eq!(fa.shape(), vec![1, 300]);
    assert_eq!(fa.to_array().unwrap().shape(), &[1, 300]);
    let mut store = MemoryStore::new();
    write_array(&mut store, &a, &CompressOptions::default()).unwrap();
    // As 0.4.1: a stored leading shape (1,) reads back (N,) unless no_flatten.
    assert_eq!(
        read_array(&store, &ReadOptions::default())
            .unwrap()
            .array
            .shape(),
        &[300]
    );
    let nf = ReadOptions {
        no_flatten: true,
        ..Default::default()
    };
    assert_eq!(read_array(&store, &nf).unwrap().array.shape(), &[1, 300]);
    assert_eq!(
        read_flacarray(&store, None, false).unwrap().shape(),
        vec![300]
    );
    assert_eq!(
        read_flacarray(&store, None, true).unwrap().shape(),
        vec![1, 300]
    );
}

#[test]
fn keep_shapes_and_indices() {
    let a = ArrayD::from_shape_fn(IxDyn(&[2, 3, 40]), |d| {
        (d[0] * 1000 + d[1] * 100 + d[2]) as i32
    });
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    let one = [false, false, false, false, true, false];
    let s = fa
        .decompress(&ReadOptions {
            keep: Some(&one),
            keep_indices: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.array.shape(), &[40]);
    assert_eq!(s.indices, Some(vec![vec![1, 1]]));
    let s = fa
        .decompress(&ReadOptions {
            keep: Some(&one),
            no_flatten: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.array.shape(), &[1, 40]);
    assert_eq!(s.indices, None);
    let none = [false; 6];
    let s = fa
        .decompress(&ReadOptions {
            keep: Some(&none),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.array.shape(), &[0, 40]);
    // Python slice semantics: start >= stop is an empty axis.
    let s = fa
        .decompress(&ReadOptions {
            stream_slice: SampleSlice::new(Some(30), Some(10)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.array.shape(), &[2, 3, 0]);
    // A kept subset as a new FlacArray.
    let sub = fa
        .keep_streams(&[true, false, false, false, false, true], false)
        .unwrap();
    assert_eq!(sub.shape(), vec![2, 40]);
    let v = sub.to_array_typed::<i32>().unwrap();
    assert_eq!((v[[0, 3]], v[[1, 39]]), (3, 1239));
}

#[test]
fn decompress_into_a_caller_buffer() {
    let a = ArrayD::from_shape_fn(IxDyn(&[4, 5000]), |d| {
        (d[0] as f64) * 10.0 + (d[1] as f64 * 0.001).cos()
    });
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-6)),
        ..Default::default()
    };
    let fa = FlacArray::from_array(&a, &opts).unwrap();
    let keep = [false, true, true, false];
    let ro = ReadOptions {
        keep: Some(&keep),
        stream_slice: SampleSlice::new(Some(4000), Some(4200)),
        ..Default::default()
    };
    let mut buf = vec![0.0_f64; 2 * 200];
    let shape = fa.decompress_into(&ro, &mut buf).unwrap();
    assert_eq!(shape.shape, vec![2, 200]);
    let full = fa.to_array_typed::<f64>().unwrap();
    for r in 0..2 {
        for k in 0..200 {
            assert_eq!(buf[r * 200 + k], full[[r + 1, 4000 + k]]);
        }
    }
}

#[test]
fn low_level_single_stream_flattens() {
    let a = Array1::from_iter(0..1000_i32);
    let c = array_compress(&a, &CompressOptions::default()).unwrap();
    assert_eq!(c.starts.shape(), &[1]);
    let src = StreamsRef {
        compressed: &c.compressed,
        stream_size: 1000,
        starts: c.starts.view(),
        nbytes: c.nbytes.view(),
        scaling: &c.scaling,
        is_int64: false,
    };
    let v = array_decompress(&src, &DecompressOptions::default()).unwrap();
    assert_eq!(v.shape(), &[1000]);
    let v = array_decompress(
        &src,
        &DecompressOptions {
            no_flatten: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(v.shape(), &[1, 1000]);
    let part = DecompressOptions {
        first_stream_sample: Some(4),
        last_stream_sample: Some(9),
        ..Default::default()
    };
    let v = array_decompress(&src, &part)
        .unwrap()
        .into_array::<i32>()
        .unwrap();
    assert_eq!(v.as_slice().unwrap(), &[4, 5, 6, 7, 8]);
    let bad = DecompressOptions {
        first_stream_sample: Some(9),
        last_stream_sample: Some(9),
        ..Default::default()
    };
    assert!(array_decompress(&src, &bad).is_err());
    let wrong = StreamsRef {
        is_int64: true,
        ..src
    };
    assert!(array_decompress(&wrong, &DecompressOptions::default()).is_err());
}

#[test]
fn parts_round_trip() {
    let a = Array2::from_shape_fn((3, 100), |(i, j)| (i * j) as f64 * 0.25);
    let opts = CompressOptions {
        quanta: Some(QuantaOption::PerStream(vec![0.5, 0.25, 0.5])),
        level: 8,
        ..Default::default()
    };
    let fa = FlacArray::from_array(&a, &opts).unwrap();
    let again = FlacArray::from_parts(fa.clone().into_parts()).unwrap();
    assert_eq!(again, fa);
    assert_eq!(again.to_array_typed::<f64>().unwrap(), a.into_dyn());
}
