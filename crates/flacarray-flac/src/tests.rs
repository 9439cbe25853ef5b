//! In-crate round trips over the signal shapes that exercise each code path.

use crate::{EncoderConfig, decode, decode_range, encode, read_stream_info};

fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 11
}

fn signals(n: usize) -> Vec<(&'static str, Vec<i32>)> {
    let mut s = 42u64;
    let mut walk = 0i64;
    vec![
        ("zeros", vec![0; n]),
        ("constant", vec![-123456; n]),
        (
            "full-range",
            (0..n).map(|_| (lcg(&mut s) as u32) as i32).collect(),
        ),
        (
            "alternating",
            (0..n)
                .map(|i| if i % 2 == 0 { i32::MIN } else { i32::MAX })
                .collect(),
        ),
        (
            "sine",
            (0..n)
                .map(|i| ((i as f64 * 0.01).sin() * 1.0e9) as i32)
                .collect(),
        ),
        (
            "drift",
            (0..n)
                .map(|_| {
                    walk += (lcg(&mut s) % 201) as i64 - 100;
                    (walk + (lcg(&mut s) % 2001) as i64 - 1000) as i32
                })
                .collect(),
        ),
        (
            "wasted",
            (0..n).map(|i| ((i as i32 * 37) % 1000) << 8).collect(),
        ),
        (
            "steps",
            (0..n)
                .map(|i| {
                    if (i / 700) % 2 == 0 {
                        5_000_000
                    } else {
                        -5_000_000
                    }
                })
                .collect(),
        ),
    ]
}

#[test]
fn mono_round_trips_every_level() {
    for n in [1usize, 2, 3, 17, 1152, 4095, 4097, 9000] {
        for (name, x) in signals(n) {
            for level in 0..=8 {
                let cfg = EncoderConfig {
                    level,
                    ..Default::default()
                };
                let bytes =
                    encode(&x, &cfg).unwrap_or_else(|e| panic!("{name} n={n} level {level}: {e}"));
                let back = decode(&bytes, n as u64)
                    .unwrap_or_else(|e| panic!("{name} n={n} level {level}: {e}"));
                assert_eq!(back.samples, x, "{name} n={n} level {level}");
                let info = read_stream_info(&bytes).map(|i| i.total_samples).ok();
                assert_eq!(info, Some(n as u64));
            }
        }
    }
}

#[test]
fn stereo_round_trips_every_level() {
    for n in [1usize, 5, 4096, 5000] {
        let sig = signals(n);
        for (a, xa) in &sig {
            for (b, xb) in &sig {
                let inter: Vec<i32> = xa.iter().zip(xb).flat_map(|(&l, &r)| [l, r]).collect();
                for level in [0u8, 1, 2, 4, 5, 8] {
                    let cfg = EncoderConfig {
                        level,
                        channels: 2,
                        ..Default::default()
                    };
                    let bytes = encode(&inter, &cfg)
                        .unwrap_or_else(|e| panic!("{a}/{b} n={n} level {level}: {e}"));
                    let back = decode(&bytes, n as u64)
                        .unwrap_or_else(|e| panic!("{a}/{b} n={n} level {level}: {e}"));
                    assert_eq!(back.samples, inter, "{a}/{b} n={n} level {level}");
                }
            }
        }
    }
}

#[test]
fn compresses_smooth_data() {
    let (_, x) = signals(20000).swap_remove(5);
    let bytes = encode(&x, &EncoderConfig::default()).unwrap_or_default();
    // A random walk with +-1000 noise needs about 11-12 bits a sample, not 32.
    assert!(bytes.len() < x.len() * 2, "{} bytes", bytes.len());
}

#[test]
fn ranges_match_full_decode() {
    let (_, x) = signals(10000).swap_remove(5);
    let bytes = encode(&x, &EncoderConfig::default()).unwrap_or_default();
    for (a, b) in [
        (0, 1),
        (4095, 4097),
        (4096, 8192),
        (8191, 10000),
        (9999, 10000),
        (5, 5),
        (0, 10000),
    ] {
        let part = decode_range(&bytes, 10000, a..b).map(|d| d.samples);
        assert_eq!(
            part.as_deref().ok(),
            Some(&x[a as usize..b as usize]),
            "{a}..{b}"
        );
    }
    assert!(decode_range(&bytes, 10000, 0..10001).is_err());
}
