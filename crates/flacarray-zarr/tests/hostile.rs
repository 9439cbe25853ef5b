//! Damaged and inconsistent stores give errors that name the store, the group and the
//! array or attribute, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{copy_dir, fixtures};
use flacarray_core::{CompressOptions, ReadOptions, conformance, read_array, write_array};
use flacarray_zarr::zarrs::array::Array;
use flacarray_zarr::zarrs::array::ArraySubset;
use flacarray_zarr::zarrs::filesystem::FilesystemStore;
use flacarray_zarr::{Error, ZarrFormat, ZarrStore};
use serde_json::{Value, json};

/// A copy of a fixture store in a temporary directory.
fn fixture_copy(case: &str, sub: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join(format!("{case}.zarr"));
    copy_dir(&fixtures(sub).join(case).join("data.zarr"), &to);
    (dir, to)
}

/// Opens and fully reads `group`; the error message.
fn read_err(path: &Path, group: &str) -> String {
    let r = ZarrStore::open(path, group)
        .and_then(|s| read_array(&s, &ReadOptions::default()).map(|_| ()));
    match r {
        Ok(()) => panic!("{}{group}: read succeeded", path.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_names(err: &str, path: &Path, group: &str, object: &str) {
    eprintln!("{err}");
    let store = path.display().to_string();
    assert!(err.contains(&store), "store {store} not in: {err}");
    assert!(
        err.contains(&format!("group {group}")),
        "group {group} not in: {err}"
    );
    assert!(err.contains(object), "{object} not in: {err}");
}

fn edit_json(p: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

const V3: &str = "i32_2d_l8_zarr3"; // 5 streams at the root
const V2: &str = "i32_3d_l5_zarr2_group"; // 6 streams in /flac
const REF: &str = "python-reference";

#[test]
fn missing_arrays() {
    for name in ["stream_starts", "stream_bytes", "compressed"] {
        let (_d, p) = fixture_copy(V3, REF);
        std::fs::remove_dir_all(p.join(name)).unwrap();
        let err = read_err(&p, "/");
        assert_names(&err, &p, "/", &format!("array {name}: missing"));
    }
    let (_d, p) = fixture_copy(V2, REF);
    std::fs::remove_dir_all(p.join("flac/stream_bytes")).unwrap();
    let err = read_err(&p, "flac");
    assert_names(&err, &p, "/flac", "array stream_bytes: missing");
    // Gains without offsets.
    let (_d, p) = fixture_copy("f32_3d_keep_slice_zarr3", REF);
    std::fs::remove_dir_all(p.join("stream_offsets")).unwrap();
    let err = read_err(&p, "/");
    assert_names(&err, &p, "/", "stream_offsets/stream_gains");
}

#[test]
fn missing_chunks_holding_data() {
    // compressed: its bytes read as zeros, so no stream begins with fLaC.
    let (_d, p) = fixture_copy(V3, REF);
    std::fs::remove_file(p.join("compressed/c/0")).unwrap();
    let err = read_err(&p, "/");
    assert_names(&err, &p, "/", "array compressed");
    assert!(err.contains("fLaC") && err.contains("missing"), "{err}");
    // stream_starts: all starts read as 0, so the streams overlap.
    let (_d, p) = fixture_copy(V3, REF);
    std::fs::remove_file(p.join("stream_starts/c/0")).unwrap();
    let err = read_err(&p, "/");
    assert_names(&err, &p, "/", "array stream_starts");
    assert!(err.contains("overlaps"), "{err}");
    // stream_bytes (v2): zero-length streams.
    let (_d, p) = fixture_copy(V2, REF);
    std::fs::remove_file(p.join("flac/stream_bytes/0.0")).unwrap();
    let err = read_err(&p, "/flac");
    assert_names(&err, &p, "/flac", "array stream_bytes");
    // compressed (v2).
    let (_d, p) = fixture_copy(V2, REF);
    std::fs::remove_file(p.join("flac/compressed/0")).unwrap();
    let err = read_err(&p, "/flac");
    assert_names(&err, &p, "/flac", "array compressed");
    // gains of a float group: zero gains.
    let (_d, p) = fixture_copy("f32_3d_keep_slice_zarr3", REF);
    std::fs::remove_file(p.join("stream_gains/c/0/0")).unwrap();
    let err = read_err(&p, "/");
    assert_names(&err, &p, "/", "array stream_gains");
}

#[test]
fn corrupt_metadata_documents() {
    for (doc, object) in [
        ("stream_starts/zarr.json", "array stream_starts"),
        ("compressed/zarr.json", "array compressed"),
        ("zarr.json", "group metadata"),
    ] {
        let (_d, p) = fixture_copy(V3, REF);
        std::fs::write(p.join(doc), b"{\"zarr_format\": 3, \"node_type\": ").unwrap();
        let err = read_err(&p, "/");
        assert_names(&err, &p, "/", object);
    }
    // A damaged chunk (not zstd data).
    let (_d, p) = fixture_copy(V3, REF);
    std::fs::write(p.join("stream_bytes/c/0"), b"garbage").unwrap();
    let err = read_err(&p, "/");
    assert_names(&err, &p, "/", "array stream_bytes");
    // v2: damaged .zarray and Blosc chunk.
    let (_d, p) = fixture_copy(V2, REF);
    std::fs::write(p.join("flac/stream_starts/.zarray"), b"[1, 2]").unwrap();
    let err = read_err(&p, "/flac");
    assert_names(&err, &p, "/flac", "array stream_starts");
    let (_d, p) = fixture_copy(V2, REF);
    std::fs::write(p.join("flac/compressed/0"), vec![7u8; 100]).unwrap();
    let err = read_err(&p, "/flac");
    assert_names(&err, &p, "/flac", "array compressed");
}

#[test]
fn bad_attributes() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "stream_starts/zarr.json",
            Box::new(|v| v["attributes"]["stream_size"] = json!(0)),
            "attribute stream_size",
            "must be positive",
        ),
        (
            "stream_starts/zarr.json",
            Box::new(|v| v["attributes"]["stream_size"] = json!(-5)),
            "attribute stream_size",
            "must be positive",
        ),
        (
            "stream_starts/zarr.json",
            Box::new(|v| v["attributes"]["stream_size"] = json!("4000")),
            "attribute stream_size",
            "must be an integer",
        ),
        (
            "stream_starts/zarr.json",
            Box::new(|v| {
                v["attributes"]
                    .as_object_mut()
                    .unwrap()
                    .remove("stream_size");
            }),
            "attribute stream_size",
            "missing",
        ),
        (
            "zarr.json",
            Box::new(|v| v["attributes"]["flacarray_format_version"] = json!("7")),
            "attribute flacarray_format_version",
            "unsupported",
        ),
        (
            "zarr.json",
            Box::new(|v| v["attributes"]["flac_channels"] = json!("3")),
            "attribute flac_channels",
            "value",
        ),
        (
            "zarr.json",
            Box::new(|v| {
                v["attributes"]
                    .as_object_mut()
                    .unwrap()
                    .remove("flac_channels");
            }),
            "attribute flac_channels",
            "missing",
        ),
        (
            "compressed/zarr.json",
            Box::new(|v| v["data_type"] = json!("int16")),
            "array compressed",
            "uint8",
        ),
        (
            "stream_bytes/zarr.json",
            Box::new(|v| v["data_type"] = json!("float64")),
            "array stream_bytes",
            "integers",
        ),
        (
            "stream_bytes/zarr.json",
            Box::new(|v| {
                v["shape"] = json!([4]);
                v["chunk_grid"]["configuration"]["chunk_shape"] = json!([4]);
            }),
            "array stream_bytes",
            "shape",
        ),
        (
            "compressed/zarr.json",
            Box::new(|v| v["shape"] = json!([1_u64 << 50])),
            "array compressed",
            "implausible",
        ),
        (
            "compressed/zarr.json",
            Box::new(|v| v["chunk_grid"]["configuration"]["chunk_shape"] = json!([1_u64 << 40])),
            "array compressed",
            "chunks of",
        ),
        (
            "compressed/zarr.json",
            Box::new(|v| v["shape"] = json!([100])),
            "array stream_starts",
            "cannot fit",
        ),
    ];
    for (doc, edit, object, reason) in cases {
        let (_d, p) = fixture_copy(V3, REF);
        edit_json(&p.join(doc), edit);
        let err = read_err(&p, "/");
        assert_names(&err, &p, "/", object);
        assert!(err.contains(reason), "{reason} not in: {err}");
    }
    // The group holds no FlacArray.
    let (_d, p) = fixture_copy(V3, REF);
    edit_json(&p.join("zarr.json"), |v| {
        v["attributes"]
            .as_object_mut()
            .unwrap()
            .remove("flacarray_format_version");
    });
    let err = ZarrStore::open(&p, "/").unwrap_err();
    assert!(
        matches!(err, Error::Core(flacarray_core::Error::NotFlacArray { .. })),
        "{err}"
    );
    assert_names(&err.to_string(), &p, "/", "does not contain a FlacArray");
    // v2: the version in .zattrs.
    let (_d, p) = fixture_copy(V2, REF);
    edit_json(&p.join("flac/.zattrs"), |v| {
        v["flacarray_format_version"] = json!(7);
    });
    let err = read_err(&p, "flac");
    assert_names(&err, &p, "/flac", "attribute flacarray_format_version");
}

/// Rewrites `stream_starts` / `stream_bytes` of a store written by this crate.
fn store_with_table(
    edit: impl FnOnce(&mut Vec<i64>, &mut Vec<i64>),
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.zarr");
    let a = conformance::synth_array::<i32>(&[4, 2000], 3);
    write_array(
        &mut ZarrStore::create(&p, "/d", false, ZarrFormat::V3).unwrap(),
        &a,
        &CompressOptions::default(),
    )
    .unwrap();
    let fs = Arc::new(FilesystemStore::new(&p).unwrap());
    let starts_arr = Array::open(fs.clone(), "/d/stream_starts").unwrap();
    let bytes_arr = Array::open(fs, "/d/stream_bytes").unwrap();
    let all = ArraySubset::new_with_shape(vec![4]);
    let mut s: Vec<i64> = starts_arr.retrieve_array_subset(&all).unwrap();
    let mut b: Vec<i64> = bytes_arr.retrieve_array_subset(&all).unwrap();
    edit(&mut s, &mut b);
    starts_arr.store_chunk(&[0], s).unwrap();
    bytes_arr.store_chunk(&[0], b).unwrap();
    (dir, p)
}

#[test]
fn table_entries_outside_compressed() {
    let total = |s: &[i64], b: &[i64]| s[3] + b[3];
    // A start beyond the end of compressed.
    let (_d, p) = store_with_table(|s, b| s[2] = total(s, b) + 10);
    let err = read_err(&p, "/d");
    assert_names(&err, &p, "/d", "array stream_starts");
    assert!(err.contains("stream (2,)"), "{err}");
    // A negative start.
    let (_d, p) = store_with_table(|s, _| s[1] = -3);
    let err = read_err(&p, "/d");
    assert_names(&err, &p, "/d", "array stream_starts");
    // A length running past the end.
    let (_d, p) = store_with_table(|s, b| b[3] = total(s, b));
    let err = read_err(&p, "/d");
    assert_names(&err, &p, "/d", "array stream_bytes");
    assert!(err.contains("stream (3,)"), "{err}");
    // Overlapping streams.
    let (_d, p) = store_with_table(|s, _| s[2] = s[1] + 10);
    let err = read_err(&p, "/d");
    assert_names(&err, &p, "/d", "overlaps");
    // A start moved inside its own stream's neighbour: no FLAC marker there.
    let (_d, p) = store_with_table(|s, b| {
        s[3] += 1;
        b[3] -= 1;
    });
    let err = read_err(&p, "/d");
    // The store carries our checksums, which catch this before the marker check.
    assert!(
        err.contains("attribute flacarray_rs_checksums: the stream table"),
        "{err}"
    );
}

#[test]
fn missing_store_or_group() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.zarr");
    let err = ZarrStore::open(&p, "/a").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Core(flacarray_core::Error::GroupNotFound { .. })
        ),
        "{err}"
    );
    assert_names(&err.to_string(), &p, "/a", "does not exist");
    let (_d, p) = fixture_copy(V2, REF);
    let err = ZarrStore::open(&p, "/other").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Core(flacarray_core::Error::GroupNotFound { .. })
        ),
        "{err}"
    );
    assert_names(&err.to_string(), &p, "/other", "no Zarr group");
    // An array where the group should be.
    let err = ZarrStore::open(&p, "/flac/compressed").unwrap_err();
    assert_names(&err.to_string(), &p, "/flac/compressed", "no Zarr group");
}

/// A float64 array of 4 streams written by this crate in `format`, group `/d`.
fn our_float_store(format: ZarrFormat) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.zarr");
    let a = conformance::synth_array::<f64>(&[4, 500], 5);
    write_array(
        &mut ZarrStore::create(&p, "/d", false, format).unwrap(),
        &a,
        &CompressOptions {
            quanta: Some(flacarray_core::QuantaOption::Scalar(1e-3)),
            ..CompressOptions::default()
        },
    )
    .unwrap();
    (dir, p)
}

fn rewrite_f64(p: &Path, name: &str, f: impl FnOnce(&mut Vec<f64>)) {
    let fs = Arc::new(FilesystemStore::new(p).unwrap());
    let arr = Array::open(fs, &format!("/d/{name}")).unwrap();
    let all = ArraySubset::new_with_shape(vec![4]);
    let mut v: Vec<f64> = arr.retrieve_array_subset(&all).unwrap();
    f(&mut v);
    arr.store_chunk(&[0], v).unwrap();
}

/// Issue 11 item 6: unusable gains and offsets are refused, naming the stream.
#[test]
fn unusable_gains_and_offsets() {
    for (g, shown) in [
        (0.0, "gain 0 "),
        (f64::NAN, "gain NaN"),
        (f64::INFINITY, "gain inf"),
        (-1000.0, "gain -1000"),
        (1e-310, "gain 1e-310"),
    ] {
        let (_d, p) = our_float_store(ZarrFormat::V3);
        rewrite_f64(&p, "stream_gains", |v| v[2] = g);
        let err = read_err(&p, "/d");
        assert_names(&err, &p, "/d", "array stream_gains: stream (2,): ");
        assert!(err.contains(shown), "{err}");
    }
    for (o, shown) in [(f64::NAN, "offset NaN"), (f64::INFINITY, "offset inf")] {
        let (_d, p) = our_float_store(ZarrFormat::V2);
        rewrite_f64(&p, "stream_offsets", |v| v[3] = o);
        let err = read_err(&p, "/d");
        assert_names(&err, &p, "/d", "array stream_offsets: stream (3,): ");
        assert!(err.contains(shown), "{err}");
    }
}

/// Issue 11 item 8: in a store this crate wrote, a missing chunk of offsets or gains
/// reads as the fill value NaN and is refused; in a 0.4.1 store (fill value 0) a
/// missing offsets chunk still means zeros.
#[test]
fn missing_scaling_chunks() {
    for (format, chunk) in [(ZarrFormat::V3, "c/0"), (ZarrFormat::V2, "0")] {
        for name in ["stream_offsets", "stream_gains"] {
            let (_d, p) = our_float_store(format);
            std::fs::remove_file(p.join("d").join(name).join(chunk)).unwrap();
            let err = read_err(&p, "/d");
            assert_names(&err, &p, "/d", &format!("array {name}: stream (0,): "));
            assert!(err.contains("NaN"), "{err}");
        }
    }
    let (_d, p) = fixture_copy("f32_3d_keep_slice_zarr3", REF);
    std::fs::remove_file(p.join("stream_offsets/c/0/0")).unwrap();
    let s = ZarrStore::open(&p, "/").unwrap();
    read_array(&s, &ReadOptions::default()).unwrap();
}

/// Issue 11 item 7: streams sharing bytes, and many streams pointing at one.
#[test]
fn overlapping_and_shared_streams() {
    let (_d, p) = store_with_table(|s, _| s.iter_mut().for_each(|x| *x = 0));
    let err = read_err(&p, "/d");
    assert_names(&err, &p, "/d", "array stream_starts: stream (0,)");
    assert!(err.contains("overlaps stream (1,)"), "{err}");

    // 200,000 streams, all starting at 0 with the first stream's length: refused
    // from the metadata, before the tables are read.
    let (_d, p) = store_with_table(|_, _| {});
    let first_len = {
        let fs = Arc::new(FilesystemStore::new(&p).unwrap());
        let b = Array::open(fs, "/d/stream_bytes").unwrap();
        let v: Vec<i64> = b
            .retrieve_array_subset(&ArraySubset::new_with_shape(vec![4]))
            .unwrap();
        v[0]
    };
    for (name, fill) in [("stream_starts", 0), ("stream_bytes", first_len)] {
        edit_json(&p.join("d").join(name).join("zarr.json"), |v| {
            v["shape"] = json!([200_000]);
            v["chunk_grid"]["configuration"]["chunk_shape"] = json!([200_000]);
            v["fill_value"] = json!(fill);
        });
        std::fs::remove_file(p.join("d").join(name).join("c/0")).unwrap();
    }
    let err = read_err(&p, "/d");
    assert_names(
        &err,
        &p,
        "/d",
        "array stream_starts: 200000 streams cannot fit",
    );
}

/// Issue 11 items 10 and 11: a huge `stream_size` is an error, never a panic or an
/// abort.
#[test]
fn huge_stream_size() {
    for size in [1_i64 << 40, 1 << 62, i64::MAX] {
        let (_d, p) = store_with_table(|_, _| {});
        edit_json(&p.join("d/stream_starts/zarr.json"), |v| {
            v["attributes"]["stream_size"] = json!(size);
        });
        let err = read_err(&p, "/d");
        assert_names(
            &err,
            &p,
            "/d",
            &format!("array stream_starts: attribute stream_size: {size} samples per stream"),
        );
    }
}

/// Issue 11 item 12: a chunk (or metadata document) that is a FIFO is an error, not
/// a hang.
#[test]
fn fifo_chunk_is_refused() {
    for rel in [
        "d/compressed/c/0",
        "d/stream_starts/c/0",
        "d/stream_gains/zarr.json",
    ] {
        let (dir, p) = our_float_store(ZarrFormat::V3);
        let target = p.join(rel);
        std::fs::remove_file(&target).unwrap();
        let st = std::process::Command::new("mkfifo")
            .arg(&target)
            .status()
            .unwrap();
        assert!(st.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        std::thread::spawn(move || tx.send(read_err(&p2, "/d")).unwrap());
        let err = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("reading a store with a FIFO chunk hung");
        assert_names(&err, &p, "/d", "is not a regular file");
        assert!(err.contains(rel), "{err}");
        drop(dir);
    }
}

/// Issue 11 item 9: the checksum attribute of stores this crate writes catches what the
/// validator cannot see (v3 and v2).
#[test]
fn checksums_catch_table_damage() {
    let table_msg = "attribute flacarray_rs_checksums: the stream table";
    for format in [ZarrFormat::V3, ZarrFormat::V2] {
        let (_d, p) = our_float_store(format);
        let s = ZarrStore::open(&p, "/d").unwrap();
        read_array(&s, &ReadOptions::default()).unwrap();

        let (_d, p) = our_float_store(format);
        rewrite_f64(&p, "stream_gains", |v| v[1] *= 2.0);
        let err = read_err(&p, "/d");
        assert!(err.contains(table_msg), "{err}");

        let (_d, p) = our_float_store(format);
        rewrite_f64(&p, "stream_offsets", |v| v[0] += 1.0);
        let err = read_err(&p, "/d");
        assert!(err.contains(table_msg), "{err}");

        let (_d, p) = our_float_store(format);
        std::fs::remove_dir_all(p.join("d/stream_offsets")).unwrap();
        std::fs::remove_dir_all(p.join("d/stream_gains")).unwrap();
        let err = read_err(&p, "/d");
        assert!(
            err.contains("written as float64 but its tables now make it int64"),
            "{err}"
        );
    }
    // Rows 2 and 3 of the table swapped (starts and byte counts): every stream is
    // still a valid FLAC stream at a valid place, only in the wrong row.
    let (_d, p) = store_with_table(|s, b| {
        s.swap(2, 3);
        b.swap(2, 3);
    });
    let err = read_err(&p, "/d");
    assert!(err.contains(table_msg), "{err}");
}
