//! Every Zarr store that Python flacarray wrote (format 1 by 0.4.1 through zarr-python
//! 3, as Zarr v3 and v2 stores; format 0 by 0.2.4), read through `ZarrStore` and
//! `flacarray_core::read_array`, must give exactly what the reference returned
//! (`expected*.npy`): full reads, keep-mask reads, sample slices and `[key]` reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Case, files_under, zarr_cases};
use flacarray_core::FlacArrayReader;
use flacarray_testkit::check_reference_reads;
use flacarray_zarr::ZarrStore;
use serde_json::Value;

fn stored_leading(case: &Case) -> Vec<usize> {
    if let Some(Value::Array(a)) = case.json.get("stored_leading_shape") {
        return a.iter().map(|v| v.as_u64().unwrap() as usize).collect();
    }
    let shape: Vec<usize> = case.json["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    if shape.len() == 1 {
        vec![1]
    } else {
        shape[..shape.len() - 1].to_vec()
    }
}

/// Checks every group and every read of the cases under `sub`; returns
/// (groups, reads, v2 groups).
fn check_all(sub: &str, format_version: u32) -> (usize, usize, usize) {
    let v0 = format_version == 0;
    let (mut groups, mut reads, mut v2) = (0, 0, 0);
    for case in zarr_cases(sub) {
        let name = case.name();
        let dtype = case.dtype();
        let ss = usize::try_from(case.stream_size()).unwrap();
        for group in case.groups() {
            let what = format!("{name}{group}");
            let store =
                ZarrStore::open(&case.zarr(), &group).unwrap_or_else(|e| panic!("{what}: {e}"));
            let meta = store.metadata().unwrap();
            assert_eq!(meta.format_version, format_version, "{what}");
            assert_eq!(meta.dtype, dtype, "{what}: dtype");
            assert_eq!(meta.stream_size, ss, "{what}");
            assert_eq!(meta.leading_shape, stored_leading(&case), "{what}");
            assert_eq!(
                meta.total_bytes,
                case.json["compressed_bytes_per_group"][&group]
                    .as_u64()
                    .unwrap(),
                "{what}"
            );
            let software = if v0 { "0.2.4" } else { "0.4.1" };
            assert_eq!(store.software_version().unwrap(), Some(software));
            if case.json["storage"].as_str() == Some("zarr2") {
                v2 += 1;
            }

            let done = check_reference_reads(&store, &case.dir, &case.reads(), &group, v0, &what);
            assert!(done.full > 0, "{what}: no full read to compare with");
            reads += done.reads;
            groups += 1;
        }
    }
    (groups, reads, v2)
}

#[test]
fn v1_zarr_fixtures_match_the_reference() {
    let (groups, reads, v2) = check_all("python-reference", 1);
    // 12 cases, one group each: 9 Zarr v3 stores and 3 Zarr v2 stores.
    // Every read recorded for these groups in case.json.
    assert_eq!((groups, reads, v2), (12, 26, 3));
}

#[test]
fn v0_zarr_fixtures_match_the_reference() {
    let (groups, reads, v2) = check_all("python-reference-v0", 0);
    assert_eq!((groups, reads, v2), (4, 11, 1));
}

/// zarr-python does not write chunks equal to the fill value: a single stream's
/// `stream_starts = [0]` has no chunk at all, and the reader takes it as 0.
#[test]
fn missing_fill_value_chunks_read_as_zero() {
    let case = flacarray_testkit::case("python-reference", "i64_1d_l8_zarr3");
    let files = files_under(&case.zarr());
    assert!(
        files.iter().any(|f| f == "stream_starts/zarr.json"),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|f| f.starts_with("stream_starts/c")),
        "the fixture should have no stream_starts chunk: {files:?}"
    );
    let store = ZarrStore::open(&case.zarr(), "/").unwrap();
    let meta = store.metadata().unwrap();
    let table = store.read_stream_table(&meta, 0..1).unwrap();
    assert_eq!(table.starts, vec![0]);
    assert_eq!(table.nbytes, vec![meta.total_bytes]);
}
