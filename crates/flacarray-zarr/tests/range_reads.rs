//! A 1% sample range of a long stream read through `ZarrStore` (v3 and v2 stores)
//! fetches at most 3% of the stream's bytes, and its values equal the full decode
//! (`flacarray_testkit::check_range_reads`).
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::write_array;
use flacarray_testkit::{check_range_reads, long_signal, range_read_options};
use flacarray_zarr::{ZarrFormat, ZarrStore};

#[test]
fn a_one_percent_range_reads_at_most_three_percent_of_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [("v3.zarr", ZarrFormat::V3), ("v2.zarr", ZarrFormat::V2)] {
        let path = long_store(dir.path(), name, format);
        check_range_reads(ZarrStore::open(&path, "/g").unwrap());
    }
}

/// Counted by the kernel (every byte read from the files): in a v3 store `compressed`
/// is sharded into 16 KiB inner chunks, so a 1% range reads the shard index and the
/// inner chunks of its frames, not whole 2 MiB chunks. (A v2 store has no sharding:
/// its chunks are read whole.)
#[test]
fn a_one_percent_range_reads_at_most_three_percent_from_a_v3_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = long_store(dir.path(), "long.zarr", ZarrFormat::V3);
    let meta = std::fs::read_to_string(path.join("g/compressed/zarr.json")).unwrap();
    assert!(meta.contains("sharding_indexed"), "{meta}");
    let (full, reads) =
        flacarray_testkit::check_file_range_reads(|| ZarrStore::open(&path, "/g").unwrap());
    eprintln!("full decode {full} bytes, 1% ranges {reads:?}");
}

/// A v2 store (no sharding) reads whole chunks, but each at most once per read: a 1%
/// range at three places reads less than a full decode, which itself reads about the
/// stored bytes once (every read of part of a chunk used to fetch and decode the
/// whole chunk again: 8-31 times a full decode for a 1% range).
#[test]
fn a_range_of_a_v2_store_reads_each_chunk_once() {
    use flacarray_core::{ReadOptions, SampleSlice, read_array};
    let dir = tempfile::tempdir().unwrap();
    let path = long_store(dir.path(), "long2.zarr", ZarrFormat::V2);
    let open = || ZarrStore::open(&path, "/g").unwrap();
    let (_, full) =
        flacarray_testkit::syscall_bytes(|| read_array(&open(), &ReadOptions::default()).unwrap());
    let stored: u64 = walk(&path.join("g/compressed"));
    assert!(
        full <= stored + stored / 10,
        "full decode read {full}, stored {stored}"
    );
    for start in [0i64, 250_001, 990_000] {
        let opts = ReadOptions {
            stream_slice: SampleSlice::new(Some(start), Some(start + 10_000)),
            ..Default::default()
        };
        let (_, read) = flacarray_testkit::syscall_bytes(|| read_array(&open(), &opts).unwrap());
        assert!(
            read < full,
            "1% from {start}: read {read}, full decode {full}"
        );
    }
}

/// A store `name` in `dir` holding group `/g`: one stream of 10^6 samples written
/// with the range-read options.
fn long_store(dir: &std::path::Path, name: &str, format: ZarrFormat) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut w = ZarrStore::create(&path, "/g", false, format).unwrap();
    write_array(&mut w, &long_signal(1_000_000), &range_read_options()).unwrap();
    drop(w);
    path
}

/// Bytes of the files under `dir`.
fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}
