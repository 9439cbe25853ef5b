//! A 1% sample range of a long stream read through `ZarrStore` (v3 and v2 stores)
//! fetches at most 3% of the stream's bytes, and its values equal the full decode
//! (`flacarray_testkit::check_range_reads`).
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::write_array;
use flacarray_testkit::{check_range_reads, long_signal, range_read_options};
use flacarray_zarr::{ZarrFormat, ZarrStore};

#[test]
fn a_one_percent_range_reads_at_most_three_percent_of_the_stream() {
    let a = long_signal(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [("v3.zarr", ZarrFormat::V3), ("v2.zarr", ZarrFormat::V2)] {
        let path = dir.path().join(name);
        let mut w = ZarrStore::create(&path, "/g", false, format).unwrap();
        write_array(&mut w, &a, &range_read_options()).unwrap();
        drop(w);
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
    let path = dir.path().join("long.zarr");
    let mut w = ZarrStore::create(&path, "/g", false, ZarrFormat::V3).unwrap();
    write_array(&mut w, &long_signal(1_000_000), &range_read_options()).unwrap();
    drop(w);
    let meta = std::fs::read_to_string(path.join("g/compressed/zarr.json")).unwrap();
    assert!(meta.contains("sharding_indexed"), "{meta}");
    let (full, reads) =
        flacarray_testkit::check_file_range_reads(|| ZarrStore::open(&path, "/g").unwrap());
    eprintln!("full decode {full} bytes, 1% ranges {reads:?}");
}
