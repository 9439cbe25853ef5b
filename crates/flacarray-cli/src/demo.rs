//! `flacarray demo`: a codec round trip on synthetic detector timestreams.
//!
//! Three cases, each a set of streams encoded one by one into one concatenated buffer
//! (as flacarray stores them), then decoded stream by stream and compared:
//!
//! - **detector int32**: slow drift (a random walk) + two sines + white noise, with a
//!   random DC level per stream, quantized with a quanta of 0.01 noise sigma to int32;
//!   one channel per stream;
//! - **detector int64**: the same kind of signal quantized 100 times finer around DC
//!   levels up to ±1e10 counts, stored as flacarray stores 64-bit data: two channels,
//!   the low 32 bits (as a signed bit pattern) and the high 32 bits. Stream 0 sits on a
//!   multiple of 2^32 so its low word wraps constantly;
//! - **full-range noise int32**: uniform random 32-bit values, incompressible, which
//!   exercises the encoder's VERBATIM fallback.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flacarray_flac::{Decoder, Encoder, EncoderConfig};

use crate::cli::DemoArgs;
use crate::prng::SplitMix64;

/// One demo case: a name and its streams of interleaved samples.
#[derive(Debug, Clone)]
pub struct Case {
    /// Short description printed in the table.
    pub name: &'static str,
    /// Channels per stream (1 for 32-bit data, 2 for 64-bit data).
    pub channels: u32,
    /// Samples per channel in each stream.
    pub samples: usize,
    /// The streams, each `samples * channels` interleaved values.
    pub streams: Vec<Vec<i32>>,
}

/// What one case measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReport {
    /// The case's name.
    pub name: &'static str,
    /// Number of streams.
    pub streams: usize,
    /// Channels per stream.
    pub channels: u32,
    /// Samples per channel in each stream.
    pub samples: usize,
    /// Bytes of input (4 per sample per channel).
    pub input_bytes: u64,
    /// Bytes of all FLAC streams together.
    pub compressed_bytes: u64,
    /// Wall time spent encoding.
    pub encode_time: Duration,
    /// Wall time spent decoding.
    pub decode_time: Duration,
    /// Streams that failed to decode or decoded to different samples.
    pub failures: usize,
    /// The first failure, if any, described.
    pub first_failure: Option<String>,
}

impl CaseReport {
    /// Input bytes divided by compressed bytes.
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.input_bytes as f64 / (self.compressed_bytes.max(1) as f64)
    }

    /// Encode throughput in MB/s (10^6 bytes of input per second).
    #[must_use]
    pub fn encode_mb_s(&self) -> f64 {
        mb_per_s(self.input_bytes, self.encode_time)
    }

    /// Decode throughput in MB/s (10^6 bytes of output per second).
    #[must_use]
    pub fn decode_mb_s(&self) -> f64 {
        mb_per_s(self.input_bytes, self.decode_time)
    }
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64().max(1e-9)
}

/// One detector-like timestream in physical units, noise sigma 1: random-walk drift,
/// two sines (a slow large one, a faster small one) and white noise, around `dc`.
#[must_use]
pub fn detector_signal(rng: &mut SplitMix64, n: usize, dc: f64) -> Vec<f64> {
    let tau = std::f64::consts::TAU;
    let f_slow = rng.uniform(2.0, 6.0) / n.max(1) as f64;
    let f_fast = rng.uniform(1.0 / 2000.0, 1.0 / 200.0);
    let a_slow = rng.uniform(2.0, 8.0);
    let a_fast = rng.uniform(0.2, 1.5);
    let phase = rng.uniform(0.0, tau);
    let step = rng.uniform(0.005, 0.03);
    let mut drift = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64;
            drift += step * rng.normal();
            dc + drift
                + a_slow * (tau * f_slow * t + phase).sin()
                + a_fast * (tau * f_fast * t).sin()
                + rng.normal()
        })
        .collect()
}

/// Quantizes `values` to integers: `round(v / quanta)`.
///
/// # Errors
///
/// A value is not finite or does not fit an `i64`.
pub fn quantize(values: &[f64], quanta: f64) -> Result<Vec<i64>> {
    values
        .iter()
        .map(|&v| {
            let q = (v / quanta).round();
            // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
            if q.is_finite() && q >= i64::MIN as f64 && q < i64::MAX as f64 {
                Ok(q as i64)
            } else {
                bail!("value {v} does not fit a 64-bit integer with quanta {quanta}")
            }
        })
        .collect()
}

/// Splits 64-bit values into flacarray's two channels, interleaved: the low 32 bits as
/// a signed bit pattern, then the high 32 bits (arithmetic shift).
#[must_use]
pub fn interleave_i64(values: &[i64]) -> Vec<i32> {
    let mut out = Vec::with_capacity(values.len() * 2);
    for &v in values {
        out.push(v as i32); // truncation keeps the low word's bit pattern
        out.push((v >> 32) as i32); // exact: the shifted value fits
    }
    out
}

/// Builds the demo's cases, deterministically from `seed`.
///
/// # Errors
///
/// Quantization overflow, which the chosen signal levels never reach.
pub fn make_cases(streams: usize, samples: usize, seed: u64) -> Result<Vec<Case>> {
    let mut rng = SplitMix64::new(seed);

    let mut s32 = Vec::with_capacity(streams);
    for _ in 0..streams {
        let dc = rng.uniform(-2500.0, 2500.0);
        let q = quantize(&detector_signal(&mut rng, samples, dc), 0.01)?;
        let ints = q
            .iter()
            .map(|&v| i32::try_from(v))
            .collect::<Result<Vec<i32>, _>>()
            .context("detector int32 signal exceeds the 32-bit range")?;
        s32.push(ints);
    }

    let quanta64 = 1e-4;
    let wrap = (1u64 << 32) as f64 * quanta64; // a DC level of exactly 2^32 counts
    let mut s64 = Vec::with_capacity(streams);
    for k in 0..streams {
        let dc = if k == 0 { wrap } else { rng.uniform(-1e6, 1e6) };
        let q = quantize(&detector_signal(&mut rng, samples, dc), quanta64)?;
        s64.push(interleave_i64(&q));
    }

    let mut noise = Vec::with_capacity(streams);
    for _ in 0..streams {
        let mut v: Vec<i32> = (0..samples).map(|_| rng.next_u64() as i32).collect();
        if let Some(first) = v.first_mut() {
            *first = i32::MIN;
        }
        if let Some(second) = v.get_mut(1) {
            *second = i32::MAX;
        }
        noise.push(v);
    }

    Ok(vec![
        Case {
            name: "detector int32",
            channels: 1,
            samples,
            streams: s32,
        },
        Case {
            name: "detector int64",
            channels: 2,
            samples,
            streams: s64,
        },
        Case {
            name: "full-range noise int32",
            channels: 1,
            samples,
            streams: noise,
        },
    ])
}

/// Encodes every stream of `case` at `level` into one buffer, decodes each back, and
/// compares.
///
/// # Errors
///
/// The encoder rejects a stream. Decode failures and mismatches are counted in the
/// report instead.
pub fn run_case(case: &Case, level: u8) -> Result<CaseReport> {
    let config = EncoderConfig {
        level,
        channels: case.channels,
        bits_per_sample: 32,
        ..EncoderConfig::default()
    };
    let mut encoder = Encoder::new(config)?;

    let mut compressed = Vec::new();
    let mut starts = Vec::with_capacity(case.streams.len() + 1);
    let start = Instant::now();
    for (k, stream) in case.streams.iter().enumerate() {
        starts.push(compressed.len());
        encoder
            .encode_into(stream, &mut compressed)
            .with_context(|| format!("{}: encoding stream {k}", case.name))?;
    }
    let encode_time = start.elapsed();
    starts.push(compressed.len());

    let mut decoder = Decoder::new();
    let n = u64::try_from(case.samples)?;
    let mut out = vec![0i32; case.samples * usize::try_from(case.channels)?];
    let mut decode_time = Duration::ZERO;
    let mut failures = 0;
    let mut first_failure = None;
    for (k, stream) in case.streams.iter().enumerate() {
        let bytes = &compressed[starts[k]..starts[k + 1]];
        let t = Instant::now();
        let result = decoder.decode_into(bytes, n, &mut out);
        decode_time += t.elapsed();
        let problem = match result {
            Err(e) => Some(format!("stream {k}: {e}")),
            Ok(_) if out != *stream => {
                let at = out.iter().zip(stream).position(|(a, b)| a != b);
                Some(format!(
                    "stream {k}: decoded samples differ (first at {at:?})"
                ))
            }
            Ok(_) => None,
        };
        if let Some(p) = problem {
            failures += 1;
            first_failure.get_or_insert(p);
        }
    }

    let input_bytes = case.streams.iter().map(|s| 4 * s.len() as u64).sum::<u64>();
    Ok(CaseReport {
        name: case.name,
        streams: case.streams.len(),
        channels: case.channels,
        samples: case.samples,
        input_bytes,
        compressed_bytes: compressed.len() as u64,
        encode_time,
        decode_time,
        failures,
        first_failure,
    })
}

/// Writes the report table.
///
/// # Errors
///
/// Writing to `out` fails.
pub fn print_reports(out: &mut dyn Write, reports: &[CaseReport]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:>7} {:>4} {:>12} {:>13} {:>16} {:>6} {:>11} {:>11}  check",
        "case",
        "streams",
        "ch",
        "samples/ch",
        "input bytes",
        "compressed bytes",
        "ratio",
        "enc MB/s",
        "dec MB/s"
    )?;
    for r in reports {
        writeln!(
            out,
            "{:<24} {:>7} {:>4} {:>12} {:>13} {:>16} {:>6.2} {:>11.1} {:>11.1}  {}",
            r.name,
            r.streams,
            r.channels,
            r.samples,
            r.input_bytes,
            r.compressed_bytes,
            r.ratio(),
            r.encode_mb_s(),
            r.decode_mb_s(),
            if r.failures == 0 {
                "ok".to_string()
            } else {
                format!("{} FAILED", r.failures)
            }
        )?;
    }
    Ok(())
}

/// Runs `flacarray demo`: builds the cases, runs them, prints the table to stdout.
///
/// # Errors
///
/// Any stream failed to round-trip (exit status 1), or stdout cannot be written.
pub fn run_and_print(args: &DemoArgs) -> Result<()> {
    let streams = usize::try_from(args.streams)?;
    let samples = usize::try_from(args.samples)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "flacarray demo: FLAC round trip at level {}, {streams} streams x {samples} samples \
         per case, seed {} (single thread)",
        args.level, args.seed
    )
    .context("writing to stdout")?;
    let cases = make_cases(streams, samples, args.seed)?;
    let mut reports = Vec::with_capacity(cases.len());
    for case in &cases {
        reports.push(run_case(case, args.level)?);
    }
    print_reports(&mut out, &reports).context("writing to stdout")?;
    let verdict = verdict(&reports)?;
    writeln!(out, "{verdict}").context("writing to stdout")?;
    Ok(())
}

/// The closing line when every stream round-tripped.
///
/// # Errors
///
/// Some stream failed: the error counts them and describes the first.
pub fn verdict(reports: &[CaseReport]) -> Result<String> {
    let total: usize = reports.iter().map(|r| r.streams).sum();
    let failed: usize = reports.iter().map(|r| r.failures).sum();
    if failed > 0 {
        let first = reports
            .iter()
            .find_map(|r| r.first_failure.as_deref())
            .unwrap_or("unknown");
        bail!("demo: {failed} of {total} streams did not round-trip exactly (first: {first})");
    }
    Ok(format!("all {total} streams round-tripped exactly"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{CaseReport, interleave_i64, make_cases, quantize, run_case, verdict};

    #[test]
    fn verdict_fails_when_any_stream_failed() {
        let good = CaseReport {
            name: "a",
            streams: 3,
            channels: 1,
            samples: 10,
            input_bytes: 120,
            compressed_bytes: 60,
            encode_time: Duration::from_millis(1),
            decode_time: Duration::from_millis(1),
            failures: 0,
            first_failure: None,
        };
        assert_eq!(good.ratio(), 2.0);
        assert!((good.encode_mb_s() - 0.12).abs() < 1e-9);
        assert_eq!(
            verdict(std::slice::from_ref(&good)).expect("all good"),
            "all 3 streams round-tripped exactly"
        );
        let bad = CaseReport {
            name: "b",
            failures: 1,
            first_failure: Some("stream 2: decoded samples differ".into()),
            ..good.clone()
        };
        let err = verdict(&[good, bad]).expect_err("one failed");
        assert_eq!(
            err.to_string(),
            "demo: 1 of 6 streams did not round-trip exactly (first: stream 2: decoded samples differ)"
        );
    }

    #[test]
    fn int64_channels_follow_flacarray() {
        // 64-bit values travel as two 32-bit channels: low word first, then high word (docs/format.md, "Channels").
        let v = [
            7 * (1i64 << 32) + 5,
            -1,
            (1i64 << 32) + (1i64 << 31),
            -(1i64 << 40),
        ];
        assert_eq!(interleave_i64(&v), [5, 7, -1, -1, i32::MIN, 1, 0, -256]);
    }

    #[test]
    fn quantize_rounds_and_rejects_overflow() {
        assert_eq!(
            quantize(&[0.014, -0.016, 1.0], 0.01).expect("fits"),
            [1, -2, 100]
        );
        assert!(quantize(&[f64::NAN], 1.0).is_err());
        assert!(quantize(&[1e300], 1.0).is_err());
    }

    #[test]
    fn cases_are_deterministic_and_shaped() {
        let a = make_cases(3, 1000, 5).expect("cases");
        let b = make_cases(3, 1000, 5).expect("cases");
        assert_eq!(a.len(), 3);
        for (ca, cb) in a.iter().zip(&b) {
            assert_eq!(ca.streams, cb.streams);
            assert_eq!(ca.streams.len(), 3);
            let per_stream = 1000 * usize::try_from(ca.channels).expect("small");
            assert!(ca.streams.iter().all(|s| s.len() == per_stream));
        }
        // Stream 0 of the int64 case sits on 2^32 counts: its high word is 0 or 1.
        let high: Vec<i32> = a[1].streams[0].iter().skip(1).step_by(2).copied().collect();
        assert!(high.iter().all(|&h| h == 0 || h == 1));
        assert!(high.contains(&0) && high.contains(&1));
        assert_ne!(
            make_cases(1, 100, 6).expect("cases")[0].streams,
            a[0].streams[..1]
        );
    }

    #[test]
    fn small_demo_round_trips_and_compresses() {
        let cases = make_cases(2, 5000, 1).expect("cases");
        let reports: Vec<_> = cases
            .iter()
            .map(|c| run_case(c, 5).expect("runs"))
            .collect();
        for r in &reports {
            assert_eq!(r.failures, 0, "{:?}", r.first_failure);
            assert_eq!(r.input_bytes, 2 * 5000 * 4 * u64::from(r.channels));
        }
        assert!(
            reports[0].ratio() > 2.0,
            "detector int32 ratio {}",
            reports[0].ratio()
        );
        assert!(
            reports[1].ratio() > 1.5,
            "detector int64 ratio {}",
            reports[1].ratio()
        );
        assert!(
            reports[2].ratio() < 1.01,
            "noise ratio {}",
            reports[2].ratio()
        );
    }
}
