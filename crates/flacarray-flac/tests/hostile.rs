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
        fuzz_one(&data);
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}

/// The fuzz target's body (keep in sync with `fuzz/fuzz_targets/decode.rs`): bytes
/// 0..8 are the stream size (little-endian u64), 8..16 a range start and length (two
/// little-endian u32), the rest is the stream.
fn fuzz_one(data: &[u8]) {
    if data.len() < 16 {
        return;
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
    if let Ok(d) = decode(stream, size) {
        assert_eq!(
            Some(d.samples.len() as u64),
            size.checked_mul(u64::from(d.info.channels))
        );
    }
    let end = start.saturating_add(len);
    if let Ok(d) = decode_range(stream, size, start..end) {
        assert_eq!(d.samples.len() as u64, len * u64::from(d.info.channels));
    }
}
