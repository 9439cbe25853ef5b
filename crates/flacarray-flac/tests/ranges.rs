//! Sample-range decoding: every frame boundary and one sample either side, the first
//! and last sample, empty ranges, and out-of-range requests, for short and multi-frame
//! streams at levels 0 (block size 1152) and 5 (block size 4096), one and two channels.
//! Every range must equal the same slice of the full decode.

use std::collections::BTreeSet;
use std::ops::Range;

use flacarray_flac::{
    Decoder, EncoderConfig, Error, decode, decode_range, encode, read_stream_info,
};

const LENGTHS: [u64; 12] = [
    1,
    2,
    3,
    1151,
    1152,
    1153,
    4095,
    4096,
    4097,
    3 * 1152 + 1,
    5 * 4096 + 17,
    20_000,
];

/// A deterministic signal that changes character every few hundred samples, so frames
/// use a mix of subframe types.
fn signal(n: u64, channels: u32) -> Vec<i32> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut out = Vec::new();
    for i in 0..n {
        for c in 0..u64::from(channels) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let t = i as f64;
            let v = match (i / 700) % 4 {
                0 => (1e6 * (t / 37.0 + c as f64).sin()) as i64 + (state % 64) as i64,
                1 => 123_456 - c as i64,
                2 => (state >> 32) as u32 as i32 as i64,
                _ => (i as i64 * 31) - 500_000 + (state % 5) as i64,
            };
            out.push(v as i32);
        }
    }
    out
}

fn config(level: u8, channels: u32) -> EncoderConfig {
    EncoderConfig {
        level,
        channels,
        ..EncoderConfig::default()
    }
}

/// Sets STREAMINFO's total_samples to 0, as flacarray 0.4.1 writes it.
fn clear_total_samples(bytes: &mut [u8]) {
    // STREAMINFO starts at byte 8; total_samples is its bits 108..144: the low nibble
    // of byte 21 and bytes 22..26.
    bytes[21] &= 0xF0;
    bytes[22..26].fill(0);
}

/// The ranges to try for a stream of `n` samples and block size `block`.
fn ranges_for(n: u64, block: u64) -> Vec<Range<u64>> {
    let mut points = BTreeSet::new();
    for p in [0, 1, n.saturating_sub(1), n] {
        points.insert(p.min(n));
    }
    let mut boundary = 0;
    while boundary <= n {
        for p in [boundary.saturating_sub(1), boundary, boundary + 1] {
            if p <= n {
                points.insert(p);
            }
        }
        boundary += block;
    }
    let points: Vec<u64> = points.into_iter().collect();
    let mut ranges = Vec::new();
    for &p in &points {
        ranges.push(p..p); // empty
        if p < n {
            ranges.push(p..p + 1); // one sample
        }
        ranges.push(0..p); // a prefix
        ranges.push(p..n); // a suffix
    }
    // Spans between consecutive interesting points, and across one frame boundary.
    for w in points.windows(2) {
        ranges.push(w[0]..w[1]);
    }
    for w in points.windows(4) {
        ranges.push(w[0]..w[3]);
    }
    ranges
}

fn check_stream(n: u64, channels: u32, level: u8, zero_total: bool) {
    let samples = signal(n, channels);
    let mut bytes = encode(&samples, &config(level, channels)).expect("encode");
    let block: u64 = if level <= 2 { 1152 } else { 4096 };
    let info = read_stream_info(&bytes).expect("info");
    assert_eq!(u64::from(info.max_block_size), block);
    if zero_total {
        clear_total_samples(&mut bytes);
        assert_eq!(read_stream_info(&bytes).expect("info").total_samples, 0);
    }
    let ctx = format!("n={n} channels={channels} level={level} zero_total={zero_total}");
    let full = decode(&bytes, n).expect(&ctx).samples;
    assert_eq!(full, samples, "{ctx}: full decode");

    let ch = channels as usize;
    let mut decoder = Decoder::new();
    for r in ranges_for(n, block) {
        let want = &full[r.start as usize * ch..r.end as usize * ch];
        let got = decode_range(&bytes, n, r.clone())
            .unwrap_or_else(|e| panic!("{ctx}: range {r:?}: {e}"));
        assert_eq!(got.samples, want, "{ctx}: range {r:?}");
        assert_eq!(got.info.channels, channels);
        // The same through a reused decoder and a caller's buffer.
        let mut out = vec![i32::MIN; want.len()];
        decoder
            .decode_range_into(&bytes, n, r.clone(), &mut out)
            .unwrap_or_else(|e| panic!("{ctx}: range_into {r:?}: {e}"));
        assert_eq!(out, want, "{ctx}: range_into {r:?}");
    }

    // Out of range: past the end, start after end, absurd values.
    #[allow(
        clippy::reversed_empty_ranges,
        reason = "the reversed range is the point"
    )]
    let bad: Vec<Range<u64>> = vec![
        0..n + 1,
        n..n + 1,
        n + 1..n + 1,
        1..0,
        n..n - 1,
        u64::MAX - 1..u64::MAX,
        0..u64::MAX,
    ];
    for r in bad {
        let err = decode_range(&bytes, n, r.clone()).expect_err(&format!("{ctx}: range {r:?}"));
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{ctx}: range {r:?} gave {err:?}"
        );
    }
    // An output buffer of the wrong size is refused.
    let mut short = vec![0; (n as usize * ch).saturating_sub(1)];
    assert!(decoder.decode_into(&bytes, n, &mut short).is_err(), "{ctx}");
    let mut long = vec![0; n as usize * ch + 1];
    assert!(decoder.decode_into(&bytes, n, &mut long).is_err(), "{ctx}");
}

#[test]
fn ranges_level_0_mono() {
    for n in LENGTHS {
        check_stream(n, 1, 0, false);
    }
}

#[test]
fn ranges_level_0_stereo() {
    for n in LENGTHS {
        check_stream(n, 2, 0, false);
    }
}

#[test]
fn ranges_level_5_mono() {
    for n in LENGTHS {
        check_stream(n, 1, 5, false);
    }
}

#[test]
fn ranges_level_5_stereo() {
    for n in LENGTHS {
        check_stream(n, 2, 5, false);
    }
}

/// Streams whose STREAMINFO does not record the length (flacarray 0.4.1's) give the
/// same ranges: the short last frame and `stream_size` are all the decoder needs.
#[test]
fn ranges_without_total_samples() {
    for level in [0, 5] {
        for channels in [1, 2] {
            for n in [1, 4096, 4097, 5 * 4096 + 17] {
                check_stream(n, channels, level, true);
            }
        }
    }
}

/// With the length unrecorded, a wrong `stream_size` is caught on a whole decode.
#[test]
fn wrong_stream_size_is_an_error() {
    for level in [0, 5] {
        for n in [1u64, 1152, 4096, 4097, 9000] {
            let samples = signal(n, 1);
            let mut bytes = encode(&samples, &config(level, 1)).expect("encode");
            for zero_total in [false, true] {
                if zero_total {
                    clear_total_samples(&mut bytes);
                }
                for wrong in [n - 1, n + 1, 2 * n, n + 4096] {
                    let err = decode(&bytes, wrong).expect_err(&format!(
                        "n={n} level={level} zero_total={zero_total} stream_size={wrong}"
                    ));
                    assert!(
                        matches!(err, Error::SampleCount { .. } | Error::InvalidArgument(_)),
                        "n={n} stream_size={wrong}: {err:?}"
                    );
                }
            }
        }
    }
}
