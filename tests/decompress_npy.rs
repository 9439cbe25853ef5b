//! `Store::decompress_npy`: decoding a stored array block by block straight into an
//! `.npy` stream gives, byte for byte, the `.npy` of a whole read then decode, for
//! every shape rule, keep mask, element type, backend and thread count; errors of
//! the data or of the output are reported.
#![cfg(all(feature = "hdf5", feature = "zarr"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use flacarray::npy::{self, NpyData};
use flacarray::store::{DECODE_BLOCK_BYTES, Store};
use flacarray::{CompressOptions, FlacArray, LogicalArray, QuantaOption, f16};
use ndarray::{ArrayD, Dimension, IxDyn};

fn wave(i: usize) -> f64 {
    (i as f64 * 0.013).sin() * 2e4 + ((i * 7919) % 113) as f64
}

fn arrays() -> Vec<(&'static str, LogicalArray, CompressOptions)> {
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-2)),
        ..CompressOptions::default()
    };
    let plain = CompressOptions::default();
    let f = |shape: &[usize]| {
        ArrayD::from_shape_fn(IxDyn(shape), |ix| {
            wave((0..ix.ndim()).fold(0, |acc, d| acc * 31 + ix[d]))
        })
    };
    let mut nan = f(&[4, 3, 500]).mapv(|v| v as f32);
    nan[[1, 2, 7]] = f32::NAN;
    nan[[3, 0, 499]] = f32::NEG_INFINITY;
    vec![
        (
            "i32 (5, 300)",
            LogicalArray::Int32(f(&[5, 300]).mapv(|v| v as i32)),
            plain.clone(),
        ),
        (
            "i64 (1, 400)",
            LogicalArray::Int64(f(&[1, 400]).mapv(|v| v as i64 * 1000)),
            plain.clone(),
        ),
        ("f64 (400,)", LogicalArray::Float64(f(&[400])), q.clone()),
        (
            "f32 (4, 3, 500) NaN",
            LogicalArray::Float32(nan),
            CompressOptions {
                keep_nonfinite: true,
                ..q.clone()
            },
        ),
        (
            "u64 (3, 200)",
            LogicalArray::Uint64(f(&[3, 200]).mapv(|v| (v as i64 as u64) ^ (1 << 63))),
            plain.clone(),
        ),
        (
            "f16 (2, 100)",
            LogicalArray::Float16(f(&[2, 100]).mapv(|v| f16::from_f64(v * 1e-3))),
            q.clone(),
        ),
        (
            "u8 (0, 10)",
            LogicalArray::Uint8(ArrayD::zeros(IxDyn(&[0, 10]))),
            plain.clone(),
        ),
        (
            "i16 (3, 0)",
            LogicalArray::Int16(ArrayD::zeros(IxDyn(&[3, 0]))),
            plain.clone(),
        ),
        // Several blocks: 40 rows of 60,000 float64 values, 19.2 MB of values.
        (
            "f64 (40, 60000)",
            LogicalArray::Float64(f(&[40, 60_000])),
            q,
        ),
    ]
}

/// The `.npy` bytes of a whole read then decode.
fn whole_npy(store: &Store, keep: Option<&[bool]>, no_flatten: bool) -> Vec<u8> {
    let v = store.read(keep, no_flatten).unwrap().to_values().unwrap();
    let mut out = Vec::new();
    npy::write_to(&mut out, &v).unwrap();
    out
}

#[test]
fn blocks_write_the_npy_of_a_whole_decode() {
    const _: () = assert!(40 * 60_000 * 8 > 2 * DECODE_BLOCK_BYTES, "several blocks");
    let dir = tempfile::tempdir().unwrap();
    for (k, (name, arr, opts)) in arrays().into_iter().enumerate() {
        let fa = FlacArray::from_values(&arr, &opts, None).unwrap();
        let n = fa.n_streams();
        let mut masks: Vec<Option<Vec<bool>>> = vec![None];
        if n >= 2 {
            masks.push(Some((0..n).map(|i| i % 2 == 0).collect()));
            masks.push(Some((0..n).map(|i| i == n - 1).collect()));
        }
        for ext in ["h5", "zarr"] {
            let store = Store::for_path(&dir.path().join(format!("a{k}.{ext}")), "g");
            store.write(&fa, false).unwrap();
            for keep in &masks {
                for no_flatten in [false, true] {
                    let want = whole_npy(&store, keep.as_deref(), no_flatten);
                    for threads in [1usize, 2] {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .unwrap();
                        let mut got = Vec::new();
                        let streams = std::sync::atomic::AtomicUsize::new(0);
                        let count = |s: usize| {
                            streams.fetch_add(s, std::sync::atomic::Ordering::Relaxed);
                        };
                        let (dtype, shape) = pool
                            .install(|| {
                                store.decompress_npy(keep.as_deref(), no_flatten, &mut got, &count)
                            })
                            .unwrap_or_else(|e| panic!("{name} {ext}: {e}"));
                        let what = format!(
                            "{name} {ext} keep {:?} no_flatten {no_flatten} threads {threads}",
                            keep.as_ref().map(|k| k.iter().filter(|&&b| b).count())
                        );
                        assert_eq!(got.len(), want.len(), "{what}");
                        assert!(got == want, "{what}: bytes differ");
                        let v = store.read(keep.as_deref(), no_flatten).unwrap();
                        assert_eq!(shape, v.shape(), "{what}");
                        assert_eq!(dtype, v.logical_dtype(), "{what}");
                        let kept = keep
                            .as_ref()
                            .map_or(n, |k| k.iter().filter(|&&b| b).count());
                        if v.stream_size() > 0 {
                            assert_eq!(streams.into_inner(), kept, "{what}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn errors_of_the_data_and_of_the_output_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let a = ArrayD::from_shape_fn(IxDyn(&[6, 3000]), |ix| (wave(ix[1]) as i32) + ix[0] as i32);
    let fa =
        FlacArray::from_values(&LogicalArray::Int32(a), &CompressOptions::default(), None).unwrap();
    let path = dir.path().join("bad.h5");
    let store = Store::for_path(&path, "/");
    store.write(&fa, false).unwrap();
    // A keep mask of the wrong length: the whole read's error; one keeping nothing:
    // an empty (0, samples) array, as the whole read gives.
    let mut out = Vec::new();
    let e = store
        .decompress_npy(Some(&[true; 5]), false, &mut out, &|_| {})
        .unwrap_err();
    let w = store.read(Some(&[true; 5]), false).unwrap_err();
    assert_eq!(e.to_string(), w.to_string());
    assert!(out.is_empty());
    let (_, shape) = store
        .decompress_npy(Some(&[false; 6]), false, &mut out, &|_| {})
        .unwrap();
    assert_eq!(shape, [0, 3000]);
    assert_eq!(out, whole_npy(&store, Some(&[false; 6]), false));
    // An output that fails.
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("device full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let e = store
        .decompress_npy(None, false, &mut Full, &|_| {})
        .unwrap_err();
    assert_eq!(e.to_string(), "cannot write: device full");
    // A damaged byte in stream 4's frames: the stream is named.
    let mut bytes = std::fs::read(&path).unwrap();
    let compressed = fa.compressed();
    let at = bytes
        .windows(64)
        .position(|w| w == &compressed[..64])
        .expect("compressed bytes in the file")
        + usize::try_from(fa.stream_starts()[4] + fa.stream_nbytes()[4] / 2).unwrap();
    bytes[at] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let mut out = Vec::new();
    let e = store
        .decompress_npy(None, false, &mut out, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("stream (4,)"), "{e}");
    assert!(e.contains("bad.h5"), "{e}");
}

#[test]
fn npy_data_of_blocks_concatenate_to_the_whole() {
    // The `.npy` body of a (2, n) array is its two rows' bodies one after the other,
    // which is what writing block by block relies on.
    let a = ArrayD::from_shape_fn(IxDyn(&[2, 5]), |ix| (ix[0] * 10 + ix[1]) as u16);
    let mut whole = Vec::new();
    LogicalArray::Uint16(a.clone())
        .write_npy_data(&mut whole)
        .unwrap();
    let mut parts = Vec::new();
    for r in 0..2 {
        let row = a
            .slice_axis(ndarray::Axis(0), ndarray::Slice::from(r..r + 1))
            .to_owned();
        LogicalArray::Uint16(row)
            .write_npy_data(&mut parts)
            .unwrap();
    }
    assert_eq!(whole, parts);
}

#[test]
fn compress_file_equals_compressing_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    for (k, (name, arr, opts)) in arrays().into_iter().enumerate() {
        let path = dir.path().join(format!("in{k}.npy"));
        let mut f = std::fs::File::create(&path).unwrap();
        npy::write_to(&mut f, &arr).unwrap();
        drop(f);
        for threads in [Some(1), Some(2)] {
            let opts = CompressOptions {
                threads,
                ..opts.clone()
            };
            let want =
                FlacArray::from_values(&npy::read_values(&path).unwrap(), &opts, None).unwrap();
            let got =
                npy::compress_file(&path, &opts, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, want, "{name} threads {threads:?}");
        }
    }
    // A NaN in the third block is named by its place in the whole file.
    let mut a = ArrayD::from_shape_fn(IxDyn(&[40, 60_000]), |ix| wave(ix[1]));
    a[[37, 5]] = f64::NAN;
    let path = dir.path().join("nan.npy");
    let mut f = std::fs::File::create(&path).unwrap();
    npy::write_to(&mut f, &LogicalArray::Float64(a)).unwrap();
    drop(f);
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-2)),
        ..CompressOptions::default()
    };
    let e = npy::compress_file(&path, &q, None).unwrap_err().to_string();
    assert!(e.starts_with("stream (37,): sample 5 is NaN"), "{e}");
    // A truncated file: the reader's error, naming the file.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = npy::compress_file(&path, &q, None).unwrap_err().to_string();
    assert!(e.contains("nan.npy"), "{e}");
}

#[test]
fn decompress_npy_file_replaces_the_target_only_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let a = ArrayD::from_shape_fn(IxDyn(&[6, 3000]), |ix| (wave(ix[1]) as i32) + ix[0] as i32);
    let fa = FlacArray::from_values(
        &LogicalArray::Int32(a.clone()),
        &CompressOptions::default(),
        None,
    )
    .unwrap();
    let h5 = dir.path().join("a.h5");
    let store = Store::for_path(&h5, "/");
    store.write(&fa, false).unwrap();
    let target = dir.path().join("out.npy");
    let (dtype, shape) = store
        .decompress_npy_file(&target, None, false, true, &|_| {})
        .unwrap();
    assert_eq!(
        (dtype, shape.as_slice()),
        (flacarray::LogicalDType::Int32, &[6usize, 3000][..])
    );
    assert_eq!(npy::read_values(&target).unwrap(), LogicalArray::Int32(a));
    // Damaged data: the data's error (not the output's), the old target kept, no
    // temporary file left.
    let before = std::fs::read(&target).unwrap();
    let mut bytes = std::fs::read(&h5).unwrap();
    let at = bytes
        .windows(64)
        .position(|w| w == &fa.compressed()[..64])
        .unwrap()
        + usize::try_from(fa.stream_starts()[2] + 40).unwrap();
    bytes[at] ^= 0x08;
    std::fs::write(&h5, bytes).unwrap();
    let e = store
        .decompress_npy_file(&target, None, false, false, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("a.h5"), "{e}");
    assert!(!e.contains("out.npy"), "{e}");
    assert_eq!(std::fs::read(&target).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // An output directory that does not exist: the output's error, naming it.
    let e = store
        .decompress_npy_file(
            &dir.path().join("no/such/dir.npy"),
            None,
            false,
            false,
            &|_| {},
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("no/such/dir.npy"), "{e}");
}

/// A format-1 group whose checksum record is stale (0.4.1 rewrote the group and its
/// software version, leaving our `flacarray_dtype`) reads in the stored type; the
/// block-by-block `.npy` says so in its header too, as the whole read does.
#[test]
fn a_stale_recorded_dtype_gives_the_stored_type_in_the_header() {
    use flacarray::hdf5::hdf5 as h5;
    let dir = tempfile::tempdir().unwrap();
    let a = ArrayD::from_shape_fn(IxDyn(&[5, 700]), |ix| (ix[0] * 1000 + ix[1]) as u16);
    let fa = FlacArray::from_values(&LogicalArray::Uint16(a), &CompressOptions::default(), None)
        .unwrap();
    let path = dir.path().join("stale.h5");
    let store = Store::for_path(&path, "/");
    store.write(&fa, false).unwrap();
    {
        let f = h5::File::append(&path).unwrap();
        let g = f.as_group().unwrap();
        g.delete_attr("flacarray_software_version").unwrap();
        let v: h5::types::VarLenUnicode = "0.4.1".parse().unwrap();
        g.new_attr::<h5::types::VarLenUnicode>()
            .create("flacarray_software_version")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    }
    let read = store.read(None, false).unwrap();
    assert_eq!(read.logical_dtype(), flacarray::LogicalDType::Int32);
    // The attribute alone still names uint16; the type a read gives, and `info`'s, is
    // the stored one (a header taken from the attribute would not fit the int32
    // values that follow).
    assert_eq!(
        store.logical_dtype().unwrap(),
        flacarray::LogicalDType::Int32
    );
    assert_eq!(
        store.read_info().unwrap().logical,
        flacarray::LogicalDType::Int32
    );
    let sel = store.read(None, false).unwrap().to_values().unwrap();
    assert_eq!(sel.dtype(), flacarray::LogicalDType::Int32);
    let mut got = Vec::new();
    let (dtype, _) = store
        .decompress_npy(None, false, &mut got, &|_| {})
        .unwrap();
    assert_eq!(dtype, flacarray::LogicalDType::Int32);
    assert!(got == whole_npy(&store, None, false));
}
