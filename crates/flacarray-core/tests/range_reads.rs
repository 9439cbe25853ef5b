//! Sample-range reads through the storage traits read only the frames the range
//! needs, and give exactly the values of a full decode (or its error).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use flacarray_core::{
    CompressOptions, DecodedArray, FlacArrayReader, MemoryStore, QuantaOption, ReadOptions,
    SampleSlice, StoredMeta, StreamTable, read_array, write_array,
};
use ndarray::{Array1, Array2, ArrayD, Axis, Slice};

/// A timestream-like signal: a slow drift, a few tones and white noise, scaled so
/// that a quanta of 1e-4 keeps about 12 bits of noise per sample.
fn timestream(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = i as f64;
            let noise = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.4;
            1.0 + 1e-6 * t + 0.2 * (t * 1e-3).sin() + 0.05 * (t * 0.031).sin() + noise
        })
        .collect()
}

fn slice(start: usize, stop: usize) -> SampleSlice {
    SampleSlice::new(Some(start as i64), Some(stop as i64))
}

/// Reads `range` of every stream and checks it against the full decode; returns the
/// bytes read.
fn check_range(store: &MemoryStore, full: &DecodedArray, start: usize, stop: usize) -> u64 {
    store.reset_counters();
    let opts = ReadOptions {
        stream_slice: slice(start, stop),
        ..Default::default()
    };
    let got = read_array(store, &opts)
        .unwrap_or_else(|e| panic!("{start}..{stop}: {e}"))
        .array;
    let axis = Axis(full.shape().len() - 1);
    let s = Slice::from(start..stop);
    let want = match full {
        DecodedArray::Int32(a) => DecodedArray::Int32(a.slice_axis(axis, s).to_owned()),
        DecodedArray::Int64(a) => DecodedArray::Int64(a.slice_axis(axis, s).to_owned()),
        DecodedArray::Float32(a) => DecodedArray::Float32(a.slice_axis(axis, s).to_owned()),
        DecodedArray::Float64(a) => DecodedArray::Float64(a.slice_axis(axis, s).to_owned()),
    };
    assert!(
        got == want,
        "{start}..{stop}: values differ from the full decode"
    );
    store.bytes_read()
}

#[test]
fn one_percent_of_a_long_stream_reads_at_most_three_percent_of_its_bytes() {
    let n = 1_000_000;
    let x: Vec<f32> = timestream(n, 1).iter().map(|&v| v as f32).collect();
    let a = Array1::from(x);
    let mut store = MemoryStore::new();
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        ..Default::default()
    };
    write_array(&mut store, &a, &opts).unwrap();
    let stored = store.stored_bytes();
    let full = read_array(&store, &ReadOptions::default()).unwrap().array;
    assert_eq!(store.bytes_read(), stored);
    let one = n / 100;
    for start in [
        0,
        4096,
        123_457,
        n / 2 - one / 2,
        777_777,
        n - one - 1,
        n - one,
    ] {
        let read = check_range(&store, &full, start, start + one);
        eprintln!(
            "1% from {start}: read {read} of {stored} bytes ({:.2}%) in {} calls",
            read as f64 * 100.0 / stored as f64,
            store.read_calls()
        );
        assert!(
            read * 100 <= stored * 3,
            "1% from {start}: read {read} of {stored} bytes ({:.2}%)",
            read as f64 * 100.0 / stored as f64
        );
    }
    // Short ranges inside one frame, across a frame boundary, and single samples.
    for (s, e) in [
        (5000, 5001),
        (8190, 8194),
        (0, 1),
        (n - 1, n),
        (409_600, 413_696),
    ] {
        // At most two frames of the 245 and the margins around them.
        let read = check_range(&store, &full, s, e);
        assert!(
            read * 50 <= stored,
            "{s}..{e}: read {read} of {stored} bytes"
        );
    }
    // A quarter or more is read whole (one call); results are still exact.
    let read = check_range(&store, &full, 100, n / 2);
    assert_eq!(read, stored);
}

#[test]
fn every_dtype_and_keep_mask_matches_the_full_decode() {
    let n = 300_000;
    let rows = 3;
    let base: Vec<f64> = (0..rows)
        .flat_map(|r| timestream(n, r as u64 + 7))
        .collect();
    let i32s = Array2::from_shape_vec((rows, n), base.iter().map(|&v| (v * 1e4) as i32).collect())
        .unwrap();
    let i64s = Array2::from_shape_vec(
        (rows, n),
        base.iter().map(|&v| (v * 1e4) as i64 * 1_000_003).collect(),
    )
    .unwrap();
    let f64s = Array2::from_shape_vec((rows, n), base.clone()).unwrap();
    let quanta = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-5)),
        ..Default::default()
    };
    let mut stores = Vec::new();
    let mut s = MemoryStore::new();
    write_array(&mut s, &i32s, &CompressOptions::default()).unwrap();
    stores.push(s);
    let mut s = MemoryStore::new();
    write_array(&mut s, &i64s, &CompressOptions::default()).unwrap();
    stores.push(s);
    let mut s = MemoryStore::new();
    write_array(&mut s, &f64s, &quanta).unwrap();
    stores.push(s);
    for store in &stores {
        let full = read_array(store, &ReadOptions::default()).unwrap().array;
        let stored = store.stored_bytes();
        for (a, b) in [(1000, 4000), (150_001, 151_000), (n - 2000, n)] {
            let read = check_range(store, &full, a, b);
            assert!(read * 20 < stored, "{a}..{b}: read {read} of {stored}");
        }
        // A keep mask with a range: the kept streams' rows only.
        let keep = [true, false, true];
        let sel = read_array(
            store,
            &ReadOptions {
                keep: Some(&keep),
                stream_slice: slice(20_000, 21_000),
                keep_indices: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(sel.indices, Some(vec![vec![0], vec![2]]));
        assert_eq!(sel.array.shape(), &[2, 1000]);
        let whole = read_array(
            store,
            &ReadOptions {
                keep: Some(&keep),
                ..Default::default()
            },
        )
        .unwrap()
        .array;
        let want = match whole {
            DecodedArray::Int32(a) => DecodedArray::Int32(
                a.slice_axis(Axis(1), Slice::from(20_000..21_000))
                    .to_owned(),
            ),
            DecodedArray::Int64(a) => DecodedArray::Int64(
                a.slice_axis(Axis(1), Slice::from(20_000..21_000))
                    .to_owned(),
            ),
            DecodedArray::Float64(a) => DecodedArray::Float64(
                a.slice_axis(Axis(1), Slice::from(20_000..21_000))
                    .to_owned(),
            ),
            DecodedArray::Float32(a) => DecodedArray::Float32(
                a.slice_axis(Axis(1), Slice::from(20_000..21_000))
                    .to_owned(),
            ),
        };
        assert!(sel.array == want, "keep mask with a range");
    }
}

/// A store built from parts, so tests can change the stored bytes.
fn store_of(
    x: &ArrayD<i32>,
    level: u8,
    edit: impl FnOnce(&mut Vec<u8>),
) -> (MemoryStore, StoredMeta) {
    let mut s = MemoryStore::new();
    let opts = CompressOptions {
        level,
        ..Default::default()
    };
    write_array(&mut s, x, &opts).unwrap();
    let meta = s.metadata().unwrap();
    let rows = meta.leading_shape[0];
    let table: StreamTable = s.read_stream_table(&meta, 0..rows).unwrap();
    let mut bytes = vec![0u8; meta.total_bytes as usize];
    s.read_bytes(0, &mut bytes).unwrap();
    edit(&mut bytes);
    (
        MemoryStore::from_parts(meta.clone(), table, bytes).unwrap(),
        meta,
    )
}

/// Full-range noise at level 0 is stored in verbatim frames (blocks of 1152): its
/// 32-bit samples sit byte-aligned after each frame's header, so a sample can hold
/// any byte pattern, such as a copy of the next frame's header.
fn noise(n: usize) -> Vec<i32> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u32 as i32
        })
        .collect()
}

#[test]
fn a_planted_frame_header_cannot_change_the_values_of_a_range() {
    let bs = 1152;
    let n = 200 * bs + 77;
    let mut x = noise(n);
    let clean = ArrayD::from_shape_vec(vec![n], x.clone()).unwrap();
    let (store, _) = store_of(&clean, 0, |_| {});
    let mut bytes = vec![0u8; store.stored_bytes() as usize];
    store.read_bytes(0, &mut bytes).unwrap();
    let info = flacarray_flac::read_stream_info(&bytes).unwrap();
    // Copy the header of frame k into the middle of frame k - 1's samples, for
    // several frames, so the search for the range's first and last frames meets them.
    let mut from = 0;
    let mut headers = Vec::new();
    while let Some(h) = flacarray_flac::find_frame_header(&bytes, from, &info) {
        headers.push(h);
        from = h.offset + 1;
    }
    assert_eq!(headers.len(), 201);
    for k in [50usize, 51, 52, 120, 121, 199] {
        let h = &bytes[headers[k].offset..headers[k].offset + 8];
        let at = k * bs - bs / 2;
        x[at] = i32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        x[at + 1] = i32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    }
    let hostile = ArrayD::from_shape_vec(vec![n], x.clone()).unwrap();
    let (store, _) = store_of(&hostile, 0, |_| {});
    let mut bytes = vec![0u8; store.stored_bytes() as usize];
    store.read_bytes(0, &mut bytes).unwrap();
    // The planted headers are found as frame starts by a forward scan.
    let planted = flacarray_flac::find_frame_header(&bytes, headers[49].offset + 1, &info).unwrap();
    assert_eq!(planted.number, 50);
    let full = read_array(&store, &ReadOptions::default()).unwrap().array;
    assert_eq!(full.as_array::<i32>().unwrap().as_slice().unwrap(), &x[..]);
    for (a, b) in [
        (50 * bs, 51 * bs),
        (50 * bs - 10, 52 * bs + 3),
        (51 * bs + 1, 52 * bs),
        (120 * bs + 5, 121 * bs + 5),
        (199 * bs, n),
        (198 * bs + 100, 199 * bs + 100),
    ] {
        check_range(&store, &full, a, b);
    }
}

#[test]
fn corruption_inside_a_range_is_an_error_outside_it_is_not_read() {
    let bs = 1152;
    let n = 100 * bs;
    let x = ArrayD::from_shape_vec(vec![n], noise(n)).unwrap();
    let (clean, _) = store_of(&x, 0, |_| {});
    let total = clean.stored_bytes() as usize;
    // Flip a byte in the middle of the stream (frame ~50).
    let (store, _) = store_of(&x, 0, |b| b[total / 2] ^= 0x20);
    let full = read_array(&store, &ReadOptions::default());
    assert!(full.is_err(), "a full decode reports the damage");
    let at = read_array(
        &store,
        &ReadOptions {
            stream_slice: slice(49 * bs, 51 * bs),
            ..Default::default()
        },
    );
    assert!(at.is_err(), "a range over the damaged frame reports it");
    let away = read_array(
        &store,
        &ReadOptions {
            stream_slice: slice(10 * bs, 12 * bs),
            ..Default::default()
        },
    )
    .unwrap()
    .array;
    assert_eq!(
        away.as_array::<i32>().unwrap().as_slice().unwrap(),
        &x.as_slice().unwrap()[10 * bs..12 * bs]
    );
    // A damaged stream header: the range read falls back to the whole stream and
    // reports the error a full read gives.
    let (store, _) = store_of(&x, 0, |b| b[0] ^= 0xFF);
    assert!(read_array(&store, &ReadOptions::default()).is_err());
    let e = read_array(
        &store,
        &ReadOptions {
            stream_slice: slice(10 * bs, 12 * bs),
            ..Default::default()
        },
    );
    assert!(e.is_err());
    // Truncated frames: every range is exact or an error, never a panic.
    for cut in [total / 3, total - 5] {
        let (store, _) = store_of(&x, 0, |b| b[cut..].iter_mut().for_each(|v| *v = 0));
        for (a, b) in [(0, bs), (33 * bs, 35 * bs), (n - 2 * bs, n)] {
            if let Ok(sel) = read_array(
                &store,
                &ReadOptions {
                    stream_slice: slice(a, b),
                    ..Default::default()
                },
            ) {
                assert_eq!(
                    sel.array.as_array::<i32>().unwrap().as_slice().unwrap(),
                    &x.as_slice().unwrap()[a..b],
                    "cut {cut}, range {a}..{b}"
                );
            }
        }
    }
}
