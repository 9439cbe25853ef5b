//! Our codec against the reference libFLAC at 32 bits per sample, both ways.
//!
//! * libFLAC (1.5.0, bundled by `libflac-sys`, through the dev-only `libflac-oracle`
//!   crate) decodes every stream our encoder writes to the same samples, and reports
//!   no error (CRC, sync, MD5 where we wrote one).
//! * Our decoder decodes every stream libFLAC writes with flacarray's settings (and
//!   with a finalised STREAMINFO) to the same samples.
//! * Debian's `flac` command line tool decodes a few of our streams (CI installs it).
//!
//! Signals cover the cases that matter at 32 bits: small-step random walks, full-range
//! noise (VERBATIM fallback), alternating extremes (residuals that overflow i32),
//! sines, constants, wasted bits, int64 data split into low/high words, and correlated
//! stereo pairs whose side channel needs 33 bits. Lengths include 1, 2, one sample
//! either side of a block, and several blocks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use flacarray_flac::{EncoderConfig, decode, encode};
use libflac_oracle::{ChannelAssignment, SubframeType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LENGTHS: [usize; 6] = [1, 2, 4095, 4096, 4097, 20_000];

/// A standard normal deviate (Box-Muller), so random walks have a known sigma.
fn gauss(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A random walk with normally distributed steps of standard deviation `sigma`.
fn walk(n: usize, sigma: f64, rng: &mut StdRng) -> Vec<i64> {
    let mut acc = 0i64;
    (0..n)
        .map(|_| {
            acc += (gauss(rng) * sigma).round() as i64;
            acc
        })
        .collect()
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// int64 values as flacarray stores them: channel 0 = low word, channel 1 = high word.
fn split_i64(values: &[i64]) -> Vec<i32> {
    values
        .iter()
        .flat_map(|&v| [v as i32, (v >> 32) as i32])
        .collect()
}

fn interleave(left: &[i32], right: &[i32]) -> Vec<i32> {
    left.iter().zip(right).flat_map(|(&l, &r)| [l, r]).collect()
}

fn sines(n: usize, parts: &[(f64, f64, f64)]) -> Vec<f64> {
    (0..n)
        .map(|i| {
            parts
                .iter()
                .map(|&(amp, period, phase)| {
                    amp * (std::f64::consts::TAU * i as f64 / period + phase).sin()
                })
                .sum()
        })
        .collect()
}

/// Mono (int32) test signals of length `n`.
fn mono_signals(n: usize, seed: u64) -> Vec<(&'static str, Vec<i32>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = Vec::new();
    s.push((
        "walk_sigma1000",
        walk(n, 1000.0, &mut rng)
            .into_iter()
            .map(clamp_i32)
            .collect(),
    ));
    s.push((
        "full_range_noise",
        (0..n).map(|_| rng.random::<i32>()).collect(),
    ));
    s.push((
        "alternating_extremes",
        (0..n)
            .map(|i| {
                if i.is_multiple_of(2) {
                    i32::MIN
                } else {
                    i32::MAX
                }
            })
            .collect(),
    ));
    let audio = sines(
        n,
        &[(3.0e8, 517.0, 0.1), (2.0e8, 91.3, 1.0), (1.0e7, 13.7, 2.0)],
    );
    s.push(("sines", audio.iter().map(|&v| v.round() as i32).collect()));
    let loud = sines(n, &[(0.999 * f64::from(i32::MAX), 1000.0, 0.3)]);
    s.push((
        "full_scale_sine",
        loud.iter().map(|&v| v.round() as i32).collect(),
    ));
    s.push((
        "constant_steps",
        (0..n)
            .map(|i| [12345, 0, -7, i32::MIN][(i / 3000) % 4])
            .collect(),
    ));
    let small = walk(n, 300.0, &mut rng);
    s.push((
        "wasted_bits",
        small
            .iter()
            .map(|&v| (v.clamp(-(1 << 18), 1 << 18) << 12) as i32)
            .collect(),
    ));
    s.push((
        "near_max",
        (0..n)
            .map(|_| i32::MAX - rng.random_range(0..200))
            .collect(),
    ));
    s
}

/// Stereo test signals of length `n` (interleaved): int64 data split into words, and
/// correlated pairs that make stereo decorrelation (and 33-bit side channels) pay.
fn stereo_signals(n: usize, seed: u64) -> Vec<(&'static str, Vec<i32>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = Vec::new();
    s.push(("i64_walk_sigma1000", split_i64(&walk(n, 1000.0, &mut rng))));
    let w = walk(n, 1000.0, &mut rng);
    s.push((
        "i64_walk_offset_2p40",
        split_i64(&w.iter().map(|&v| (1i64 << 40) + v).collect::<Vec<_>>()),
    ));
    s.push((
        "i64_walk_offset_minus_2p40",
        split_i64(
            &w.iter()
                .map(|&v| -(1i64 << 40) - 17 + 3 * v)
                .collect::<Vec<_>>(),
        ),
    ));
    s.push((
        "i64_full_range",
        split_i64(&(0..n).map(|_| rng.random::<i64>()).collect::<Vec<_>>()),
    ));
    let a: Vec<i32> = walk(n, 1000.0, &mut rng)
        .into_iter()
        .map(clamp_i32)
        .collect();
    s.push(("lo_equals_hi", interleave(&a, &a)));
    let b: Vec<i32> = a.iter().map(|&v| v + rng.random_range(-3..=3)).collect();
    s.push(("lo_near_hi", interleave(&a, &b)));
    let neg: Vec<i32> = a.iter().map(|&v| -v).collect();
    s.push(("lo_minus_hi", interleave(&a, &neg)));
    // Left near +2^31, right near -2^31: left - right is about 2^32 (33 bits).
    let top: Vec<i32> = a
        .iter()
        .map(|&v| i32::MAX - (v.unsigned_abs() % 100_000) as i32)
        .collect();
    let bottom: Vec<i32> = b
        .iter()
        .map(|&v| i32::MIN + (v.unsigned_abs() % 100_000) as i32)
        .collect();
    s.push(("side_33_bits", interleave(&top, &bottom)));
    // A full-scale sine against its negation: mid is ~0, side is 33 bits wide.
    let loud = sines(
        n,
        &[
            (0.999 * f64::from(i32::MAX), 777.0, 0.2),
            (1.0e6, 31.0, 0.0),
        ],
    );
    let l: Vec<i32> = loud.iter().map(|&v| v.round() as i32).collect();
    let r: Vec<i32> = l.iter().map(|&v| -v).collect();
    s.push(("anti_phase_full_scale", interleave(&l, &r)));
    // Full-range noise in both channels that differ by a little: side is small.
    let noise: Vec<i32> = (0..n).map(|_| rng.random::<i32>()).collect();
    let near: Vec<i32> = noise
        .iter()
        .map(|&v| v.saturating_add(rng.random_range(-50..=50)))
        .collect();
    s.push(("full_range_pair", interleave(&noise, &near)));
    s
}

fn preset_block_size(level: u8) -> usize {
    if level <= 2 { 1152 } else { 4096 }
}

/// Feature counts seen by libFLAC, for coverage assertions.
#[derive(Default, Debug)]
struct Coverage(BTreeMap<String, usize>);

impl Coverage {
    fn add(&mut self, decoded: &libflac_oracle::Decoded) {
        for frame in &decoded.frames {
            *self
                .0
                .entry(format!("{:?}", frame.channel_assignment))
                .or_default() += 1;
            for t in &frame.subframe_types {
                *self.0.entry(format!("{t:?}")).or_default() += 1;
            }
            if frame.wasted_bits.iter().any(|&w| w > 0) {
                *self.0.entry("wasted_bits".into()).or_default() += 1;
            }
            for (t, &order) in frame.subframe_types.iter().zip(&frame.orders) {
                if *t == SubframeType::Lpc {
                    let key = if order > 12 {
                        "lpc_order>12"
                    } else {
                        "lpc_order<=12"
                    };
                    *self.0.entry(key.into()).or_default() += 1;
                }
            }
            for residual in frame.residuals.iter().flatten() {
                let key = if residual.rice2 { "RICE2" } else { "RICE" };
                *self.0.entry(key.into()).or_default() += 1;
                if residual.escaped_partitions > 0 {
                    *self.0.entry("escaped_partitions".into()).or_default() += 1;
                }
            }
        }
    }

    fn has(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|&c| c > 0)
    }
}

/// Encodes with our encoder, decodes with libFLAC; encodes with libFLAC, decodes with
/// ours. Returns what libFLAC saw in our stream and in its own.
fn check_both_ways(
    name: &str,
    interleaved: &[i32],
    channels: u32,
    level: u8,
    ours_coverage: &mut Coverage,
    theirs_coverage: &mut Coverage,
) {
    let n = interleaved.len() / channels as usize;
    let what = format!("{name}: {channels} ch, level {level}, {n} samples");
    let md5 = !level.is_multiple_of(2);
    let config = EncoderConfig {
        level,
        channels,
        bits_per_sample: 32,
        md5,
        ..EncoderConfig::default()
    };

    // Ours -> libFLAC.
    let ours = encode(interleaved, &config).unwrap_or_else(|e| panic!("{what}: our encoder: {e}"));
    let seen = libflac_oracle::decode_full(&ours)
        .unwrap_or_else(|e| panic!("{what}: libFLAC on our stream: {e}"));
    let info = seen.stream_info;
    assert_eq!(
        (info.channels, info.bits_per_sample, info.sample_rate),
        (channels, 32, 44100),
        "{what}"
    );
    assert_eq!(
        info.total_samples, n as u64,
        "{what}: STREAMINFO total_samples"
    );
    if !md5 {
        assert_eq!(
            info.md5, [0; 16],
            "{what}: MD5 written although md5 = false"
        );
    } else if n > 0 {
        assert_ne!(info.md5, [0; 16], "{what}: md5 = true wrote a zero MD5");
    }
    if seen.samples != interleaved {
        let i = seen
            .samples
            .iter()
            .zip(interleaved)
            .position(|(a, b)| a != b);
        panic!(
            "{what}: libFLAC decoded our stream to different samples (lengths {} vs {}, first \
             difference at interleaved index {i:?})",
            seen.samples.len(),
            interleaved.len()
        );
    }
    let bs = preset_block_size(level);
    let sizes: Vec<usize> = seen.frames.iter().map(|f| f.block_size as usize).collect();
    let want: Vec<usize> = (0..n).step_by(bs).map(|start| bs.min(n - start)).collect();
    assert_eq!(sizes, want, "{what}: frame block sizes");
    ours_coverage.add(&seen);
    // Our decoder reads our own stream too.
    assert_eq!(
        decode(&ours, n as u64).unwrap().samples,
        interleaved,
        "{what}: our round trip"
    );

    // libFLAC -> ours, flacarray's way (STREAMINFO not finalised) ...
    let theirs = libflac_oracle::encode(interleaved, channels, 32, u32::from(level), None)
        .unwrap_or_else(|e| panic!("{what}: libFLAC encoder: {e}"));
    let decoded = decode(&theirs, n as u64)
        .unwrap_or_else(|e| panic!("{what}: our decoder on libFLAC's stream: {e}"));
    assert!(
        decoded.samples == interleaved,
        "{what}: our decoder on libFLAC's stream: samples differ"
    );
    assert_eq!(decoded.info.total_samples, 0, "{what}");
    theirs_coverage.add(&libflac_oracle::decode_full(&theirs).unwrap());

    // ... and with total samples, frame sizes and MD5 filled in (like `flac` files).
    if level.is_multiple_of(3) {
        let cfg = libflac_oracle::EncodeConfig {
            channels,
            level: u32::from(level),
            finalize_streaminfo: true,
            ..libflac_oracle::EncodeConfig::default()
        };
        let finalized = libflac_oracle::encode_with(interleaved, &cfg).unwrap();
        let decoded = decode(&finalized, n as u64)
            .unwrap_or_else(|e| panic!("{what}: finalised libFLAC stream: {e}"));
        assert!(
            decoded.samples == interleaved,
            "{what}: finalised libFLAC stream: samples differ"
        );
        assert_eq!(decoded.info.total_samples, n as u64, "{what}");
    }
}

fn run_matrix(channels: u32, seed: u64) -> (Coverage, Coverage) {
    let mut ours = Coverage::default();
    let mut theirs = Coverage::default();
    let mut cases = 0;
    for (k, &n) in LENGTHS.iter().enumerate() {
        let signals = if channels == 1 {
            mono_signals(n, seed + k as u64)
        } else {
            stereo_signals(n, seed + k as u64)
        };
        for (name, signal) in &signals {
            for level in 0..=8 {
                check_both_ways(name, signal, channels, level, &mut ours, &mut theirs);
                cases += 1;
            }
        }
    }
    let per_length = if channels == 1 { 8 } else { 10 };
    assert_eq!(cases, LENGTHS.len() * per_length * 9);
    eprintln!(
        "{channels} ch: {cases} cases\n  libFLAC saw in ours: {:?}\n  libFLAC's own: {:?}",
        ours.0, theirs.0
    );
    (ours, theirs)
}

#[test]
fn mono_32bit_both_ways() {
    let (ours, theirs) = run_matrix(1, 1000);
    for feature in ["Constant", "Verbatim", "Fixed", "Lpc", "wasted_bits"] {
        assert!(
            theirs.has(feature),
            "libFLAC never wrote {feature}: the matrix does not test our decoder on it"
        );
        assert!(
            ours.has(feature),
            "our encoder never chose {feature} on these signals"
        );
    }
    assert!(theirs.has("RICE2"), "libFLAC never wrote RICE2 partitions");
}

#[test]
fn stereo_32bit_both_ways() {
    let (ours, theirs) = run_matrix(2, 2000);
    // libFLAC's side channels (33 bits wide on some signals) reach our decoder, and
    // libFLAC decodes every stereo mode our encoder picks.
    for mode in ["LeftSide", "RightSide", "MidSide"] {
        assert!(theirs.has(mode), "libFLAC never wrote {mode}");
        assert!(
            ours.has(mode),
            "our encoder never chose {mode} on these signals"
        );
    }
}

/// Our 33-bit side channels: on a pair whose difference needs 33 bits, our encoder
/// picks a side mode somewhere in levels 1..=8 and libFLAC decodes it.
#[test]
fn side_channel_of_33_bits_both_ways() {
    let mut ours_modes = BTreeMap::new();
    let mut theirs_modes = BTreeMap::new();
    for name in ["side_33_bits", "anti_phase_full_scale"] {
        let signal = stereo_signals(20_000, 7)
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        for level in 0..=8u8 {
            let cfg = EncoderConfig {
                level,
                channels: 2,
                ..EncoderConfig::default()
            };
            let ours = encode(&signal, &cfg).unwrap();
            let seen = libflac_oracle::decode_full(&ours)
                .unwrap_or_else(|e| panic!("{name} level {level}: {e}"));
            assert!(
                seen.samples == signal,
                "{name} level {level}: libFLAC on ours"
            );
            for f in &seen.frames {
                *ours_modes.entry((name, f.channel_assignment)).or_insert(0) += 1;
                if level == 0 || level == 3 {
                    // These presets have mid/side off.
                    assert_eq!(
                        f.channel_assignment,
                        ChannelAssignment::Independent,
                        "{name} level {level}"
                    );
                }
            }
            let theirs = libflac_oracle::encode(&signal, 2, 32, u32::from(level), None).unwrap();
            for f in &libflac_oracle::decode_full(&theirs).unwrap().frames {
                *theirs_modes
                    .entry((name, f.channel_assignment))
                    .or_insert(0) += 1;
            }
            assert!(
                decode(&theirs, 20_000).unwrap().samples == signal,
                "{name} level {level}: ours on libFLAC"
            );
        }
    }
    eprintln!("ours: {ours_modes:?}\nlibFLAC: {theirs_modes:?}");
    for name in ["side_33_bits", "anti_phase_full_scale"] {
        let side = |modes: &BTreeMap<(&str, ChannelAssignment), i32>| {
            modes
                .iter()
                .any(|((n, m), &c)| *n == name && *m != ChannelAssignment::Independent && c > 0)
        };
        assert!(
            side(&theirs_modes),
            "libFLAC never used a side channel on {name}"
        );
        assert!(
            side(&ours_modes),
            "our encoder never used a (33-bit) side channel on {name}"
        );
    }
}

/// libFLAC, set up like flacarray 0.4.1, reproduces flacarray's own bytes (this
/// validates the oracle: same library, same settings). libFLAC's LPC analysis picks
/// SIMD paths by CPU at run time, so this is only asserted on x86-64, where the
/// fixtures were made.
#[test]
fn oracle_reproduces_flacarray_streams() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/python-reference");
    let load = |case: &str, file: &str| std::fs::read(dir.join(case).join(file)).unwrap();
    let npy_u8 = |bytes: Vec<u8>| {
        npyz::NpyFile::new(&bytes[..])
            .unwrap()
            .into_vec::<u8>()
            .unwrap()
    };
    let npy_i64 = |bytes: Vec<u8>| {
        npyz::NpyFile::new(&bytes[..])
            .unwrap()
            .into_vec::<i64>()
            .unwrap()
    };
    let npy_i32 = |bytes: Vec<u8>| {
        npyz::NpyFile::new(&bytes[..])
            .unwrap()
            .into_vec::<i32>()
            .unwrap()
    };
    for (case, level, channels, n) in [("ll_i32_2d_l5", 5, 1, 5000), ("ll_i64_2d_l8", 8, 2, 4097)] {
        let compressed = npy_u8(load(case, "compressed.npy"));
        let starts = npy_i64(load(case, "starts.npy"));
        let nbytes = npy_i64(load(case, "nbytes.npy"));
        let input: Vec<i32> = if channels == 1 {
            npy_i32(load(case, "input.npy"))
        } else {
            split_i64(&npy_i64(load(case, "input.npy")))
        };
        for (i, (&start, &len)) in starts.iter().zip(&nbytes).enumerate() {
            let reference = &compressed[start as usize..(start + len) as usize];
            let per_stream = n * channels as usize;
            let samples = &input[i * per_stream..(i + 1) * per_stream];
            let ours = libflac_oracle::encode(samples, channels, 32, level, None).unwrap();
            if cfg!(target_arch = "x86_64") {
                assert!(
                    ours == reference,
                    "{case} stream {i}: libFLAC bytes differ from flacarray's"
                );
            }
            assert_eq!(
                libflac_oracle::decode(reference).unwrap().2,
                samples,
                "{case} stream {i}"
            );
        }
    }
    assert!(libflac_oracle::vendor_string().contains("libFLAC 1.5.0"));
}

/// A fresh, empty scratch directory under the system temp dir.
fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flacarray-flac-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Debian's `flac` CLI (libFLAC 1.4.2 there) decodes our streams to the same samples
/// and, where we wrote one, checks our MD5 (`flac -t`).
#[test]
fn flac_cli_decodes_our_streams() {
    match Command::new("flac").arg("--version").output() {
        Ok(out) if out.status.success() => {
            eprintln!("using {}", String::from_utf8_lossy(&out.stdout).trim());
        }
        _ => {
            eprintln!("NOTE: the `flac` binary is not installed; skipping the flac CLI test");
            return;
        }
    }
    let dir = scratch_dir("cli");
    let mono = mono_signals(20_000, 31);
    let stereo = stereo_signals(4097, 32);
    let pick = |set: &[(&'static str, Vec<i32>)], name: &str| {
        set.iter().find(|(n, _)| *n == name).unwrap().1.clone()
    };
    let cases: Vec<(String, Vec<i32>, u32, u8, bool)> = vec![
        ("walk_l5".into(), pick(&mono, "walk_sigma1000"), 1, 5, false),
        (
            "full_range_l0".into(),
            pick(&mono, "full_range_noise"),
            1,
            0,
            true,
        ),
        (
            "alternating_l8".into(),
            pick(&mono, "alternating_extremes"),
            1,
            8,
            false,
        ),
        ("sines_l8_md5".into(), pick(&mono, "sines"), 1, 8, true),
        (
            "i64_2p40_l5".into(),
            pick(&stereo, "i64_walk_offset_2p40"),
            2,
            5,
            true,
        ),
        (
            "side33_l8".into(),
            pick(&stereo, "side_33_bits"),
            2,
            8,
            false,
        ),
        (
            "anti_phase_l2".into(),
            pick(&stereo, "anti_phase_full_scale"),
            2,
            2,
            true,
        ),
        ("len1".into(), vec![-123_456_789], 1, 5, true),
    ];
    for (name, samples, channels, level, md5) in &cases {
        let cfg = EncoderConfig {
            level: *level,
            channels: *channels,
            md5: *md5,
            ..EncoderConfig::default()
        };
        let flac_path = dir.join(format!("{name}.flac"));
        let raw_path = dir.join(format!("{name}.raw"));
        std::fs::write(&flac_path, encode(samples, &cfg).unwrap()).unwrap();
        let out = Command::new("flac")
            .args([
                "-d",
                "-s",
                "-f",
                "--force-raw-format",
                "--endian=little",
                "--sign=signed",
                "-o",
            ])
            .arg(&raw_path)
            .arg(&flac_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: flac -d failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw = std::fs::read(&raw_path).unwrap();
        let decoded: Vec<i32> = raw
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert!(
            decoded == *samples,
            "{name}: flac -d gave different samples"
        );
        let test = Command::new("flac")
            .args(["-t", "-s"])
            .arg(&flac_path)
            .output()
            .unwrap();
        assert!(
            test.status.success(),
            "{name}: flac -t failed: {}",
            String::from_utf8_lossy(&test.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A smooth signal of large amplitude (three tones of up to 600,000 counts plus noise
/// of sigma 2, like a teleseism recorded in counts) is predicted so well that 12-bit
/// coefficients (libFLAC's choice for 16-bit audio) leave a rounding error above the
/// residual (ours was 11.8% larger than libFLAC's with them); libFLAC, told the
/// samples are 32-bit, uses 15. Ours may not be larger than libFLAC's at level 5, and
/// the stream must decode in libFLAC and in ours.
#[test]
fn smooth_large_signals_get_precise_coefficients() {
    let mut rng = StdRng::seed_from_u64(20);
    let n = 200_000;
    let x: Vec<i32> = (0..n)
        .map(|i| {
            let t = i as f64;
            let v = 600_000.0 * (t * 0.013).sin()
                + 300_000.0 * (t * 0.031 + 1.0).sin()
                + 100_000.0 * (t * 0.057 + 2.0).sin();
            clamp_i32(v as i64 + (gauss(&mut rng) * 2.0) as i64)
        })
        .collect();
    let config = EncoderConfig {
        level: 5,
        channels: 1,
        bits_per_sample: 32,
        ..EncoderConfig::default()
    };
    let ours = encode(&x, &config).unwrap();
    let theirs = libflac_oracle::encode(&x, 1, 32, 5, None).unwrap();
    assert!(
        ours.len() * 1000 <= theirs.len() * 1001,
        "ours {} bytes, libFLAC {}",
        ours.len(),
        theirs.len()
    );
    assert_eq!(libflac_oracle::decode_full(&ours).unwrap().samples, x);
    assert_eq!(decode(&ours, n as u64).unwrap().samples, x);
}
