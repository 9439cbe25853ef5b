//! `flacarray bench`: in-memory compression and decompression speed and ratio.
//!
//! The input is an `.npy` file or generated float32 timestreams
//! ([`flacarray::synth::timestreams`]; quanta 1e-4 unless `--quanta`/`--precision`). Each
//! step runs `--repeat` times; the best (shortest) time is reported, in MB/s of
//! uncompressed data (10^6 bytes per second). No file is written.
//!
//! Beside the wall time, each step's CPU time (all threads of the process, from
//! `/proc/self/task/*/schedstat` on Linux, which advances at scheduler ticks of a few
//! milliseconds) is reported: on a machine shared with other work it is the steadier
//! figure, and with one thread the comparable one.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flacarray::synth::timestreams;
use flacarray::{
    CompressOptions, DecodedArray, FlacArray, PrecisionOption, QuantaOption, ReadOptions, fmt_shape,
};
use serde_json::json;

use crate::array_cmd::dtype_size;
use crate::cli::BenchArgs;
use crate::npy;
use crate::progress;

/// Throughput in MB/s (10^6 bytes per second); a zero time counts as 1 ns.
#[must_use]
pub fn mb_per_s(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64().max(1e-9)
}

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
    /// CPU time of every compression (all threads), where the system tells it.
    pub compress_cpu: Option<Vec<Duration>>,
    /// CPU time of every decompression (all threads), where the system tells it.
    pub decompress_cpu: Option<Vec<Duration>>,
}

/// CPU time consumed so far by every live thread of this process, or `None` where
/// `/proc/self/task/*/schedstat` cannot be read (not Linux, or no schedstats).
///
/// The first field of `schedstat` is the thread's time on a CPU in nanoseconds; the
/// benchmark's threads (the caller and the rayon pool) live through all of its steps,
/// so the difference of two readings is the CPU time of what ran between them.
#[must_use]
pub fn process_cpu_time() -> Option<Duration> {
    let mut ns: u64 = 0;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            // A thread that ended between the listing and the read: its time is gone
            // from the process's sum either way.
            continue;
        };
        ns = ns.saturating_add(text.split_whitespace().next()?.parse().ok()?);
    }
    Some(Duration::from_nanos(ns))
}

/// Runs `f` and returns its result with the wall time and the CPU time it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let c0 = process_cpu_time();
    let t = Instant::now();
    let v = f();
    let wall = t.elapsed();
    let cpu = c0.zip(process_cpu_time()).map(|(a, b)| b.saturating_sub(a));
    (v, wall, cpu)
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

    /// Compression MB/s per CPU-second of the run with the least CPU time.
    #[must_use]
    pub fn compress_cpu_mb_s(&self) -> Option<f64> {
        let c = self.compress_cpu.as_deref()?;
        Some(mb_per_s(self.input_bytes, Self::best(c)))
    }

    /// Decompression MB/s per CPU-second of the run with the least CPU time.
    #[must_use]
    pub fn decompress_cpu_mb_s(&self) -> Option<f64> {
        let c = self.decompress_cpu.as_deref()?;
        Some(mb_per_s(self.input_bytes, Self::best(c)))
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
    let given = args.quant.quanta.is_some() || args.quant.precision.is_some();
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
            .quant
            .quanta
            .or(if args.quant.precision.is_none() {
                default_quanta
            } else {
                None
            })
            .filter(|_| dtype.is_float())
            .map(QuantaOption::Scalar),
        precision: args.quant.precision.map(PrecisionOption::Scalar),
        threads: args.common.threads(),
        ..CompressOptions::default()
    };
    let repeat = usize::try_from(args.repeat)?;
    let p = progress::bar(args.common.quiet, Some(2 * repeat as u64), "bench");
    let mut compress_times = Vec::with_capacity(repeat);
    let mut compress_cpu = Some(Vec::with_capacity(repeat));
    let mut fa = None;
    for _ in 0..repeat {
        p.phase("compressing");
        let (f, wall, cpu) = timed(|| FlacArray::from_decoded(&data, &opts, None));
        let f = f.with_context(|| source.clone())?;
        compress_times.push(wall);
        push_cpu(&mut compress_cpu, cpu);
        fa = Some(f);
        p.inc(1);
    }
    let fa = fa.context("no run")?;
    let mut decompress_times = Vec::with_capacity(repeat);
    let mut decompress_cpu = Some(Vec::with_capacity(repeat));
    let read = ReadOptions {
        threads: args.common.threads(),
        ..ReadOptions::default()
    };
    for _ in 0..repeat {
        p.phase("decompressing");
        let (out, wall, cpu) = timed(|| fa.decompress(&read));
        let out = out.with_context(|| source.clone())?;
        decompress_times.push(wall);
        push_cpu(&mut decompress_cpu, cpu);
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
        compress_cpu,
        decompress_cpu,
    })
}

/// Appends one CPU time, or drops the series once a reading is missing.
fn push_cpu(series: &mut Option<Vec<Duration>>, cpu: Option<Duration>) {
    match (series.as_mut(), cpu) {
        (Some(v), Some(c)) => v.push(c),
        _ => *series = None,
    }
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
            "compress_cpu_mb_s": r.compress_cpu_mb_s(),
            "decompress_cpu_mb_s": r.decompress_cpu_mb_s(),
            "compress_cpu_seconds": r.compress_cpu.as_deref().map(secs),
            "decompress_cpu_seconds": r.decompress_cpu.as_deref().map(secs),
        });
        writeln!(out, "{v}")?;
    } else {
        let cpu = match (r.compress_cpu_mb_s(), r.decompress_cpu_mb_s()) {
            (Some(c), Some(d)) => {
                format!("; per CPU-second: compress {c:.1} MB/s, decompress {d:.1} MB/s")
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "{}: {} {}, level {}: {} -> {} bytes, ratio {:.3}, compress {:.1} MB/s, \
             decompress {:.1} MB/s (best of {}){cpu}",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins until this process has been charged `ms` more CPU time (or panics after
    /// 20 s of wall time, which only a reading that never grows would reach).
    fn spin_cpu(ms: u64) {
        let start = process_cpu_time().expect("schedstat readable on Linux");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut x = 1u64;
        while process_cpu_time().expect("readable").saturating_sub(start)
            < Duration::from_millis(ms)
        {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005) ^ i);
            }
            assert!(Instant::now() < deadline, "CPU time did not grow: {x}");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn cpu_time_grows_with_work_and_timed_reports_it() {
        spin_cpu(20);
        // schedstat advances at scheduler ticks, so only a bound from below holds (and
        // other tests' threads in this process may add to it).
        let ((), wall, cpu) = timed(|| spin_cpu(30));
        let cpu = cpu.expect("readable");
        assert!(
            cpu >= Duration::from_millis(30),
            "{cpu:?} of CPU for 30 ms of work ({wall:?} wall)"
        );
    }

    #[test]
    fn missing_cpu_reading_drops_the_series() {
        let mut s = Some(vec![Duration::from_millis(3)]);
        push_cpu(&mut s, Some(Duration::from_millis(2)));
        assert_eq!(
            s,
            Some(vec![Duration::from_millis(3), Duration::from_millis(2)])
        );
        push_cpu(&mut s, None);
        assert_eq!(s, None);
        push_cpu(&mut s, Some(Duration::from_millis(1)));
        assert_eq!(s, None);
    }
}
