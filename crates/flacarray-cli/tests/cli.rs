//! End-to-end tests of the `flacarray` binary on temporary files: exit statuses, one-line
//! error messages, byte-exact round trips and the no-partial-output guarantee.

mod common;

use std::path::{Path, PathBuf};

use common::{Dir as Files, assert_fails, assert_ok, flacarray, p as s, stderr};

/// Raw little-endian bytes of a noisy, drifting, interleaved signal.
fn raw_signal(n: usize, channels: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = Vec::with_capacity(n * channels * 4);
    for i in 0..n {
        for c in 0..channels {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (2e5 * (i as f64 / 300.0 + c as f64).sin()) as i32 + (state % 200) as i32 - 100
                + if c == 1 { i32::MIN / 2 } else { 0 };
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Encodes `raw` with the given channel count and level; returns the .flac path.
fn encode(files: &Files, raw: &[u8], channels: u32, level: u8) -> PathBuf {
    let input = files.write("in.raw", raw);
    let flac = files.path("out.flac");
    let out = flacarray(&[
        "stream",
        "encode",
        "--force",
        s(&input),
        s(&flac),
        "--channels",
        &channels.to_string(),
        "--level",
        &level.to_string(),
    ]);
    assert_ok(&out);
    flac
}

#[test]
fn round_trip_mono_and_stereo_at_several_levels() {
    for (channels, level, n) in [(1, 5, 10_000), (2, 5, 9_001), (1, 0, 2_500), (2, 8, 4_097)] {
        let files = Files::new();
        let raw = raw_signal(n, channels);
        let flac = encode(&files, &raw, channels as u32, level);
        let bytes = std::fs::read(&flac).expect("read flac");
        assert_eq!(&bytes[..4], b"fLaC");
        assert!(bytes.len() < raw.len(), "no compression: {}", bytes.len());
        let back = files.path("back.raw");
        assert_ok(&flacarray(&[
            "stream",
            "decode",
            "--force",
            s(&flac),
            s(&back),
        ]));
        assert_eq!(
            std::fs::read(&back).expect("read back"),
            raw,
            "channels {channels} level {level}"
        );
        assert_eq!(files.names(), ["back.raw", "in.raw", "out.flac"]);
    }
}

#[test]
fn sample_slices_equal_byte_ranges() {
    let n = 9_000usize;
    for channels in [1usize, 2] {
        let files = Files::new();
        let raw = raw_signal(n, channels);
        let flac = encode(&files, &raw, channels as u32, 5);
        let frame = 4 * channels;
        let cases: [(&str, usize, usize); 8] = [
            ("0:1", 0, 1),
            ("4095:4097", 4095, 4097),
            ("100:", 100, n),
            (":8192", 0, 8192),
            ("-10:", n - 10, n),
            (":-1", 0, n - 1),
            (":", 0, n),
            ("5:5", 5, 5),
        ];
        for (slice, a, b) in cases {
            let back = files.path("slice.raw");
            let out = flacarray(&[
                "stream",
                "decode",
                "--force",
                s(&flac),
                s(&back),
                "--samples",
                slice,
            ]);
            assert_ok(&out);
            assert_eq!(
                std::fs::read(&back).expect("read slice"),
                &raw[a * frame..b * frame],
                "channels {channels} slice {slice}"
            );
        }
        // The `=` form and a reversed slice (empty, as in Python).
        let back = files.path("slice2.raw");
        let arg = "--samples=-3:-5";
        assert_ok(&flacarray(&[
            "stream",
            "decode",
            "--force",
            s(&flac),
            s(&back),
            arg,
        ]));
        assert_eq!(std::fs::read(&back).expect("read"), b"");
    }
}

#[test]
fn slice_out_of_range_is_an_error() {
    let files = Files::new();
    let flac = encode(&files, &raw_signal(1000, 1), 1, 5);
    let back = files.path("back.raw");
    for slice in ["0:1001", "1001:", "-1001:"] {
        let out = flacarray(&[
            "stream",
            "decode",
            "--force",
            s(&flac),
            s(&back),
            "--samples",
            slice,
        ]);
        assert_fails(&out, 1, &["out of range"]);
        assert!(!back.exists());
    }
    // A step, or no colon, is a usage error.
    for slice in ["0:10:2", "10"] {
        let out = flacarray(&[
            "stream",
            "decode",
            "--force",
            s(&flac),
            s(&back),
            "--samples",
            slice,
        ]);
        assert_eq!(out.status.code(), Some(2), "{slice}: {}", stderr(&out));
    }
}

#[test]
fn truncated_and_corrupted_flac_fail_with_one_line() {
    let files = Files::new();
    let raw = raw_signal(10_000, 2);
    let flac = encode(&files, &raw, 2, 5);
    let good = std::fs::read(&flac).expect("read");
    let back = files.path("back.raw");

    for cut in [0, 3, 20, 42, 50, good.len() / 2, good.len() - 1] {
        let bad = files.write("bad.flac", &good[..cut]);
        let out = flacarray(&["stream", "decode", "--force", s(&bad), s(&back)]);
        assert_fails(&out, 1, &["bad.flac"]);
        assert!(!back.exists(), "cut {cut}: partial output left");
    }
    for at in [60, good.len() / 3, good.len() - 2] {
        let mut bytes = good.clone();
        bytes[at] ^= 0x10;
        let bad = files.write("bad.flac", &bytes);
        let out = flacarray(&["stream", "decode", "--force", s(&bad), s(&back)]);
        assert_fails(&out, 1, &["bad.flac"]);
    }
    let not_flac = files.write("bad.flac", b"RIFF....WAVEfmt this is not a FLAC file");
    assert_fails(
        &flacarray(&["stream", "decode", "--force", s(&not_flac), s(&back)]),
        1,
        &["fLaC"],
    );
    assert_eq!(files.names(), ["bad.flac", "in.raw", "out.flac"]);
}

#[test]
fn raw_length_not_a_multiple_of_the_sample_frame_fails() {
    let files = Files::new();
    let flac = files.path("out.flac");
    let odd = files.write("odd.raw", &[1, 2, 3, 4, 5, 6]);
    let out = flacarray(&["stream", "encode", "--force", s(&odd), s(&flac)]);
    assert_fails(&out, 1, &["odd.raw"]);
    assert_fails(&out, 1, &["not a multiple of 4"]);
    // 12 bytes are three mono samples but not whole stereo pairs.
    let twelve = files.write("twelve.raw", &[0; 12]);
    let out = flacarray(&[
        "stream",
        "encode",
        "--force",
        s(&twelve),
        s(&flac),
        "--channels",
        "2",
    ]);
    assert_fails(&out, 1, &["not a multiple of 8"]);
    let empty = files.write("empty.raw", &[]);
    assert_fails(
        &flacarray(&["stream", "encode", "--force", s(&empty), s(&flac)]),
        1,
        &["empty"],
    );
    assert!(!flac.exists());
    assert_eq!(files.names(), ["empty.raw", "odd.raw", "twelve.raw"]);
}

#[test]
fn missing_input_fails_naming_the_file() {
    let files = Files::new();
    let missing = files.path("nope.raw");
    let out = flacarray(&[
        "stream",
        "encode",
        "--force",
        s(&missing),
        s(&files.path("x.flac")),
    ]);
    assert_fails(&out, 1, &["nope.raw"]);
}

#[test]
fn usage_errors_exit_2() {
    let files = Files::new();
    let input = files.write("in.raw", &[0; 16]);
    let flac = files.path("out.flac");
    for args in [
        vec![
            "stream",
            "encode",
            "--force",
            s(&input),
            s(&flac),
            "--level",
            "9",
        ],
        vec![
            "stream",
            "encode",
            "--force",
            s(&input),
            s(&flac),
            "--level",
            "-1",
        ],
        vec![
            "stream",
            "encode",
            "--force",
            s(&input),
            s(&flac),
            "--channels",
            "3",
        ],
        vec!["stream", "encode", "--force", s(&input)],
        vec!["stream", "frobnicate"],
        vec!["stream", "demo", "--streams", "0"],
        vec!["demo", "--streams", "0"],
    ] {
        let out = flacarray(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    assert!(!flac.exists());
}

#[test]
fn failed_run_leaves_existing_output_unchanged() {
    let files = Files::new();
    let previous = b"previous contents".to_vec();

    // Encode onto an existing .flac from a bad raw input.
    let target = files.write("keep.flac", &previous);
    let odd = files.write("odd.raw", &[0; 7]);
    assert_fails(
        &flacarray(&["stream", "encode", "--force", s(&odd), s(&target)]),
        1,
        &["odd.raw"],
    );
    assert_eq!(std::fs::read(&target).expect("read"), previous);

    // Decode a corrupt stream onto an existing .raw.
    let raw = raw_signal(5000, 1);
    let flac = encode(&files, &raw, 1, 5);
    let mut bytes = std::fs::read(&flac).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    let bad = files.write("bad.flac", &bytes);
    let keep_raw = files.write("keep.raw", &previous);
    assert_fails(
        &flacarray(&["stream", "decode", "--force", s(&bad), s(&keep_raw)]),
        1,
        &["bad.flac"],
    );
    assert_eq!(std::fs::read(&keep_raw).expect("read"), previous);
    assert_eq!(
        files.names(),
        [
            "bad.flac",
            "in.raw",
            "keep.flac",
            "keep.raw",
            "odd.raw",
            "out.flac"
        ]
    );

    // A successful run replaces it.
    assert_ok(&flacarray(&[
        "stream",
        "decode",
        "--force",
        s(&flac),
        s(&keep_raw),
    ]));
    assert_eq!(std::fs::read(&keep_raw).expect("read"), raw);
}

#[test]
fn unrecorded_length_decodes_to_the_end() {
    let files = Files::new();
    let raw = raw_signal(5000, 1);
    let flac = encode(&files, &raw, 1, 5);
    let mut bytes = std::fs::read(&flac).expect("read");
    // Zero STREAMINFO's total_samples, as flacarray 0.4.1 writes it.
    bytes[21] &= 0xF0;
    bytes[22..26].fill(0);
    let old = files.write("old.flac", &bytes);
    let back = files.path("back.raw");

    let decode = |input: &Path, extra: &[&str]| {
        let mut args = vec!["stream", "decode", "--force", s(input), s(&back)];
        args.extend(extra);
        flacarray(&args)
    };
    // Without --stream-size the stream is decoded to its last frame.
    assert_ok(&decode(&old, &[]));
    assert_eq!(std::fs::read(&back).expect("read"), raw);

    assert_ok(&decode(&old, &["--stream-size", "5000"]));
    assert_eq!(std::fs::read(&back).expect("read"), raw);

    assert_ok(&decode(
        &old,
        &["--stream-size", "5000", "--samples", "4000:4100"],
    ));
    assert_eq!(
        std::fs::read(&back).expect("read"),
        &raw[4000 * 4..4100 * 4]
    );

    // A wrong size is caught by the decoder.
    let out = decode(&old, &["--stream-size", "5001"]);
    assert_fails(&out, 1, &["old.flac"]);

    // With the length recorded, a disagreeing --stream-size is an error.
    let out = decode(&flac, &["--stream-size", "4999"]);
    assert_fails(&out, 1, &["disagrees"]);
}

#[test]
fn stream_demo_runs_small_and_reports_every_case() {
    let out = flacarray(&["stream", "demo", "--streams", "2", "--samples", "5000"]);
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    for case in ["detector int32", "detector int64", "full-range noise int32"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(case))
            .unwrap_or_else(|| panic!("no line for {case} in {text}"));
        assert!(line.ends_with("ok"), "{line}");
        // input bytes = streams * samples * channels * 4
        let fields: Vec<&str> = line[case.len()..].split_whitespace().collect();
        let channels: u64 = fields[1].parse().expect("channels column");
        let input: u64 = fields[3].parse().expect("input bytes column");
        assert_eq!(input, 2 * 5000 * channels * 4, "{line}");
    }
    assert!(
        text.contains("all 6 streams round-tripped exactly"),
        "{text}"
    );
}
