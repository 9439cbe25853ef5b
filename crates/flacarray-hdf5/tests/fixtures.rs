//! Every HDF5 file that Python flacarray wrote (format 1 by 0.4.1, format 0 by 0.2.4),
//! read by this crate, decoded with `flacarray-flac` and `flacarray-quant`, must give
//! exactly what the reference returned (`expected*.npy`), for full reads, keep-mask
//! reads (which read only the kept streams' bytes) and sample-range reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Case, decode_all, decode_range, flat_bools, hdf5_cases, npy_bits};
use flacarray_core::{DType, FlacArray, StreamScaling};
use flacarray_hdf5::{Hdf5Store, hdf5, read_file, read_file_meta};
use serde_json::Value;

/// Groups in the format-1 HDF5 fixtures (20 single-group cases + 2 level sweeps of 9).
const V1_GROUPS: usize = 38;
/// Groups in the format-0 HDF5 fixtures.
const V0_GROUPS: usize = 7;

fn check_meta(case: &Case, group: &str, format_version: u32) -> FlacArray {
    let name = case.name();
    let meta = read_file_meta(case.h5(), group).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(meta.format_version, format_version, "{name}");
    assert_eq!(
        meta.dtype.name(),
        case.dtype().name(),
        "{name}{group}: dtype"
    );
    assert_eq!(meta.dtype.name(), case.json["dtype"].as_str().unwrap());
    let leading = match case.json.get("stored_leading_shape") {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_u64().unwrap() as usize).collect(),
        _ => case.leading_shape(),
    };
    assert_eq!(meta.leading_shape, leading, "{name}{group}: leading shape");
    assert_eq!(meta.stream_size as u64, case.stream_size(), "{name}{group}");
    let expected_channels = if format_version == 1 {
        meta.dtype.channels(1)
    } else {
        1
    };
    // The attribute as stored (format 0 has none: one channel).
    let f = hdf5::File::open(case.h5()).unwrap();
    let g = f.group(group).unwrap();
    let channels = if g.attr_names().unwrap().iter().any(|a| a == "flac_channels") {
        let a = g.attr("flac_channels").unwrap();
        a.read_scalar::<hdf5::types::VarLenUnicode>()
            .map(|v| v.as_str().parse::<u32>().unwrap())
            .or_else(|_| a.read_scalar::<i64>().map(|v| v as u32))
            .unwrap()
    } else {
        1
    };
    assert_eq!(channels, expected_channels, "{name}{group}");
    drop(g);
    drop(f);
    let software = if format_version == 1 {
        "0.4.1"
    } else {
        "0.2.4"
    };
    let store = Hdf5Store::open(&case.h5(), group).unwrap();
    assert_eq!(store.software_version().unwrap(), Some(software));
    let comp = &case.json["compressed_bytes_per_group"][group];
    assert_eq!(meta.total_bytes, comp.as_u64().unwrap(), "{name}{group}");

    let arr = read_file(case.h5(), group, None).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(arr.dtype(), meta.dtype);
    assert_eq!(arr.compressed().len() as u64, meta.total_bytes);
    assert_eq!(arr.leading_shape(), meta.leading_shape);
    let mut shape = leading.clone();
    shape.push(meta.stream_size);
    assert_eq!(arr.shape(), shape);
    // flacarray packs the streams back to back in C order.
    let mut pos = 0;
    for (&s, &b) in arr.stream_starts().iter().zip(arr.stream_nbytes()) {
        assert_eq!(s, pos, "{name}{group}: streams are packed");
        pos += b;
    }
    assert_eq!(pos as usize, arr.compressed().len());
    arr
}

/// Full reads (no keep, no slice, no index key) of every group.
fn full_reads(sub: &str, format_version: u32) -> usize {
    let mut groups = 0;
    for case in hdf5_cases(sub) {
        let name = case.name();
        for group in case.groups() {
            let arr = check_meta(&case, &group, format_version);
            let got = decode_all(&arr);
            let mut compared = 0;
            for read in case.reads() {
                if read["group"].as_str() != Some(group.as_str())
                    || !read["keep"].is_null()
                    || !read["stream_slice"].is_null()
                    || read.get("key").is_some_and(|k| !k.is_null())
                {
                    continue;
                }
                let (shape, dtype, bits) =
                    npy_bits(&case.dir.join(read["expected"].as_str().unwrap()));
                assert_eq!(dtype, case.dtype().name(), "{name}");
                assert_eq!(
                    shape.iter().product::<u64>() as usize,
                    got.len(),
                    "{name}{group}"
                );
                assert!(
                    got.bits() == bits,
                    "{name}{group}: values differ from the reference"
                );
                compared += 1;
            }
            assert!(compared > 0, "{name}{group}: no full read to compare with");
            groups += 1;
        }
    }
    groups
}

#[test]
fn v1_full_reads_match_reference() {
    assert_eq!(full_reads("python-reference", 1), V1_GROUPS);
}

#[test]
fn v0_full_reads_match_reference() {
    assert_eq!(full_reads("python-reference-v0", 0), V0_GROUPS);
}

/// Reads with a keep mask and/or a stream slice (both bounds given). Keep reads go
/// through `read_file(.., Some(mask))`, which returns only the kept streams.
fn keep_and_slice_reads(sub: &str) -> (usize, usize) {
    let (mut keep_reads, mut slice_reads) = (0, 0);
    for case in hdf5_cases(sub) {
        let name = case.name();
        for (k, read) in case.reads().iter().enumerate() {
            if read.get("key").is_some_and(|k| !k.is_null()) {
                continue;
            }
            let slice = &read["stream_slice"];
            let range = match slice {
                Value::Null => 0..case.stream_size(),
                Value::Array(b) if b.iter().all(Value::is_u64) => {
                    b[0].as_u64().unwrap()..b[1].as_u64().unwrap()
                }
                // A `None` bound: the reference ignores the slice (quirk), skip.
                _ => continue,
            };
            if read["keep"].is_null() && slice.is_null() {
                continue; // full reads: see above
            }
            let group = read["group"].as_str().unwrap();
            let full = read_file(case.h5(), group, None).unwrap();
            let arr = if read["keep"].is_null() {
                full.clone()
            } else {
                let mask = flat_bools(&read["keep"]);
                let kept = read_file(case.h5(), group, Some(&mask))
                    .unwrap_or_else(|e| panic!("{name} read {k}: {e}"));
                let n_kept = mask.iter().filter(|&&b| b).count();
                assert_eq!(kept.leading_shape(), [n_kept], "{name} read {k}");
                assert_eq!(kept.stream_starts().len(), n_kept);
                // Only the kept streams' bytes, back to back, in C order.
                let expect_bytes: Vec<u8> = (0..mask.len())
                    .filter(|&i| mask[i])
                    .flat_map(|i| common::stream_bytes(&full, i).to_vec())
                    .collect();
                assert_eq!(kept.compressed(), expect_bytes, "{name} read {k}");
                let mut pos = 0;
                for (&s, &b) in kept.stream_starts().iter().zip(kept.stream_nbytes()) {
                    assert_eq!(s, pos);
                    pos += b;
                }
                assert_eq!(kept.dtype(), full.dtype());
                keep_reads += 1;
                kept
            };
            if !slice.is_null() {
                slice_reads += 1;
            }
            let got = decode_range(&arr, range);
            let (shape, _, bits) = npy_bits(&case.dir.join(read["expected"].as_str().unwrap()));
            assert_eq!(
                shape.iter().product::<u64>() as usize,
                got.len(),
                "{name} read {k}"
            );
            assert!(got.bits() == bits, "{name} read {k}: values differ");
        }
    }
    (keep_reads, slice_reads)
}

#[test]
fn v1_keep_and_slice_reads_match_reference() {
    // i32_3d_keep_slice_h5: 8 keep reads (one all-False), 6 reads with both slice bounds.
    assert_eq!(keep_and_slice_reads("python-reference"), (8, 6));
}

#[test]
fn v0_keep_and_slice_reads_match_reference() {
    assert_eq!(keep_and_slice_reads("python-reference-v0"), (2, 2));
}

#[test]
fn all_false_keep_reads_nothing() {
    let case = flacarray_testkit::case("python-reference", "i32_3d_keep_slice_h5");
    let arr = read_file(case.h5(), "/flac", Some(&[false; 6])).unwrap();
    assert_eq!(arr.leading_shape(), [0]);
    assert!(
        arr.stream_starts().is_empty()
            && arr.stream_nbytes().is_empty()
            && arr.compressed().is_empty()
    );
    assert_eq!(arr.dtype(), DType::Int32);
    // A mask of the wrong length is the caller's error.
    let err = read_file(case.h5(), "/flac", Some(&[true; 5])).unwrap_err();
    assert!(err.to_string().contains("5 entries"), "{err}");
    assert!(err.to_string().contains("6 streams"), "{err}");
}

#[test]
fn float_keep_reads_select_offsets_and_gains() {
    let case = flacarray_testkit::case("python-reference", "f64_3d_q1e-15_l0_h5");
    let full = read_file(case.h5(), "/flac", None).unwrap();
    let mask = [false, true, true, false];
    let kept = read_file(case.h5(), "/flac", Some(&mask)).unwrap();
    let (
        StreamScaling::F64 {
            offsets: fo,
            gains: fg,
        },
        StreamScaling::F64 {
            offsets: ko,
            gains: kg,
        },
    ) = (full.scaling(), kept.scaling())
    else {
        panic!("float64 offsets and gains")
    };
    assert_eq!(ko, &fo[1..3]);
    assert_eq!(kg, &fg[1..3]);
    // Adjacent kept streams are merged into one read: the bytes are one slice.
    let s = full.stream_starts()[1] as usize;
    let e = (full.stream_starts()[2] + full.stream_nbytes()[2]) as usize;
    assert_eq!(kept.compressed(), &full.compressed()[s..e]);
    // Decoded values equal the full decode's middle two streams.
    let ss = case.stream_size() as usize;
    let all = decode_all(&full).bits();
    assert_eq!(decode_all(&kept).bits(), all[ss..3 * ss]);
}
