//! `flacarray stream demo`: a codec round trip on synthetic detector timestreams, in
//! memory and on one thread.
//!
//! Three integer cases, each a `(streams, samples)` array compressed stream by stream
//! into one concatenated buffer (as flacarray stores them), decoded and compared:
//!
//! - **detector int32**: [`detector_signal`] around a random DC level, in counts of
//!   0.01 noise sigma; one FLAC channel per stream;
//! - **detector int64**: the same kind of signal in counts 100 times finer around DC
//!   levels up to ±1e10 counts, which flacarray stores as two channels (low and high
//!   32-bit words). Stream 0 sits on exactly 2^32 counts so its low word wraps
//!   constantly;
//! - **full-range noise int32**: uniform random 32-bit values, incompressible, which
//!   exercises the encoder's VERBATIM fallback.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flacarray::synth::{SplitMix64, detector_signal};
use flacarray::{CompressOptions, DecodedArray, FlacArray, ReadOptions};
use ndarray::{Array2, ArrayD};

use crate::array_cmd::dtype_size;
use crate::bench::mb_per_s;
use crate::cli::DemoArgs;

/// One demo case: a name and its `(streams, samples)` integer array.
#[derive(Debug, Clone)]
pub struct Case {
    /// Short description printed in the table.
    pub name: &'static str,
    /// The streams, one per row.
    pub data: DecodedArray,
}

/// What one case measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReport {
    /// The case's name.
    pub name: &'static str,
    /// Number of streams.
    pub streams: usize,
    /// FLAC channels per stream (2 for 64-bit data).
    pub channels: u32,
    /// Samples per channel in each stream.
    pub samples: usize,
    /// Bytes of input.
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
}

/// Builds the demo's cases, deterministically from `seed`.
#[must_use]
pub fn make_cases(streams: usize, samples: usize, seed: u64) -> Vec<Case> {
    let mut rng = SplitMix64::new(seed);
    let mut counts = |dc: &dyn Fn(&mut SplitMix64, usize) -> f64, quanta: f64| {
        let mut a = Array2::<i64>::zeros((streams, samples));
        for (k, mut row) in a.rows_mut().into_iter().enumerate() {
            let dc = dc(&mut rng, k);
            let signal = detector_signal(&mut rng, samples, dc);
            // |signal - dc| stays within a few hundred sigma, so the counts stay far
            // inside the target type (±2.5e5 for int32, ±1e10 for int64).
            row.iter_mut()
                .zip(signal)
                .for_each(|(c, v)| *c = (v / quanta).round() as i64);
        }
        a.into_dyn()
    };
    let c32 = counts(&|rng, _| rng.uniform(-2500.0, 2500.0), 0.01);
    // Stream 0 of the int64 case: a DC level of exactly 2^32 counts.
    let wrap = (1u64 << 32) as f64 * 1e-4;
    let c64 = counts(
        &|rng, k| if k == 0 { wrap } else { rng.uniform(-1e6, 1e6) },
        1e-4,
    );
    let mut noise = Array2::<i32>::from_shape_simple_fn((streams, samples), || {
        // The low 32 bits, as a signed bit pattern.
        rng.next_u64() as i32
    });
    for mut row in noise.rows_mut() {
        row.iter_mut()
            .take(2)
            .zip([i32::MIN, i32::MAX])
            .for_each(|(v, x)| *v = x);
    }
    vec![
        Case {
            name: "detector int32",
            data: DecodedArray::Int32(c32.mapv(|v| v as i32)),
        },
        Case {
            name: "detector int64",
            data: DecodedArray::Int64(c64),
        },
        Case {
            name: "full-range noise int32",
            data: DecodedArray::Int32(noise.into_dyn()),
        },
    ]
}

/// The streams (rows) of `got` that differ from those of `want`.
fn differing<T: PartialEq>(want: &ArrayD<T>, got: &ArrayD<T>) -> Vec<usize> {
    let rows = want.outer_iter().zip(got.outer_iter()).enumerate();
    rows.filter(|(_, (a, b))| a != b).map(|(k, _)| k).collect()
}

/// Compresses every stream of `case` at `level` on one thread, decodes them back and
/// compares.
///
/// # Errors
/// The encoder rejects the data. Decode failures and mismatches are counted in the
/// report instead.
pub fn run_case(case: &Case, level: u8) -> Result<CaseReport> {
    let shape = case.data.shape().to_vec();
    let (streams, samples) = (shape[0], shape[1]);
    let opts = CompressOptions {
        level,
        threads: Some(1),
        ..CompressOptions::default()
    };
    let t = Instant::now();
    let fa = FlacArray::from_decoded(&case.data, &opts, None)
        .with_context(|| format!("{}: encoding", case.name))?;
    let encode_time = t.elapsed();
    let t = Instant::now();
    let back = fa.decompress(&ReadOptions {
        threads: Some(1),
        ..ReadOptions::default()
    });
    let decode_time = t.elapsed();
    let bad = match (&case.data, back.map(|s| s.array)) {
        (_, Err(e)) => Err(e.to_string()),
        (DecodedArray::Int32(a), Ok(DecodedArray::Int32(b))) => Ok(differing(a, &b)),
        (DecodedArray::Int64(a), Ok(DecodedArray::Int64(b))) => Ok(differing(a, &b)),
        (a, Ok(b)) => Err(format!("{} decoded as {}", a.dtype(), b.dtype())),
    };
    let (failures, first_failure) = match bad {
        Err(e) => (streams, Some(e)),
        Ok(bad) => (
            bad.len(),
            bad.first()
                .map(|k| format!("stream {k}: decoded samples differ")),
        ),
    };
    Ok(CaseReport {
        name: case.name,
        streams,
        channels: case.data.dtype().channels(1),
        samples,
        input_bytes: (streams * samples) as u64 * dtype_size(case.data.dtype()),
        compressed_bytes: fa.nbytes() as u64,
        encode_time,
        decode_time,
        failures,
        first_failure,
    })
}

/// Writes the report table.
///
/// # Errors
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
            mb_per_s(r.input_bytes, r.encode_time),
            mb_per_s(r.input_bytes, r.decode_time),
            if r.failures == 0 {
                "ok".to_string()
            } else {
                format!("{} FAILED", r.failures)
            }
        )?;
    }
    Ok(())
}

/// Runs `flacarray stream demo`: builds the cases, runs them, prints the table.
///
/// # Errors
/// Any stream failed to round-trip (exit status 1), or stdout cannot be written.
pub fn run_and_print(args: &DemoArgs) -> Result<()> {
    let streams = usize::try_from(args.streams)?;
    let samples = usize::try_from(args.samples)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "flacarray demo: FLAC round trip at level {}, {streams} streams x {samples} samples \
         per case, seed {} (single thread)",
        args.level, args.seed
    )
    .context("writing to stdout")?;
    let reports = make_cases(streams, samples, args.seed)
        .iter()
        .map(|c| run_case(c, args.level))
        .collect::<Result<Vec<_>>>()?;
    print_reports(&mut out, &reports).context("writing to stdout")?;
    let verdict = verdict(&reports)?;
    writeln!(out, "{verdict}").context("writing to stdout")?;
    Ok(())
}

/// The closing line when every stream round-tripped.
///
/// # Errors
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

    use super::{CaseReport, make_cases, run_case, verdict};
    use flacarray::DecodedArray;

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
    fn cases_are_deterministic_and_shaped() {
        let a = make_cases(3, 1000, 5);
        let b = make_cases(3, 1000, 5);
        assert_eq!(a.len(), 3);
        for (ca, cb) in a.iter().zip(&b) {
            assert_eq!(ca.data, cb.data);
            assert_eq!(ca.data.shape(), &[3, 1000]);
        }
        // Stream 0 of the int64 case sits on 2^32 counts: its high word is 0 or 1.
        let DecodedArray::Int64(c64) = &a[1].data else {
            panic!("int64 case");
        };
        let high: Vec<i64> = c64
            .outer_iter()
            .next()
            .expect("row")
            .iter()
            .map(|v| v >> 32)
            .collect();
        assert!(high.iter().all(|&h| h == 0 || h == 1));
        assert!(high.contains(&0) && high.contains(&1));
        assert_ne!(make_cases(3, 1000, 6)[0].data, a[0].data);
    }

    #[test]
    fn small_demo_round_trips_and_compresses() {
        let reports: Vec<_> = make_cases(2, 5000, 1)
            .iter()
            .map(|c| run_case(c, 5).expect("runs"))
            .collect();
        for r in &reports {
            assert_eq!(r.failures, 0, "{:?}", r.first_failure);
            assert_eq!(r.input_bytes, 2 * 5000 * 4 * u64::from(r.channels));
        }
        let ratios: Vec<f64> = reports.iter().map(CaseReport::ratio).collect();
        assert!(ratios[0] > 2.0, "detector int32 ratio {}", ratios[0]);
        assert!(ratios[1] > 1.5, "detector int64 ratio {}", ratios[1]);
        assert!(ratios[2] < 1.01, "noise ratio {}", ratios[2]);
    }
}
