//! `flacarray demo`: realistic timestreams of all four dtypes through an HDF5 file.
//!
//! Four cases share one `(streams, samples)` set of synthetic detector timestreams
//! ([`flacarray::synth::timestreams`], noise sigma 1):
//!
//! - **float32, quanta 1e-4**;
//! - **float64, precision 6** (quanta = std / 10^6 per stream);
//! - **int32**: the data in counts of 0.01 (noise of 100 counts);
//! - **int64**: counts of 1e-4 around 10^12 (so the high 32-bit word is used).
//!
//! Each case is compressed and written as its own group of one HDF5 file (`--out`, or
//! a temporary directory removed at the end), read back, decoded and compared:
//! integers must come back exactly, floats within half a quantum plus rounding.
//! Compress time covers compression and writing; decompress time covers reading and
//! decoding. The command fails (exit status 1) if any case fails.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flacarray::synth::timestreams;
use flacarray::{
    CompressOptions, DecodedArray, FlacArray, PrecisionOption, QuantaOption, StreamScaling,
    fmt_shape,
};

use crate::array_cmd::dtype_size;
use crate::bench::mb_per_s;
use crate::cli::ArrayDemoArgs;
use crate::progress;
use crate::storage::Store;

/// One case: its name, HDF5 group, data and options.
#[derive(Debug, Clone)]
pub struct DemoCase {
    /// Printed name.
    pub name: &'static str,
    /// HDF5 group of the case.
    pub group: &'static str,
    /// The input.
    pub data: DecodedArray,
    /// Compression options.
    pub opts: CompressOptions,
}

/// What one case measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoReport {
    /// The case's name.
    pub name: &'static str,
    /// Input shape.
    pub shape: Vec<usize>,
    /// Input bytes.
    pub input_bytes: u64,
    /// Compressed bytes.
    pub compressed_bytes: u64,
    /// Compression and writing time.
    pub compress_time: Duration,
    /// Reading and decoding time.
    pub decompress_time: Duration,
    /// Largest absolute difference between input and output.
    pub max_error: f64,
    /// Largest difference allowed (0 for integers).
    pub bound: f64,
}

impl DemoReport {
    /// Input bytes / compressed bytes.
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.input_bytes as f64 / self.compressed_bytes.max(1) as f64
    }

    /// Whether the output is within the bound.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.max_error <= self.bound
    }
}

/// The four cases for `(streams, samples)` data with seed `seed`.
#[must_use]
pub fn make_cases(
    streams: usize,
    samples: usize,
    level: u8,
    seed: u64,
    threads: Option<usize>,
) -> Vec<DemoCase> {
    let data = timestreams(streams, samples, 1.0, seed).into_dyn();
    let base = CompressOptions {
        level,
        threads,
        ..CompressOptions::default()
    };
    vec![
        DemoCase {
            name: "float32, quanta 1e-4",
            group: "/float32",
            data: DecodedArray::Float32(data.mapv(|v| v as f32)),
            opts: CompressOptions {
                quanta: Some(QuantaOption::Scalar(1e-4)),
                ..base.clone()
            },
        },
        DemoCase {
            name: "float64, precision 6",
            group: "/float64",
            data: DecodedArray::Float64(data.clone()),
            opts: CompressOptions {
                precision: Some(PrecisionOption::Scalar(6)),
                ..base.clone()
            },
        },
        DemoCase {
            name: "int32 (0.01 counts)",
            group: "/int32",
            // |data| < 100 for sigma 1, so the counts fit easily.
            data: DecodedArray::Int32(data.mapv(|v| (v * 100.0).round() as i32)),
            opts: base.clone(),
        },
        DemoCase {
            name: "int64 (1e-4 counts + 1e12)",
            group: "/int64",
            data: DecodedArray::Int64(data.mapv(|v| (v * 1e4).round() as i64 + 1_000_000_000_000)),
            opts: base,
        },
    ]
}

/// Largest `|x - y|` and largest `|x|` over two arrays of values widened to `f64`.
fn max_diff_and_abs(pairs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    pairs.fold((0.0, 0.0), |(d, m), (x, y)| {
        (f64::max(d, (x - y).abs()), f64::max(m, x.abs()))
    })
}

/// Largest absolute difference between input and output, and the allowed bound:
/// 0 for integers (any difference counts as 1 at least), half the largest quanta plus
/// a few rounding units of the largest magnitude for floats.
///
/// # Errors
/// The shapes or types differ.
pub fn compare(
    input: &DecodedArray,
    output: &DecodedArray,
    scaling: &StreamScaling,
) -> Result<(f64, f64)> {
    if input.shape() != output.shape() {
        bail!(
            "shape {} read back as {}",
            fmt_shape(input.shape()),
            fmt_shape(output.shape())
        );
    }
    let half_q = match scaling {
        StreamScaling::F32 { gains, .. } => gains
            .iter()
            .map(|g| 0.5 / f64::from(*g))
            .fold(0.0, f64::max),
        StreamScaling::F64 { gains, .. } => gains.iter().map(|g| 0.5 / g).fold(0.0, f64::max),
        _ => 0.0,
    };
    Ok(match (input, output) {
        (DecodedArray::Int32(a), DecodedArray::Int32(b)) => {
            (a.iter().zip(b).filter(|(x, y)| x != y).count() as f64, 0.0)
        }
        (DecodedArray::Int64(a), DecodedArray::Int64(b)) => {
            (a.iter().zip(b).filter(|(x, y)| x != y).count() as f64, 0.0)
        }
        (DecodedArray::Float32(a), DecodedArray::Float32(b)) => {
            // f32 differences are exact in f64, so widening loses nothing.
            let pairs = a.iter().zip(b).map(|(x, y)| (f64::from(*x), f64::from(*y)));
            let (diff, max_abs) = max_diff_and_abs(pairs);
            let eps = f64::from(f32::EPSILON);
            (diff, half_q * (1.0 + 1e-6) + 4.0 * eps * max_abs)
        }
        (DecodedArray::Float64(a), DecodedArray::Float64(b)) => {
            let (diff, max_abs) = max_diff_and_abs(a.iter().zip(b).map(|(x, y)| (*x, *y)));
            (diff, half_q * (1.0 + 1e-12) + 4.0 * f64::EPSILON * max_abs)
        }
        _ => bail!("{} read back as {}", input.dtype(), output.dtype()),
    })
}

/// Runs one case through the HDF5 file `path`.
///
/// # Errors
/// Compression, storage or decoding fails.
pub fn run_case(case: &DemoCase, path: &Path) -> Result<DemoReport> {
    let store = Store::for_path(path, case.group);
    let t0 = Instant::now();
    let fa = FlacArray::from_decoded(&case.data, &case.opts, None).with_context(|| case.name)?;
    store.write(&fa, true)?;
    let compress_time = t0.elapsed();
    let t1 = Instant::now();
    let back = store.read(None, false)?;
    let out = back.to_array().with_context(|| store.describe())?;
    let decompress_time = t1.elapsed();
    let (max_error, bound) = compare(&case.data, &out, back.scaling())
        .with_context(|| format!("{}: {}", store.describe(), case.name))?;
    let shape = case.data.shape().to_vec();
    Ok(DemoReport {
        name: case.name,
        input_bytes: shape.iter().product::<usize>() as u64 * dtype_size(case.data.dtype()),
        shape,
        compressed_bytes: fa.nbytes() as u64,
        compress_time,
        decompress_time,
        max_error,
        bound,
    })
}

/// Prints the table of reports.
///
/// # Errors
/// Writing fails.
pub fn print_reports(out: &mut dyn Write, reports: &[DemoReport]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<28} {:>14} {:>12} {:>12} {:>7} {:>11} {:>11} {:>10} {:>10}  status",
        "case",
        "shape",
        "input B",
        "compr. B",
        "ratio",
        "comp MB/s",
        "dec MB/s",
        "max err",
        "bound"
    )?;
    for r in reports {
        writeln!(
            out,
            "{:<28} {:>14} {:>12} {:>12} {:>7.3} {:>11.1} {:>11.1} {:>10.3e} {:>10.3e}  {}",
            r.name,
            fmt_shape(&r.shape),
            r.input_bytes,
            r.compressed_bytes,
            r.ratio(),
            mb_per_s(r.input_bytes, r.compress_time),
            mb_per_s(r.input_bytes, r.decompress_time),
            r.max_error,
            r.bound,
            if r.ok() { "ok" } else { "FAILED" }
        )?;
    }
    Ok(())
}

/// `flacarray demo`.
///
/// # Errors
/// Any case fails or the file cannot be written.
pub fn run_and_print(args: &ArrayDemoArgs, out: &mut dyn Write) -> Result<()> {
    let streams = usize::try_from(args.streams)?;
    let samples = usize::try_from(args.samples)?;
    let tmp;
    let path = match &args.out {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
            tmp.path().join("demo.h5")
        }
    };
    let cases = make_cases(
        streams,
        samples,
        args.level,
        args.seed,
        args.common.threads(),
    );
    let p = progress::bar(args.common.quiet, Some(cases.len() as u64), "demo");
    let mut reports = Vec::with_capacity(cases.len());
    for case in &cases {
        p.phase(case.name);
        reports.push(run_case(case, &path)?);
        p.inc(1);
    }
    p.finish();
    writeln!(
        out,
        "flacarray demo: {streams} streams x {samples} samples, level {}, file {}",
        args.level,
        if args.out.is_some() {
            path.display().to_string()
        } else {
            "(temporary)".into()
        }
    )?;
    print_reports(out, &reports)?;
    let failed: Vec<&str> = reports.iter().filter(|r| !r.ok()).map(|r| r.name).collect();
    if !failed.is_empty() {
        bail!(
            "demo: {} case(s) failed the round trip: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    writeln!(
        out,
        "all {} cases round-tripped within bounds",
        reports.len()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{compare, make_cases, run_case};
    use flacarray::{DecodedArray, StreamScaling};

    #[test]
    fn small_demo_round_trips_every_case() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("d.h5");
        let cases = make_cases(3, 5000, 5, 1, Some(2));
        assert_eq!(cases.len(), 4);
        for c in &cases {
            let r = run_case(c, &path).expect("case runs");
            assert!(r.ok(), "{r:?}");
            assert!(r.ratio() > 1.0, "{r:?}");
            if c.data.dtype().is_float() {
                assert!(r.max_error > 0.0 && r.bound < 1e-3, "{r:?}");
            } else {
                assert_eq!((r.max_error, r.bound), (0.0, 0.0));
            }
        }
    }

    #[test]
    fn compare_counts_integer_mismatches() {
        let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[3]), vec![1, 2, 3]).expect("a");
        let b = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[3]), vec![1, 5, 3]).expect("b");
        let (e, bound) = compare(
            &DecodedArray::Int32(a),
            &DecodedArray::Int32(b),
            &StreamScaling::None,
        )
        .expect("same shape");
        assert_eq!((e, bound), (1.0, 0.0));
    }
}
