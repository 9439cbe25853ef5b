//! The library modules' own tests (atomic output, the stream
//! commands, raw samples, the command line definition, error lines), through their
//! public API.
#![allow(clippy::unwrap_used)]

mod output {
    use flacarray_cli::output::{temp_path_for, with_temp_path, write_atomic};

    #[test]
    fn with_temp_path_renames_on_success_and_cleans_on_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.h5");
        with_temp_path(&target, |p| {
            assert!(!p.exists());
            std::fs::write(p, b"abc")?;
            anyhow::Ok(())
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

mod array_cmd {
    use flacarray::{
        CompressOptions, FlacArray, LogicalArray, QuantaOption, ReadOptions, SampleSlice,
    };
    use flacarray_cli::array_cmd::{compress_with_progress, decode_with_progress};
    use flacarray_cli::progress;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn progress_bars_count_every_stream_and_change_nothing() {
        let a = ArrayD::from_shape_fn(IxDyn(&[37, 3, 400]), |i| {
            (i[0] as f64) * 0.7 + (i[1] as f64) + ((i[2] * (i[0] + 1)) as f64 * 0.01).sin()
        });
        let data = LogicalArray::Float32(a.mapv(|v| v as f32));
        let opts = CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            threads: Some(2),
            ..CompressOptions::default()
        };
        let p = progress::bar(true, Some(111), "test");
        let fa = compress_with_progress(&data, &opts, &p).expect("compress");
        assert_eq!(
            fa,
            FlacArray::from_values(&data, &opts, None).expect("plain")
        );
        assert_eq!(p.position(), 111);
        for slice in [SampleSlice::FULL, SampleSlice::new(Some(-150), Some(390))] {
            let p = progress::bar(true, None, "test");
            let got = decode_with_progress(&fa, slice, Some(2), &p).expect("decode");
            let read = ReadOptions {
                stream_slice: slice,
                ..ReadOptions::default()
            };
            assert_eq!(got, fa.decompress(&read).expect("whole").array);
            assert_eq!(p.position(), 111);
        }
    }
}

mod tables {
    use flacarray_cli::bench::table;
    use flacarray_cli::demo::verdict;

    #[test]
    fn table_aligns_first_left_middle_right() {
        let mut out = Vec::new();
        let rows = [vec!["a".into(), "12".into(), "ok".into()]];
        table(&mut out, &[3, 4], &rows).expect("writes");
        assert_eq!(String::from_utf8(out).expect("utf8"), "a     12  ok\n");
    }

    #[test]
    fn verdict_fails_when_any_stream_failed() {
        assert_eq!(
            verdict(3, &[(0, None)]).expect("all good"),
            "all 3 streams round-tripped exactly"
        );
        let bad = (1, Some("stream 2: decoded samples differ".to_owned()));
        let err = verdict(6, &[(0, None), bad]).expect_err("one failed");
        assert_eq!(
            err.to_string(),
            "demo: 1 of 6 streams did not round-trip exactly (first: stream 2: decoded samples differ)"
        );
    }
}
