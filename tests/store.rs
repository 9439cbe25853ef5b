//! `flacarray::store`: backend chosen from the path, group names, info without
//! decoding, writing, replacing and reading selected streams.
#![cfg(all(feature = "hdf5", feature = "zarr"))]
#![allow(clippy::unwrap_used)]

use flacarray::store::Store;
use flacarray::{CompressOptions, FlacArray, QuantaOption};
use std::path::Path;

#[test]
fn path_selects_backend() {
    assert!(matches!(
        Store::for_path(Path::new("x.zarr"), "/"),
        Store::Zarr { .. }
    ));
    let dir = tempfile::tempdir().expect("dir");
    assert!(matches!(
        Store::for_path(dir.path(), "/"),
        Store::Zarr { .. }
    ));
    assert_eq!(
        Store::for_path(Path::new("x.h5"), "a/b/"),
        Store::Hdf5 {
            path: "x.h5".into(),
            group: "/a/b".into()
        }
    );
    assert_eq!(Store::for_path(Path::new("x.h5"), "").group(), "/");
    let e = Store::for_path(Path::new("missing.zarr"), "/")
        .read(None, false)
        .expect_err("no such store");
    assert!(format!("{e:#}").contains("missing.zarr"), "{e:#}");
}

#[test]
fn info_reads_table_and_first_stream() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("i.h5");
    let a =
        ndarray::Array3::from_shape_fn((2, 3, 100), |(i, j, k)| (i * 1000 + j * 100 + k) as i64);
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).expect("compress");
    let store = Store::for_path(&path, "x");
    store.write(&fa, false).expect("write");
    let info = store.read_info().expect("info");
    assert_eq!(info.meta.leading_shape, vec![2, 3]);
    assert_eq!(info.meta.stream_size, 100);
    assert_eq!(info.table.nbytes, fa.stream_nbytes());
    let n0 = usize::try_from(fa.stream_nbytes()[0]).expect("small");
    assert_eq!(info.first_stream, fa.compressed()[..n0].to_vec());
    assert_eq!(&info.first_stream[..4], b"fLaC");
    assert!(info.software_version.is_some());
    assert_eq!(store.meta().expect("meta").0, vec![2, 3]);
}

#[test]
fn hdf5_round_trip_with_keep() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("a.h5");
    let a = ndarray::Array2::from_shape_fn((3, 500), |(i, j)| (i as f32) + (j as f32 * 0.01).sin());
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        ..Default::default()
    };
    let fa = FlacArray::from_array(&a, &opts).expect("compress");
    let store = Store::for_path(&path, "/g");
    store.write(&fa, false).expect("write");
    assert_eq!(store.read(None, false).expect("read"), fa);
    let e = store.write(&fa, false).expect_err("exists");
    assert!(format!("{e:#}").contains("already exists"), "{e:#}");
    store.write(&fa, true).expect("force");
    let one = store
        .read(Some(&[false, true, false]), false)
        .expect("keep");
    assert_eq!(one.shape(), vec![500]);
    let back = one.to_array_typed::<f32>().expect("decode");
    for (x, y) in back.iter().zip(a.row(1)) {
        assert!((x - y).abs() <= 0.5e-4 + 1e-6);
    }
}

#[test]
fn errors_name_the_file_and_group() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing.h5");
    let e = Store::for_path(&missing, "/").meta().expect_err("missing");
    assert_eq!(
        e.to_string(),
        format!("{}: no such file or directory", missing.display())
    );
    let text = dir.path().join("text.h5");
    std::fs::write(&text, b"not hdf5 at all").expect("write");
    let e = Store::for_path(&text, "/")
        .read(None, false)
        .expect_err("text");
    assert_eq!(
        e.to_string(),
        format!("{}: not an HDF5 file", text.display())
    );
    let a = ndarray::Array2::from_shape_fn((2, 64), |(i, j)| (i * 64 + j) as i32);
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).expect("compress");
    let store = Store::for_path(&dir.path().join("a.zarr"), "g");
    store.write(&fa, false).expect("write");
    let e = store.write(&fa, false).expect_err("exists");
    assert!(e.is_existing_flacarray(), "{e}");
    assert_eq!(
        e.to_string(),
        format!("{}: a FlacArray already exists there", store.describe())
    );
}

#[test]
fn ranged_selection_equals_full_decode_and_summary_counts() {
    use flacarray::{ReadOptions, SampleSlice};
    let dir = tempfile::tempdir().expect("dir");
    let a = ndarray::Array3::from_shape_fn((2, 3, 20_000), |(i, j, k)| {
        ((i * 7 + j) as f64 * 100.0 + (k as f64 * 0.01).sin() * 1000.0) as i64
    });
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).expect("compress");
    for name in ["r.h5", "r.zarr"] {
        let store = Store::for_path(&dir.path().join(name), "/");
        store.write(&fa, false).expect("write");
        let keep = [true, false, true, true, false, false];
        for slice in [
            SampleSlice::new(Some(5000), Some(5100)),
            SampleSlice::new(Some(-3), None),
            SampleSlice::FULL,
        ] {
            for k in [None, Some(&keep[..])] {
                let opts = ReadOptions {
                    keep: k,
                    stream_slice: slice,
                    ..ReadOptions::default()
                };
                let got = store.read_selection(&opts).expect("ranged");
                let whole = store.read(k, false).expect("read");
                let sub = ReadOptions {
                    stream_slice: slice,
                    ..ReadOptions::default()
                };
                assert_eq!(got, whole.decompress(&sub).expect("decode").array, "{name}");
            }
        }
        let info = store.read_info().expect("info");
        let s = info.summary().expect("summary");
        assert_eq!(s.shape, vec![2, 3, 20_000]);
        assert_eq!(s.n_streams, 6);
        assert_eq!(s.input_bytes, 6 * 20_000 * 8);
        let sizes = fa.stream_nbytes();
        assert_eq!(s.min_stream_bytes, *sizes.iter().min().expect("six"));
        assert_eq!(s.max_stream_bytes, *sizes.iter().max().expect("six"));
        assert_eq!(
            s.ratio,
            (6 * 20_000 * 8) as f64 / sizes.iter().sum::<u64>() as f64
        );
        let si = s.stream_info.expect("a stream");
        assert_eq!(si.channels, 2);
        assert_eq!(
            flacarray::store::levels_for_block_size(si.max_block_size),
            "3-8"
        );
    }
}

/// Replacing the array of an HDF5 file that holds nothing else writes a new file (the
/// size stays that of one array); a file with anything else keeps it all.
#[test]
fn replacing_the_only_array_of_an_hdf5_file_does_not_grow_it() {
    use flacarray::hdf5::{hdf5 as h5, holds_only_flacarray};
    let dir = tempfile::tempdir().unwrap();
    let a = ndarray::Array2::from_shape_fn((8, 20_000), |(i, j)| ((j * 7919 + i) % 1013) as i32);
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    for group in ["/", "/obs/7"] {
        let path = dir.path().join("only.h5");
        let _ = std::fs::remove_file(&path);
        let store = Store::for_path(&path, group);
        store.write(&fa, false).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(holds_only_flacarray(&path, group).unwrap());
        for _ in 0..3 {
            store.write(&fa, true).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len(), size, "{group}");
            assert_eq!(store.read(None, false).unwrap(), fa);
        }
        // Without force the array is still refused.
        assert!(store.write(&fa, false).unwrap_err().is_existing_flacarray());
        // Something else in the file: replaced in place, the rest kept.
        {
            let f = h5::File::append(&path).unwrap();
            f.create_group("notes").unwrap();
            let g = if group == "/" {
                f.as_group().unwrap()
            } else {
                f.group(group).unwrap()
            };
            g.new_attr::<i32>()
                .create("user_attr")
                .unwrap()
                .write_scalar(&42)
                .unwrap();
        }
        assert!(!holds_only_flacarray(&path, group).unwrap());
        store.write(&fa, true).unwrap();
        assert_eq!(store.read(None, false).unwrap(), fa);
        let f = h5::File::open(&path).unwrap();
        assert!(f.link_exists("notes"), "{group}");
        let g = if group == "/" {
            f.as_group().unwrap()
        } else {
            f.group(group).unwrap()
        };
        assert_eq!(
            g.attr("user_attr").unwrap().read_scalar::<i32>().unwrap(),
            42
        );
    }
    // A file whose group is a sibling of another array: not "only".
    let path = dir.path().join("two.h5");
    Store::for_path(&path, "/a").write(&fa, false).unwrap();
    Store::for_path(&path, "/b").write(&fa, false).unwrap();
    assert!(!holds_only_flacarray(&path, "/a").unwrap());
    let size = std::fs::metadata(&path).unwrap().len();
    Store::for_path(&path, "/a").write(&fa, true).unwrap();
    assert!(
        std::fs::metadata(&path).unwrap().len() > size,
        "replaced inside the file"
    );
    assert_eq!(Store::for_path(&path, "/b").read(None, false).unwrap(), fa);
}
