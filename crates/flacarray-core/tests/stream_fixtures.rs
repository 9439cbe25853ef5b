//! Every group of every HDF5/Zarr fixture (formats 1 and 0), unpacked to `.npy` under
//! `fixtures/flac-streams/`, read through the core's storage path ([`MemoryStore`] +
//! [`read_array`]) and compared with what flacarray returned, including the keep /
//! slice / `[key]` reads recorded in `case.json`.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{
    assert_same, fixtures, flat_bools, flatten_v0, json, npy, npy_decoded, reference_decoded,
};
use flacarray_core::{
    DType, MemoryStore, ReadOptions, SampleSlice, StoredMeta, StreamScaling, StreamTable,
    read_array, read_flacarray,
};
use std::path::Path;

fn store_for(gdir: &Path, meta: &serde_json::Value) -> MemoryStore {
    let dtype = DType::from_name(meta["dtype"].as_str().unwrap()).unwrap();
    let version: u32 = meta["format_version"].as_str().unwrap().parse().unwrap();
    let leading: Vec<usize> = meta["leading_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let compressed = npy::<u8>(&gdir.join("compressed.npy")).1;
    let starts: Vec<u64> = npy::<i64>(&gdir.join("starts.npy"))
        .1
        .iter()
        .map(|&v| v as u64)
        .collect();
    let nbytes: Vec<u64> = npy::<i64>(&gdir.join("nbytes.npy"))
        .1
        .iter()
        .map(|&v| v as u64)
        .collect();
    let scaling = match meta["offsets_dtype"].as_str() {
        None => StreamScaling::None,
        Some("int64") => StreamScaling::I64Offsets(npy::<i64>(&gdir.join("offsets.npy")).1),
        Some("float32") => StreamScaling::F32 {
            offsets: npy(&gdir.join("offsets.npy")).1,
            gains: npy(&gdir.join("gains.npy")).1,
        },
        Some("float64") => StreamScaling::F64 {
            offsets: npy(&gdir.join("offsets.npy")).1,
            gains: npy(&gdir.join("gains.npy")).1,
        },
        Some(other) => panic!("offsets dtype {other}"),
    };
    let m = StoredMeta {
        format_version: version,
        dtype,
        leading_shape: leading,
        stream_size: meta["stream_size"].as_u64().unwrap() as usize,
        total_bytes: compressed.len() as u64,
    };
    MemoryStore::from_parts(
        m,
        StreamTable {
            starts,
            nbytes,
            scaling,
        },
        compressed,
    )
    .unwrap()
}

fn opt_i64(v: &serde_json::Value) -> Option<i64> {
    v.as_i64()
}

#[test]
fn every_fixture_group_decodes_to_the_reference() {
    let index = json(&fixtures("flac-streams").join("index.json"));
    let (mut groups, mut reads) = (0, 0);
    for g in index["groups"].as_array().unwrap() {
        let path = g["path"].as_str().unwrap();
        let gdir = fixtures("flac-streams").join(path);
        let meta = json(&gdir.join("meta.json"));
        let case_root = if path.starts_with("v0/") {
            "python-reference-v0"
        } else {
            "python-reference"
        };
        let case_dir = fixtures(case_root).join(meta["case"].as_str().unwrap());
        let case = json(&case_dir.join("case.json"));
        let dtype = DType::from_name(meta["dtype"].as_str().unwrap()).unwrap();
        let store = store_for(&gdir, &meta);
        let group = meta["group"].as_str().unwrap();
        let ss = meta["stream_size"].as_u64().unwrap() as usize;

        // The full read (keep None, no slice) equals the reference's full read.
        let full = read_array(&store, &ReadOptions::default()).unwrap().array;
        let mut full_exp = npy_decoded(
            &case_dir.join(meta["full_read_expected"].as_str().unwrap()),
            dtype,
        );
        let v0 = path.starts_with("v0/");
        if v0 {
            full_exp = flatten_v0(full_exp, &full);
        }
        assert_same(&full, &full_exp, &format!("{path}: full read"));
        // The same values in global shape, for computing the quirk reads.
        let global = read_array(
            &store,
            &ReadOptions {
                no_flatten: true,
                ..Default::default()
            },
        )
        .unwrap()
        .array;
        groups += 1;

        for (k, read) in case["reads"].as_array().unwrap().iter().enumerate() {
            if read["group"].as_str() != Some(group) {
                continue;
            }
            let what = format!("{path}: read {k} ({})", read["function"]);
            let expected_file = case_dir.join(read["expected"].as_str().unwrap());
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
                    let s = SampleSlice::new(opt_i64(&b[0]), opt_i64(&b[1]));
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
            let sel = read_array(&store, &opts).unwrap();
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
            // The in-memory path (read everything, then select) agrees.
            let fa = read_flacarray(&store, None, no_flatten).unwrap();
            let again = fa.decompress(&opts).unwrap();
            assert_same(&again.array, &sel.array, &format!("{what}: in-memory"));
            reads += 1;
        }
    }
    assert_eq!(
        groups,
        index["total_groups"].as_u64().unwrap() as usize,
        "groups"
    );
    assert!(reads >= 100, "only {reads} reads checked");
}
