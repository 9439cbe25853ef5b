//! The library modules' own tests (`.npy` files, storage, atomic output, the stream
//! commands, raw samples, the command line definition, error lines), through their
//! public API.
#![allow(clippy::unwrap_used)]

mod npy {
    use flacarray::{DType, DecodedArray};
    use flacarray_cli::npy::{header, read_array, read_bool, read_rows, write_file, write_slab_at};
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn header_is_aligned_and_parsable() {
        let h = header(DType::Float32, &[3, 4]).expect("header");
        assert_eq!(h.len() % 64, 0);
        assert_eq!(h.last(), Some(&b'\n'));
        let parsed = npyz::NpyHeader::from_reader(&h[..]).expect("parses");
        assert_eq!(parsed.shape(), &[3, 4]);
        assert_eq!(parsed.dtype().descr(), "'<f4'");
        let h1 = header(DType::Int64, &[7]).expect("header");
        let parsed = npyz::NpyHeader::from_reader(&h1[..]).expect("parses");
        assert_eq!(parsed.shape(), &[7]);
        // numpy's limit of 64 dimensions (npyz cannot write thousands).
        assert!(header(DType::Float64, &[1; 64]).is_ok());
        let e = header(DType::Float64, &[1; 65]).expect_err("too many");
        assert!(format!("{e:#}").contains("65 dimensions"), "{e:#}");
    }

    #[test]
    fn hostile_shapes_are_refused_before_allocating() {
        let dir = tempfile::tempdir().expect("dir");
        for (shape, name) in [
            ("(18446744073709551615, 2)", "huge.npy"),
            ("(4, 1099511627776)", "tera.npy"),
        ] {
            let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
            let mut h = b"\x93NUMPY\x01\x00".to_vec();
            let body = format!("{dict:<117}\n");
            h.extend_from_slice(&u16::try_from(body.len()).expect("short").to_le_bytes());
            h.extend_from_slice(body.as_bytes());
            h.extend_from_slice(&[0u8; 64]);
            let p = dir.path().join(name);
            std::fs::write(&p, &h).expect("write");
            let e = read_array(&p).expect_err("refused");
            assert!(
                format!("{e:#}").contains("shorter than its header says"),
                "{e:#}"
            );
            let e = read_rows(&p, 0..1).expect_err("refused");
            assert!(
                format!("{e:#}").contains("shorter than its header says"),
                "{e:#}"
            );
            let e = flacarray_cli::npy::peek(&p).expect_err("refused");
            assert!(format!("{e:#}").contains(name), "{e:#}");
        }
        let dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (4, 1099511627776), }";
        let body = format!("{dict:<117}\n");
        let mut h = b"\x93NUMPY\x01\x00".to_vec();
        h.extend_from_slice(&u16::try_from(body.len()).expect("short").to_le_bytes());
        h.extend_from_slice(body.as_bytes());
        let p = dir.path().join("mask.npy");
        std::fs::write(&p, &h).expect("write");
        let e = read_bool(&p).expect_err("refused");
        assert!(
            format!("{e:#}").contains("shorter than its header says"),
            "{e:#}"
        );
    }

    #[test]
    fn round_trip_all_types() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("a.npy");
        let a = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
            (i[0] * 100 + i[1] * 10 + i[2]) as i64 - 50
        });
        for arr in [
            DecodedArray::Int32(a.mapv(|v| v as i32)),
            DecodedArray::Int64(a.mapv(|v| v * 1_000_000_000_000)),
            DecodedArray::Float32(a.mapv(|v| v as f32 * 0.25)),
            DecodedArray::Float64(a.mapv(|v| v as f64 * 1e-3)),
        ] {
            write_file(&p, &arr).expect("write");
            assert_eq!(read_array(&p).expect("read"), arr);
        }
    }

    #[test]
    fn reads_fortran_order_and_big_endian_and_bools() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("f.npy");
        // A (2, 3) big-endian Fortran-order int32 array [[0,1,2],[3,4,5]].
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let mut dict = "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }".to_string();
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        for v in [0_i32, 3, 1, 4, 2, 5] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        std::fs::write(&p, bytes).expect("write");
        let got = read_array(&p).expect("read");
        assert_eq!(
            flacarray_cli::npy::peek(&p).expect("header"),
            (DType::Int32, vec![2, 3])
        );
        let want = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0, 1, 2, 3, 4, 5]).expect("shape");
        assert_eq!(got, DecodedArray::Int32(want));

        let q = dir.path().join("b.npy");
        npyz::to_file_1d(&q, [true, false, true]).expect("write bools");
        assert_eq!(
            read_bool(&q).expect("read").into_raw_vec_and_offset().0,
            vec![true, false, true]
        );
        let e = read_array(&q).expect_err("bool is not a data dtype");
        assert!(format!("{e:#}").contains("b.npy"), "{e:#}");
    }

    #[test]
    fn big_endian_rows_are_read_by_npyz_after_a_seek() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("be.npy");
        // A (3, 2) big-endian C-order float64 array [[0, 1], [2, 3], [4, 5]] * 0.5.
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let dict = format!(
            "{:<117}\n",
            "{'descr': '>f8', 'fortran_order': False, 'shape': (3, 2), }"
        );
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        for v in 0..6 {
            bytes.extend_from_slice(&(f64::from(v) * 0.5).to_be_bytes());
        }
        std::fs::write(&p, bytes).expect("write");
        let want = |rows: &[f64]| {
            let n = rows.len() / 2;
            DecodedArray::Float64(
                ArrayD::from_shape_vec(IxDyn(&[n, 2]), rows.to_vec()).expect("shape"),
            )
        };
        assert_eq!(
            read_rows(&p, 1..3).expect("rows"),
            want(&[1.0, 1.5, 2.0, 2.5])
        );
        assert_eq!(read_rows(&p, 0..1).expect("rows"), want(&[0.0, 0.5]));
        assert_eq!(
            read_array(&p).expect("all"),
            want(&[0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
        );
    }

    #[test]
    fn rows_and_slabs() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("r.npy");
        let a = ArrayD::from_shape_fn(IxDyn(&[5, 2, 3]), |i| {
            (i[0] * 100 + i[1] * 10 + i[2]) as f32
        });
        write_file(&p, &DecodedArray::Float32(a.clone())).expect("write");
        for (lo, hi) in [(0, 5), (1, 3), (4, 5), (2, 2)] {
            let got = read_rows(&p, lo..hi).expect("rows");
            let want = a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi));
            assert_eq!(got, DecodedArray::Float32(want.to_owned()), "{lo}..{hi}");
        }
        let e = read_rows(&p, 4..6).expect_err("past the end");
        assert!(format!("{e:#}").contains("outside the 5 rows"), "{e:#}");
        // A truncated file is refused before any row is read.
        let t = dir.path().join("t.npy");
        let bytes = std::fs::read(&p).expect("read");
        std::fs::write(&t, &bytes[..bytes.len() - 1]).expect("write");
        let e = read_rows(&t, 0..1).expect_err("truncated");
        assert!(format!("{e:#}").contains("shorter"), "{e:#}");
        // 1-d: the whole array is the one row.
        let one = DecodedArray::Int64(
            ArrayD::from_shape_vec(IxDyn(&[4]), vec![1, -2, 3, -4]).expect("shape"),
        );
        write_file(&p, &one).expect("write");
        assert_eq!(read_rows(&p, 0..1).expect("row"), one);

        // Slabs written at their offsets make the whole file.
        let h = header(DType::Float32, &[5, 2, 3]).expect("header");
        std::fs::write(&t, &h).expect("header");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&t)
            .expect("open")
            .set_len(h.len() as u64 + 5 * 6 * 4)
            .expect("size");
        for (lo, hi) in [(3, 5), (0, 3)] {
            let slab = a
                .slice_axis(ndarray::Axis(0), ndarray::Slice::from(lo..hi))
                .to_owned();
            write_slab_at(
                &t,
                (h.len() + lo * 6 * 4) as u64,
                &DecodedArray::Float32(slab),
            )
            .expect("slab");
        }
        assert_eq!(read_array(&t).expect("read"), DecodedArray::Float32(a));
    }
}

mod storage {
    use flacarray::{CompressOptions, FlacArray, QuantaOption};
    use flacarray_cli::storage::Store;
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
        let a = ndarray::Array3::from_shape_fn((2, 3, 100), |(i, j, k)| {
            (i * 1000 + j * 100 + k) as i64
        });
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
        let a =
            ndarray::Array2::from_shape_fn((3, 500), |(i, j)| (i as f32) + (j as f32 * 0.01).sin());
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
}

mod output {
    use flacarray_cli::output::{temp_path_for, with_temp_path, write_atomic};

    #[test]
    fn with_temp_path_renames_on_success_and_cleans_on_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.h5");
        with_temp_path(&target, |p| {
            assert!(!p.exists());
            std::fs::write(p, b"abc")?;
            Ok(())
        })
        .expect("write");
        assert_eq!(std::fs::read(&target).expect("read"), b"abc");
        let err = with_temp_path(&target, |p| {
            std::fs::write(p, b"partial")?;
            anyhow::bail!("boom")
        })
        .expect_err("fails");
        assert_eq!(format!("{err:#}"), format!("{}: boom", target.display()));
        assert_eq!(std::fs::read(&target).expect("read"), b"abc");
        assert!(!temp_path_for(&target).expect("name").exists());
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.bin");
        write_atomic(&target, b"first").expect("write");
        assert_eq!(std::fs::read(&target).expect("read"), b"first");
        write_atomic(&target, b"second").expect("replace");
        assert_eq!(std::fs::read(&target).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.bin")]);
    }

    #[test]
    fn failed_rename_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // The target is a non-empty directory: the rename must fail.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("keep"), b"x").expect("write");
        let err = write_atomic(&target, b"data").expect_err("rename onto a directory");
        assert!(err.to_string().contains("taken"), "{err}");
        assert!(!temp_path_for(&target).expect("name").exists());
        assert_eq!(std::fs::read(target.join("keep")).expect("read"), b"x");
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("no/such/dir/out.bin");
        let err = write_atomic(&target, b"data").expect_err("no directory");
        assert!(format!("{err:#}").contains("out.bin"), "{err:#}");
    }
}

mod stream {
    use flacarray::SampleSlice;
    use flacarray_cli::raw;
    use flacarray_cli::stream::{decode_to_raw, encode_raw, stream_size};

    fn ramp(n: i32, channels: i32) -> Vec<i32> {
        (0..n * channels).map(|i| i * 7919 - 1_000_000).collect()
    }

    #[test]
    fn raw_round_trip_one_and_two_channels() {
        for channels in [1u32, 2] {
            let samples = ramp(5000, i32::try_from(channels).expect("small"));
            let bytes = raw::to_bytes(&samples);
            let flac = encode_raw(&bytes, channels, 5).expect("encode");
            let info = flacarray::flac::read_stream_info(&flac).expect("info");
            assert_eq!(info.channels, channels);
            assert_eq!(info.total_samples, 5000);
            assert_eq!(info.bits_per_sample, 32);
            assert_eq!(decode_to_raw(&flac, None, None).expect("decode"), bytes);
        }
    }

    #[test]
    fn slice_selects_per_channel_samples() {
        let samples = ramp(6000, 2);
        let bytes = raw::to_bytes(&samples);
        let flac = encode_raw(&bytes, 2, 0).expect("encode");
        let slice = SampleSlice::parse("-1500:-2").expect("slice");
        let got = decode_to_raw(&flac, Some(slice), None).expect("decode");
        assert_eq!(got, &bytes[4500 * 8..5998 * 8]);
        let slice = SampleSlice::parse("0:6001").expect("slice");
        let err = decode_to_raw(&flac, Some(slice), None).expect_err("past the end");
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn stream_size_rules() {
        let flac = encode_raw(&raw::to_bytes(&ramp(10, 1)), 1, 5).expect("encode");
        let mut info = flacarray::flac::read_stream_info(&flac).expect("info");
        assert_eq!(stream_size(&info, None).expect("recorded"), Some(10));
        assert_eq!(stream_size(&info, Some(10)).expect("agrees"), Some(10));
        let e = stream_size(&info, Some(11)).expect_err("disagrees");
        assert!(e.to_string().contains("disagrees"), "{e}");
        info.total_samples = 0;
        assert_eq!(stream_size(&info, Some(11)).expect("given"), Some(11));
        assert_eq!(stream_size(&info, None).expect("unknown"), None);
    }
}

mod raw {
    use flacarray_cli::raw::{parse_samples, to_bytes};

    #[test]
    fn round_trip_and_byte_order() {
        let samples = [0, 1, -1, i32::MIN, i32::MAX, 0x0102_0304];
        let bytes = to_bytes(&samples);
        assert_eq!(&bytes[4..8], &[1, 0, 0, 0]);
        assert_eq!(&bytes[20..24], &[4, 3, 2, 1]);
        assert_eq!(parse_samples(&bytes, 1).expect("valid"), samples);
        assert_eq!(parse_samples(&bytes, 2).expect("valid"), samples);
    }

    #[test]
    fn rejects_partial_samples_and_frames() {
        let e = parse_samples(&[0; 6], 1).expect_err("partial sample");
        assert!(e.to_string().contains("not a multiple of 4"), "{e}");
        let e = parse_samples(&[0; 12], 2).expect_err("partial frame");
        assert!(e.to_string().contains("not a multiple of 8"), "{e}");
        assert!(parse_samples(&[], 1).is_err());
    }
}

mod cli {
    use clap::{CommandFactory, Parser, error::ErrorKind};

    use flacarray_cli::cli::{Cli, Command, StreamCommand};

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn encode_defaults() {
        let cli = Cli::try_parse_from(["flacarray", "stream", "encode", "a.raw", "b.flac"])
            .expect("parses");
        match cli.command {
            Command::Stream(StreamCommand::Encode(a)) => {
                assert_eq!(a.channels, 1);
                assert_eq!(a.level, 5);
                assert_eq!(a.input.to_str(), Some("a.raw"));
                assert_eq!(a.output.to_str(), Some("b.flac"));
            }
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn bad_level_and_channels_are_usage_errors() {
        for args in [
            ["flacarray", "stream", "encode", "a", "b", "--level", "9"],
            ["flacarray", "stream", "encode", "a", "b", "--channels", "3"],
            ["flacarray", "stream", "encode", "a", "b", "--channels", "0"],
        ] {
            let err = Cli::try_parse_from(args).expect_err("must be rejected");
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{args:?}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn negative_slice_start_is_a_value_not_a_flag() {
        let cli = Cli::try_parse_from([
            "flacarray",
            "stream",
            "decode",
            "a.flac",
            "b.raw",
            "--samples",
            "-10:",
        ])
        .expect("parses");
        match cli.command {
            Command::Stream(StreamCommand::Decode(a)) => {
                let s = a.samples.expect("slice given");
                assert_eq!((s.start, s.stop), (Some(-10), None));
                assert_eq!(a.stream_size, None);
            }
            other => panic!("wrong command {other:?}"),
        }
    }
}

mod errors {
    use flacarray_cli::one_line;

    #[test]
    fn one_line_joins_context_and_strips_newlines() {
        let err = anyhow::anyhow!("bad\nthing").context("file.flac");
        assert_eq!(one_line(&err), "file.flac: bad thing");
    }

    #[test]
    fn one_line_skips_causes_already_printed() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "open failed: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = anyhow::Error::new(Outer(std::io::Error::other("no such file"))).context("x.h5");
        assert_eq!(one_line(&err), "x.h5: open failed: no such file");
    }
}
