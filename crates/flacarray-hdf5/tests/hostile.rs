//! Damaged and foreign files: every problem is an error that names the file, the
//! group and the dataset or attribute, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};

use common::hdf5_cases;
use flacarray_hdf5::hdf5::types::{FixedAscii, VarLenUnicode};
use flacarray_hdf5::{Error, hdf5, read_file, read_file_meta};

/// Copies a fixture file into `dir` under a distinctive name.
fn copy_fixture(dir: &Path, case: &str, new_name: &str) -> PathBuf {
    let src = hdf5_cases("python-reference")
        .into_iter()
        .find(|c| c.name() == case)
        .unwrap()
        .h5();
    let dst = dir.join(new_name);
    std::fs::copy(src, &dst).unwrap();
    dst
}

/// Applies `damage` to group `group` of a copy of `case`, then checks that both
/// `read_file_meta` (when `meta_fails`) and `read_file` fail with a message holding
/// the file name, the group and every string of `needles`.
fn expect_error(
    case: &str,
    group: &str,
    damage: impl FnOnce(&hdf5::Group),
    meta_fails: bool,
    needles: &[&str],
) -> Error {
    let dir = tempfile::tempdir().unwrap();
    let tag: String = needles[0]
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let file_name = format!("hostile_{tag}.h5");
    let path = copy_fixture(dir.path(), case, &file_name);
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        damage(&f.group(group).unwrap());
    }
    if meta_fails {
        let err = read_file_meta(&path, group).unwrap_err();
        check_message(&err, &file_name, group, needles);
    } else {
        read_file_meta(&path, group).unwrap();
    }
    let err = read_file(&path, group, None).unwrap_err();
    check_message(&err, &file_name, group, needles);
    err
}

fn check_message(err: &Error, file_name: &str, group: &str, needles: &[&str]) {
    let msg = err.to_string();
    assert!(msg.contains(file_name), "{msg:?} lacks the file name");
    assert!(
        msg.contains(&format!("group {group}")),
        "{msg:?} lacks the group"
    );
    for n in needles {
        assert!(msg.contains(n), "{msg:?} lacks {n:?}");
    }
}

fn set_str_attr(loc: &hdf5::Location, name: &str, value: &str) {
    if loc.attr_names().unwrap().iter().any(|n| n == name) {
        loc.delete_attr(name).unwrap();
    }
    loc.new_attr::<VarLenUnicode>()
        .create(name)
        .unwrap()
        .write_scalar(&value.parse::<VarLenUnicode>().unwrap())
        .unwrap();
}

fn rewrite_i64(g: &hdf5::Group, name: &str, f: impl FnOnce(&mut Vec<i64>)) {
    let ds = g.dataset(name).unwrap();
    let mut v: Vec<i64> = ds.read_raw().unwrap();
    f(&mut v);
    ds.write_raw(&v).unwrap();
}

#[test]
fn deleted_datasets() {
    for name in ["stream_starts", "stream_bytes", "compressed"] {
        let err = expect_error(
            "i32_2d_l0_h5group",
            "/flac",
            |g| g.unlink(name).unwrap(),
            true,
            &[name, "missing"],
        );
        assert!(matches!(
            err,
            Error::Core(flacarray_core::Error::CorruptGroup { .. })
        ));
    }
    // Float data without its gains (or offsets) is no known dtype.
    for name in ["stream_gains", "stream_offsets"] {
        expect_error(
            "f32_2d_q1e-4_l5_h5",
            "/",
            |g| g.unlink(name).unwrap(),
            true,
            &["stream_offsets/stream_gains", "absent"],
        );
    }
}

#[test]
fn starts_and_lengths_out_of_range() {
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| rewrite_i64(g, "stream_starts", |v| v[2] = 1_000_000_000),
        false,
        &["dataset stream_starts", "stream (2,)", "outside compressed"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| rewrite_i64(g, "stream_starts", |v| v[1] = -5),
        false,
        &["dataset stream_starts", "negative start -5"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| rewrite_i64(g, "stream_bytes", |v| v[3] += 1),
        false,
        &["dataset stream_bytes", "stream (3,)", "outside compressed"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| rewrite_i64(g, "stream_bytes", |v| v[0] = -1),
        false,
        &["dataset stream_bytes", "negative byte count -1"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| rewrite_i64(g, "stream_starts", |v| v[3] = i64::MAX),
        false,
        &["dataset stream_starts", "outside compressed"],
    );
}

#[test]
fn bad_stream_size() {
    for (value, shown) in [(0_i64, "found 0"), (-3, "found -3")] {
        expect_error(
            "i32_2d_l0_h5group",
            "/flac",
            |g| {
                let ds = g.dataset("stream_starts").unwrap();
                ds.attr("stream_size")
                    .unwrap()
                    .write_scalar(&value)
                    .unwrap();
            },
            true,
            &["stream_starts", "stream_size", "must be positive", shown],
        );
    }
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            g.dataset("stream_starts")
                .unwrap()
                .delete_attr("stream_size")
                .unwrap();
        },
        true,
        &["stream_starts", "stream_size", "missing"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| set_str_attr(&g.dataset("stream_starts").unwrap(), "stream_size", "4097"),
        true,
        &["stream_starts", "stream_size", "must be an integer"],
    );
}

#[test]
fn bad_format_version() {
    let err = expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| set_str_attr(g, "flacarray_format_version", "7"),
        true,
        &["flacarray_format_version", "format version \"7\""],
    );
    assert!(
        matches!(
            err,
            Error::Core(flacarray_core::Error::UnsupportedGroup { .. })
        ),
        "{err}"
    );
    let err = expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| g.delete_attr("flacarray_format_version").unwrap(),
        true,
        &["flacarray_format_version", "does not contain a FlacArray"],
    );
    assert!(
        matches!(err, Error::Core(flacarray_core::Error::NotFlacArray { .. })),
        "{err}"
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            g.delete_attr("flacarray_format_version").unwrap();
            g.new_attr::<f64>()
                .create("flacarray_format_version")
                .unwrap()
                .write_scalar(&1.0)
                .unwrap();
        },
        true,
        &["flacarray_format_version", "must be an integer or a string"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            g.delete_attr("flacarray_format_version").unwrap();
            g.new_attr::<VarLenUnicode>()
                .shape([2])
                .create("flacarray_format_version")
                .unwrap();
        },
        true,
        &["flacarray_format_version", "must be a scalar"],
    );
}

#[test]
fn bad_channels() {
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| set_str_attr(g, "flac_channels", "3"),
        true,
        &["flac_channels", "value \"3\""],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| g.delete_attr("flac_channels").unwrap(),
        true,
        &["flac_channels", "missing"],
    );
    // 2 channels with float32 offsets and gains matches no dtype.
    expect_error(
        "f32_2d_q1e-4_l5_h5",
        "/",
        |g| set_str_attr(g, "flac_channels", "2"),
        true,
        &["stream_offsets/stream_gains", "2 FLAC channel(s)"],
    );
}

#[test]
fn wrong_dataset_types_and_shapes() {
    let err = expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            let bytes: Vec<u8> = g.dataset("compressed").unwrap().read_raw().unwrap();
            g.unlink("compressed").unwrap();
            let as_i32: Vec<i32> = bytes.iter().map(|&b| i32::from(b)).collect();
            g.new_dataset::<i32>()
                .shape([as_i32.len()])
                .create("compressed")
                .unwrap()
                .write_raw(&as_i32)
                .unwrap();
        },
        true,
        &["dataset compressed", "must hold uint8 bytes"],
    );
    assert!(matches!(
        err,
        Error::Core(flacarray_core::Error::CorruptGroup { .. })
    ));
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            let bytes: Vec<u8> = g.dataset("compressed").unwrap().read_raw().unwrap();
            g.unlink("compressed").unwrap();
            g.new_dataset::<u8>()
                .shape([bytes.len() / 2 - 1, 2])
                .create("compressed")
                .unwrap();
        },
        true,
        &["dataset compressed", "must be 1-d"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            g.unlink("stream_bytes").unwrap();
            g.new_dataset::<f64>()
                .shape([4])
                .create("stream_bytes")
                .unwrap();
        },
        true,
        &["dataset stream_bytes", "must hold integers"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            g.unlink("stream_bytes").unwrap();
            g.new_dataset::<i64>()
                .shape([5])
                .create("stream_bytes")
                .unwrap();
        },
        true,
        &["dataset stream_bytes", "has shape [5]"],
    );
    expect_error(
        "f32_2d_q1e-4_l5_h5",
        "/",
        |g| {
            g.unlink("stream_gains").unwrap();
            g.new_dataset::<i16>()
                .shape([4])
                .create("stream_gains")
                .unwrap();
        },
        true,
        &["dataset stream_gains", "found HDF5 type"],
    );
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| {
            g.unlink("stream_bytes").unwrap();
            g.create_group("stream_bytes").unwrap();
        },
        true,
        &["dataset stream_bytes", "not a dataset"],
    );
}

#[test]
fn tolerated_attribute_variants() {
    // Integer format version 1 (0.4.1 accepts it through int()), fixed-length ASCII
    // strings (what h5py writes for np.bytes_), and an int32 stream_size.
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), "i32_2d_l0_h5group", "variants.h5");
    let reference = read_file(&path, "/flac", None).unwrap();
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        let g = f.group("flac").unwrap();
        g.delete_attr("flacarray_format_version").unwrap();
        g.new_attr::<i64>()
            .create("flacarray_format_version")
            .unwrap()
            .write_scalar(&1)
            .unwrap();
        g.delete_attr("flac_channels").unwrap();
        g.new_attr::<FixedAscii<1>>()
            .create("flac_channels")
            .unwrap()
            .write_scalar(&FixedAscii::<1>::from_ascii("1").unwrap())
            .unwrap();
        g.delete_attr("flacarray_software_version").unwrap();
        g.new_attr::<FixedAscii<5>>()
            .create("flacarray_software_version")
            .unwrap()
            .write_scalar(&FixedAscii::<5>::from_ascii("0.4.1").unwrap())
            .unwrap();
        let starts = g.dataset("stream_starts").unwrap();
        starts.delete_attr("stream_size").unwrap();
        starts
            .new_attr::<i32>()
            .create("stream_size")
            .unwrap()
            .write_scalar(&4097)
            .unwrap();
    }
    assert_eq!(read_file(&path, "/flac", None).unwrap(), reference);
}

#[test]
fn missing_groups_and_non_hdf5_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), "i32_2d_l0_h5group", "groups.h5");
    let err = read_file(&path, "/nope", None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Core(flacarray_core::Error::GroupNotFound { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("groups.h5") && err.to_string().contains("/nope"));
    // The root holds no FlacArray in this file.
    let err = read_file(&path, "/", None).unwrap_err();
    assert!(
        matches!(err, Error::Core(flacarray_core::Error::NotFlacArray { .. })),
        "{err}"
    );
    let err = read_file(&path, "/flac/compressed", None).unwrap_err();
    assert!(err.to_string().contains("not a group"), "{err}");

    let junk = dir.path().join("junk.h5");
    std::fs::write(&junk, b"this is not an HDF5 file at all").unwrap();
    let err = read_file(&junk, "/", None).unwrap_err();
    assert!(matches!(err, Error::Hdf5 { .. }), "{err}");
    assert!(err.to_string().contains("junk.h5"), "{err}");
    let err = read_file(dir.path().join("absent.h5"), "/", None).unwrap_err();
    assert!(err.to_string().contains("absent.h5"), "{err}");
}

#[test]
fn truncated_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), "f64_2d_q1e-4_l5_h5", "whole.h5");
    let bytes = std::fs::read(&path).unwrap();
    let reference = read_file(&path, "/", None).unwrap();
    let mut failures = 0;
    for k in 1..40 {
        let cut = bytes.len() * k / 40;
        let p = dir.path().join(format!("cut{k}.h5"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        match read_file(&p, "/", None) {
            Err(e) => {
                assert!(e.to_string().contains(&format!("cut{k}.h5")), "{e}");
                failures += 1;
            }
            // HDF5 may read a prefix that still holds everything this group needs;
            // then it must be the same data.
            Ok(arr) => assert_eq!(arr, reference),
        }
    }
    assert!(failures >= 30, "only {failures} of 39 truncations failed");
}

fn rewrite_f32(g: &hdf5::Group, name: &str, f: impl FnOnce(&mut Vec<f32>)) {
    let ds = g.dataset(name).unwrap();
    let mut v: Vec<f32> = ds.read_raw().unwrap();
    f(&mut v);
    ds.write_raw(&v).unwrap();
}

/// Issue 11 item 6: unusable gains and offsets are refused, naming the stream.
#[test]
fn unusable_gains_and_offsets() {
    for (g, shown) in [
        (0.0_f32, "gain 0 "),
        (f32::NAN, "gain NaN"),
        (f32::INFINITY, "gain inf"),
        (-2.0, "gain -2"),
        (1e-40, "gain 1e-40"),
    ] {
        expect_error(
            "f32_2d_q1e-4_l5_h5",
            "/",
            |grp| rewrite_f32(grp, "stream_gains", |v| v[1] = g),
            false,
            &["dataset stream_gains", "stream (1,)", shown],
        );
    }
    for (o, shown) in [(f32::NAN, "offset NaN"), (f32::NEG_INFINITY, "offset -inf")] {
        expect_error(
            "f32_2d_q1e-4_l5_h5",
            "/",
            |grp| rewrite_f32(grp, "stream_offsets", |v| v[0] = o),
            false,
            &["dataset stream_offsets", "stream (0,)", shown],
        );
    }
}

/// Issue 11 item 7: streams sharing bytes are refused.
#[test]
fn overlapping_streams() {
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| rewrite_i64(g, "stream_starts", |v| v.iter_mut().for_each(|s| *s = 0)),
        false,
        &[
            "dataset stream_starts",
            "overlaps stream",
            "never share bytes",
        ],
    );
}

/// Replaces `stream_starts` and `stream_bytes` by `n` streams all pointing at the first
/// stream's bytes.
fn point_all_at_first(g: &hdf5::Group, n: usize) {
    let starts = g.dataset("stream_starts").unwrap();
    let size: i64 = starts.attr("stream_size").unwrap().read_scalar().unwrap();
    let first_len: Vec<i64> = g.dataset("stream_bytes").unwrap().read_raw().unwrap();
    g.unlink("stream_starts").unwrap();
    g.unlink("stream_bytes").unwrap();
    let s = g
        .new_dataset_builder()
        .with_data(&vec![0_i64; n])
        .create("stream_starts")
        .unwrap();
    s.new_attr::<i64>()
        .create("stream_size")
        .unwrap()
        .write_scalar(&size)
        .unwrap();
    g.new_dataset_builder()
        .with_data(&vec![first_len[0]; n])
        .create("stream_bytes")
        .unwrap();
}

/// Issue 11 item 7: a small file claiming 200,000 streams that all share one stream's
/// bytes is refused from its metadata, before any table is read (it used to take 22 s
/// and 2.8 GB and decode copies).
#[test]
fn many_streams_sharing_one() {
    let t = std::time::Instant::now();
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| point_all_at_first(g, 200_000),
        true,
        &["dataset stream_starts", "200000 streams cannot fit in the"],
    );
    // Not a timing assertion on the reader's speed, only that nothing decoded
    // 200,000 streams: generous for a debug build on a loaded machine.
    assert!(t.elapsed().as_secs() < 60);
    // Few enough to pass the byte count, but sharing bytes.
    expect_error(
        "i32_2d_l0_h5group",
        "/flac",
        |g| point_all_at_first(g, 3),
        false,
        &["dataset stream_starts", "overlaps stream"],
    );
}

/// Issue 11 items 10 and 11: a huge `stream_size` in a tiny file is an error, not a
/// `capacity overflow` panic or an abort allocating terabytes.
#[test]
fn huge_stream_size() {
    for size in [1_i64 << 40, 1 << 62, i64::MAX] {
        expect_error(
            "i32_2d_l0_h5group",
            "/flac",
            |g| {
                g.dataset("stream_starts")
                    .unwrap()
                    .attr("stream_size")
                    .unwrap()
                    .write_scalar(&size)
                    .unwrap();
            },
            true,
            &[
                "dataset stream_starts: attribute stream_size",
                &format!("{size} samples per stream cannot be stored in"),
            ],
        );
    }
}

/// The core reader path (`Hdf5Store` + `read_array`) refuses the same damage.
#[test]
fn store_path_refuses_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path(), "f32_2d_q1e-4_l5_h5", "store_gain.h5");
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        rewrite_f32(&f.group("/").unwrap(), "stream_gains", |v| v[0] = 0.0);
    }
    let err = flacarray_hdf5::Hdf5Store::open(&path, "/").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("store_gain.h5"), "{msg}");
    assert!(
        msg.contains("dataset stream_gains: stream (0,): gain 0"),
        "{msg}"
    );
}

/// A file written by this crate (with its checksum attribute): float64, 4 streams of
/// 300 samples, streams 0 and 1 constant (so their FLAC streams have equal lengths).
fn our_file(dir: &Path) -> PathBuf {
    use flacarray_core::{CompressOptions, QuantaOption, write_array};
    let path = dir.join("ours.h5");
    let a = ndarray::Array2::from_shape_fn((4, 300), |(i, j)| match i {
        0 => 1.5,
        1 => -2.25,
        _ => (j as f64 * 0.01 * (i as f64)).sin(),
    });
    write_array(
        &mut flacarray_hdf5::Hdf5Store::create(&path, "/g", false).unwrap(),
        &a,
        &CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..CompressOptions::default()
        },
    )
    .unwrap();
    path
}

fn read_ours(path: &Path) -> Result<(), String> {
    let store = flacarray_hdf5::Hdf5Store::open(path, "/g").map_err(|e| e.to_string())?;
    flacarray_core::read_flacarray(&store, None, false)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Issue 11 item 9: damage to the tables or a swap of streams, which the validator
/// cannot see, is caught by the checksum attribute of files this crate writes.
#[test]
fn checksums_catch_table_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = our_file(dir.path());
    read_ours(&path).unwrap();
    let damage = |f: &dyn Fn(&hdf5::Group)| {
        let copy = dir.path().join("damaged.h5");
        std::fs::copy(&path, &copy).unwrap();
        {
            let file = hdf5::File::open_rw(&copy).unwrap();
            f(&file.group("/g").unwrap());
        }
        read_ours(&copy).unwrap_err()
    };
    let f64s = |g: &hdf5::Group, name: &str, f: &dyn Fn(&mut Vec<f64>)| {
        let ds = g.dataset(name).unwrap();
        let mut v: Vec<f64> = ds.read_raw().unwrap();
        f(&mut v);
        ds.write_raw(&v).unwrap();
    };
    let table_msg = "stream table (starts, byte counts, offsets, gains, shape, stream size) \
                     does not match the checksum";
    // Permuted starts of the two equal-length streams.
    let e = damage(&|g| rewrite_i64(g, "stream_starts", |v| v.swap(0, 1)));
    assert!(e.contains(table_msg), "{e}");
    // A gain doubled, an offset shifted.
    let e = damage(&|g| f64s(g, "stream_gains", &|v| v[2] *= 2.0));
    assert!(e.contains(table_msg), "{e}");
    let e = damage(&|g| f64s(g, "stream_offsets", &|v| v[3] += 0.5));
    assert!(e.contains(table_msg), "{e}");
    // Both scaling tables deleted: would read as int64.
    let e = damage(&|g| {
        g.unlink("stream_offsets").unwrap();
        g.unlink("stream_gains").unwrap();
    });
    assert!(
        e.contains("written as float64 but its tables now make it int64"),
        "{e}"
    );
}

/// Issue 11 item 9: two equal-length streams swapped (the table intact, the bytes
/// not) are caught by the streams checksum.
#[test]
fn checksums_catch_swapped_streams() {
    use flacarray_core::{CompressOptions, write_array};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.h5");
    // Constant streams of different values: equal FLAC lengths, different bytes.
    let a = ndarray::Array2::from_shape_fn((4, 300), |(i, j)| match i {
        0 => 7,
        1 => 9,
        _ => (j * i) as i32,
    });
    write_array(
        &mut flacarray_hdf5::Hdf5Store::create(&path, "/g", false).unwrap(),
        &a,
        &CompressOptions::default(),
    )
    .unwrap();
    read_ours(&path).unwrap();
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        let g = file.group("/g").unwrap();
        let starts: Vec<i64> = g.dataset("stream_starts").unwrap().read_raw().unwrap();
        let nbytes: Vec<i64> = g.dataset("stream_bytes").unwrap().read_raw().unwrap();
        assert_eq!(nbytes[0], nbytes[1], "test premise: equal-length streams");
        let ds = g.dataset("compressed").unwrap();
        let mut b: Vec<u8> = ds.read_raw().unwrap();
        let (s0, s1, n) = (starts[0] as usize, starts[1] as usize, nbytes[0] as usize);
        let first: Vec<u8> = b[s0..s0 + n].to_vec();
        assert_ne!(first, b[s1..s1 + n], "test premise: different bytes");
        b.copy_within(s1..s1 + n, s0);
        b[s1..s1 + n].copy_from_slice(&first);
        ds.write_raw(&b).unwrap();
    }
    let e = read_ours(&path).unwrap_err();
    assert!(
        e.contains("bytes of the 4 streams do not match the checksum"),
        "{e}"
    );
}

/// A stale record (a later writer replaced `flacarray_software_version` and the
/// tables, but not our attribute) is ignored rather than failing a valid group.
#[test]
fn stale_checksums_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = our_file(dir.path());
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        let g = file.group("/g").unwrap();
        set_str_attr(&g, "flacarray_software_version", "0.4.1");
        let ds = g.dataset("stream_gains").unwrap();
        let mut v: Vec<f64> = ds.read_raw().unwrap();
        v[2] *= 2.0;
        ds.write_raw(&v).unwrap();
    }
    read_ours(&path).unwrap();
}
