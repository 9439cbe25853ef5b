//! A 1% sample range of a long stream read through this backend fetches at most 3%
//! of the stream's bytes, counted by a wrapper around the store and by the kernel
//! (every byte the process reads from the file), and its values equal the full
//! decode.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use flacarray_core::write_array;
use flacarray_hdf5::Hdf5Store;
use flacarray_testkit::{
    check_file_range_reads, check_range_reads, long_signal, range_read_options,
};

fn long_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("long.h5");
    let mut w = Hdf5Store::create(&path, "/g", false).unwrap();
    write_array(&mut w, &long_signal(1_000_000), &range_read_options()).unwrap();
    path
}

#[test]
fn a_one_percent_range_reads_at_most_three_percent_of_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = long_file(dir.path());
    check_range_reads(Hdf5Store::open(&path, "/g").unwrap());
}

/// HDF5's data sieve (64 KiB around every small read of a contiguous dataset) made
/// such a range read 4.8-9.0% of the stream from the file; `Hdf5Store::open` turns
/// it off.
#[test]
fn a_one_percent_range_reads_at_most_three_percent_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = long_file(dir.path());
    let (full, reads) = check_file_range_reads(|| Hdf5Store::open(&path, "/g").unwrap());
    eprintln!("full decode {full} bytes, 1% ranges {reads:?}");
    // The full decode reads the whole file once, plus HDF5's metadata.
    let file = std::fs::metadata(&path).unwrap().len();
    assert!(
        full >= file * 9 / 10 && full <= file * 11 / 10,
        "{full} vs {file}"
    );
}
