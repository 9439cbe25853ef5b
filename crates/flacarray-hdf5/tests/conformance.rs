//! The core's backend conformance suite against HDF5 files, and selective reads.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::cell::Cell;

use flacarray_core::{CompressOptions, ReadOptions, conformance, read_array, write_array};
use flacarray_hdf5::Hdf5Store;
use ndarray::Axis;

#[test]
fn hdf5_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let n = Cell::new(0);
    conformance::run_all(|| {
        n.set(n.get() + 1);
        // A fresh file per case; every other case goes into a nested group.
        let group = if n.get() % 2 == 0 { "/" } else { "/a/b" };
        Hdf5Store::create(&dir.path().join(format!("c{}.h5", n.get())), group, false).unwrap()
    });
    assert!(n.get() > 20, "the suite made only {} stores", n.get());
}

#[test]
fn keep_reads_match_and_errors_name_file_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.h5");
    let a = conformance::synth_array::<i64>(&[2, 3, 4100], 9);
    write_array(
        &mut Hdf5Store::create(&path, "/flac", false).unwrap(),
        &a,
        &CompressOptions::default(),
    )
    .unwrap();
    // Writing again without replace fails; with replace works.
    let again = write_array(
        &mut Hdf5Store::create(&path, "/flac", false).unwrap(),
        &a,
        &CompressOptions::default(),
    );
    assert!(again.unwrap_err().to_string().contains("already exists"));
    write_array(
        &mut Hdf5Store::create(&path, "/flac", true).unwrap(),
        &a,
        &CompressOptions::default(),
    )
    .unwrap();

    let store = Hdf5Store::open(&path, "/flac").unwrap();
    let keep = [true, false, false, false, true, true];
    let sel = read_array(
        &store,
        &ReadOptions {
            keep: Some(&keep),
            keep_indices: true,
            ..Default::default()
        },
    )
    .unwrap();
    let got = sel.array.into_array::<i64>().unwrap();
    assert_eq!(got.shape(), &[3, 4100]);
    for (row, (i, j)) in [(0, 0), (1, 1), (1, 2)].into_iter().enumerate() {
        assert_eq!(
            got.index_axis(Axis(0), row)
                .iter()
                .copied()
                .collect::<Vec<i64>>(),
            a.index_axis(Axis(0), i)
                .index_axis(Axis(0), j)
                .iter()
                .copied()
                .collect::<Vec<i64>>()
        );
    }
    let missing = Hdf5Store::open(&path, "/nope").unwrap_err().to_string();
    assert!(
        missing.contains("k.h5") && missing.contains("/nope"),
        "{missing}"
    );
}
