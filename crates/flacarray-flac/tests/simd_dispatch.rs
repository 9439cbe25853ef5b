//! The CPU-specific codec (AVX2, BMI2, LZCNT copies chosen at run time) and the
//! portable one give identical results: the same bytes from the encoder, the same
//! samples for valid streams and the same error for damaged ones. One test function, since `force_scalar` switches the
//! whole process.

use flacarray_flac::{Decoder, EncoderConfig, accelerated, decode, encode, force_scalar};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn signal(rng: &mut StdRng, n: usize, kind: u32) -> Vec<i32> {
    let mut walk = 0.0f64;
    (0..n)
        .map(|i| match kind {
            0 => {
                walk += rng.random_range(-50.0..50.0);
                (walk + 1e5 * (i as f64 * 0.003).sin()) as i32
            }
            1 => rng.random::<i32>(),
            2 => ((i as f64 * 0.01).sin() * 2.1e9) as i32,
            _ => rng.random_range(-3..=3),
        })
        .collect()
}

#[test]
fn accelerated_and_portable_codecs_agree() {
    let mut rng = StdRng::seed_from_u64(20_261_206);
    let mut streams = Vec::new();
    for level in [0u8, 3, 5, 8] {
        for kind in 0..4 {
            for channels in [1u32, 2] {
                let n = 20_001 + rng.random_range(0..5000usize);
                let samples = signal(&mut rng, n * channels as usize, kind);
                let config = EncoderConfig {
                    level,
                    channels,
                    block_size: Some([4096, 1152, 577][kind as usize % 3]),
                    ..Default::default()
                };
                // The encoder's two copies choose the same predictors, byte for byte.
                force_scalar(true);
                let portable = encode(&samples, &config).expect("encodes");
                force_scalar(false);
                let bytes = encode(&samples, &config).expect("encodes");
                assert_eq!(
                    bytes, portable,
                    "level {level}, signal {kind}, {channels} ch"
                );
                streams.push((bytes, samples, n as u64));
            }
        }
    }
    let mut dec = Decoder::new();
    let mut damaged = 0;
    for (bytes, samples, n) in &streams {
        force_scalar(true);
        assert!(!accelerated());
        let portable = decode(bytes, *n).expect("decodes");
        force_scalar(false);
        let fast = decode(bytes, *n).expect("decodes");
        assert_eq!(&portable.samples, samples);
        assert_eq!(fast, portable);
        // Ranges go through the same batching of frames.
        let (a, b) = (n / 3, n / 3 + n / 4);
        let mut part = vec![0; ((b - a) * u64::from(portable.info.channels)) as usize];
        dec.decode_range_into(bytes, *n, a..b, &mut part)
            .expect("decodes");
        let c = portable.info.channels as usize;
        assert_eq!(part, samples[a as usize * c..b as usize * c]);
        // Damaged copies: both decoders report the same error (or the same samples).
        for _ in 0..40 {
            let mut bad = bytes.clone();
            let at = rng.random_range(42..bad.len());
            bad[at] ^= 1 << rng.random_range(0..8);
            force_scalar(true);
            let portable = decode(&bad, *n);
            force_scalar(false);
            let fast = decode(&bad, *n);
            damaged += usize::from(portable.is_err());
            assert_eq!(fast, portable, "flip at byte {at}");
        }
    }
    assert!(damaged > 100, "{damaged} damaged streams refused");
}
