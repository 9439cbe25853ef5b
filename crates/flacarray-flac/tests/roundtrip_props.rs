//! Property tests: every signal shape round-trips exactly at every level, with one and
//! two channels, at 32 bits per sample and at 8/16/24 bits with in-range samples.
//!
//! Signals are drawn from a seed so that proptest shrinks over the length, the shapes
//! and the seed rather than over 20000 individual samples.

use flacarray_flac::{EncoderConfig, decode, encode, read_stream_info};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The shapes a channel's signal can take.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Every sample equals the value.
    Constant(i32),
    /// All zeros.
    Zeros,
    /// Uniform over the whole sample range (incompressible).
    Noise,
    /// `MIN, MAX, MIN, MAX, ...`: the largest possible residuals.
    Alternating,
    /// A smooth sine of the given amplitude (fraction of full scale) and period.
    Sine { amplitude: f64, period: f64 },
    /// Gaussian-ish noise of `sigma` riding on a random walk with steps of `drift`.
    DriftNoise { sigma: f64, drift: f64 },
    /// Piecewise constant: a new full-range level every `width` samples.
    Steps { width: usize },
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        any::<i32>().prop_map(Shape::Constant),
        Just(Shape::Zeros),
        Just(Shape::Noise),
        Just(Shape::Alternating),
        (1e-9f64..1.0, 2.0f64..5000.0)
            .prop_map(|(amplitude, period)| Shape::Sine { amplitude, period }),
        (0.0f64..1e7, 0.0f64..1e5).prop_map(|(sigma, drift)| Shape::DriftNoise { sigma, drift }),
        (1usize..3000).prop_map(|width| Shape::Steps { width }),
    ]
}

/// Saturates a real value into `i32`.
fn sat(v: f64) -> i32 {
    v.round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// `n` samples of `shape` at full 32-bit scale.
fn generate(shape: Shape, n: usize, rng: &mut StdRng) -> Vec<i32> {
    match shape {
        Shape::Constant(c) => vec![c; n],
        Shape::Zeros => vec![0; n],
        Shape::Noise => (0..n).map(|_| rng.random::<i32>()).collect(),
        Shape::Alternating => (0..n)
            .map(|i| if i % 2 == 0 { i32::MIN } else { i32::MAX })
            .collect(),
        Shape::Sine { amplitude, period } => {
            let phase = rng.random_range(0.0..std::f64::consts::TAU);
            (0..n)
                .map(|i| {
                    let x = std::f64::consts::TAU * i as f64 / period + phase;
                    sat(amplitude * f64::from(i32::MAX) * x.sin())
                })
                .collect()
        }
        Shape::DriftNoise { sigma, drift } => {
            let mut level = rng.random_range(-1e8..1e8);
            (0..n)
                .map(|_| {
                    level += drift * (rng.random::<f64>() - 0.5);
                    let noise = sigma * (rng.random::<f64>() + rng.random::<f64>() - 1.0);
                    sat(level + noise)
                })
                .collect()
        }
        Shape::Steps { width } => {
            let mut level = rng.random::<i32>();
            (0..n)
                .map(|i| {
                    if i % width == 0 {
                        level = rng.random::<i32>();
                    }
                    level
                })
                .collect()
        }
    }
}

/// Interleaved samples for `shapes.len()` channels, scaled into `bits` bits.
fn signal(shapes: &[Shape], n: usize, seed: u64, bits: u32) -> Vec<i32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let chans: Vec<Vec<i32>> = shapes.iter().map(|&s| generate(s, n, &mut rng)).collect();
    let shift = 32 - bits;
    (0..n)
        .flat_map(|i| chans.iter().map(move |c| c[i] >> shift))
        .collect()
}

fn config(level: u8, channels: u32, bits: u32) -> EncoderConfig {
    EncoderConfig {
        level,
        channels,
        bits_per_sample: bits,
        ..EncoderConfig::default()
    }
}

/// Encodes `samples` at every level and checks the exact round trip and STREAMINFO.
fn check_all_levels(samples: &[i32], n: usize, channels: u32, bits: u32) {
    for level in 0..=8u8 {
        let cfg = config(level, channels, bits);
        let bytes =
            encode(samples, &cfg).unwrap_or_else(|e| panic!("level {level}: encode failed: {e}"));
        let info = read_stream_info(&bytes).expect("own STREAMINFO parses");
        assert_eq!(info.channels, channels);
        assert_eq!(info.bits_per_sample, bits);
        assert_eq!(info.total_samples, n as u64);
        let expected_block = if level <= 2 { 1152 } else { 4096 };
        assert_eq!(info.max_block_size, expected_block, "level {level}");
        let decoded = decode(&bytes, n as u64)
            .unwrap_or_else(|e| panic!("level {level}: decode failed: {e}"));
        assert_eq!(decoded.info, info);
        if decoded.samples != samples {
            let at = decoded
                .samples
                .iter()
                .zip(samples)
                .position(|(a, b)| a != b);
            panic!(
                "level {level}: decoded samples differ (lengths {} vs {}, first difference at {at:?})",
                decoded.samples.len(),
                samples.len()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn round_trip_32_bit_mono(n in 1usize..20_000, s in shape(), seed in any::<u64>()) {
        let samples = signal(&[s], n, seed, 32);
        check_all_levels(&samples, n, 1, 32);
    }

    #[test]
    fn round_trip_32_bit_stereo(
        n in 1usize..20_000,
        left in shape(),
        right in shape(),
        seed in any::<u64>(),
    ) {
        let samples = signal(&[left, right], n, seed, 32);
        check_all_levels(&samples, n, 2, 32);
    }

    #[test]
    fn round_trip_narrow_samples(
        n in 1usize..20_000,
        bits in prop_oneof![Just(8u32), Just(16u32), Just(24u32)],
        channels in 1u32..=2,
        left in shape(),
        right in shape(),
        seed in any::<u64>(),
    ) {
        let shapes = [left, right];
        let samples = signal(&shapes[..channels as usize], n, seed, bits);
        let lo = -(1i32 << (bits - 1));
        let hi = (1i32 << (bits - 1)) - 1;
        prop_assert!(samples.iter().all(|&v| (lo..=hi).contains(&v)));
        check_all_levels(&samples, n, channels, bits);
    }
}

/// Worst cases for stereo decorrelation: the side channel `left - right` needs 33 bits.
#[test]
fn extreme_stereo_pairs_round_trip() {
    let n = 5000;
    let patterns: [(i32, i32); 4] = [
        (i32::MIN, i32::MAX),
        (i32::MAX, i32::MIN),
        (i32::MIN, i32::MIN),
        (i32::MAX, i32::MAX),
    ];
    for (k, &(a, b)) in patterns.iter().enumerate() {
        let samples: Vec<i32> = (0..n)
            .flat_map(|i| {
                if (i / (k + 1)) % 2 == 0 {
                    [a, b]
                } else {
                    [b, a]
                }
            })
            .collect();
        check_all_levels(&samples, n, 2, 32);
    }
}

/// An encoder with a VORBIS_COMMENT vendor block and MD5 still round-trips, and the MD5
/// is filled in.
#[test]
fn vendor_block_and_md5_round_trip() {
    let n = 3000;
    let samples = signal(
        &[Shape::Sine {
            amplitude: 0.3,
            period: 100.0,
        }],
        n,
        9,
        32,
    );
    let cfg = EncoderConfig {
        md5: true,
        vendor: Some("flacarray-rs test".to_string()),
        ..config(5, 1, 32)
    };
    let bytes = encode(&samples, &cfg).expect("encode");
    let decoded = decode(&bytes, n as u64).expect("decode");
    assert_eq!(decoded.samples, samples);
    assert_ne!(decoded.info.md5, [0u8; 16]);
    let plain = encode(&samples, &config(5, 1, 32)).expect("encode");
    assert_eq!(read_stream_info(&plain).expect("info").md5, [0u8; 16]);
    assert!(bytes.len() > plain.len());
}
