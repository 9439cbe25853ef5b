//! The `read_store` fuzz target's body on stable: seeds built from real stores, each
//! replayed and then mutated at random (byte flips, splices, truncations, table words
//! set to edge values), for `FUZZ_ITERS` inputs (default 3000) or `FUZZ_SECS` seconds
//! (default 20), whichever ends first. `scripts/fuzz-ci.sh` runs it with a time bound.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use flacarray_core::conformance::synth_array;
use flacarray_core::fuzzing::{HostileStore, fuzz_read};
use flacarray_core::{CompressOptions, DType, FlacArray, QuantaOption, StreamScaling};

fn seed_of(fa: &FlacArray) -> Vec<u8> {
    let (offs, gains): (Vec<u32>, Vec<u32>) = match fa.scaling() {
        StreamScaling::F32 { offsets, gains } => (
            offsets.iter().map(|v| v.to_bits()).collect(),
            gains.iter().map(|v| v.to_bits()).collect(),
        ),
        StreamScaling::F64 { offsets, gains } => (
            offsets.iter().map(|&v| (v as f32).to_bits()).collect(),
            gains.iter().map(|&v| (v as f32).to_bits()).collect(),
        ),
        _ => (vec![0; fa.n_streams()], vec![0; fa.n_streams()]),
    };
    let mut words = Vec::new();
    for i in 0..fa.n_streams() {
        words.extend([
            fa.stream_starts()[i] as u32,
            fa.stream_nbytes()[i] as u32,
            offs[i],
            gains[i],
        ]);
    }
    let leading: Vec<u16> = fa.leading_shape().iter().map(|&d| d as u16).collect();
    HostileStore::encode(
        fa.dtype(),
        false,
        &leading,
        fa.stream_size() as u64,
        &words,
        fa.compressed(),
    )
}

fn seeds() -> Vec<Vec<u8>> {
    let q = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        ..CompressOptions::default()
    };
    let d = CompressOptions::default();
    vec![
        seed_of(&FlacArray::from_array(&synth_array::<i32>(&[3, 40], 1), &d).unwrap()),
        seed_of(&FlacArray::from_array(&synth_array::<i64>(&[2, 2, 17], 2), &d).unwrap()),
        seed_of(&FlacArray::from_array(&synth_array::<f32>(&[4, 9], 3), &q).unwrap()),
        seed_of(&FlacArray::from_array(&synth_array::<f64>(&[2, 30], 4), &q).unwrap()),
        seed_of(&FlacArray::from_array(&synth_array::<i32>(&[1, 1], 5), &d).unwrap()),
    ]
}

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, mut v: Vec<u8>) -> Vec<u8> {
    const EDGE: [u64; 8] = [0, 1, 51, 52, 0xffff, 1 << 31, u32::MAX as u64, u64::MAX];
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            break;
        }
        match rng.below(6) {
            0 => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 => {
                // A header field or table word set to an edge value.
                let i = rng.below(v.len().min(64));
                let e = EDGE[rng.below(EDGE.len())].to_le_bytes();
                for (k, b) in e.iter().take(4 + 4 * rng.below(2)).enumerate() {
                    if let Some(x) = v.get_mut(i + k) {
                        *x = *b;
                    }
                }
            }
            3 => {
                let n = rng.below(v.len());
                v.truncate(n.max(18));
            }
            4 => {
                // Copy a chunk over another place (streams, table rows).
                let a = rng.below(v.len());
                let b = rng.below(v.len());
                let n = rng.below(64).min(v.len() - a.max(b));
                v.copy_within(a..a + n, b);
            }
            _ => {
                let i = rng.below(v.len());
                v.insert(i, rng.next() as u8);
            }
        }
    }
    v
}

#[test]
fn seeds_read_back() {
    // The harness itself: every seed is a valid store that reads without error.
    for s in seeds() {
        let store = HostileStore::parse(&s).unwrap();
        flacarray_core::read_flacarray(&store, None, true).unwrap();
        fuzz_read(&s);
    }
}

#[test]
fn hand_made_hostile_inputs() {
    // Issue 11 items 7, 10, 11 as fuzz inputs: 60,000 streams sharing one; stream sizes
    // 2^40 and 2^62 over 100 bytes.
    let one = seeds().remove(4);
    let bytes = &one[18 + 16..];
    let words = [0u32, bytes.len() as u32, 0, 0];
    for (lead, size) in [(60_000u16, 10u64), (1, 1 << 40), (1, 1 << 62), (1, u64::MAX)] {
        let input = HostileStore::encode(DType::Int32, false, &[lead], size, &words, bytes);
        let store = HostileStore::parse(&input).unwrap();
        let err = flacarray_core::read_flacarray(&store, None, true).unwrap_err();
        assert!(
            err.to_string().contains("cannot fit") || err.to_string().contains("stream_size"),
            "{err}"
        );
        fuzz_read(&input);
    }
}

#[test]
fn fuzz_replay() {
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let iters = env("FUZZ_ITERS", 3000);
    let until = Instant::now() + Duration::from_secs(env("FUZZ_SECS", 20));
    let seeds = seeds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ env("FUZZ_SEED", 1));
    let mut done = 0u64;
    while done < iters && Instant::now() < until {
        let base = seeds[rng.below(seeds.len())].clone();
        let input = mutate(&mut rng, base);
        fuzz_read(&input);
        done += 1;
    }
    eprintln!("fuzz_replay: {done} inputs");
    assert!(done > 0);
}
