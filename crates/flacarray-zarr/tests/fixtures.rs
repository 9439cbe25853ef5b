//! Every Zarr store that Python flacarray wrote (format 1 by 0.4.1 through zarr-python
//! 3, as Zarr v3 and v2 stores; format 0 by 0.2.4), read through `ZarrStore` and
//! `flacarray_core::read_array`, must give exactly what the reference returned
//! (`expected*.npy`): full reads, keep-mask reads, sample slices and `[key]` reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{
    Case, assert_same, files_under, flat_bools, flatten_v0, npy_decoded, reference_decoded,
    zarr_cases,
};
use flacarray_core::{FlacArrayReader, ReadOptions, SampleSlice, read_array, read_flacarray};
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

            let full = read_array(&store, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .array;
            let global = read_array(
                &store,
                &ReadOptions {
                    no_flatten: true,
                    ..Default::default()
                },
            )
            .unwrap()
            .array;
            let mut compared_full = 0;
            for (k, read) in case.reads().iter().enumerate() {
                if read["group"].as_str() != Some(group.as_str()) {
                    continue;
                }
                let what = format!("{what}: read {k} ({})", read["function"]);
                let expected_file = case.dir.join(read["expected"].as_str().unwrap());
                let no_flatten = read["no_flatten"].as_bool().unwrap_or(false);
                if let Some(key) = read["key"].as_str() {
                    let fa = read_flacarray(&store, None, no_flatten).unwrap();
                    let ours = fa.select(key).unwrap();
                    assert_same(&ours, &npy_decoded(&expected_file, dtype), &what);
                    reads += 1;
                    continue;
                }
                let keep: Option<Vec<bool>> =
                    (!read["keep"].is_null()).then(|| flat_bools(&read["keep"]));
                let (slice, quirk) = match read["stream_slice"].as_array() {
                    None => (SampleSlice::FULL, false),
                    Some(b) => {
                        let s = SampleSlice::new(b[0].as_i64(), b[1].as_i64());
                        // 0.4.1 ignores a slice with a None or negative bound (quirk 1).
                        let quirk = b
                            .iter()
                            .any(|v| v.is_null() || v.as_i64().is_some_and(|x| x < 0));
                        (s, quirk)
                    }
                };
                let opts = ReadOptions {
                    keep: keep.as_deref(),
                    stream_slice: slice,
                    keep_indices: read["keep_indices"].as_bool().unwrap_or(false),
                    no_flatten,
                    threads: None,
                };
                let sel = read_array(&store, &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
                let want = if quirk {
                    reference_decoded(
                        &global,
                        keep.as_deref(),
                        slice.resolve(ss).unwrap(),
                        no_flatten,
                    )
                } else if v0 {
                    flatten_v0(npy_decoded(&expected_file, dtype), &sel.array)
                } else {
                    npy_decoded(&expected_file, dtype)
                };
                assert_same(&sel.array, &want, &what);
                if keep.is_none() && read["stream_slice"].is_null() {
                    assert_same(&full, &want, &format!("{what}: full read"));
                    compared_full += 1;
                }
                if opts.keep_indices {
                    let exp: Vec<Vec<usize>> = read["expected_keep_indices"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| {
                            t.as_array()
                                .unwrap()
                                .iter()
                                .map(|v| v.as_u64().unwrap() as usize)
                                .collect()
                        })
                        .collect();
                    assert_eq!(sel.indices.as_ref().unwrap(), &exp, "{what}: indices");
                }
                reads += 1;
            }
            assert!(compared_full > 0, "{what}: no full read to compare with");
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
