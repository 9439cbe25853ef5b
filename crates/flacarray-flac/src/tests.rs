//! In-crate round trips over the signal shapes that exercise each code path.

use crate::{
    Decoder, Encoder, EncoderConfig, Error, FrameSizes, count_samples, decode, decode_range,
    decode_to_end, encode, locate_frame, read_stream_info,
};

/// The crate's test generator: a 64-bit LCG (Knuth's MMIX constants), top 53 bits.
pub(crate) fn lcg(seed: &mut u64) -> u64 {
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
        (
            // Wasted bits under a predictable signal: LPC subframes with wasted bits.
            "smooth-wasted",
            (0..n)
                .map(|i| (((i as f64 * 0.003).sin() * 1.0e6) as i32) << 6)
                .collect(),
        ),
    ]
}

#[test]
fn mono_round_trips_every_level() {
    let mut dec = Decoder::new();
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
                // Into a caller's slice of stale values, where whole mono frames are
                // decoded in place (constant, verbatim, wasted bits, every order),
                // whole and from a third of the way in (the first frame then cut).
                for from in [0, n / 3] {
                    let mut out = vec![i32::MIN + 1; n - from];
                    dec.decode_range_into(&bytes, n as u64, from as u64..n as u64, &mut out)
                        .unwrap_or_else(|e| panic!("{name} n={n} level {level}: {e}"));
                    assert!(out == x[from..], "{name} n={n} level {level} from {from}");
                }
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

/// Zeroes STREAMINFO's total_samples ("unknown" in RFC 9639, as flacarray 0.4.1 writes).
fn clear_total_samples(bytes: &mut [u8]) {
    bytes[21] &= 0xF0;
    bytes[22..26].fill(0);
}

#[test]
fn unknown_length_decodes_to_the_end() {
    for channels in [1u32, 2] {
        for n in [1usize, 4095, 4096, 9000] {
            let (_, x) = signals(n * channels as usize).swap_remove(5);
            let cfg = EncoderConfig {
                channels,
                ..Default::default()
            };
            let mut bytes = encode(&x, &cfg).unwrap_or_default();
            assert_eq!(
                decode_to_end(&bytes).map(|d| d.samples).ok(),
                Some(x.clone())
            );
            clear_total_samples(&mut bytes);
            let got = decode_to_end(&bytes).unwrap_or_else(|e| panic!("n={n}: {e}"));
            assert_eq!(got.info.total_samples, 0);
            assert_eq!(got.samples, x, "n={n} channels {channels}");
            assert_eq!(count_samples(&bytes).ok(), Some(n as u64));
            // The frames' count still binds a caller that gives one.
            assert!(matches!(
                decode(&bytes, n as u64 + 1),
                Err(Error::SampleCount { .. })
            ));
            let mut pieces = Vec::new();
            let mut streamed = Vec::new();
            Decoder::new()
                .decode_with(&bytes, None, None, |s| {
                    pieces.push(s.len());
                    streamed.extend_from_slice(s);
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("n={n}: {e}"));
            assert_eq!(streamed, x);
            assert!(pieces.iter().all(|&l| l <= 4096 * channels as usize));
            // A range needs the length, which the caller may then give.
            assert!(
                Decoder::new()
                    .decode_with(&bytes, None, Some(0..1), |_| Ok(()))
                    .is_err()
            );
            let mut tail = Vec::new();
            Decoder::new()
                .decode_with(&bytes, Some(n as u64), Some(n as u64 - 1..n as u64), |s| {
                    tail.extend_from_slice(s);
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("n={n}: {e}"));
            assert_eq!(tail, &x[(n - 1) * channels as usize..]);
        }
    }
}

#[test]
fn unknown_length_damage_is_refused() {
    let (_, x) = signals(20000).swap_remove(5);
    let mut bytes = encode(&x, &EncoderConfig::default()).unwrap_or_default();
    clear_total_samples(&mut bytes);
    // Cut inside the last frame, or in the middle of the stream.
    for cut in [1, 100, bytes.len() / 2] {
        let short = &bytes[..bytes.len() - cut];
        assert!(decode_to_end(short).is_err(), "cut {cut}");
        assert!(count_samples(short).is_err(), "cut {cut}");
    }
    // Bytes after the last frame.
    let mut long = bytes.clone();
    long.extend_from_slice(&[0x12, 0x34, 0x56]);
    assert!(decode_to_end(&long).is_err());
    assert!(count_samples(&long).is_err());
    // A flipped bit in a frame body.
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x10;
    assert!(decode_to_end(&bad).is_err());
    // The header alone ("fLaC" and STREAMINFO: 42 bytes without VORBIS_COMMENT) is an
    // empty stream.
    let empty = decode_to_end(&bytes[..42]).map(|d| d.samples.len());
    assert_eq!(empty.ok(), Some(0));
    // A failing sink stops decoding with its message.
    let e = Decoder::new().decode_with(&bytes, None, None, |_| {
        Err(std::io::Error::other("no room"))
    });
    assert!(matches!(e, Err(Error::Sink(m)) if m.contains("no room")));
}

#[test]
fn frame_ranges_concatenate_to_the_whole_stream() {
    for channels in [1u32, 2] {
        for level in [0u8, 5, 8] {
            let cfg = EncoderConfig {
                level,
                channels,
                ..Default::default()
            };
            let block = cfg.validate().map(|p| p.block_size as usize).unwrap_or(0);
            let (_, x) = signals(7 * block / 2 * channels as usize).swap_remove(5);
            let n = x.len() / channels as usize;
            let whole = encode(&x, &cfg).unwrap_or_default();
            // Split after 0, 1, 2 and 3 blocks (the last part ends with a short frame).
            for split in 0..=3usize {
                let at = split * block * channels as usize;
                let mut first = Encoder::new(cfg.clone()).unwrap_or_else(|e| panic!("{e}"));
                let mut second = Encoder::new(cfg.clone()).unwrap_or_else(|e| panic!("{e}"));
                let mut frames = Vec::new();
                let a = first
                    .encode_frames_into(&x[..at], 0, &mut frames)
                    .unwrap_or_else(|e| panic!("{e}"));
                let b = second
                    .encode_frames_into(&x[at..], split as u64, &mut frames)
                    .unwrap_or_else(|e| panic!("{e}"));
                let mut stream = Vec::new();
                first
                    .write_stream_header(n as u64, a.merge(b), &mut stream)
                    .unwrap_or_else(|e| panic!("{e}"));
                stream.extend_from_slice(&frames);
                assert!(
                    stream == whole,
                    "channels {channels} level {level} split {split}"
                );
                if split == 0 {
                    assert_eq!(a, FrameSizes::NONE);
                }
            }
        }
    }
    let mut md5 = Encoder::new(EncoderConfig {
        md5: true,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(md5.encode_frames_into(&[1, 2], 0, &mut Vec::new()).is_err());
}

#[test]
fn frames_are_located_and_decoded_from_any_start() {
    for channels in [1u32, 2] {
        for level in [0u8, 5] {
            let cfg = EncoderConfig {
                level,
                channels,
                ..Default::default()
            };
            let block = cfg.validate().map(|p| p.block_size as usize).unwrap_or(0);
            let (_, x) = signals(21 * block / 2 * channels as usize).swap_remove(5);
            let ch = channels as usize;
            let n = x.len() / ch;
            let whole = encode(&x, &cfg).unwrap_or_default();
            // The true frame starts: the header length plus the sizes of the frames before.
            let mut enc = Encoder::new(cfg.clone()).unwrap_or_else(|e| panic!("{e}"));
            let mut head = Vec::new();
            enc.write_stream_header(n as u64, FrameSizes::NONE, &mut head)
                .unwrap_or_else(|e| panic!("{e}"));
            let mut starts = vec![head.len()];
            for (f, blk) in x.chunks(block * ch).enumerate() {
                let mut b = Vec::new();
                enc.encode_frames_into(blk, f as u64, &mut b)
                    .unwrap_or_else(|e| panic!("{e}"));
                starts.push(starts[f] + b.len());
            }
            let frames = n.div_ceil(block);
            assert_eq!(starts[frames], whole.len());
            for k in 0..frames {
                let at = locate_frame(&whole, k as u64).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    at,
                    Some(starts[k]),
                    "channels {channels} level {level} frame {k}"
                );
                // Decode frames k..k+3 (or to the end) from there.
                let last = (k + 3).min(frames);
                let hi = (last * block).min(n);
                let mut out = vec![0; (hi - k * block) * ch];
                let end = Decoder::new()
                    .decode_frames_into(&whole, n as u64, starts[k], k as u64, &mut out)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(end, starts[last]);
                assert!(out[..] == x[k * block * ch..hi * ch]);
            }
            assert_eq!(locate_frame(&whole, frames as u64).ok(), Some(None));
            // A run that starts at the wrong byte, claims the wrong frame number or
            // asks for more samples than the stream holds is an error.
            let mut out = vec![0; block * ch];
            let mut d = Decoder::new();
            assert!(
                d.decode_frames_into(&whole, n as u64, starts[1] + 1, 1, &mut out)
                    .is_err()
            );
            assert!(
                d.decode_frames_into(&whole, n as u64, starts[1], 2, &mut out)
                    .is_err()
            );
            assert!(
                d.decode_frames_into(&whole, n as u64 - 1, starts[1], 1, &mut out)
                    .is_err()
            );
            let mut big = vec![0; (n + 1) * ch];
            assert!(
                d.decode_frames_into(&whole, n as u64, starts[0], 0, &mut big)
                    .is_err()
            );
            // Truncated and corrupted streams: errors or no frame found, never a panic.
            for cut in [0, 3, 20, 42, whole.len() / 2, whole.len() - 1] {
                let _ = locate_frame(&whole[..cut], 5);
                let _ = d.decode_frames_into(&whole[..cut], n as u64, starts[1], 1, &mut out);
            }
            let mut bad = whole.clone();
            for i in (starts[2]..starts[5]).step_by(7) {
                bad[i] = 0xFF;
            }
            let _ = locate_frame(&bad, 3);
            assert!(
                d.decode_frames_into(&bad, n as u64, starts[2], 2, &mut out)
                    .is_err()
            );
        }
    }
}

/// Four LPC subframes restored together (both compiled copies of the kernel) give
/// what restoring each alone gives: the same samples, and the same verdict on
/// samples that leave 32 bits. Covers every joint order 1..=12 against lanes of
/// lower order, shifts 0..=15 (the common shift scales the others' coefficients),
/// odd lengths down to order + 1, and warm-ups and residuals at the i32 extremes.
#[test]
fn joint_lpc_restore_matches_one_by_one() {
    use crate::decode::{Lpc, MAX_JOINT_ORDER, joint_coefs, restore_lpc, restore_lpc_x4_impl};
    let mut seed = 7u64;
    let (mut joint_runs, mut overflow_lanes, mut rejected) = (0, 0, 0);
    for trial in 0..3000u64 {
        let top = 1 + (trial as usize % MAX_JOINT_ORDER);
        let n = top + 1 + (lcg(&mut seed) % 200) as usize;
        let extreme = trial % 7 == 0;
        let mut params = [Lpc {
            order: 1,
            coefs: [0; 32],
            shift: 0,
            wasted: 0,
        }; 4];
        let mut bufs = [vec![0i32; n], vec![0i32; n], vec![0i32; n], vec![0i32; n]];
        for (lane, (p, buf)) in params.iter_mut().zip(bufs.iter_mut()).enumerate() {
            p.order = if lane == 0 {
                top
            } else {
                1 + (lcg(&mut seed) as usize % top)
            };
            let precision = 2 + (lcg(&mut seed) % 14) as u32;
            p.shift = (lcg(&mut seed) % 16) as u32;
            let half = 1i64 << (precision - 1);
            for c in &mut p.coefs[..p.order] {
                *c = ((lcg(&mut seed) as i64).rem_euclid(2 * half) - half) as i32;
            }
            for (i, v) in buf.iter_mut().enumerate() {
                let r = lcg(&mut seed);
                *v = if extreme && r.is_multiple_of(3) {
                    if r.is_multiple_of(2) {
                        i32::MAX
                    } else {
                        i32::MIN
                    }
                } else if i < p.order {
                    (r as i32) >> (r % 24)
                } else {
                    ((r % 2001) as i32) - 1000
                };
            }
        }
        let mut expect = bufs.clone();
        let expect_ok: Vec<bool> = expect
            .iter_mut()
            .zip(&params)
            .map(|(b, p)| restore_lpc(&p.coefs[..p.order], p.shift, b).is_ok())
            .collect();
        let Some((c, shift, order)) = joint_coefs(&params) else {
            rejected += 1;
            continue;
        };
        assert_eq!(order, top);
        joint_runs += 1;
        overflow_lanes += expect_ok.iter().filter(|ok| !**ok).count();
        let mut t = bufs.clone();
        let mut t2 = bufs.clone();
        let [a0, a1, a2, a3] = &mut t;
        let ok = restore_lpc_x4_impl([a0, a1, a2, a3], &params, &c, shift, order);
        let [a0, a1, a2, a3] = &mut t2;
        let ok2 = crate::simd::restore_lpc_x4([a0, a1, a2, a3], &params, &c, shift, order);
        assert_eq!(ok, ok2, "trial {trial}");
        assert_eq!(t, t2, "trial {trial}");
        for lane in 0..4 {
            assert_eq!(ok[lane], expect_ok[lane], "trial {trial} lane {lane}");
            if ok[lane] {
                assert_eq!(t[lane], expect[lane], "trial {trial} lane {lane}");
            }
        }
    }
    assert!(joint_runs > 2000, "{joint_runs} joint runs");
    assert!(overflow_lanes > 50, "{overflow_lanes} overflowing lanes");
    assert!(
        rejected > 0,
        "no predictor set was refused the common shift"
    );
}

/// The common shift is refused when scaled coefficients could overflow.
#[test]
fn joint_coefs_refuses_what_could_overflow() {
    use crate::decode::{Lpc, joint_coefs};
    let lane = |coefs: &[i32], shift: u32| {
        let mut c = [0; 32];
        c[..coefs.len()].copy_from_slice(coefs);
        Lpc {
            order: coefs.len(),
            coefs: c,
            shift,
            wasted: 0,
        }
    };
    let small = lane(&[3, -1], 1);
    // 16383 << 15 is below 2^31 but five of them sum past it.
    let big = lane(&[16383; 5], 0);
    assert!(joint_coefs(&[small, small, small, lane(&[16383], 0)]).is_some());
    assert!(joint_coefs(&[lane(&[1], 15), small, small, big]).is_none());
    let (c, shift, order) = joint_coefs(&[small, lane(&[5, 4, 3], 3), small, small]).expect("fits");
    assert_eq!((shift, order), (3, 3));
    // Lane 0: coefficients 3, -1 (newest first) scaled by 2^2, oldest slot zero.
    assert_eq!([c[0][0], c[1][0], c[2][0]], [0, -4, 12]);
    assert_eq!([c[0][1], c[1][1], c[2][1]], [3, 4, 5]);
}

/// The LPC residual from 32-bit operands equals the general one whenever the samples
/// are i32 values, at every order and at the extremes of the range.
#[test]
fn narrow_lpc_residual_matches_wide() {
    use crate::lpc::residual;
    let mut seed = 99u64;
    for order in 1..=32usize {
        for trial in 0..20 {
            let n = order + 1 + (lcg(&mut seed) % 300) as usize;
            let x: Vec<i64> = (0..n)
                .map(|_| {
                    let r = lcg(&mut seed);
                    match trial % 4 {
                        0 => i64::from(r as i32),
                        1 => i64::from(if r.is_multiple_of(2) {
                            i32::MAX
                        } else {
                            i32::MIN
                        }),
                        _ => i64::from((r as i32) >> (r % 31)),
                    }
                })
                .collect();
            let precision = 1 + (lcg(&mut seed) % 15) as u32;
            let half = 1i64 << (precision - 1);
            let coefs: Vec<i32> = (0..order)
                .map(|_| ((lcg(&mut seed) as i64).rem_euclid(2 * half) - half) as i32)
                .collect();
            let shift = (lcg(&mut seed) % 16) as u32;
            let (mut a, mut b) = (vec![0i32; n - order], vec![0i32; n - order]);
            let ok_a = residual(&x, &coefs, shift, false, &mut a);
            let ok_b = residual(&x, &coefs, shift, true, &mut b);
            assert_eq!(ok_a, ok_b, "order {order} trial {trial}");
            if ok_a {
                assert_eq!(a, b, "order {order} trial {trial}");
            }
        }
    }
}

#[test]
fn encode_from_runs_gives_the_bytes_of_encode_into() {
    // Lengths around the block size (4096 at level 5, 1152 at level 0, 4096 at 8),
    // mono and stereo, with and without MD5 and a vendor block, runs of 1 and 3 blocks.
    for (level, channels, md5, vendor) in [
        (5_u8, 1_u32, false, None),
        (0, 2, true, None),
        (8, 1, true, Some("v".to_string())),
        (5, 2, false, None),
    ] {
        let cfg = EncoderConfig {
            level,
            channels,
            md5,
            vendor,
            ..EncoderConfig::default()
        };
        let mut enc = Encoder::new(cfg.clone()).unwrap_or_else(|e| panic!("{e}"));
        let mut buf = Vec::new();
        for n in [0_usize, 1, 1151, 4095, 4096, 4097, 3 * 4096 + 5, 9000] {
            for (name, x) in signals(n * channels as usize) {
                let want = encode(&x, &cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
                for run_blocks in [1_usize, 3] {
                    let mut out = vec![0xAA];
                    let mut asked = 0_u64;
                    let len = enc
                        .encode_from(n as u64, run_blocks, &mut buf, &mut out, |first, b| {
                            assert_eq!(first, asked, "runs are asked in order");
                            let at = first as usize * channels as usize;
                            b.copy_from_slice(&x[at..at + b.len()]);
                            asked += (b.len() / channels as usize) as u64;
                        })
                        .unwrap_or_else(|e| panic!("{name} n {n}: {e}"));
                    assert_eq!(asked, n as u64);
                    assert_eq!(len, want.len());
                    assert_eq!(&out[1..], &want[..], "{name} level {level} n {n}");
                }
            }
        }
    }
    // Samples that do not fit the bits per sample, and an empty run, are refused.
    let cfg = EncoderConfig {
        bits_per_sample: 8,
        ..EncoderConfig::default()
    };
    let mut enc = Encoder::new(cfg).unwrap_or_else(|e| panic!("{e}"));
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    assert!(
        enc.encode_from(10, 1, &mut buf, &mut out, |_, b| b.fill(300))
            .is_err()
    );
    assert!(
        enc.encode_from(10, 0, &mut buf, &mut out, |_, _| ())
            .is_err()
    );
    assert!(
        enc.encode_from(1 << 36, 1, &mut buf, &mut out, |_, _| ())
            .is_err()
    );
}

/// 33-bit side subframes (fixed orders 0..=4, LPC orders 1..=32) written bit by bit
/// and decoded by both compiled copies of the decoder, against a reference restore
/// in i128 arithmetic: the same samples, and an error exactly when a restored
/// sample leaves 33 bits (warm-ups and residuals at the extremes push some out).
#[test]
fn wide_side_subframes_match_reference() {
    use crate::bitread::BitReader;
    use crate::bitwrite::BitWriter;
    use crate::decode::decode_subframe_wide_impl;
    let mut seed = 33u64;
    let (mut rejected, mut accepted) = (0, 0);
    let kinds = (0..=4usize)
        .map(|o| (false, o))
        .chain((1..=32).map(|o| (true, o)));
    for (lpc, order) in kinds {
        for trial in 0..24u64 {
            let n = order + 1 + (lcg(&mut seed) % 300) as usize;
            let extreme = trial % 3 == 0;
            let warm: Vec<i64> = (0..order)
                .map(|_| {
                    let r = lcg(&mut seed);
                    if extreme {
                        if r.is_multiple_of(2) {
                            (1 << 32) - 1
                        } else {
                            -(1 << 32)
                        }
                    } else {
                        (r as i64).rem_euclid(1 << 20) - (1 << 19)
                    }
                })
                .collect();
            let res: Vec<i32> = (0..n - order)
                .map(|_| {
                    let r = lcg(&mut seed);
                    if extreme && r.is_multiple_of(5) {
                        i32::MAX - (r % 3) as i32
                    } else {
                        (r % 2001) as i32 - 1000
                    }
                })
                .collect();
            let precision = 2 + (lcg(&mut seed) % 14) as u32;
            let shift = (lcg(&mut seed) % 16) as u32;
            let half = 1i64 << (precision - 1);
            let coefs: Vec<i32> = (0..order)
                .map(|_| ((lcg(&mut seed) as i64).rem_euclid(2 * half) - half) as i32)
                .collect();
            let mut buf = Vec::new();
            let mut w = BitWriter::new(&mut buf);
            let kind = if lpc { 31 + order } else { 8 + order };
            w.write(8, (kind as u64) << 1);
            for &v in &warm {
                w.write_signed(33, v);
            }
            if lpc {
                w.write(4, u64::from(precision - 1));
                w.write(5, u64::from(shift));
                for &c in &coefs {
                    w.write_signed(precision, i64::from(c));
                }
            }
            // Rice method 1 (5-bit parameters), partition order 0, parameter 10.
            w.write(2, 1);
            w.write(4, 0);
            w.write(5, 10);
            w.write_rice(10, &res);
            w.align();
            w.finish();
            // The reference: exact arithmetic, stop at the first sample out of range.
            let mut x: Vec<i128> = warm.iter().map(|&v| i128::from(v)).collect();
            let mut expect_ok = true;
            for &e in &res {
                let i = x.len();
                let pred = if lpc {
                    let acc: i128 = (0..order)
                        .map(|j| i128::from(coefs[j]) * x[i - 1 - j])
                        .sum();
                    acc >> shift
                } else {
                    let h = |j: usize| x[i - j];
                    match order {
                        0 => 0,
                        1 => h(1),
                        2 => 2 * h(1) - h(2),
                        3 => 3 * h(1) - 3 * h(2) + h(3),
                        _ => 4 * h(1) - 6 * h(2) + 4 * h(3) - h(4),
                    }
                };
                let v = i128::from(e) + pred;
                if !(-(1i128 << 32)..(1i128 << 32)).contains(&v) {
                    expect_ok = false;
                    break;
                }
                x.push(v);
            }
            let mut got = [vec![0i64; n], vec![0i64; n]];
            let mut scratch = vec![0i32; n];
            let a = decode_subframe_wide_impl(
                &mut BitReader::new(&buf),
                33,
                &mut got[0],
                &mut scratch,
                0,
            );
            let b = crate::simd::decode_subframe_wide(
                &mut BitReader::new(&buf),
                33,
                &mut got[1],
                &mut scratch,
                0,
            );
            let what = format!("lpc {lpc} order {order} trial {trial}");
            assert_eq!(a.is_ok(), expect_ok, "{what}: {a:?}");
            assert_eq!(b.is_ok(), expect_ok, "{what}: {b:?}");
            if expect_ok {
                accepted += 1;
                let want: Vec<i64> = x.iter().map(|&v| v as i64).collect();
                assert_eq!(got[0], want, "{what}");
                assert_eq!(got[1], want, "{what}");
            } else {
                rejected += 1;
            }
        }
    }
    assert!(
        accepted > 300 && rejected > 100,
        "{accepted} accepted, {rejected} rejected"
    );
}

/// Stereo undone for every mode, with side samples held as i32 (frames below 32 bits)
/// and as i64 (33-bit sides), against i128 arithmetic: the same pairs, and `false`
/// exactly when a left or right sample leaves 32 bits.
#[test]
fn unside_matches_reference_and_flags_samples_beyond_32_bits() {
    use crate::decode::unside;
    use crate::frame::ChannelMode;
    let mut seed = 7u64;
    let (mut refused, mut accepted) = (0, 0);
    for mode in [
        ChannelMode::LeftSide,
        ChannelMode::RightSide,
        ChannelMode::MidSide,
    ] {
        for trial in 0..300u64 {
            let n = 1 + (lcg(&mut seed) % 40) as usize;
            let extreme = trial % 2 == 0;
            let pick = |seed: &mut u64, lo: i64, hi: i64| -> i64 {
                let r = lcg(seed);
                if extreme && r.is_multiple_of(4) {
                    if r.is_multiple_of(8) { lo } else { hi }
                } else {
                    (r as i64).rem_euclid(2001) - 1000
                }
            };
            let other: Vec<i32> = (0..n)
                .map(|_| pick(&mut seed, i32::MIN.into(), i32::MAX.into()) as i32)
                .collect();
            let wide: Vec<i64> = (0..n)
                .map(|_| pick(&mut seed, -(1 << 32), (1 << 32) - 1))
                .collect();
            let narrow: Vec<i32> = wide.iter().map(|&v| v as i32).collect();
            let reference = |side: &[i64]| -> (Vec<i32>, bool) {
                let mut out = Vec::new();
                let mut ok = true;
                for (&o, &s) in other.iter().zip(side) {
                    let (o, s) = (i128::from(o), i128::from(s));
                    let (l, r) = match mode {
                        ChannelMode::LeftSide => (o, o - s),
                        ChannelMode::RightSide => (s + o, o),
                        _ => {
                            let mid = (o << 1) | (s & 1);
                            ((mid + s) >> 1, (mid - s) >> 1)
                        }
                    };
                    for v in [l, r] {
                        ok &= i32::try_from(v).is_ok();
                        out.push(v as i32);
                    }
                }
                (out, ok)
            };
            let mut dst = vec![0i32; 2 * n];
            let ok = unside(mode, &other, &wide, &mut dst);
            let (want, want_ok) = reference(&wide);
            assert_eq!(ok, want_ok, "{mode:?} trial {trial}");
            if ok {
                assert_eq!(dst, want, "{mode:?} trial {trial}");
                accepted += 1;
            } else {
                refused += 1;
            }
            let widened: Vec<i64> = narrow.iter().map(|&v| i64::from(v)).collect();
            let ok = unside(mode, &other, &narrow, &mut dst);
            let (want, want_ok) = reference(&widened);
            assert_eq!(ok, want_ok, "{mode:?} trial {trial} (i32 side)");
            if ok {
                assert_eq!(dst, want, "{mode:?} trial {trial} (i32 side)");
            }
        }
    }
    assert!(
        refused > 50 && accepted > 300,
        "{refused} refused, {accepted} accepted"
    );
}
