//! `flacarray stream decode`: streams that do not record their length are decoded to
//! their end, and the output is written frame by frame (a small stream of constant
//! frames expands a thousandfold without the output being held in memory).

mod common;

use std::io::Write;
use std::process::Command;

use common::{flacarray, p as s};
use flacarray::SampleSlice;
use flacarray::flac::EncoderConfig;
use flacarray_cli::stream::decode_to_writer;

/// Zeroes STREAMINFO's total_samples (bits 108..144 of the block that starts at byte
/// 8: the low nibble of byte 21 and bytes 22..26), as flacarray 0.4.1 writes it.
fn clear_total_samples(bytes: &mut [u8]) {
    bytes[21] &= 0xF0;
    bytes[22..26].fill(0);
}

fn encode(samples: &[i32], channels: u32, level: u8) -> Vec<u8> {
    let cfg = EncoderConfig {
        level,
        channels,
        ..EncoderConfig::default()
    };
    flacarray::flac::encode(samples, &cfg).expect("encodes")
}

fn to_raw(samples: &[i32]) -> Vec<u8> {
    samples.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A writer that keeps nothing: it checks every byte against the expected constant
/// samples and records the total and the largest single write.
struct Probe {
    value: [u8; 4],
    total: u64,
    largest_write: usize,
    writes: u64,
}

impl Write for Probe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        assert_eq!(buf.len() % 4, 0, "whole samples per write");
        assert!(buf.chunks_exact(4).all(|c| c == self.value), "wrong value");
        self.total += buf.len() as u64;
        self.largest_write = self.largest_write.max(buf.len());
        self.writes += 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn constant_frames_are_written_frame_by_frame() {
    // 4096-sample frames of one constant value: about 15 bytes each (header, 5-byte
    // CONSTANT subframe, CRC-16), so 2,000 frames expand ~1,000-fold to 32 MiB.
    let frames = 2000usize;
    let n = 4096 * frames;
    let value = -1_234_567i32;
    let mut flac = encode(&vec![value; n], 1, 5);
    assert!(flac.len() < 40_000, "{} bytes", flac.len());
    for unknown in [false, true] {
        if unknown {
            clear_total_samples(&mut flac);
        }
        let mut probe = Probe {
            value: value.to_le_bytes(),
            total: 0,
            largest_write: 0,
            writes: 0,
        };
        let written = decode_to_writer(&flac, None, None, &mut probe).expect("decodes");
        assert_eq!(written, n as u64);
        assert_eq!(probe.total, n as u64 * 4);
        // One write per frame, none larger than a frame: no buffer of the whole output.
        assert_eq!(probe.writes, frames as u64);
        assert_eq!(probe.largest_write, 4096 * 4);
    }
}

#[test]
fn stereo_slice_of_an_unrecorded_length_stream() {
    let n = 10_000usize;
    let samples: Vec<i32> = (0..2 * n)
        .map(|i| ((i as f64 * 0.003).sin() * 1e6) as i32 + (i as i32 % 7))
        .collect();
    let mut flac = encode(&samples, 2, 5);
    clear_total_samples(&mut flac);
    let raw = to_raw(&samples);
    let mut out = Vec::new();
    let slice = SampleSlice::parse("-300:-100").expect("slice");
    let written = decode_to_writer(&flac, Some(slice), None, &mut out).expect("decodes");
    assert_eq!(written, 400);
    assert_eq!(out, &raw[(n - 300) * 8..(n - 100) * 8]);
    // A given size that the frames contradict is refused.
    let e =
        decode_to_writer(&flac, None, Some(n as u64 + 1), &mut Vec::new()).expect_err("too long");
    assert!(e.to_string().contains("expected 10001"), "{e}");
}

#[test]
fn binary_decodes_unrecorded_length_to_the_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples: Vec<i32> = (0..50_000).map(|i| (i * 37) % 1000 - 500).collect();
    let mut flac = encode(&samples, 1, 8);
    clear_total_samples(&mut flac);
    let input = dir.path().join("old.flac");
    std::fs::write(&input, &flac).expect("write");
    let back = dir.path().join("back.raw");
    let out = flacarray(&["stream", "decode", s(&input), s(&back)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&back).expect("read"), to_raw(&samples));
    let out = flacarray(&[
        "stream",
        "decode",
        "--force",
        s(&input),
        s(&back),
        "--samples",
        "-5:",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&back).expect("read"),
        to_raw(&samples[49_995..])
    );
}

#[test]
fn binary_refuses_a_truncated_unrecorded_length_stream_without_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples: Vec<i32> = (0..50_000).map(|i| (i * 37) % 1000 - 500).collect();
    let mut flac = encode(&samples, 1, 5);
    clear_total_samples(&mut flac);
    flac.truncate(flac.len() - 100);
    let input = dir.path().join("cut.flac");
    std::fs::write(&input, &flac).expect("write");
    let back = dir.path().join("back.raw");
    let out = flacarray(&["stream", "decode", s(&input), s(&back)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.contains("cut.flac"), "{err:?}");
    assert!(!back.exists(), "partial output left behind");
    // Nothing else (no temporary file) is left in the directory.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn failing_writer_stops_decoding_with_its_error() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let flac = encode(&[1, 2, 3], 1, 5);
    let e = decode_to_writer(&flac, None, None, &mut Full).expect_err("sink fails");
    assert!(e.to_string().contains("disk full"), "{e}");
}

/// `stream encode` and `stream decode` follow the output rules of `decompress`: never
/// the input (however named), never a FIFO, an existing file only with `--force`, a
/// symbolic link written through.
#[test]
fn stream_outputs_follow_the_output_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples: Vec<i32> = (0..20_000).map(|i| (i * 13) % 777 - 300).collect();
    let flac = encode(&samples, 1, 5);
    let input = dir.path().join("in.flac");
    std::fs::write(&input, &flac).expect("write");

    // The input as output, by its name and through a symbolic link: refused, unchanged.
    let link = dir.path().join("link.flac");
    std::os::unix::fs::symlink(&input, &link).expect("symlink");
    for out_path in [&input, &link] {
        let out = flacarray(&["stream", "decode", "--force", s(&input), s(out_path)]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("refusing to overwrite an input"), "{err}");
        assert_eq!(std::fs::read(&input).expect("read"), flac);
    }

    // An existing output needs --force; with it the file is replaced.
    let back = dir.path().join("back.raw");
    std::fs::write(&back, b"old").expect("write");
    let out = flacarray(&["stream", "decode", s(&input), s(&back)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --force"));
    assert_eq!(std::fs::read(&back).expect("read"), b"old");
    let out = flacarray(&["stream", "decode", "--force", s(&input), s(&back)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(std::fs::read(&back).expect("read"), want);

    // A link to a new name is written through: the link stays a link.
    let target = dir.path().join("target.raw");
    let via = dir.path().join("via.raw");
    std::os::unix::fs::symlink(&target, &via).expect("symlink");
    let out = flacarray(&["stream", "decode", s(&input), s(&via)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::symlink_metadata(&via)
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).expect("read"), want);

    // A FIFO is refused without blocking (nothing opens it).
    let fifo = dir.path().join("pipe.flac");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|st| st.success()) {
        let raw = dir.path().join("in.raw");
        std::fs::write(&raw, &want).expect("write");
        let out = flacarray(&["stream", "encode", "--force", s(&raw), s(&fifo)]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("is a FIFO"));
    }
}
