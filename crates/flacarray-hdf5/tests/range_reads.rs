//! A 1% sample range of a long stream read through this backend fetches at most 3%
//! of the stream's bytes (counted by a wrapper around the store), and its values
//! equal the full decode.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::cell::Cell;
use std::ops::Range;

use flacarray_core::integrity::StoredChecksums;
use flacarray_core::{
    CompressOptions, FlacArrayReader, QuantaOption, ReadOptions, SampleSlice, StoredMeta,
    StreamTable, read_array, write_array,
};

/// Counts the bytes a reader is asked for.
struct Counting<R> {
    inner: R,
    bytes: Cell<u64>,
}

impl<R: FlacArrayReader> FlacArrayReader for Counting<R> {
    type Error = R::Error;
    fn metadata(&self) -> Result<StoredMeta, R::Error> {
        self.inner.metadata()
    }
    fn read_stream_table(
        &self,
        m: &StoredMeta,
        rows: Range<usize>,
    ) -> Result<StreamTable, R::Error> {
        self.inner.read_stream_table(m, rows)
    }
    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<(), R::Error> {
        self.bytes.set(self.bytes.get() + out.len() as u64);
        self.inner.read_bytes(start, out)
    }
    fn checksums(&self) -> Result<StoredChecksums, R::Error> {
        self.inner.checksums()
    }
}

fn signal(n: usize) -> ndarray::Array2<f32> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    ndarray::Array2::from_shape_fn((2, n), |(r, i)| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = i as f64;
        let noise = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.4;
        (1.0 + r as f64 + 0.2 * (t * 1e-3).sin() + noise) as f32
    })
}

fn check<R: FlacArrayReader>(store: R)
where
    R::Error: std::fmt::Debug,
{
    let store = Counting {
        inner: store,
        bytes: Cell::new(0),
    };
    let meta = store.metadata().unwrap();
    let n = meta.stream_size;
    let full = read_array(&store, &ReadOptions::default()).unwrap().array;
    let full = full.as_array::<f32>().unwrap().clone();
    let total = store.bytes.get();
    assert_eq!(total, meta.total_bytes);
    for start in [0, 250_001, n - n / 100] {
        store.bytes.set(0);
        let keep = [false, true];
        let sel = read_array(
            &store,
            &ReadOptions {
                keep: Some(&keep),
                stream_slice: SampleSlice::new(Some(start as i64), Some((start + n / 100) as i64)),
                ..Default::default()
            },
        )
        .unwrap()
        .array;
        let got = sel.as_array::<f32>().unwrap();
        let row: Vec<f32> = full
            .index_axis(ndarray::Axis(0), 1)
            .iter()
            .copied()
            .collect();
        assert_eq!(got.as_slice().unwrap(), &row[start..start + n / 100]);
        // One stream of the two is kept: its bytes are half the total.
        let read = store.bytes.get();
        assert!(
            read * 100 <= total / 2 * 3,
            "1% from {start}: read {read} of the stream's {} bytes",
            total / 2
        );
    }
}

fn opts() -> CompressOptions {
    CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        ..Default::default()
    }
}

#[test]
fn a_one_percent_range_reads_at_most_three_percent_of_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.h5");
    let a = signal(1_000_000);
    let mut w = flacarray_hdf5::Hdf5Store::create(&path, "/g", false).unwrap();
    write_array(&mut w, &a, &opts()).unwrap();
    drop(w);
    check(flacarray_hdf5::Hdf5Store::open(&path, "/g").unwrap());
}
