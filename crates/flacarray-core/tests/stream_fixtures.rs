//! Every group of every HDF5/Zarr fixture (formats 1 and 0), unpacked to `.npy` under
//! `fixtures/flac-streams/`, read through the core's storage path ([`MemoryStore`] +
//! [`read_array`]) and compared with what flacarray returned, including the keep /
//! slice / `[key]` reads recorded in `case.json`.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{assert_same, fixtures, flatten_v0, json, npy, npy_decoded};
use flacarray_core::{
    DType, MemoryStore, ReadOptions, StoredMeta, StreamScaling, StreamTable, read_array,
};
use flacarray_testkit::check_reference_reads;
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
        groups += 1;
        let reads_of_case = case["reads"].as_array().unwrap();
        reads += check_reference_reads(&store, &case_dir, reads_of_case, group, v0, path).reads;
    }
    assert_eq!(
        groups,
        index["total_groups"].as_u64().unwrap() as usize,
        "groups"
    );
    assert!(reads >= 100, "only {reads} reads checked");
}
