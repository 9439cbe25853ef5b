//! Our codec against two independent pure-Rust FLAC implementations at 16 and 24 bits
//! (neither handles 32-bit samples): claxon decodes what our encoder writes, and our
//! decoder decodes what flacenc writes. A few other sample sizes (8, 12, 20 bits)
//! cover the remaining frame-header sample-size codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use flacarray_flac::{EncoderConfig, decode, encode};
use flacenc::component::BitRepr;
use flacenc::error::Verify;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LENGTHS: [usize; 6] = [1, 2, 4095, 4096, 4097, 20_000];

fn limits(bps: u32) -> (i64, i64) {
    (-(1i64 << (bps - 1)), (1i64 << (bps - 1)) - 1)
}

/// Test signals for `bps`-bit samples, `channels` interleaved, `n` per channel.
fn signals(bps: u32, channels: u32, n: usize, seed: u64) -> Vec<(&'static str, Vec<i32>)> {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(bps) << 32) ^ u64::from(channels));
    let (lo, hi) = limits(bps);
    let clamp = |v: i64| v.clamp(lo, hi) as i32;
    let sigma = ((hi as f64) / 2000.0).max(1.0);
    let walk = |rng: &mut StdRng| {
        let mut acc = 0i64;
        (0..n)
            .map(|_| {
                acc = (acc + rng.random_range(-sigma as i64..=sigma as i64)).clamp(lo, hi);
                acc
            })
            .collect::<Vec<i64>>()
    };
    let sine = |amp: f64, period: f64, phase: f64| -> Vec<i64> {
        (0..n)
            .map(|i| {
                (amp * (std::f64::consts::TAU * i as f64 / period + phase).sin()).round() as i64
            })
            .collect()
    };
    let mut channel_sets: Vec<(&'static str, Vec<Vec<i64>>)> = Vec::new();
    let w = walk(&mut rng);
    let noise: Vec<i64> = (0..n).map(|_| rng.random_range(lo..=hi)).collect();
    let extremes: Vec<i64> = (0..n)
        .map(|i| if i.is_multiple_of(2) { lo } else { hi })
        .collect();
    let loud = sine(0.999 * hi as f64, 613.0, 0.4);
    let quiet = sine(0.3 * hi as f64, 97.0, 1.1);
    let steps: Vec<i64> = (0..n).map(|i| [1, 0, -7, lo][(i / 3000) % 4]).collect();
    let shift = bps / 2;
    let wasted: Vec<i64> = w
        .iter()
        .map(|&v| clamp(v >> shift << shift).into())
        .collect();
    if channels == 1 {
        channel_sets.push(("walk", vec![w]));
        channel_sets.push(("full_range_noise", vec![noise]));
        channel_sets.push(("alternating_extremes", vec![extremes]));
        channel_sets.push(("full_scale_sine", vec![loud]));
        channel_sets.push(("quiet_sine", vec![quiet]));
        channel_sets.push(("constant_steps", vec![steps]));
        channel_sets.push(("wasted_bits", vec![wasted]));
    } else {
        let near: Vec<i64> = w
            .iter()
            .map(|&v| clamp(v + rng.random_range(-3..=3)).into())
            .collect();
        let anti: Vec<i64> = loud.iter().map(|&v| -v).collect();
        let bottom: Vec<i64> = w.iter().map(|&v| lo + (v.abs() % 1000)).collect();
        let top: Vec<i64> = w.iter().map(|&v| hi - (v.abs() % 1000)).collect();
        channel_sets.push(("walk_pair_equal", vec![w.clone(), w.clone()]));
        channel_sets.push(("walk_pair_near", vec![w.clone(), near]));
        channel_sets.push(("anti_phase_full_scale", vec![loud, anti]));
        channel_sets.push(("extremes_apart", vec![top, bottom]));
        channel_sets.push(("noise_and_extremes", vec![noise, extremes]));
        channel_sets.push(("steps_and_wasted", vec![steps, wasted]));
    }
    channel_sets
        .into_iter()
        .map(|(name, chans)| {
            let interleaved = (0..n)
                .flat_map(|i| chans.iter().map(move |c| c[i]))
                .map(clamp)
                .collect();
            (name, interleaved)
        })
        .collect()
}

/// Decodes with claxon: (channels, bits per sample, interleaved samples, block sizes).
fn claxon_decode(bytes: &[u8]) -> Result<(u32, u32, Vec<i32>, Vec<u32>), claxon::Error> {
    let mut reader = claxon::FlacReader::new(bytes)?;
    let info = reader.streaminfo();
    let mut samples = Vec::new();
    let mut sizes = Vec::new();
    let mut blocks = reader.blocks();
    let mut buffer = Vec::new();
    while let Some(block) = blocks.read_next_or_eof(buffer)? {
        sizes.push(block.duration());
        for i in 0..block.duration() {
            for ch in 0..block.channels() {
                samples.push(block.sample(ch, i));
            }
        }
        buffer = block.into_buffer();
    }
    Ok((info.channels, info.bits_per_sample, samples, sizes))
}

fn flacenc_encode(interleaved: &[i32], channels: u32, bps: u32, block_size: usize) -> Vec<u8> {
    let mut config = flacenc::config::Encoder::default();
    config.block_size = block_size;
    let config = config.into_verified().map_err(|(_, e)| e).unwrap();
    let source = flacenc::source::MemSource::from_samples(
        interleaved,
        channels as usize,
        bps as usize,
        44100,
    );
    let stream = flacenc::encode_with_fixed_block_size(&config, source, block_size).unwrap();
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).unwrap();
    sink.as_slice().to_vec()
}

/// What happened to the streams of one `ours_to_claxon` run.
#[derive(Debug, Default, PartialEq, Eq)]
struct ClaxonRun {
    /// Streams claxon decoded completely to the right samples.
    by_claxon: usize,
    /// Streams with escaped Rice partitions ("unencoded binary"), which claxon 0.4.3
    /// does not implement; these were checked with libFLAC instead.
    escaped_by_libflac: usize,
}

impl ClaxonRun {
    fn total(&self) -> usize {
        self.by_claxon + self.escaped_by_libflac
    }
}

/// Our encoder (levels 0-8) -> claxon, at `bps` bits. With `escapes` the encoder may
/// write escaped partitions, which claxon does not implement; those streams are
/// checked with libFLAC instead.
fn ours_to_claxon(bps: u32, levels: &[u8], escapes: bool) -> ClaxonRun {
    let mut run = ClaxonRun::default();
    for channels in [1, 2] {
        for (k, &n) in LENGTHS.iter().enumerate() {
            for (name, signal) in signals(bps, channels, n, k as u64) {
                for &level in levels {
                    let what =
                        format!("{name}: {bps} bits, {channels} ch, level {level}, {n} samples");
                    let config = EncoderConfig {
                        level,
                        channels,
                        bits_per_sample: bps,
                        md5: level.is_multiple_of(2),
                        escape_coding: escapes,
                        ..EncoderConfig::default()
                    };
                    let bytes = encode(&signal, &config).unwrap_or_else(|e| panic!("{what}: {e}"));
                    let bs = if level <= 2 { 1152 } else { 4096 };
                    let want: Vec<u32> = (0..n).step_by(bs).map(|s| bs.min(n - s) as u32).collect();
                    match claxon_decode(&bytes) {
                        Ok((ch, b, samples, sizes)) => {
                            assert_eq!((ch, b), (channels, bps), "{what}");
                            assert!(
                                samples == signal,
                                "{what}: claxon decoded different samples"
                            );
                            assert_eq!(sizes, want, "{what}: block sizes");
                            run.by_claxon += 1;
                        }
                        Err(claxon::Error::Unsupported(msg))
                            if msg.contains("unencoded binary") =>
                        {
                            let seen = libflac_oracle::decode_full(&bytes)
                                .unwrap_or_else(|e| panic!("{what}: libFLAC: {e}"));
                            let escaped = seen
                                .frames
                                .iter()
                                .flat_map(|f| f.residuals.iter().flatten())
                                .any(|r| r.escaped_partitions > 0);
                            assert!(escaped, "{what}: claxon says escape, libFLAC saw none");
                            assert!(
                                seen.samples == signal,
                                "{what}: libFLAC decoded different samples"
                            );
                            let sizes: Vec<u32> =
                                seen.frames.iter().map(|f| f.block_size).collect();
                            assert_eq!(sizes, want, "{what}: block sizes");
                            run.escaped_by_libflac += 1;
                        }
                        Err(e) => panic!("{what}: claxon: {e}"),
                    }
                }
            }
        }
    }
    eprintln!("{bps} bits: {run:?}");
    if escapes {
        // Most streams must go through claxon itself, or the test checks little.
        assert!(run.by_claxon * 2 > run.total(), "{bps} bits: {run:?}");
    } else {
        // Without escape coding (the default, as in libFLAC's presets) claxon must
        // decode every stream.
        assert_eq!(run.escaped_by_libflac, 0, "{bps} bits: {run:?}");
    }
    run
}

/// flacenc (default config, a few block sizes) -> our decoder, at `bps` bits.
fn flacenc_to_ours(bps: u32, block_sizes: &[usize]) -> usize {
    let mut checked = 0;
    for channels in [1, 2] {
        for (k, &n) in LENGTHS.iter().enumerate() {
            for (name, signal) in signals(bps, channels, n, 100 + k as u64) {
                for &block_size in block_sizes {
                    let what = format!(
                        "{name}: {bps} bits, {channels} ch, flacenc block {block_size}, {n} samples"
                    );
                    let bytes = flacenc_encode(&signal, channels, bps, block_size);
                    let decoded = decode(&bytes, n as u64)
                        .unwrap_or_else(|e| panic!("{what}: our decoder: {e}"));
                    assert_eq!(
                        (decoded.info.channels, decoded.info.bits_per_sample),
                        (channels, bps),
                        "{what}"
                    );
                    assert!(
                        decoded.samples == signal,
                        "{what}: our decoder gave different samples"
                    );
                    // flacenc writes the true length: a wrong one must be refused.
                    assert!(
                        decode(&bytes, n as u64 + 1).is_err(),
                        "{what}: stream_size + 1 accepted"
                    );
                    checked += 1;
                }
            }
        }
    }
    checked
}

const ALL_LEVELS: [u8; 9] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

#[test]
fn claxon_decodes_our_16_bit_streams() {
    assert_eq!(
        ours_to_claxon(16, &ALL_LEVELS, false).total(),
        6 * (7 + 6) * 9
    );
}

#[test]
fn claxon_decodes_our_24_bit_streams() {
    assert_eq!(
        ours_to_claxon(24, &ALL_LEVELS, false).total(),
        6 * (7 + 6) * 9
    );
}

#[test]
fn escaped_partitions_decode_in_claxon_or_libflac() {
    for bps in [16, 24] {
        let run = ours_to_claxon(bps, &[0, 5, 8], true);
        assert_eq!(run.total(), 6 * (7 + 6) * 3);
        // The option must actually produce escaped partitions on these signals.
        assert!(run.escaped_by_libflac > 0, "{bps} bits: {run:?}");
    }
}

#[test]
fn claxon_decodes_our_8_12_20_bit_streams() {
    for bps in [8, 12, 20] {
        assert_eq!(
            ours_to_claxon(bps, &[2, 5, 8], false).total(),
            6 * (7 + 6) * 3
        );
    }
}

#[test]
fn we_decode_flacenc_16_bit_streams() {
    assert_eq!(
        flacenc_to_ours(16, &[4096, 1152, 4608, 192]),
        6 * (7 + 6) * 4
    );
}

#[test]
fn we_decode_flacenc_24_bit_streams() {
    assert_eq!(
        flacenc_to_ours(24, &[4096, 1152, 4608, 192]),
        6 * (7 + 6) * 4
    );
}

#[test]
fn we_decode_flacenc_8_12_20_bit_streams() {
    for bps in [8, 12, 20] {
        assert_eq!(flacenc_to_ours(bps, &[4096]), 6 * (7 + 6));
    }
}
