//! The core's backend conformance suite against Zarr v3 and v2 stores, the on-disk
//! layout this crate writes, and reads that fetch only the chunks they need.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::cell::Cell;

use common::files_under;
use flacarray_core::{
    CompressOptions, FlacArrayReader, QuantaOption, ReadOptions, conformance, read_array,
    write_array,
};
use flacarray_zarr::{ZarrFormat, ZarrStore};
use ndarray::Axis;
use serde_json::{Value, json};

fn run(format: ZarrFormat) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let n = Cell::new(0usize);
    conformance::run_all(|| {
        n.set(n.get() + 1);
        // A fresh store per case; every other case goes into a nested group.
        let group = if n.get().is_multiple_of(2) {
            "/"
        } else {
            "/a/b"
        };
        ZarrStore::create(
            &dir.path().join(format!("c{}.zarr", n.get())),
            group,
            false,
            format,
        )
        .unwrap()
    });
    n.get()
}

#[test]
fn zarr_v3_store_passes_the_conformance_suite() {
    assert!(run(ZarrFormat::V3) > 20);
}

#[test]
fn zarr_v2_store_passes_the_conformance_suite() {
    assert!(run(ZarrFormat::V2) > 20);
}

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn v3_layout_matches_zarr_python_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.zarr");
    let a = conformance::synth_array::<f32>(&[2, 3, 700], 4);
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..Default::default()
    };
    write_array(
        &mut ZarrStore::create(&path, "/flac", false, ZarrFormat::V3).unwrap(),
        &a,
        &opts,
    )
    .unwrap();
    let root = read_json(&path.join("zarr.json"));
    assert_eq!(root["node_type"], "group");
    assert_eq!(root["zarr_format"], 3);
    let g = read_json(&path.join("flac/zarr.json"));
    assert_eq!(g["node_type"], "group");
    assert_eq!(g["attributes"]["flacarray_format_version"], "1");
    assert_eq!(g["attributes"]["flac_channels"], "1");
    assert!(g["attributes"]["flacarray_software_version"].is_string());
    for (name, dtype, shape) in [
        ("stream_starts", "int64", json!([2, 3])),
        ("stream_bytes", "int64", json!([2, 3])),
        ("stream_offsets", "float32", json!([2, 3])),
        ("stream_gains", "float32", json!([2, 3])),
    ] {
        let m = read_json(&path.join(format!("flac/{name}/zarr.json")));
        assert_eq!(m["data_type"], dtype, "{name}");
        assert_eq!(m["shape"], shape, "{name}");
        assert_eq!(
            m["chunk_grid"]["configuration"]["chunk_shape"], shape,
            "{name}"
        );
        assert_eq!(
            m["codecs"],
            json!([{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "zstd", "configuration": {"level": 0, "checksum": false}}]),
            "{name}"
        );
        assert_eq!(m["chunk_key_encoding"]["configuration"]["separator"], "/");
        assert!(m["attributes"].get("_zarrs").is_none(), "{name}: {m}");
    }
    let s = read_json(&path.join("flac/stream_starts/zarr.json"));
    assert_eq!(s["attributes"], json!({"stream_size": 700}));
    let c = read_json(&path.join("flac/compressed/zarr.json"));
    assert_eq!(c["data_type"], "uint8");
    assert_eq!(c["fill_value"], 0);
    assert_eq!(
        c["codecs"],
        json!([{"name": "bytes"},
               {"name": "zstd", "configuration": {"level": 0, "checksum": false}}])
    );
    assert_eq!(c["shape"].as_array().unwrap().len(), 1);
    assert!(path.join("flac/compressed/c/0").is_file());
    assert!(path.join("flac/stream_starts/c/0/0").is_file());
}

#[test]
fn v2_layout_matches_zarr_python_2_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.zarr");
    // A single int64 stream: stream_starts = [0] equals the fill value, no chunk.
    let a = conformance::synth_array::<i64>(&[900], 4);
    write_array(
        &mut ZarrStore::create(&path, "/", false, ZarrFormat::V2).unwrap(),
        &a,
        &CompressOptions::default(),
    )
    .unwrap();
    assert_eq!(read_json(&path.join(".zgroup")), json!({"zarr_format": 2}));
    let attrs = read_json(&path.join(".zattrs"));
    assert_eq!(attrs["flacarray_format_version"], "1");
    assert_eq!(attrs["flac_channels"], "2");
    let m = read_json(&path.join("stream_bytes/.zarray"));
    assert_eq!(m["dtype"], "<i8");
    assert_eq!(m["shape"], json!([1]));
    assert_eq!(m["order"], "C");
    assert_eq!(m["fill_value"], 0);
    assert_eq!(m["compressor"]["id"], "blosc");
    assert_eq!(m["compressor"]["cname"], "lz4");
    assert_eq!(m["compressor"]["clevel"], 5);
    assert_eq!(m["compressor"]["shuffle"], 1);
    assert_eq!(read_json(&path.join("compressed/.zarray"))["dtype"], "|u1");
    assert_eq!(
        read_json(&path.join("stream_starts/.zattrs")),
        json!({"stream_size": 900})
    );
    let files = files_under(&path);
    assert!(files.contains(&"stream_bytes/0".to_owned()), "{files:?}");
    assert!(!files.contains(&"stream_starts/0".to_owned()), "{files:?}");
    let back = read_array(
        &ZarrStore::open(&path, "/").unwrap(),
        &ReadOptions::default(),
    )
    .unwrap()
    .array
    .into_array::<i64>()
    .unwrap();
    assert_eq!(back.shape(), &[900]);
    assert_eq!(back, a);
}

/// With small `compressed` chunks, a keep-mask read fetches only the chunks holding
/// the kept streams: it still works after every other chunk has been deleted, while
/// a full read then reports the damage, naming the store, group and array.
#[test]
fn keep_reads_fetch_only_the_overlapping_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.zarr");
    let a = conformance::synth_array::<i32>(&[6, 3000], 2);
    let mut w = ZarrStore::create(&path, "/g", false, ZarrFormat::V3)
        .unwrap()
        .with_compressed_chunk(1000);
    write_array(&mut w, &a, &CompressOptions::default()).unwrap();
    let store = ZarrStore::open(&path, "/g").unwrap();
    let meta = store.metadata().unwrap();
    let table = store.read_stream_table(&meta, 0..6).unwrap();
    let chunk_count = meta.total_bytes.div_ceil(1000);
    assert!(chunk_count > 6, "{chunk_count} chunks");
    // Keep streams 1 and 4; delete every chunk that overlaps neither.
    let keep = [false, true, false, false, true, false];
    let needed = |c: u64| {
        let (lo, hi) = (c * 1000, (c + 1) * 1000);
        [1usize, 4]
            .iter()
            .any(|&i| table.starts[i] < hi && table.starts[i] + table.nbytes[i] > lo)
    };
    let mut deleted = 0;
    for c in 0..chunk_count {
        if !needed(c) {
            std::fs::remove_file(path.join(format!("g/compressed/c/{c}"))).unwrap();
            deleted += 1;
        }
    }
    assert!(deleted >= 4, "{deleted}");
    let store = ZarrStore::open(&path, "/g").unwrap();
    let sel = flacarray_testkit::read_kept(&store, &keep);
    let got = sel.array.into_array::<i32>().unwrap();
    assert_eq!(got.shape(), &[2, 3000]);
    assert_eq!(got.index_axis(Axis(0), 0), a.index_axis(Axis(0), 1));
    assert_eq!(got.index_axis(Axis(0), 1), a.index_axis(Axis(0), 4));
    let err = read_array(&store, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("k.zarr") && err.contains("group /g") && err.contains("array compressed"),
        "{err}"
    );
    assert!(err.contains("is missing"), "{err}");
}

#[test]
fn replace_keeps_user_attributes_and_removes_stale_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.zarr");
    let f = conformance::synth_array::<f64>(&[3, 400], 1);
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-6)),
        ..Default::default()
    };
    write_array(
        &mut ZarrStore::create(&path, "/x", false, ZarrFormat::V3).unwrap(),
        &f,
        &opts,
    )
    .unwrap();
    // A user attribute on the group.
    let gpath = path.join("x/zarr.json");
    let mut g = read_json(&gpath);
    g["attributes"]["units"] = json!("K");
    std::fs::write(&gpath, serde_json::to_string(&g).unwrap()).unwrap();

    let i = conformance::synth_array::<i32>(&[2, 300], 1);
    let again = write_array(
        &mut ZarrStore::create(&path, "/x", false, ZarrFormat::V3).unwrap(),
        &i,
        &CompressOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        again.contains("already exists") && again.contains("r.zarr"),
        "{again}"
    );
    // Another Zarr format into the same group is refused.
    let mixed = write_array(
        &mut ZarrStore::create(&path, "/x", true, ZarrFormat::V2).unwrap(),
        &i,
        &CompressOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(mixed.contains("format"), "{mixed}");
    write_array(
        &mut ZarrStore::create(&path, "/x", true, ZarrFormat::V3).unwrap(),
        &i,
        &CompressOptions::default(),
    )
    .unwrap();
    assert!(!path.join("x/stream_offsets").exists());
    assert!(!path.join("x/stream_gains").exists());
    assert_eq!(read_json(&gpath)["attributes"]["units"], "K");
    let back = read_array(
        &ZarrStore::open(&path, "/x").unwrap(),
        &ReadOptions::default(),
    )
    .unwrap()
    .array
    .into_array::<i32>()
    .unwrap();
    assert_eq!(back, i);
}
