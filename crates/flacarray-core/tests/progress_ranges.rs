//! Progress hooks and the stream-range decode: the hook's calls add up to the streams
//! done whatever the thread count, progress changes no byte or value, and a range
//! decode equals the full decode sliced.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use flacarray_core::synth::timestreams;
use flacarray_core::{
    CompressOptions, DecodedArray, Error, FlacArray, QuantaOption, ReadOptions, SampleSlice,
};
use ndarray::{ArrayD, Axis, IxDyn, Slice};

fn data() -> ArrayD<f64> {
    // 6 x 7 = 42 streams of 3000 samples: enough streams that several chunks and
    // several threads take part.
    timestreams(42, 3000, 1.0, 11)
        .into_shape_with_order(IxDyn(&[6, 7, 3000]))
        .unwrap()
}

fn opts(threads: usize) -> CompressOptions {
    CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        threads: Some(threads),
        ..CompressOptions::default()
    }
}

#[test]
fn compress_progress_adds_up_to_the_streams_and_changes_no_byte() {
    let a = data();
    let plain = FlacArray::from_array(&a, &opts(1)).unwrap();
    for threads in [1, 2, 3] {
        let calls = Mutex::new(Vec::new());
        let fa = FlacArray::from_array_with_progress(&a, &opts(threads), &|n| {
            calls.lock().unwrap().push(n);
        })
        .unwrap();
        assert_eq!(fa, plain, "threads {threads}");
        let calls = calls.into_inner().unwrap();
        assert_eq!(
            calls.iter().sum::<usize>(),
            42,
            "threads {threads}: {calls:?}"
        );
        assert!(calls.iter().all(|&n| n > 0), "{calls:?}");
    }
    // The dtype-dispatching form reports the same total.
    let done = AtomicUsize::new(0);
    let count = |n| {
        done.fetch_add(n, Ordering::Relaxed);
    };
    let fa =
        FlacArray::from_decoded(&DecodedArray::Float64(a.clone()), &opts(2), Some(&count)).unwrap();
    assert_eq!((fa, done.into_inner()), (plain, 42));
}

#[test]
fn compress_progress_reports_nothing_for_a_failed_call() {
    let mut a = data();
    a[[0, 0, 5]] = f64::NAN;
    let done = AtomicUsize::new(0);
    let r = FlacArray::from_array_with_progress(&a, &opts(1), &|n| {
        done.fetch_add(n, Ordering::Relaxed);
    });
    assert!(
        matches!(
            r,
            Err(Error::Quantize {
                source: flacarray_core::quant::Error::NonFinite { .. },
                ..
            })
        ),
        "{r:?}"
    );
    // Stream (0, 0) fails, so the total stays below the stream count.
    assert!(done.into_inner() < 42);
}

#[test]
fn decompress_progress_is_called_once_per_selected_stream() {
    let fa = FlacArray::from_array(&data(), &opts(2)).unwrap();
    let keep: Vec<bool> = (0..42).map(|i| i % 3 == 0).collect();
    for (read, want) in [
        (ReadOptions::default(), 42),
        (
            ReadOptions {
                keep: Some(&keep),
                stream_slice: SampleSlice::new(Some(100), Some(-100)),
                ..ReadOptions::default()
            },
            14,
        ),
        (
            ReadOptions {
                stream_slice: SampleSlice::new(Some(50), Some(50)),
                ..ReadOptions::default()
            },
            42,
        ),
    ] {
        for threads in [1, 3] {
            let read = ReadOptions {
                threads: Some(threads),
                ..read
            };
            let calls = AtomicUsize::new(0);
            let total = AtomicUsize::new(0);
            let got = fa
                .decompress_with_progress(&read, &|n| {
                    calls.fetch_add(1, Ordering::Relaxed);
                    total.fetch_add(n, Ordering::Relaxed);
                })
                .unwrap();
            assert_eq!(got, fa.decompress(&read).unwrap());
            assert_eq!(total.into_inner(), want, "{read:?}");
            // One call per decoded stream; an empty sample range reports all at once.
            let calls = calls.into_inner();
            if read.stream_slice.resolve(3000).unwrap().is_empty() {
                assert_eq!(calls, 1);
            } else {
                assert_eq!(calls, want);
            }
        }
    }
}

#[test]
fn stream_range_decode_equals_the_full_decode_sliced() {
    let a = data();
    let fa = FlacArray::from_array(&a, &opts(2)).unwrap();
    let flat = a.into_shape_with_order(IxDyn(&[42, 3000])).unwrap();
    let full = fa
        .decompress(&ReadOptions::default())
        .unwrap()
        .array
        .into_array::<f64>()
        .unwrap()
        .into_shape_with_order(IxDyn(&[42, 3000]))
        .unwrap();
    for (streams, slice, cols) in [
        (0..42, SampleSlice::FULL, 0..3000),
        (7..14, SampleSlice::new(Some(-500), None), 2500..3000),
        (41..42, SampleSlice::new(Some(10), Some(20)), 10..20),
        (3..3, SampleSlice::FULL, 0..3000),
        (5..9, SampleSlice::new(Some(20), Some(10)), 20..20),
    ] {
        let want = full
            .slice_axis(Axis(0), Slice::from(streams.clone()))
            .slice_axis(Axis(1), Slice::from(cols))
            .to_owned();
        let got = fa
            .decompress_streams(streams.clone(), slice, Some(2))
            .unwrap()
            .into_array::<f64>()
            .unwrap();
        assert_eq!(got, want, "{streams:?} {slice}");
        // Within half a quantum of the input.
        let orig = flat.slice_axis(Axis(0), Slice::from(streams.clone()));
        let orig = orig.slice_axis(Axis(1), Slice::from(slice.resolve(3000).unwrap()));
        assert!(
            got.iter()
                .zip(orig.iter())
                .all(|(g, o)| (g - o).abs() <= 0.5e-3 + 1e-9)
        );
        let mut into = vec![0.0f64; got.len()];
        fa.decompress_streams_into(streams, slice, &mut into, None)
            .unwrap();
        assert_eq!(into, got.into_raw_vec_and_offset().0);
    }
    assert!(matches!(
        fa.decompress_streams(40..43, SampleSlice::FULL, None),
        Err(Error::Index(_))
    ));
    assert!(matches!(
        fa.decompress_streams(0..1, SampleSlice::new(None, Some(3001)), None),
        Err(Error::Index(_))
    ));
    let mut short = vec![0.0f64; 10];
    assert!(matches!(
        fa.decompress_streams_into(0..1, SampleSlice::FULL, &mut short, None),
        Err(Error::InvalidArgument(_))
    ));
    let mut wrong = vec![0i32; 3000];
    assert!(
        fa.decompress_streams_into(0..1, SampleSlice::FULL, &mut wrong, None)
            .is_err()
    );
}
