//! Reading a stored array a block of rows at a time ([`RowBlocks`]) gives, block after
//! block, exactly the rows of a whole read (kept streams, non-finite values and the
//! recorded dtype included), and checks the recorded checksum of the streams' bytes
//! across the blocks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::ops::Range;

use flacarray_core::{
    CompressOptions, Error, FlacArray, FlacArrayReader, FlacArrayWriter, LogicalArray, MemoryStore,
    QuantaOption, RowBlocks, StoredExtension, StoredMeta, StreamTable, integrity::StoredChecksums,
    read_flacarray,
};
use ndarray::{ArrayD, IxDyn};

/// `n` samples of the conformance suite's synthetic signal, scaled to thousands.
fn noise(n: usize, seed: u64) -> Vec<f64> {
    flacarray_core::conformance::synth_array::<f64>(&[n], seed)
        .iter()
        .map(|v| v * 1e3)
        .collect()
}

fn store_of(fa: &FlacArray) -> MemoryStore {
    let mut s = MemoryStore::new();
    s.write(fa).unwrap();
    s
}

/// The rows of all blocks, stacked, as one logical array of shape `(n, samples)`.
fn stacked(store: MemoryStore, keep: Option<&[bool]>, per: usize) -> (Vec<usize>, LogicalArray) {
    let mut sizes = Vec::new();
    let mut parts = Vec::new();
    for b in RowBlocks::new(store, keep, per).unwrap() {
        let b = b.unwrap();
        sizes.push(b.n_streams());
        parts.push(b.to_values().unwrap());
    }
    let n: usize = sizes.iter().sum();
    let first = parts.first().expect("at least one block");
    let samples = *first.shape().last().unwrap();
    let flat = |a: &LogicalArray| a.to_f64_vec();
    let values: Vec<f64> = parts.iter().flat_map(flat).collect();
    assert_eq!(values.len(), n * samples);
    (
        sizes,
        LogicalArray::from_f64(first.dtype(), &[n, samples], &values),
    )
}

trait Flat {
    fn to_f64_vec(&self) -> Vec<f64>;
    fn from_f64(dtype: flacarray_core::LogicalDType, shape: &[usize], v: &[f64]) -> Self;
}

impl Flat for LogicalArray {
    fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            LogicalArray::Int32(a) => a.iter().map(|&v| f64::from(v)).collect(),
            LogicalArray::Int64(a) => a.iter().map(|&v| v as f64).collect(),
            LogicalArray::Float32(a) => a.iter().map(|&v| f64::from(v)).collect(),
            LogicalArray::Float64(a) => a.iter().copied().collect(),
            other => panic!("not used here: {:?}", other.dtype()),
        }
    }
    fn from_f64(dtype: flacarray_core::LogicalDType, shape: &[usize], v: &[f64]) -> Self {
        let arr = ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap();
        match dtype {
            flacarray_core::LogicalDType::Int32 => LogicalArray::Int32(arr.mapv(|x| x as i32)),
            flacarray_core::LogicalDType::Int64 => LogicalArray::Int64(arr.mapv(|x| x as i64)),
            flacarray_core::LogicalDType::Float32 => LogicalArray::Float32(arr.mapv(|x| x as f32)),
            flacarray_core::LogicalDType::Float64 => LogicalArray::Float64(arr),
            other => panic!("not used here: {other:?}"),
        }
    }
}

/// The whole read's values reshaped to `(streams, samples)`.
fn whole(store: &MemoryStore, keep: Option<&[bool]>) -> LogicalArray {
    let fa = read_flacarray(store, keep, true).unwrap();
    let v = fa.to_values().unwrap();
    let samples = fa.stream_size();
    LogicalArray::from_f64(v.dtype(), &[fa.n_streams(), samples], &v.to_f64_vec())
}

#[test]
fn blocks_stack_to_the_whole_read_for_every_block_size_and_keep_mask() {
    let leading = [7usize, 3];
    let samples = 1_000;
    let vals = noise(leading.iter().product::<usize>() * samples, 3);
    let shape = [leading[0], leading[1], samples];
    let f64s = ArrayD::from_shape_vec(IxDyn(&shape), vals.clone()).unwrap();
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..CompressOptions::default()
    };
    let arrays = [
        FlacArray::from_array(&f64s.mapv(|v| v as i32), &CompressOptions::default()).unwrap(),
        FlacArray::from_array(
            &f64s.mapv(|v| (v * 1e3) as i64),
            &CompressOptions::default(),
        )
        .unwrap(),
        FlacArray::from_array(&f64s.mapv(|v| v as f32), &opts).unwrap(),
        FlacArray::from_array(&f64s, &opts).unwrap(),
    ];
    let n = 21usize;
    let masks: [Option<Vec<bool>>; 4] = [
        None,
        Some((0..n).map(|i| i % 3 != 1).collect()),
        Some((0..n).map(|i| i == 20).collect()),
        Some((0..n).map(|i| (5..9).contains(&i)).collect()),
    ];
    for fa in &arrays {
        let store = store_of(fa);
        for keep in &masks {
            let want = whole(&store, keep.as_deref());
            for per in [0usize, 1, 2, 3, 6, 7, 50] {
                let (sizes, got) = stacked(store.clone(), keep.as_deref(), per);
                assert_eq!(got, want, "{:?} per {per} keep {keep:?}", fa.dtype());
                if keep.is_none() {
                    // Every block but the last holds `per` rows of 3 streams.
                    let per = per.clamp(1, 7);
                    let want_sizes: Vec<usize> =
                        (0..7).step_by(per).map(|r| 3 * (7 - r).min(per)).collect();
                    assert_eq!(sizes, want_sizes, "per {per}");
                } else {
                    // Blocks without kept streams are skipped.
                    assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
                }
            }
        }
    }
}

#[test]
fn blocks_carry_kept_nonfinite_values_and_the_recorded_dtype() {
    let samples = 500;
    let mut v: Vec<f32> = noise(6 * samples, 9).iter().map(|&x| x as f32).collect();
    v[3] = f32::NAN;
    v[4 * samples + 10] = f32::INFINITY;
    v[5 * samples - 1] = f32::NEG_INFINITY;
    let arr = ArrayD::from_shape_vec(IxDyn(&[6, samples]), v.clone()).unwrap();
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        keep_nonfinite: true,
        ..CompressOptions::default()
    };
    let fa = FlacArray::from_values(&LogicalArray::Float32(arr), &opts, None).unwrap();
    let store = store_of(&fa);
    let whole = read_flacarray(&store, None, false)
        .unwrap()
        .to_values()
        .unwrap();
    let LogicalArray::Float32(whole) = whole else {
        panic!("float32 expected")
    };
    let mut got = Vec::new();
    for b in RowBlocks::new(store, None, 4).unwrap() {
        let LogicalArray::Float32(a) = b.unwrap().to_values().unwrap() else {
            panic!("float32 expected")
        };
        got.extend(a.iter().map(|x| x.to_bits()));
    }
    let want: Vec<u32> = whole.iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, want);
    assert!(f32::from_bits(got[3]).is_nan());
    assert_eq!(f32::from_bits(got[4 * samples + 10]), f32::INFINITY);

    // uint16 stored as int32 comes back as uint16, block by block.
    let u = ArrayD::from_shape_fn(IxDyn(&[5, 300]), |ix| (ix[0] * 13_000 + ix[1]) as u16);
    let fa = FlacArray::from_values(
        &LogicalArray::Uint16(u.clone()),
        &CompressOptions::default(),
        None,
    )
    .unwrap();
    let mut got = Vec::new();
    for b in RowBlocks::new(store_of(&fa), None, 2).unwrap() {
        let LogicalArray::Uint16(a) = b.unwrap().to_values().unwrap() else {
            panic!("uint16 expected")
        };
        got.extend(a.iter().copied());
    }
    assert_eq!(got, u.iter().copied().collect::<Vec<_>>());
}

/// A store whose reads of the streams' bytes change one byte at `at` (absolute).
#[derive(Debug)]
struct Tampered {
    inner: MemoryStore,
    at: u64,
}

impl FlacArrayReader for Tampered {
    type Error = Error;
    fn metadata(&self) -> Result<StoredMeta, Error> {
        self.inner.metadata()
    }
    fn extension(&self, meta: &StoredMeta) -> Result<StoredExtension, Error> {
        self.inner.extension(meta)
    }
    fn checksums(&self) -> Result<StoredChecksums, Error> {
        self.inner.checksums()
    }
    fn read_stream_table(
        &self,
        meta: &StoredMeta,
        rows: Range<usize>,
    ) -> Result<StreamTable, Error> {
        self.inner.read_stream_table(meta, rows)
    }
    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<(), Error> {
        self.inner.read_bytes(start, out)?;
        if (start..start + out.len() as u64).contains(&self.at) {
            out[(self.at - start) as usize] ^= 0x10;
        }
        Ok(())
    }
}

#[test]
fn a_changed_byte_fails_the_checksum_after_the_last_block() {
    let a = ArrayD::from_shape_fn(IxDyn(&[6, 2_000]), |ix| {
        ((ix[1] as f64 * 0.01).sin() * 1e5) as i32 + ix[0] as i32
    });
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    let store = store_of(&fa);
    // A byte inside stream 4's frames (past its stream header).
    let at = fa.stream_starts()[4] + fa.stream_nbytes()[4] / 2;
    let whole_err = read_flacarray(
        &Tampered {
            inner: store.clone(),
            at,
        },
        None,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(whole_err.contains("stream"), "{whole_err}");
    for per in [1usize, 2, 4, 5] {
        let items: Vec<_> = RowBlocks::new(
            Tampered {
                inner: store.clone(),
                at,
            },
            None,
            per,
        )
        .unwrap()
        .collect();
        let (last, blocks) = items.split_last().unwrap();
        assert!(blocks.iter().all(Result::is_ok), "per {per}");
        assert_eq!(blocks.len(), 6usize.div_ceil(per), "per {per}");
        let e = last.as_ref().unwrap_err().to_string();
        assert!(
            e.contains("do not match the checksum written with them"),
            "per {per}: {e}"
        );
    }
    // Untouched, the same reads end without an error.
    for per in [1usize, 4] {
        assert!(
            RowBlocks::new(store.clone(), None, per)
                .unwrap()
                .all(|b| b.is_ok())
        );
    }
}

#[test]
fn a_bad_keep_mask_is_an_error_and_ends_the_blocks() {
    let a = ArrayD::from_shape_fn(IxDyn(&[4, 100]), |ix| (ix[0] * 100 + ix[1]) as i32);
    let store = store_of(&FlacArray::from_array(&a, &CompressOptions::default()).unwrap());
    let keep = [true, false];
    let items: Vec<_> = RowBlocks::new(store, Some(&keep), 1).unwrap().collect();
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
}

#[test]
fn decode_each_hands_every_block_in_order_on_one_and_two_threads() {
    let a = ArrayD::from_shape_fn(IxDyn(&[9, 2, 700]), |ix| {
        ((ix[2] as f64 * 0.02).sin() * 3e4) as i64 * 1_000 + (ix[0] * 2 + ix[1]) as i64
    });
    let fa = FlacArray::from_array(&a, &CompressOptions::default()).unwrap();
    let store = store_of(&fa);
    let want: Vec<i64> = a.iter().copied().collect();
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for per in [1usize, 2, 4, 9] {
            let mut got = Vec::new();
            let mut rows = Vec::new();
            let (s, g, r) = (store.clone(), &mut got, &mut rows);
            pool.install(move || {
                RowBlocks::new(s, None, per).unwrap().decode_each(|b| {
                    let LogicalArray::Int64(b) = b else {
                        return Err(Error::InvalidArgument("not int64".into()));
                    };
                    r.push(b.shape()[0]);
                    g.extend(b.iter().copied());
                    Ok::<(), Error>(())
                })
            })
            .unwrap();
            assert_eq!(got, want, "threads {threads} per {per}");
            assert_eq!(rows.iter().sum::<usize>(), 9);
            assert!(rows.iter().all(|&r| r <= per));
        }
        // The sink's error stops the work and is returned.
        let mut calls = 0;
        let (s, c) = (store.clone(), &mut calls);
        let e = pool
            .install(move || {
                RowBlocks::new(s, None, 2).unwrap().decode_each(|_| {
                    *c += 1;
                    Err(Error::InvalidArgument(format!("sink failed at {c}")))
                })
            })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::InvalidArgument("sink failed at 1".into()).to_string()
        );
        assert_eq!(calls, 1);
        // A damaged byte: the checksum error, and the last block is not handed out.
        let at = fa.stream_starts()[17] + fa.stream_nbytes()[17] / 2;
        let mut handed = 0;
        let (s, h) = (store.clone(), &mut handed);
        let e = pool
            .install(move || {
                RowBlocks::new(Tampered { inner: s, at }, None, 3)
                    .unwrap()
                    .decode_each(|_| {
                        *h += 1;
                        Ok::<(), Error>(())
                    })
            })
            .unwrap_err();
        // The frame's CRC-16 fails first, in the last block (rows 6..9), and the
        // message names the stream in the whole array, not in the block.
        assert!(e.to_string().starts_with("stream (8, 1): "), "{e}");
        assert!(e.to_string().contains("CRC-16"), "{e}");
        assert_eq!(handed, 2);
        // The same with a keep mask: the 5th kept stream of block 2 is flat stream 17.
        let keep: Vec<bool> = (0..18).map(|g| g % 2 == 1).collect();
        let (s, k) = (store.clone(), keep.clone());
        let e = pool
            .install(move || {
                RowBlocks::new(Tampered { inner: s, at }, Some(&k), 3)
                    .unwrap()
                    .decode_each(|_| Ok::<(), Error>(()))
            })
            .unwrap_err();
        assert!(e.to_string().starts_with("stream (8, 1): "), "{e}");
    }
}

/// `FlacArray::from_row_blocks` over `arr` with `per` rows per block, counting the
/// calls to `read` and the streams reported to `progress`.
fn by_blocks(arr: &LogicalArray, per: usize, opts: &CompressOptions) -> (FlacArray, usize, usize) {
    use ndarray::{Axis, Slice};
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |n: usize| {
        done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    let mut calls = 0;
    let fa = FlacArray::from_row_blocks(arr.shape(), per, opts, Some(&progress), |rows, spare| {
        calls += 1;
        // Blocks come back for reuse once compressed: from the third read on when
        // the next block is read beside the compression (2 threads or more), from
        // the second on one thread, where each block is read into the one before.
        // They are blocks read before (`per` rows, at least one).
        let first_reuse = if rayon::current_num_threads() > 1 { 3 } else { 2 };
        assert_eq!(spare.is_some(), calls >= first_reuse, "read {calls}");
        if let Some(s) = &spare {
            assert!(s.shape()[0] <= per.max(1) && s.dtype() == arr.dtype());
        }
        if arr.shape().len() == 1 {
            return Ok::<_, Error>(arr.clone());
        }
        macro_rules! cut {
            ($($v:ident),*) => {
                match arr {
                    $(LogicalArray::$v(a) => LogicalArray::$v(a.slice_axis(Axis(0), Slice::from(rows)).to_owned()),)*
                }
            };
        }
        Ok(cut!(
            Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float16, Float32,
            Float64
        ))
    })
    .unwrap();
    (fa, calls, done.into_inner())
}

#[test]
fn row_blocks_compress_to_the_whole_array_for_every_type_and_option() {
    let shape = [7usize, 3, 400];
    let v = noise(7 * 3 * 400, 5);
    let f = ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap();
    let mut nan = f.mapv(|x| x as f32);
    nan[[5, 1, 9]] = f32::NAN;
    let mut big = f.mapv(|x| (x as i64).unsigned_abs());
    big[[6, 2, 0]] = u64::MAX;
    let per_stream: Vec<f64> = (0..21).map(|i| 1e-3 * (1 + i % 4) as f64).collect();
    let cases = [
        (
            LogicalArray::Int32(f.mapv(|x| x as i32)),
            CompressOptions::default(),
        ),
        (
            LogicalArray::Float32(f.mapv(|x| x as f32)),
            CompressOptions {
                quanta: Some(QuantaOption::PerStream(per_stream.clone())),
                ..CompressOptions::default()
            },
        ),
        (
            LogicalArray::Float64(f.clone()),
            CompressOptions {
                precision: Some(flacarray_core::PrecisionOption::PerStream(
                    (0..21).map(|i| 2 + i % 3).collect(),
                )),
                ..CompressOptions::default()
            },
        ),
        (
            LogicalArray::Float32(nan),
            CompressOptions {
                quanta: Some(QuantaOption::Scalar(1e-3)),
                keep_nonfinite: true,
                ..CompressOptions::default()
            },
        ),
        (LogicalArray::Uint64(big), CompressOptions::default()),
        (
            LogicalArray::Int16(f.mapv(|x| x as i16)),
            CompressOptions::default(),
        ),
        (
            LogicalArray::Int32(ArrayD::from_shape_fn(IxDyn(&[900]), |i| i[0] as i32 * 3)),
            CompressOptions::default(),
        ),
        (
            LogicalArray::Int32(ArrayD::zeros(IxDyn(&[0, 10]))),
            CompressOptions::default(),
        ),
    ];
    for (arr, opts) in &cases {
        let whole = FlacArray::from_values(arr, opts, None).unwrap();
        for threads in [None, Some(1), Some(2)] {
            let opts = CompressOptions {
                threads,
                ..opts.clone()
            };
            for per in [0usize, 1, 2, 3, 7, 8] {
                let (fa, calls, done) = by_blocks(arr, per, &opts);
                let what = format!(
                    "{:?} {:?} per {per} threads {threads:?}",
                    arr.dtype(),
                    arr.shape()
                );
                assert_eq!(fa, whole, "{what}");
                assert_eq!(fa.format_version(), whole.format_version(), "{what}");
                let rows = if arr.shape().len() > 1 {
                    arr.shape()[0]
                } else {
                    1
                };
                assert_eq!(calls, rows.div_ceil(per.max(1)).max(1), "{what}");
                assert_eq!(done, whole.n_streams(), "{what}");
            }
        }
    }
}

#[test]
fn row_blocks_refuse_a_block_of_the_wrong_shape_and_pass_on_read_errors() {
    let opts = CompressOptions::default();
    let e = FlacArray::from_row_blocks(&[4, 100], 2, &opts, None, |rows, _| {
        Ok::<_, Error>(LogicalArray::Int32(ArrayD::zeros(IxDyn(&[rows.len(), 99]))))
    })
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("rows 0..2 read with shape (2, 99), (2, 100) expected"),
        "{e}"
    );
    let mut calls = 0;
    let e = FlacArray::from_row_blocks(&[6, 100], 2, &opts, None, |rows, _| {
        calls += 1;
        if rows.start == 2 {
            return Err(Error::InvalidArgument("disk on fire".into()));
        }
        Ok(LogicalArray::Int32(ArrayD::zeros(IxDyn(&[
            rows.len(),
            100,
        ]))))
    })
    .unwrap_err();
    assert!(e.to_string().contains("disk on fire"), "{e}");
    assert_eq!(calls, 2);
    // A stream that cannot be compressed is named in the whole array.
    let mut f = ArrayD::from_elem(IxDyn(&[4, 2, 50]), 1.0f64);
    f[[3, 1, 7]] = f64::NAN;
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..CompressOptions::default()
    };
    let whole = FlacArray::from_values(&LogicalArray::Float64(f.clone()), &q, None)
        .unwrap_err()
        .to_string();
    let e = FlacArray::from_row_blocks(f.shape(), 1, &q, None, |rows, _| {
        use ndarray::{Axis, Slice};
        Ok::<_, Error>(LogicalArray::Float64(
            f.slice_axis(Axis(0), Slice::from(rows)).to_owned(),
        ))
    })
    .unwrap_err()
    .to_string();
    assert_eq!(e, whole);
}
