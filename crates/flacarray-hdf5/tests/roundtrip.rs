//! Writing: the format-1 layout of `docs/format.md`, round trips at the root and in nested groups,
//! user attributes left alone, `replace`, and refusal of inconsistent input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::decode_all;
use flacarray_core::{DType, FlacArray, FlacArrayParts, StreamScaling};
use flacarray_hdf5::hdf5::dataset::Layout;
use flacarray_hdf5::hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};
use flacarray_hdf5::{
    Error, SOFTWARE_VERSION, WriteOptions, hdf5, read_file, read_group, write_file, write_group,
};

/// One fixture per dtype: (case, group).
const SOURCES: [(&str, &str); 4] = [
    ("i32_2d_l0_h5group", "/flac"),
    ("i64_2d_off2p40_l5_h5", "/"),
    ("f32_2d_q1e-4_l5_h5", "/"),
    ("f64_3d_q1e-15_l0_h5", "/flac"),
];

fn source(name: &str, group: &str) -> FlacArray {
    let case = flacarray_testkit::case("python-reference", name);
    read_file(case.h5(), group, None).unwrap()
}

fn descriptor_of_attr(loc: &hdf5::Location, name: &str) -> (TypeDescriptor, Vec<usize>) {
    let a = loc.attr(name).unwrap();
    (a.dtype().unwrap().to_descriptor().unwrap(), a.shape())
}

fn check_layout(group: &hdf5::Group, arr: &FlacArray) {
    for name in [
        "flacarray_format_version",
        "flacarray_software_version",
        "flac_channels",
    ] {
        assert_eq!(
            descriptor_of_attr(group, name),
            (TypeDescriptor::VarLenUnicode, vec![]),
            "attribute {name} is a scalar variable-length UTF-8 string"
        );
    }
    let s = |name: &str| {
        group
            .attr(name)
            .unwrap()
            .read_scalar::<VarLenUnicode>()
            .unwrap()
            .as_str()
            .to_owned()
    };
    assert_eq!(s("flacarray_format_version"), "1");
    assert_eq!(s("flac_channels"), arr.dtype().channels(1).to_string());
    // Whoever wrote the array before, the group now says this crate wrote it.
    assert_eq!(s("flacarray_software_version"), SOFTWARE_VERSION);
    let float = match arr.dtype() {
        DType::Float32 => Some(FloatSize::U4),
        DType::Float64 => Some(FloatSize::U8),
        _ => None,
    };
    let mut expect = vec![
        ("stream_starts", TypeDescriptor::Integer(IntSize::U8)),
        ("stream_bytes", TypeDescriptor::Integer(IntSize::U8)),
        ("compressed", TypeDescriptor::Unsigned(IntSize::U1)),
    ];
    if let Some(f) = float {
        expect.push(("stream_offsets", TypeDescriptor::Float(f)));
        expect.push(("stream_gains", TypeDescriptor::Float(f)));
    } else {
        assert!(!group.link_exists("stream_offsets"));
        assert!(!group.link_exists("stream_gains"));
    }
    for (name, desc) in expect {
        let ds = group.dataset(name).unwrap();
        assert_eq!(ds.dtype().unwrap().to_descriptor().unwrap(), desc, "{name}");
        assert_eq!(ds.layout(), Layout::Contiguous, "{name} is contiguous");
        assert!(ds.filters().is_empty(), "{name} has no filters");
        let shape = if name == "compressed" {
            vec![arr.compressed().len()]
        } else {
            arr.leading_shape().to_vec()
        };
        assert_eq!(ds.shape(), shape, "{name}");
    }
    let starts = group.dataset("stream_starts").unwrap();
    assert_eq!(
        descriptor_of_attr(&starts, "stream_size"),
        (TypeDescriptor::Integer(IntSize::U8), vec![])
    );
    assert_eq!(
        starts
            .attr("stream_size")
            .unwrap()
            .read_scalar::<i64>()
            .unwrap() as usize,
        arr.stream_size()
    );
}

#[test]
fn write_read_round_trip_every_dtype() {
    let dir = tempfile::tempdir().unwrap();
    for (name, group) in SOURCES {
        let arr = source(name, group);
        let path = dir.path().join(format!("{name}.h5"));
        // Root of a new file.
        write_file(&path, "/", &arr, WriteOptions::default()).unwrap();
        // A nested group that already exists, with a user attribute on it.
        {
            let f = hdf5::File::open_rw(&path).unwrap();
            let g = f.create_group("a").unwrap().create_group("b").unwrap();
            g.new_attr::<VarLenUnicode>()
                .create("units")
                .unwrap()
                .write_scalar(&"K".parse::<VarLenUnicode>().unwrap())
                .unwrap();
            g.new_attr::<i32>()
                .create("detector_count")
                .unwrap()
                .write_scalar(&7)
                .unwrap();
        }
        write_file(&path, "/a/b", &arr, WriteOptions::default()).unwrap();

        for g in ["/", "/a/b"] {
            let back = read_file(&path, g, None).unwrap();
            assert_eq!(back, arr, "{name} at {g}");
            assert_eq!(decode_all(&back).bits(), decode_all(&arr).bits());
            let f = hdf5::File::open(&path).unwrap();
            check_layout(&f.group(g).unwrap(), &arr);
            drop(f);
        }
        {
            // (Every handle must be closed before the file can be reopened for writing.)
            let f = hdf5::File::open(&path).unwrap();
            let b = f.group("a/b").unwrap();
            assert_eq!(
                b.attr("units")
                    .unwrap()
                    .read_scalar::<VarLenUnicode>()
                    .unwrap()
                    .as_str(),
                "K"
            );
            assert_eq!(
                b.attr("detector_count")
                    .unwrap()
                    .read_scalar::<i32>()
                    .unwrap(),
                7
            );
            // The root's flacarray and the sub-group's are independent.
            assert!(f.link_exists("compressed") && b.link_exists("compressed"));
        }

        // A second write without `replace` is refused and changes nothing.
        let err = write_file(&path, "/a/b", &arr, WriteOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Core(flacarray_core::Error::AlreadyExists { .. })
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("{name}.h5")), "{msg}");
        assert!(
            msg.contains("/a/b") && msg.contains("flacarray_format_version"),
            "{msg}"
        );
        assert_eq!(read_file(&path, "/a/b", None).unwrap(), arr);
        // With `replace` it succeeds, and the user attributes survive.
        write_file(&path, "/a/b", &arr, WriteOptions { replace: true }).unwrap();
        assert_eq!(read_file(&path, "/a/b", None).unwrap(), arr);
        let f = hdf5::File::open(&path).unwrap();
        let b = f.group("a/b").unwrap();
        assert_eq!(
            b.attr("units")
                .unwrap()
                .read_scalar::<VarLenUnicode>()
                .unwrap()
                .as_str(),
            "K"
        );
        let mut names = b.attr_names().unwrap();
        names.sort();
        assert_eq!(
            names,
            [
                "detector_count",
                "flac_channels",
                "flacarray_format_version",
                "flacarray_rs_checksums",
                "flacarray_software_version",
                "units"
            ]
        );
    }
}

#[test]
fn replace_with_another_dtype_removes_stale_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replace.h5");
    let f64_arr = source("f64_3d_q1e-15_l0_h5", "/flac");
    let i32_arr = source("i32_2d_l0_h5group", "/flac");
    write_file(&path, "x", &f64_arr, WriteOptions::default()).unwrap();
    write_file(&path, "x", &i32_arr, WriteOptions { replace: true }).unwrap();
    let f = hdf5::File::open(&path).unwrap();
    let g = f.group("x").unwrap();
    assert!(!g.link_exists("stream_offsets") && !g.link_exists("stream_gains"));
    assert_eq!(read_group(&g, None).unwrap(), i32_arr);
    drop(g);
    drop(f);
    write_file(&path, "x", &f64_arr, WriteOptions { replace: true }).unwrap();
    assert_eq!(read_file(&path, "/x", None).unwrap(), f64_arr);
}

#[test]
fn write_into_open_group_and_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.h5");
    let arr = source("f32_2d_q1e-4_l5_h5", "/");
    let f = hdf5::File::create(&path).unwrap();
    let top = f.create_group("top").unwrap();
    // Relative to `top`; "" is `top` itself.
    write_group(&top, "c/d", &arr, WriteOptions::default()).unwrap();
    write_group(&top, "", &arr, WriteOptions::default()).unwrap();
    // Absolute paths start at the file root whatever the parent.
    write_group(&top, "/e", &arr, WriteOptions::default()).unwrap();
    for g in ["/top/c/d", "/top", "/e"] {
        assert_eq!(read_group(&f.group(g).unwrap(), None).unwrap(), arr, "{g}");
    }
}

#[test]
fn empty_and_single_stream_arrays_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.h5");
    let empty = common::stored(
        DType::Float32,
        vec![0, 3],
        10,
        vec![],
        vec![],
        StreamScaling::F32 {
            offsets: vec![],
            gains: vec![],
        },
        vec![],
    );
    write_file(&path, "empty", &empty, WriteOptions::default()).unwrap();
    assert_eq!(read_file(&path, "empty", None).unwrap(), empty);
    let f = hdf5::File::open(&path).unwrap();
    assert_eq!(
        f.dataset("empty/compressed").unwrap().layout(),
        Layout::Contiguous
    );
    drop(f);

    let signal: Vec<i32> = (0..1000).map(|i| (i * 37) % 101 - 50).collect();
    let bytes = flacarray_flac::encode(&signal, &flacarray_flac::EncoderConfig::default()).unwrap();
    let one = common::stored(
        DType::Int32,
        vec![1],
        1000,
        vec![0],
        vec![bytes.len() as i64],
        StreamScaling::None,
        bytes,
    );
    write_file(&path, "/", &one, WriteOptions::default()).unwrap();
    let back = read_file(&path, "/", None).unwrap();
    assert_eq!(back, one);
    let f = hdf5::File::open(&path).unwrap();
    let version = f.attr("flacarray_software_version").unwrap();
    assert_eq!(
        version.read_scalar::<VarLenUnicode>().unwrap().as_str(),
        SOFTWARE_VERSION
    );
    drop(version);
    drop(f);
    assert_eq!(decode_all(&back), common::Values::I32(signal));
}

#[test]
fn inconsistent_arrays_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.h5");
    let good = source("i32_2d_l0_h5group", "/flac");
    // Format 0 is read, never written.
    let v0 = flacarray_testkit::cases("python-reference-v0", "data.h5")
        .into_iter()
        .next()
        .unwrap();
    let old = read_file(v0.h5(), &v0.groups()[0], None).unwrap();
    assert_eq!(old.format_version(), 0);
    let err = write_file(&path, "/", &old, WriteOptions::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("only format version 1"), "{err}");
    // Parts that disagree never make an array to write: the core refuses them.
    let parts = || FlacArrayParts {
        leading_shape: good.leading_shape().to_vec(),
        stream_size: good.stream_size(),
        one_d: false,
        dtype: good.dtype(),
        compressed: good.compressed().to_vec(),
        starts: good.stream_starts().to_vec(),
        nbytes: good.stream_nbytes().to_vec(),
        scaling: good.scaling().clone(),
        format_version: 1,
    };
    assert_eq!(FlacArray::from_parts(parts()).unwrap(), good);
    type Damage = Box<dyn Fn(&mut FlacArrayParts)>;
    let broken: [(&str, Damage); 7] = [
        ("one start missing", Box::new(|p| p.starts.truncate(3))),
        ("stream 3 past the bytes", Box::new(|p| p.nbytes[3] += 1)),
        ("stream size 0", Box::new(|p| p.stream_size = 0)),
        (
            "float64 scaling on int32",
            Box::new(|p| {
                p.scaling = StreamScaling::F64 {
                    offsets: vec![0.0; 4],
                    gains: vec![1.0; 4],
                }
            }),
        ),
        ("no leading axis", Box::new(|p| p.leading_shape = vec![])),
        (
            "int64 offsets in format 1",
            Box::new(|p| p.scaling = StreamScaling::I64Offsets(vec![0; 4])),
        ),
        (
            "float32 without offsets",
            Box::new(|p| {
                p.dtype = DType::Float32;
                p.scaling = StreamScaling::None;
            }),
        ),
    ];
    for (what, damage) in &broken {
        let mut p = parts();
        damage(&mut p);
        assert!(FlacArray::from_parts(p).is_err(), "{what}");
    }
    // A path through a dataset is not a group.
    write_file(&path, "/", &good, WriteOptions::default()).unwrap();
    let err = write_file(&path, "/compressed/x", &good, WriteOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Core(flacarray_core::Error::GroupNotFound { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("not a group"), "{err}");
    // A stray dataset with a flacarray name in the way is refused too.
    let f = hdf5::File::open_rw(&path).unwrap();
    f.create_group("stray")
        .unwrap()
        .new_dataset::<u8>()
        .shape([3])
        .create("compressed")
        .unwrap();
    drop(f);
    let err = write_file(&path, "stray", &good, WriteOptions::default()).unwrap_err();
    assert!(err.to_string().contains("dataset compressed"), "{err}");
    write_file(&path, "stray", &good, WriteOptions { replace: true }).unwrap();
    assert_eq!(read_file(&path, "stray", None).unwrap(), good);
}

/// A group created with `create_layout` and filled in parts (rows and byte ranges in
/// any order, as MPI ranks write them) equals the group `write_group` writes at once.
#[test]
fn layout_filled_in_parts_equals_whole_write() {
    let dir = tempfile::tempdir().unwrap();
    for (name, group) in SOURCES {
        let arr = source(name, group);
        let path = dir.path().join(format!("{name}.h5"));
        write_file(&path, "/whole", &arr, WriteOptions::default()).unwrap();

        let file = hdf5::File::append(&path).unwrap();
        let layout = flacarray_hdf5::GroupLayout {
            dtype: arr.dtype(),
            leading_shape: arr.leading_shape().to_vec(),
            stream_size: arr.stream_size() as u64,
            compressed_len: arr.compressed().len(),
            software_version: None,
        };
        let mut w =
            flacarray_hdf5::create_layout(&file, "/parts", &layout, WriteOptions::default())
                .unwrap();
        // The checksums `write_group` records, as MPI ranks combine them.
        w.set_checksums(flacarray_core::integrity::Checksums::of(&arr, SOFTWARE_VERSION).to_attr());
        let rows = arr.leading_shape()[0];
        let to_i64 = |v: &[u64]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
        let (starts, nbytes) = (to_i64(arr.stream_starts()), to_i64(arr.stream_nbytes()));
        let per_row = starts.len() / rows;
        // The last row first, then the others; bytes in three pieces, back to front.
        let cut = rows - 1;
        for r in [cut..rows, 0..cut] {
            let (lo, hi) = (r.start * per_row, r.end * per_row);
            w.write_rows(
                r.clone(),
                &starts[lo..hi],
                &nbytes[lo..hi],
                &arr.scaling().range(lo..hi),
            )
            .unwrap();
        }
        let n = arr.compressed().len();
        for (a, b) in [(2 * n / 3, n), (n / 3, 2 * n / 3), (0, n / 3)] {
            w.write_bytes(a, &arr.compressed()[a..b]).unwrap();
        }
        // Out of range and mistyped parts are refused.
        assert!(w.write_bytes(n, &[0]).is_err());
        assert!(
            w.write_rows(0..rows + 1, &[], &[], &StreamScaling::None)
                .is_err()
        );
        w.finish().unwrap();
        drop(file);

        let whole = read_file(&path, "/whole", None).unwrap();
        let parts = read_file(&path, "/parts", None).unwrap();
        assert_eq!(parts, whole, "{name}");
        assert_eq!(decode_all(&parts), decode_all(&arr), "{name}");
    }
}
