//! `flacarray bench`: in-memory compression and decompression speed and ratio.
//!
//! The input is an `.npy` file or generated float32 timestreams
//! ([`crate::fake::timestreams`]; quanta 1e-4 unless `--quanta`/`--precision`). Each
//! step runs `--repeat` times; the best (shortest) time is reported, in MB/s of
//! uncompressed data (10^6 bytes per second). No file is written.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flacarray_core::{CompressOptions, DecodedArray, PrecisionOption, QuantaOption, ReadOptions};
use serde_json::json;

use crate::array_cmd::{compress_array, dtype_size, fmt_shape};
use crate::arraydemo::mb_per_s;
use crate::cli::BenchArgs;
use crate::fake::timestreams;
use crate::npy;
use crate::progress;

/// What a benchmark measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Where the data came from (a file name or `generated`).
    pub source: String,
    /// dtype name.
    pub dtype: &'static str,
    /// Input shape.
    pub shape: Vec<usize>,
    /// Compression level.
    pub level: u8,
    /// Input bytes.
    pub input_bytes: u64,
    /// Compressed bytes.
    pub compressed_bytes: u64,
    /// Every compression time.
    pub compress_times: Vec<Duration>,
    /// Every decompression time.
    pub decompress_times: Vec<Duration>,
}

impl BenchReport {
    /// Input bytes / compressed bytes.
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.input_bytes as f64 / self.compressed_bytes.max(1) as f64
    }

    fn best(times: &[Duration]) -> Duration {
        times.iter().copied().min().unwrap_or_default()
    }

    /// Compression MB/s of the best run.
    #[must_use]
    pub fn compress_mb_s(&self) -> f64 {
        mb_per_s(self.input_bytes, Self::best(&self.compress_times))
    }

    /// Decompression MB/s of the best run.
    #[must_use]
    pub fn decompress_mb_s(&self) -> f64 {
        mb_per_s(self.input_bytes, Self::best(&self.decompress_times))
    }
}

/// Runs the benchmark.
///
/// # Errors
/// The input cannot be read, float data without quantization option (file input),
/// integer data with one, or compression/decompression fails.
pub fn run(args: &BenchArgs) -> Result<BenchReport> {
    let (source, data, default_quanta) = match &args.input {
        Some(p) => (p.display().to_string(), npy::read_array(p)?, None),
        None => {
            let s = usize::try_from(args.streams)?;
            let n = usize::try_from(args.samples)?;
            let d = timestreams(s, n, 1.0, 123_456_789)
                .mapv(|v| v as f32)
                .into_dyn();
            ("generated".to_owned(), DecodedArray::Float32(d), Some(1e-4))
        }
    };
    let dtype = data.dtype();
    let given = args.quanta.is_some() || args.precision.is_some();
    if dtype.is_float() && !given && default_quanta.is_none() {
        bail!("{source}: {dtype} data needs --quanta or --precision");
    }
    if !dtype.is_float() && given {
        bail!(
            "{source}: {dtype} data is stored losslessly; --quanta and --precision apply to float data only"
        );
    }
    let opts = CompressOptions {
        level: args.level,
        quanta: args
            .quanta
            .or(if args.precision.is_none() {
                default_quanta
            } else {
                None
            })
            .filter(|_| dtype.is_float())
            .map(QuantaOption::Scalar),
        precision: args.precision.map(PrecisionOption::Scalar),
        threads: args.common.threads(),
        ..CompressOptions::default()
    };
    let repeat = usize::try_from(args.repeat)?;
    let mut p = progress::bar(args.common.quiet, Some(2 * repeat as u64), "bench");
    let mut compress_times = Vec::with_capacity(repeat);
    let mut fa = None;
    for _ in 0..repeat {
        p.phase("compressing");
        let t = Instant::now();
        let f = compress_array(&data, &opts).with_context(|| source.clone())?;
        compress_times.push(t.elapsed());
        fa = Some(f);
        p.inc(1);
    }
    let fa = fa.context("no run")?;
    let mut decompress_times = Vec::with_capacity(repeat);
    let read = ReadOptions {
        threads: args.common.threads(),
        ..ReadOptions::default()
    };
    for _ in 0..repeat {
        p.phase("decompressing");
        let t = Instant::now();
        let out = fa.decompress(&read).with_context(|| source.clone())?;
        decompress_times.push(t.elapsed());
        if out.array.shape() != data.shape() {
            bail!(
                "{source}: decoded shape {} differs from the input's",
                fmt_shape(out.array.shape())
            );
        }
        p.inc(1);
    }
    p.finish();
    let shape = data.shape().to_vec();
    Ok(BenchReport {
        source,
        dtype: dtype.name(),
        input_bytes: shape.iter().product::<usize>() as u64 * dtype_size(dtype),
        shape,
        level: args.level,
        compressed_bytes: fa.nbytes() as u64,
        compress_times,
        decompress_times,
    })
}

/// `flacarray bench`.
///
/// # Errors
/// As [`run`], or writing the output fails.
pub fn run_and_print(args: &BenchArgs, out: &mut dyn Write) -> Result<()> {
    let r = run(args)?;
    let secs = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).collect::<Vec<f64>>();
    if args.json {
        let v = json!({
            "source": r.source,
            "dtype": r.dtype,
            "shape": r.shape,
            "level": r.level,
            "threads": args.common.threads,
            "repeat": args.repeat,
            "input_bytes": r.input_bytes,
            "compressed_bytes": r.compressed_bytes,
            "ratio": r.ratio(),
            "compress_mb_s": r.compress_mb_s(),
            "decompress_mb_s": r.decompress_mb_s(),
            "compress_seconds": secs(&r.compress_times),
            "decompress_seconds": secs(&r.decompress_times),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "{}: {} {}, level {}: {} -> {} bytes, ratio {:.3}, compress {:.1} MB/s, \
             decompress {:.1} MB/s (best of {})",
            r.source,
            r.dtype,
            fmt_shape(&r.shape),
            r.level,
            r.input_bytes,
            r.compressed_bytes,
            r.ratio(),
            r.compress_mb_s(),
            r.decompress_mb_s(),
            args.repeat
        )?;
    }
    Ok(())
}
