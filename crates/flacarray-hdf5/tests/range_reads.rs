//! A 1% sample range of a long stream read through this backend fetches at most 3%
//! of the stream's bytes (counted by a wrapper around the store), and its values
//! equal the full decode.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use flacarray_core::write_array;
use flacarray_testkit::{check_range_reads, long_signal, range_read_options};

#[test]
fn a_one_percent_range_reads_at_most_three_percent_of_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.h5");
    let mut w = flacarray_hdf5::Hdf5Store::create(&path, "/g", false).unwrap();
    write_array(&mut w, &long_signal(1_000_000), &range_read_options()).unwrap();
    drop(w);
    check_range_reads(flacarray_hdf5::Hdf5Store::open(&path, "/g").unwrap());
}
