//! Hostile bytes: truncations, bit flips and random mutations of valid streams must give
//! an error or the right samples, never a panic, a wrong sample count or an allocation
//! driven by a header value.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use flacarray_flac::{EncoderConfig, decode, decode_range, encode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A valid stream, the samples it holds, and how many per channel.
struct Sample {
    name: &'static str,
    bytes: Vec<u8>,
    samples: Vec<i32>,
    n: u64,
}

fn config(level: u8, channels: u32) -> EncoderConfig {
    EncoderConfig {
        level,
        channels,
        ..EncoderConfig::default()
    }
}

fn smooth(n: usize, channels: usize, seed: u64) -> Vec<i32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n * channels)
        .map(|k| {
            let (i, c) = ((k / channels) as f64, (k % channels) as f64);
            (3e6 * (i / 91.0 + c).sin() + 1e4 * (i / 7.0).cos()) as i32 + rng.random_range(-40..40)
        })
        .collect()
}

fn full_range(n: usize, channels: usize, seed: u64) -> Vec<i32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n * channels).map(|_| rng.random::<i32>()).collect()
}

fn make(name: &'static str, samples: Vec<i32>, channels: u32, level: u8) -> Sample {
    let n = (samples.len() / channels as usize) as u64;
    let bytes = encode(&samples, &config(level, channels)).expect("encode");
    assert_eq!(
        decode(&bytes, n).expect("valid stream decodes").samples,
        samples
    );
    Sample {
        name,
        bytes,
        samples,
        n,
    }
}

/// Streams for the truncation test: several frames each, 1 and 2 channels, a few levels,
/// one VERBATIM-heavy full-range stream per channel count.
fn truncation_streams() -> Vec<Sample> {
    vec![
        make("mono level 0 smooth", smooth(3000, 1, 1), 1, 0),
        make("mono level 5 smooth", smooth(9000, 1, 2), 1, 5),
        make("stereo level 2 smooth", smooth(2500, 2, 3), 2, 2),
        make("stereo level 8 smooth", smooth(5000, 2, 4), 2, 8),
        make("mono level 5 full-range", full_range(2500, 1, 5), 1, 5),
        make("stereo level 1 full-range", full_range(1300, 2, 6), 2, 1),
    ]
}

/// Small streams for the exhaustive bit-flip test.
fn small_streams() -> Vec<Sample> {
    vec![
        make("mono level 5 600", smooth(600, 1, 7), 1, 5),
        make("mono level 0 1500", smooth(1500, 1, 8), 1, 0),
        make("stereo level 8 300", smooth(300, 2, 9), 2, 8),
        make("mono level 3 full-range 200", full_range(200, 1, 10), 1, 3),
        make("stereo level 5 constant 100", vec![-7; 200], 2, 5),
    ]
}

#[test]
fn every_truncated_prefix_is_an_error() {
    for s in truncation_streams() {
        for len in 0..s.bytes.len() {
            let prefix = &s.bytes[..len];
            if let Ok(d) = decode(prefix, s.n) {
                panic!(
                    "{}: prefix of {len} of {} bytes decoded to {} samples",
                    s.name,
                    s.bytes.len(),
                    d.samples.len()
                );
            }
            assert!(
                decode_range(prefix, s.n, 0..s.n).is_err(),
                "{}: prefix {len}: range decode succeeded",
                s.name
            );
            // A range that ends at the stream's end needs the last frame too.
            assert!(
                decode_range(prefix, s.n, s.n - 1..s.n).is_err(),
                "{}: prefix {len}: last-sample decode succeeded",
                s.name
            );
        }
    }
}

#[test]
fn every_single_bit_flip_is_caught_or_harmless() {
    for s in small_streams() {
        let mut bytes = s.bytes.clone();
        // STREAMINFO fields that do not affect decoding (frame sizes, sample rate, MD5)
        // may be flipped harmlessly; every flip in a frame must be caught by its CRCs.
        let frames_start = 42 * 8;
        for bit in 0..bytes.len() * 8 {
            bytes[bit / 8] ^= 1 << (bit % 8);
            match decode(&bytes, s.n) {
                Err(_) => {}
                Ok(d) => {
                    assert!(
                        bit < frames_start,
                        "{}: flipping frame bit {bit} (byte {}) was not detected",
                        s.name,
                        bit / 8
                    );
                    assert!(
                        d.samples == s.samples,
                        "{}: flipping bit {bit} (byte {}) decoded to different samples",
                        s.name,
                        bit / 8
                    );
                }
            }
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
    }
}

/// The stream sizes tried with each mutated input: plausible ones and absurd ones.
fn stream_sizes(n: u64, rng: &mut StdRng) -> [u64; 4] {
    let absurd = [
        0,
        u64::MAX,
        u64::MAX / 2,
        u64::MAX >> 40,
        (1 << 36) - 1,
        1 << 32,
    ];
    [
        n,
        n.saturating_add_signed(rng.random_range(-2..=2)),
        rng.random_range(0..100_000),
        absurd[rng.random_range(0..absurd.len())],
    ]
}

/// One random mutation of `base` (with `other` available for splices).
fn mutate(base: &[u8], other: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut v = base.to_vec();
    let rounds = rng.random_range(1..=3);
    for _ in 0..rounds {
        let len = v.len();
        match rng.random_range(0..8) {
            // Overwrite a few random bytes.
            0 => {
                for _ in 0..rng.random_range(1..=8) {
                    if len > 0 {
                        let i = rng.random_range(0..len);
                        v[i] = rng.random();
                    }
                }
            }
            // Flip bits in the header region (STREAMINFO, first frame header).
            1 => {
                let i = rng.random_range(0..len.clamp(1, 60));
                if i < len {
                    v[i] ^= 1 << rng.random_range(0..8);
                }
            }
            // Insert random bytes.
            2 => {
                let at = rng.random_range(0..=len);
                let k = rng.random_range(1..=16);
                let ins: Vec<u8> = (0..k).map(|_| rng.random()).collect();
                v.splice(at..at, ins);
            }
            // Delete a range.
            3 => {
                if len > 0 {
                    let a = rng.random_range(0..len);
                    let b = (a + rng.random_range(1..=64)).min(len);
                    v.drain(a..b);
                }
            }
            // Truncate.
            4 => {
                let k = rng.random_range(0..=len);
                v.truncate(k);
            }
            // Splice: our prefix, then a suffix of another valid stream.
            5 => {
                let a = rng.random_range(0..=len);
                let b = rng.random_range(0..=other.len());
                v.truncate(a);
                v.extend_from_slice(&other[b..]);
            }
            // Duplicate a chunk in place (repeated frames or headers).
            6 => {
                if len > 0 {
                    let a = rng.random_range(0..len);
                    let b = (a + rng.random_range(1..=512)).min(len);
                    let chunk = v[a..b].to_vec();
                    v.splice(b..b, chunk);
                }
            }
            // Write a sync code (frame start) somewhere.
            _ => {
                if len >= 2 {
                    let i = rng.random_range(0..len - 1);
                    v[i] = 0xFF;
                    v[i + 1] = 0xF8 | rng.random_range(0..2);
                }
            }
        }
    }
    v
}

#[test]
fn mutated_inputs_never_panic_and_ok_means_exact_count() {
    const INPUTS: usize = 100_000;
    let mut corpus = small_streams();
    corpus.push(make("mono level 8 4500", smooth(4500, 1, 11), 1, 8));
    corpus.push(make(
        "stereo level 0 1200 full",
        full_range(1200, 2, 12),
        2,
        0,
    ));
    let mut rng = StdRng::seed_from_u64(0x5EED_F1AC);
    let mut oks = 0usize;
    let mut errs = 0usize;
    let start = Instant::now();
    for i in 0..INPUTS {
        let base = &corpus[rng.random_range(0..corpus.len())];
        let other = &corpus[rng.random_range(0..corpus.len())];
        let input = mutate(&base.bytes, &other.bytes, &mut rng);
        let sizes = stream_sizes(base.n, &mut rng);
        let size = sizes[i % sizes.len()];
        match decode(&input, size) {
            Ok(d) => {
                oks += 1;
                let want = size.checked_mul(u64::from(d.info.channels));
                assert_eq!(
                    Some(d.samples.len() as u64),
                    want,
                    "input {i}: Ok with a wrong sample count (stream_size {size})"
                );
            }
            Err(e) => {
                errs += 1;
                assert!(!e.to_string().is_empty());
            }
        }
        // A random range inside the claimed size.
        let a = rng.random_range(0..=size.min(1 << 20));
        let b = a.saturating_add(rng.random_range(0..5000)).min(size);
        if let Ok(d) = decode_range(&input, size, a..b) {
            assert_eq!(
                d.samples.len() as u64,
                (b - a) * u64::from(d.info.channels),
                "input {i}: range {a}..{b} Ok with a wrong sample count"
            );
        }
    }
    assert_eq!(oks + errs, INPUTS);
    // Some mutations (metadata-only ones, exact stream sizes) must still decode.
    assert!(oks > 0, "no mutated input decoded at all");
    assert!(
        errs > INPUTS / 2,
        "only {errs} errors in {INPUTS} mutated inputs"
    );
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "took {:?}",
        start.elapsed()
    );
}

/// Header values cannot make the decoder allocate: an absurd `stream_size` with a valid
/// stream (whose STREAMINFO records no length, as 0.4.1 writes) fails fast.
#[test]
fn huge_stream_size_fails_without_allocating() {
    let s = make("mono", smooth(5000, 1, 13), 1, 5);
    let mut unrecorded = s.bytes.clone();
    unrecorded[21] &= 0xF0;
    unrecorded[22..26].fill(0);
    let start = Instant::now();
    for bytes in [&s.bytes, &unrecorded] {
        for size in [
            1u64 << 24,
            (1 << 36) - 1,
            1 << 40,
            u64::MAX >> 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert!(decode(bytes, size).is_err(), "stream_size {size}");
            assert!(decode_range(bytes, size, 0..size).is_err(), "{size}");
            assert!(decode_range(bytes, size, size - 1..size).is_err(), "{size}");
            // A range inside the real data still decodes even though the claimed size
            // is absurd; only the samples asked for are produced.
            if let Ok(d) = decode_range(bytes, size, 10..20) {
                assert_eq!(d.samples, &s.samples[10..20]);
            }
        }
    }
    // Allocating even 2^24 samples per call would take far longer than this.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

/// Decodes every file kept under `fuzz/regressions/` (inputs that once crashed the
/// fuzz target, plus seeds) the way the fuzz target does: no panic, and every `Ok` has
/// the exact sample count.
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if !path.is_file() || path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let decoded = fuzz_one(&data);
        // Seeds are valid streams with their true size: they must decode.
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.as_deref().is_some_and(|n| n.starts_with("seed-")) {
            assert!(decoded, "{}: seed does not decode", path.display());
        }
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}

/// The fuzz target's body (keep in sync with `fuzz/fuzz_targets/decode.rs`): bytes
/// 0..8 are the stream size (little-endian u64), 8..16 a range start and length (two
/// little-endian u32), the rest is the stream. Returns whether the whole decode succeeded.
fn fuzz_one(data: &[u8]) -> bool {
    if data.len() < 16 {
        return false;
    }
    let word = |a: usize, b: usize| {
        data[a..b]
            .iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
    };
    let size = word(0, 8);
    let start = word(8, 12);
    let len = word(12, 16);
    let stream = &data[16..];
    let whole = decode(stream, size);
    if let Ok(d) = &whole {
        assert_eq!(
            Some(d.samples.len() as u64),
            size.checked_mul(u64::from(d.info.channels))
        );
    }
    let end = start.saturating_add(len);
    if let Ok(d) = decode_range(stream, size, start..end) {
        assert_eq!(d.samples.len() as u64, len * u64::from(d.info.channels));
    }
    whole.is_ok()
}

/// A minimal MSB-first bit writer for hand-made streams.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn put(&mut self, value: u64, n: u32) {
        for i in (0..n).rev() {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            let last = self.bytes.len() - 1;
            self.bytes[last] |= bit << (7 - self.used % 8);
            self.used += 1;
        }
    }
    fn put_signed(&mut self, value: i64, n: u32) {
        self.put((value as u64) & ((1u64 << n) - 1), n);
    }
    fn finish(self) -> Vec<u8> {
        // Zero padding to a byte boundary is already in place.
        self.bytes
    }
}

fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |mut c, &b| {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
        c
    })
}

fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |mut c, &b| {
        c ^= u16::from(b) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
        }
        c
    })
}

/// A mono 32-bit stream of one frame of `n` samples (2..=256) whose single subframe is
/// written by `subframe`; all headers and CRCs are valid.
fn one_frame_stream(n: u32, subframe: impl FnOnce(&mut Bits) + 'static) -> Vec<u8> {
    let subframe: Subframe = Box::new(subframe);
    frames_stream(n, vec![subframe]).0
}

/// Writes one subframe.
type Subframe = Box<dyn FnOnce(&mut Bits)>;

/// A mono 32-bit stream of one frame of `n` samples (2..=256) per subframe writer
/// (at most 128 frames), all headers and CRCs valid; also returns each frame's
/// byte offset.
fn frames_stream(n: u32, subframes: Vec<Subframe>) -> (Vec<u8>, Vec<usize>) {
    sized_frames_stream(n, subframes.into_iter().map(|s| (n, s)).collect())
}

/// Like [`frames_stream`], with each frame's length (1..=256) given and STREAMINFO's
/// block size `n`: a fixed-block-size stream when every length but the last is `n`
/// and the last is not longer.
fn sized_frames_stream(n: u32, frames: Vec<(u32, Subframe)>) -> (Vec<u8>, Vec<usize>) {
    let total: u64 = frames.iter().map(|f| u64::from(f.0)).sum();
    let mut info = Bits::default();
    info.put(1, 1); // last metadata block
    info.put(0, 7); // STREAMINFO
    info.put(34, 24);
    info.put(u64::from(n), 16); // min block size
    info.put(u64::from(n), 16); // max block size
    info.put(0, 24); // min frame size
    info.put(0, 24); // max frame size
    info.put(44_100, 20);
    info.put(0, 3); // 1 channel
    info.put(31, 5); // 32 bits per sample
    info.put(total, 36); // total samples
    info.put(0, 64); // MD5
    info.put(0, 64);
    let mut stream = b"fLaC".to_vec();
    stream.extend(info.finish());
    let mut offsets = Vec::new();
    for (number, (n, subframe)) in frames.into_iter().enumerate() {
        let mut hdr = Bits::default();
        hdr.put(0xFFF8, 16); // sync, fixed block size
        hdr.put(0b0110, 4); // block size: 8 bits (n - 1) at the end of the header
        hdr.put(0, 4); // sample rate from STREAMINFO
        hdr.put(0, 4); // mono
        hdr.put(0b111, 3); // 32 bits per sample
        hdr.put(0, 1);
        hdr.put(number as u64, 8); // frame number (below 128: one byte)
        hdr.put(u64::from(n - 1), 8);
        let mut frame = hdr.finish();
        frame.push(crc8(&frame));
        let mut sub = Bits::default();
        subframe(&mut sub);
        frame.extend(sub.finish());
        let crc = crc16(&frame);
        frame.extend(crc.to_be_bytes());
        offsets.push(stream.len());
        stream.extend(frame);
    }
    (stream, offsets)
}

/// Frames are read a few ahead of restoring their predictors; errors and output must
/// still be those of decoding frame by frame: the first bad frame's error, and every
/// frame before it handed out, whatever the frames after it hold.
#[test]
fn errors_come_in_frame_order() {
    let n = 64u32;
    let good = |k: i32| -> Subframe { Box::new(lpc_subframe(n, &[k, k], &[1, 0], 0)) };
    let bad = || -> Subframe { Box::new(lpc_subframe(n, &[i32::MAX, i32::MAX], &[16383, 0], 0)) };
    for bad_at in 0..6usize {
        for scalar in [false, true] {
            flacarray_flac::force_scalar(scalar);
            let frames: Vec<Subframe> = (0..8)
                .map(|f| {
                    if f == bad_at {
                        bad()
                    } else {
                        good(f as i32 * 10)
                    }
                })
                .collect();
            let (stream, offsets) = frames_stream(n, frames);
            let total = u64::from(n) * 8;
            let err = decode(&stream, total).expect_err("overflowing frame");
            assert_eq!(
                err,
                flacarray_flac::Error::Corrupt {
                    what: "predicted sample exceeds 32 bits",
                    offset: offsets[bad_at],
                },
                "bad frame {bad_at}"
            );
            // A later frame cut short does not hide the earlier error.
            let cut = &stream[..offsets[(bad_at + 2).min(7)] + 9];
            let err2 = decode(cut, total).expect_err("overflowing frame");
            assert_eq!(err2, err, "bad frame {bad_at}, truncated stream");
            // Every frame before the bad one reaches a sink, with its samples.
            let mut got = Vec::new();
            let r = flacarray_flac::Decoder::new().decode_with(&stream, Some(total), None, |s| {
                got.extend_from_slice(s);
                Ok(())
            });
            assert_eq!(r.expect_err("overflowing frame"), err);
            let want: Vec<i32> = (0..bad_at)
                .flat_map(|f| std::iter::repeat_n(f as i32 * 10, n as usize))
                .collect();
            assert_eq!(got, want, "bad frame {bad_at}");
        }
    }
    flacarray_flac::force_scalar(false);
}

/// An LPC subframe: `warmup.len()` = order, 15-bit coefficients, Rice parameter 0 with
/// all residuals zero.
fn lpc_subframe(
    n: u32,
    warmup: &[i32],
    coefs: &[i32],
    shift: i64,
) -> impl FnOnce(&mut Bits) + use<> {
    let (warmup, coefs) = (warmup.to_vec(), coefs.to_vec());
    move |b: &mut Bits| {
        let order = warmup.len() as u64;
        b.put(0, 1);
        b.put(0b10_0000 | (order - 1), 6);
        b.put(0, 1);
        for &w in &warmup {
            b.put_signed(i64::from(w), 32);
        }
        b.put(14, 4); // precision 15 bits
        b.put_signed(shift, 5);
        for &c in &coefs {
            b.put_signed(i64::from(c), 15);
        }
        b.put(0, 2); // Rice, 4-bit parameters
        b.put(0, 4); // partition order 0
        b.put(0, 4); // parameter 0
        for _ in 0..(u64::from(n) - order) {
            b.put(1, 1); // residual 0
        }
    }
}

/// A FIXED subframe of the given warm-up (order = its length), residuals all zero.
fn fixed_subframe(n: u32, warmup: &[i32]) -> impl FnOnce(&mut Bits) + use<> {
    let warmup = warmup.to_vec();
    move |b: &mut Bits| {
        let order = warmup.len() as u64;
        b.put(0, 1);
        b.put(0b00_1000 | order, 6);
        b.put(0, 1);
        for &w in &warmup {
            b.put_signed(i64::from(w), 32);
        }
        b.put(0, 2);
        b.put(0, 4);
        b.put(0, 4);
        for _ in 0..(u64::from(n) - order) {
            b.put(1, 1);
        }
    }
}

/// The hand-made streams are well formed: benign predictors decode to the expected
/// samples (so the hostile ones below fail for the intended reason).
#[test]
fn hand_made_streams_decode() {
    let n = 16;
    let s = one_frame_stream(n, lpc_subframe(n, &[5], &[1], 0));
    assert_eq!(
        decode(&s, 16).expect("LPC x[i] = x[i-1]").samples,
        vec![5; 16]
    );
    // x[i] = 2 x[i-1] - x[i-2]: a ramp.
    let s = one_frame_stream(n, lpc_subframe(n, &[10, 13], &[2, -1], 0));
    let ramp: Vec<i32> = (0..16).map(|i| 10 + 3 * i).collect();
    assert_eq!(decode(&s, 16).expect("LPC ramp").samples, ramp);
    let s = one_frame_stream(n, fixed_subframe(n, &[10, 13]));
    assert_eq!(decode(&s, 16).expect("FIXED ramp").samples, ramp);
}

/// Predictors that diverge (samples past 32 bits, then past 64 bits in the
/// accumulator) must be reported as corrupt data, never overflow or panic. A decoder
/// that keeps unclipped predictions in its history overflowed `i64` on the first one.
#[test]
fn diverging_predictors_are_errors_not_panics() {
    let n = 200;
    let mut cases = vec![
        (
            "LPC order 1, coefficient 16383, shift 0",
            one_frame_stream(n, lpc_subframe(n, &[i32::MAX], &[16383], 0)),
        ),
        (
            "LPC order 1, coefficient -16384, shift 0",
            one_frame_stream(n, lpc_subframe(n, &[i32::MIN], &[-16384], 0)),
        ),
        (
            "LPC order 32, all coefficients 16383",
            one_frame_stream(n, lpc_subframe(n, &[i32::MAX; 32], &[16383; 32], 0)),
        ),
        (
            "LPC order 2, x[i] = 2 x[i-1] - x[i-2] from the extremes",
            one_frame_stream(n, lpc_subframe(n, &[i32::MIN, i32::MAX], &[2, -1], 0)),
        ),
        (
            "FIXED order 4 from alternating extremes",
            one_frame_stream(
                n,
                fixed_subframe(n, &[i32::MAX, i32::MIN, i32::MAX, i32::MIN]),
            ),
        ),
        (
            "FIXED order 2 from the extremes",
            one_frame_stream(n, fixed_subframe(n, &[i32::MIN, i32::MAX])),
        ),
    ];
    // A negative LPC shift is forbidden by RFC 9639.
    cases.push((
        "LPC negative shift",
        one_frame_stream(n, lpc_subframe(n, &[1], &[1], -3)),
    ));
    for (name, stream) in cases {
        let result = decode(&stream, u64::from(n));
        assert!(
            result.is_err(),
            "{name}: decoded to {:?}",
            result.map(|d| d.samples.len())
        );
        assert!(
            decode_range(&stream, u64::from(n), 100..101).is_err(),
            "{name}"
        );
    }
}

/// One subframe of a hand-made frame, with what it decodes to.
#[derive(Clone, Debug)]
enum Sub {
    Constant(i32),
    /// FIXED predictor: warm-up (its length is the order, 0..=4) and residuals.
    Fixed(Vec<i32>, Vec<i32>),
    /// LPC: warm-up (order), coefficients (15 bits), shift, residuals.
    Lpc(Vec<i32>, Vec<i32>, u32, Vec<i32>),
}

impl Sub {
    /// The samples, or `None` when one leaves 32 bits (the frame is corrupt).
    fn samples(&self, n: usize) -> Option<Vec<i32>> {
        let (warm, res) = match self {
            Sub::Constant(v) => return Some(vec![*v; n]),
            Sub::Fixed(w, r) | Sub::Lpc(w, _, _, r) => (w, r),
        };
        let mut x: Vec<i64> = warm.iter().map(|&v| i64::from(v)).collect();
        for &e in res {
            let i = x.len();
            let p = match self {
                Sub::Lpc(_, c, shift, _) => {
                    let sum: i64 = c
                        .iter()
                        .enumerate()
                        .map(|(j, &q)| i64::from(q) * x[i - 1 - j])
                        .sum();
                    sum >> shift
                }
                _ => match warm.len() {
                    0 => 0,
                    1 => x[i - 1],
                    2 => 2 * x[i - 1] - x[i - 2],
                    3 => 3 * x[i - 1] - 3 * x[i - 2] + x[i - 3],
                    _ => 4 * x[i - 1] - 6 * x[i - 2] + 4 * x[i - 3] - x[i - 4],
                },
            };
            let v = i64::from(e) + p;
            i32::try_from(v).ok()?;
            x.push(v);
        }
        Some(x.into_iter().map(|v| v as i32).collect())
    }

    /// The subframe's bits: Rice parameter `k` (below 15), partition order 0.
    fn writer(self, k: u32) -> Subframe {
        Box::new(move |b: &mut Bits| {
            b.put(0, 1);
            let (warm, res) = match &self {
                Sub::Constant(v) => {
                    b.put(0, 6);
                    b.put(0, 1);
                    b.put_signed(i64::from(*v), 32);
                    return;
                }
                Sub::Fixed(w, r) => {
                    b.put(0b00_1000 | w.len() as u64, 6);
                    (w, r)
                }
                Sub::Lpc(w, _, _, r) => {
                    b.put(0b10_0000 | (w.len() as u64 - 1), 6);
                    (w, r)
                }
            };
            b.put(0, 1);
            for &w in warm {
                b.put_signed(i64::from(w), 32);
            }
            if let Sub::Lpc(_, c, shift, _) = &self {
                b.put(14, 4); // precision 15 bits
                b.put_signed(i64::from(*shift), 5);
                for &q in c {
                    b.put_signed(i64::from(q), 15);
                }
            }
            b.put(0, 2); // Rice, 4-bit parameters
            b.put(0, 4); // partition order 0
            b.put(u64::from(k), 4);
            for &e in res {
                let u = ((i64::from(e) << 1) ^ (i64::from(e) >> 63)) as u64;
                b.put(1, (u >> k) as u32 + 1); // unary quotient: zeros, then a one
                b.put(u & ((1 << k) - 1), k);
            }
        })
    }
}

/// A random subframe of `n` samples: mostly LPC of orders 1..=16 (the four-at-a-time
/// restore takes orders up to 12; the common shift scales coefficients of lanes with
/// smaller shifts), some FIXED and constant; `bad` makes an LPC subframe that leaves
/// 32 bits.
fn random_sub(rng: &mut StdRng, n: usize, bad: bool, k: u32) -> Sub {
    let res = |rng: &mut StdRng, order: usize| -> Vec<i32> {
        let m = 1i32 << k;
        (order..n).map(|_| rng.random_range(-m..m)).collect()
    };
    // Warm-up samples near one level, so that polynomial predictors start smooth.
    let warm = |rng: &mut StdRng, order: usize| -> Vec<i32> {
        let level = rng.random_range(-1 << 20..1 << 20);
        (0..order)
            .map(|_| level + rng.random_range(-8..8))
            .collect()
    };
    let order_max = 16.min(n - 1);
    if bad {
        let order = rng.random_range(1..=order_max);
        let mut c = vec![0; order];
        c[0] = 16383;
        let w = vec![i32::MAX - rng.random_range(0..1000); order];
        return Sub::Lpc(w, c, 0, vec![0; n - order]);
    }
    match rng.random_range(0..10) {
        0 => Sub::Constant(rng.random()),
        1 | 2 => {
            let order = rng.random_range(0..=4.min(n - 1));
            Sub::Fixed(warm(rng, order), res(rng, order))
        }
        _ => {
            let order = rng.random_range(1..=order_max);
            let base: &[i32] = [&[1][..], &[2, -1], &[3, -3, 1]][rng.random_range(0..3)];
            let shift = rng.random_range(0..=12u32);
            let mut c = vec![0i32; order];
            for (j, q) in c.iter_mut().enumerate() {
                *q = base.get(j).copied().unwrap_or(0) << shift;
            }
            // Coefficients that are not exact multiples of 2^shift (a decaying
            // first-order predictor stays bounded).
            if base.len() == 1 && shift >= 4 {
                c[order - 1] = rng.random_range(-3..=3);
            }
            Sub::Lpc(warm(rng, order), c, shift, res(rng, order))
        }
    }
}

/// Frames whose LPC subframes are restored in groups of four (with dummy lanes when
/// fewer are pending, and in segments when the last frame is shorter) decode exactly
/// as frame by frame: random mono streams of 1..=13 frames (counts that are not
/// multiples of four, non-LPC frames between LPC ones, orders and shifts that differ,
/// a short last frame), decoded whole, by sample ranges that start and end inside
/// frames and on their boundaries, by frame runs, and through a sink; each against a
/// model of the samples, with the first overflowing frame's error when there is one.
/// Both compiled copies of the kernels, and one decoder reused across streams.
#[test]
fn grouped_lpc_restore_decodes_as_frame_by_frame() {
    use flacarray_flac::{Decoder, Error};
    let mut rng = StdRng::seed_from_u64(1313);
    let mut reused = Decoder::new();
    let (mut clean, mut failing, mut short_last) = (0, 0, 0);
    for trial in 0..400 {
        let n = rng.random_range(17..=256usize);
        let frames = rng.random_range(1..=13usize);
        let last = if rng.random_bool(0.6) {
            rng.random_range(2..=n)
        } else {
            n
        };
        let bad_at = rng.random_bool(0.4).then(|| rng.random_range(0..frames));
        let k = rng.random_range(0..6);
        let mut subs = Vec::new();
        for f in 0..frames {
            let len = if f + 1 == frames { last } else { n };
            subs.push((len, random_sub(&mut rng, len, bad_at == Some(f), k)));
        }
        short_last += usize::from(last < n && frames > 1);
        let model: Vec<Option<Vec<i32>>> = subs.iter().map(|(len, s)| s.samples(*len)).collect();
        let starts: Vec<u64> = std::iter::once(0)
            .chain(subs.iter().scan(0u64, |acc, (len, _)| {
                *acc += *len as u64;
                Some(*acc)
            }))
            .collect();
        let total = starts[frames];
        let (stream, offsets) = sized_frames_stream(
            n as u32,
            subs.into_iter()
                .map(|(len, s)| (len as u32, s.writer(k)))
                .collect(),
        );
        // Every frame's samples, zeros in place of a bad frame's.
        let all: Vec<i32> = model
            .iter()
            .zip(starts.windows(2))
            .flat_map(|(m, w)| m.clone().unwrap_or_else(|| vec![0; (w[1] - w[0]) as usize]))
            .collect();
        let overflow = |f: usize| Error::Corrupt {
            what: "predicted sample exceeds 32 bits",
            offset: offsets[f],
        };
        // What decoding samples `a..b` gives: the frames that overlap it are decoded
        // (all the frames to the end when `b` is the end), the first bad one fails.
        let expect = |a: u64, b: u64| -> Result<Vec<i32>, Error> {
            let first_bad = (0..frames).find(|&f| {
                starts[f + 1] > a && (starts[f] < b || b == total) && model[f].is_none()
            });
            match first_bad {
                Some(f) => Err(overflow(f)),
                None => Ok(all[a as usize..b as usize].to_vec()),
            }
        };
        if model.iter().all(Option::is_some) {
            clean += 1;
        } else {
            failing += 1;
        }
        let mut cuts: Vec<u64> = starts.clone();
        for _ in 0..4 {
            cuts.push(rng.random_range(0..=total));
        }
        for scalar in [false, true] {
            flacarray_flac::force_scalar(scalar);
            let ctx = format!("trial {trial} scalar {scalar} frames {frames} n {n} last {last}");
            let whole = decode(&stream, total).map(|d| d.samples);
            assert_eq!(whole, expect(0, total), "{ctx}");
            for &a in &cuts {
                for &b in &cuts {
                    if a > b {
                        continue;
                    }
                    // Stale values in the output (mono frames are decoded in place).
                    let mut out = vec![i32::MIN + 7; (b - a) as usize];
                    let got = reused
                        .decode_range_into(&stream, total, a..b, &mut out)
                        .map(|_| out);
                    assert_eq!(got, expect(a, b), "{ctx} range {a}..{b}");
                }
            }
            // Frame runs: frames `f..=g` from frame `f`'s byte offset.
            for f in 0..frames {
                let g = rng.random_range(f..frames);
                let (a, b) = (starts[f], starts[g + 1]);
                let mut out = vec![i32::MAX - 7; (b - a) as usize];
                let got = reused
                    .decode_frames_into(&stream, total, offsets[f], f as u64, &mut out)
                    .map(|end| (end, out));
                let end = offsets.get(g + 1).copied().unwrap_or(stream.len());
                assert_eq!(
                    got,
                    expect(a, b).map(|v| (end, v)),
                    "{ctx} frames {f}..={g}"
                );
            }
            // A sink receives every frame before the first bad one.
            let mut got = Vec::new();
            let r = Decoder::new().decode_with(&stream, Some(total), None, |s| {
                got.extend_from_slice(s);
                Ok(())
            });
            let first_bad = model.iter().position(Option::is_none);
            let upto = first_bad.map_or(total, |f| starts[f]) as usize;
            assert_eq!(got, all[..upto], "{ctx} sink");
            assert_eq!(r.err(), first_bad.map(overflow), "{ctx} sink");
            // Cut inside a frame: an error, the overflow of an earlier frame if any.
            if frames > 1 {
                let c = rng.random_range(1..frames);
                let cut = &stream[..offsets[c] + rng.random_range(1..8)];
                let e = decode(cut, total).expect_err("truncated stream");
                match model[..c].iter().position(Option::is_none) {
                    Some(f) => assert_eq!(e, overflow(f), "{ctx} cut in frame {c}"),
                    None => assert!(
                        !matches!(e, Error::Corrupt { offset, .. } if offset < offsets[c]),
                        "{ctx} cut in frame {c}: {e:?}"
                    ),
                }
            }
        }
    }
    flacarray_flac::force_scalar(false);
    assert!(
        clean > 100 && failing > 100,
        "{clean} clean, {failing} failing"
    );
    assert!(short_last > 100, "{short_last} short last frames");
}
