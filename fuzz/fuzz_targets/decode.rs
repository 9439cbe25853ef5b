//! Fuzz target: the decoder on arbitrary bytes.
//!
//! Input layout (keep in sync with `fuzz_one` in `crates/flacarray-flac/tests/hostile.rs`,
//! which replays `fuzz/regressions/`): bytes 0..8 are the stream size (little-endian
//! u64), bytes 8..12 a range start and 12..16 a range length (little-endian u32), the
//! rest is the FLAC stream. Shorter inputs are ignored.
//!
//! A panic is a bug; so is an `Ok` whose sample count is not the one asked for.
#![no_main]

use flacarray_flac::{decode, decode_range};
use libfuzzer_sys::fuzz_target;

fn word(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let size = word(&data[0..8]);
    let start = word(&data[8..12]);
    let len = word(&data[12..16]);
    let stream = &data[16..];
    if let Ok(d) = decode(stream, size) {
        assert_eq!(
            Some(d.samples.len() as u64),
            size.checked_mul(u64::from(d.info.channels))
        );
    }
    if let Ok(d) = decode_range(stream, size, start..start + len) {
        assert_eq!(d.samples.len() as u64, len * u64::from(d.info.channels));
    }
});
