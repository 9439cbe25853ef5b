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
