//! Synthetic signals for demos, benchmarks and tests: a deterministic generator
//! ([`SplitMix64`]) and detector-like timestreams ([`timestreams`], shaped like
//! flacarray's `demo.create_fake_data`; [`detector_signal`], one stream with a
//! random-walk drift); the cases of the `flacarray demo` and `flacarray stream demo`
//! commands ([`array_demo_cases`], [`stream_demo_cases`]); and what measuring a round
//! trip needs: [`compare`] (the error of decoded values against a bound) and [`timed`]
//! (wall and process CPU time).
//!
//! The values do not reproduce numpy's random streams; the same seed gives the same
//! values on every platform.
//!
//! ```
//! use flacarray_core::synth::{SplitMix64, timestreams};
//! let a = timestreams(3, 1000, 1.0, 42);
//! assert_eq!(a.shape(), &[3, 1000]);
//! assert_eq!(a, timestreams(3, 1000, 1.0, 42));
//! let mut rng = SplitMix64::new(7);
//! assert!((0.0..1.0).contains(&rng.next_f64()));
//! ```

use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayD};

use crate::{
    CompressOptions, DecodedArray, Error, PrecisionOption, QuantaOption, Result, StreamScaling,
    fmt_shape,
};

/// SplitMix64 (Steele, Lea and Flood, 2014) with a Box-Muller normal sampler.
///
/// 64 bits of state, passes BigCrush, the same sequence on every platform for a given
/// seed. Not cryptographic.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
    spare_normal: Option<f64>,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        // The golden-ratio increment visits every state once per 2^64 calls; the
        // two xor-shift-multiply rounds are the finalizer of MurmurHash3's variant 13.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly, so every value k / 2^53 is
        // equally likely and 1.0 is never returned.
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }

    /// A uniform value in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// A standard normal value (mean 0, standard deviation 1), by the Box-Muller
    /// transform; values come in pairs and the second one is kept for the next call.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.next_f64()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.next_f64();
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

/// `(streams, samples)` timestreams with noise sigma `sigma`, like flacarray's
/// `create_fake_data`:
///
/// `dc + scale * (2σ sin(2π·3f0·t) + 6σ sin(2π·f0·t)) + drift·(t/N)² + N(0, σ)`
///
/// with `f0 = 5/N` (five slow periods per stream), `dc = 5σ·(u − 0.5)` (0.4.1's
/// `dc_sigma = 5`), `scale` uniform in `[0, 1)` and a drift amplitude drawn from a
/// normal law of standard deviation `3σ`.
///
/// ```
/// let a = flacarray_core::synth::timestreams(2, 500, 1.0, 1);
/// assert!(a.iter().all(|v| v.is_finite() && v.abs() < 40.0));
/// ```
#[must_use]
pub fn timestreams(streams: usize, samples: usize, sigma: f64, seed: u64) -> Array2<f64> {
    let mut rng = SplitMix64::new(seed);
    let n = samples.max(1) as f64;
    let f0 = 5.0 / n;
    let tau = std::f64::consts::TAU;
    let wave: Vec<f64> = (0..samples)
        .map(|t| {
            let t = t as f64;
            2.0 * sigma * (tau * 3.0 * f0 * t).sin() + 6.0 * sigma * (tau * f0 * t).sin()
        })
        .collect();
    let mut out = Array2::<f64>::zeros((streams, samples));
    for mut row in out.rows_mut() {
        let dc = 5.0 * sigma * (rng.next_f64() - 0.5);
        let scale = rng.next_f64();
        let drift = 3.0 * sigma * rng.normal();
        for (t, (v, w)) in row.iter_mut().zip(&wave).enumerate() {
            let x = t as f64 / n;
            *v = dc + scale * w + drift * x * x + sigma * rng.normal();
        }
    }
    out
}

/// One detector-like timestream of `n` samples with noise sigma 1 around `dc`: a
/// random-walk drift, a slow large sine (2 to 6 periods per stream, amplitude 2 to 8),
/// a faster small one (periods of 200 to 2000 samples, amplitude 0.2 to 1.5) and white
/// noise. The parameters are drawn from `rng`, which advances.
///
/// ```
/// use flacarray_core::synth::{SplitMix64, detector_signal};
/// let s = detector_signal(&mut SplitMix64::new(3), 1000, 100.0);
/// assert_eq!(s.len(), 1000);
/// assert!(s.iter().all(|v| (v - 100.0).abs() < 100.0));
/// ```
#[must_use]
pub fn detector_signal(rng: &mut SplitMix64, n: usize, dc: f64) -> Vec<f64> {
    let tau = std::f64::consts::TAU;
    let f_slow = rng.uniform(2.0, 6.0) / n.max(1) as f64;
    let f_fast = rng.uniform(1.0 / 2000.0, 1.0 / 200.0);
    let a_slow = rng.uniform(2.0, 8.0);
    let a_fast = rng.uniform(0.2, 1.5);
    let phase = rng.uniform(0.0, tau);
    // Steps of 0.005σ..0.03σ: after N samples the walk has wandered ~step·√N, well
    // under the slow sine for the stream sizes used here.
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

/// One demo case: a printed name, an array and the quantization options it needs
/// (`level` and `threads` left at their defaults, for the caller to set).
#[derive(Debug, Clone)]
pub struct Case {
    /// Short description printed in a table.
    pub name: &'static str,
    /// The input array.
    pub data: DecodedArray,
    /// Quantization options (quanta or precision for floats, neither for integers).
    pub opts: CompressOptions,
}

/// The cases of `flacarray demo`: `(streams, samples)` [`timestreams`] of noise sigma
/// 1 as float32 with quanta 1e-4, float64 with precision 6, int32 in counts of 0.01
/// and int64 in counts of 1e-4 around 10^12 (so the high 32-bit word is used).
#[must_use]
pub fn array_demo_cases(streams: usize, samples: usize, seed: u64) -> Vec<Case> {
    let data = timestreams(streams, samples, 1.0, seed).into_dyn();
    let quant = |quanta: Option<f64>, precision: Option<i32>| CompressOptions {
        quanta: quanta.map(QuantaOption::Scalar),
        precision: precision.map(PrecisionOption::Scalar),
        ..CompressOptions::default()
    };
    // |data| < 100 for sigma 1, so both kinds of counts fit easily.
    let int64 = data.mapv(|v| (v * 1e4).round() as i64 + 1_000_000_000_000);
    vec![
        Case {
            name: "float32, quanta 1e-4",
            data: DecodedArray::Float32(data.mapv(|v| v as f32)),
            opts: quant(Some(1e-4), None),
        },
        Case {
            name: "float64, precision 6",
            data: DecodedArray::Float64(data.clone()),
            opts: quant(None, Some(6)),
        },
        Case {
            name: "int32 (0.01 counts)",
            data: DecodedArray::Int32(data.mapv(|v| (v * 100.0).round() as i32)),
            opts: quant(None, None),
        },
        Case {
            name: "int64 (1e-4 counts + 1e12)",
            data: DecodedArray::Int64(int64),
            opts: quant(None, None),
        },
    ]
}

/// The cases of `flacarray stream demo`, `(streams, samples)` integer arrays:
///
/// - **detector int32**: [`detector_signal`] around a random DC level, in counts of
///   0.01 noise sigma;
/// - **detector int64**: the same kind of signal in counts 100 times finer around DC
///   levels up to ±1e10 counts (stored as two 32-bit channels); stream 0 sits on
///   exactly 2^32 counts so its low word wraps constantly;
/// - **full-range noise int32**: uniform random 32-bit values, incompressible (the
///   encoder's VERBATIM fallback), each stream starting with `i32::MIN, i32::MAX`.
#[must_use]
pub fn stream_demo_cases(streams: usize, samples: usize, seed: u64) -> Vec<Case> {
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
    let wrap = (1u64 << 32) as f64 * 1e-4;
    let c64 = counts(
        &|rng, k| if k == 0 { wrap } else { rng.uniform(-1e6, 1e6) },
        1e-4,
    );
    // The low 32 bits, as a signed bit pattern.
    let mut noise =
        Array2::<i32>::from_shape_simple_fn((streams, samples), || rng.next_u64() as i32);
    for mut row in noise.rows_mut() {
        row.iter_mut()
            .zip([i32::MIN, i32::MAX])
            .for_each(|(v, x)| *v = x);
    }
    let case = |name, data| Case {
        name,
        data,
        opts: CompressOptions::default(),
    };
    vec![
        case(
            "detector int32",
            DecodedArray::Int32(c32.mapv(|v| v as i32)),
        ),
        case("detector int64", DecodedArray::Int64(c64)),
        case(
            "full-range noise int32",
            DecodedArray::Int32(noise.into_dyn()),
        ),
    ]
}

/// How decoded values compare with the input (see [`compare`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Floats: the largest absolute difference. Integers: the number of differing
    /// values.
    pub error: f64,
    /// The largest error allowed: 0 for integers; for floats half the largest quanta
    /// plus a few rounding units of the largest magnitude.
    pub bound: f64,
    /// The streams (C-order index over all axes but the last) beyond the bound.
    pub bad_streams: Vec<usize>,
}

impl Comparison {
    /// Whether every stream is within the bound.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.bad_streams.is_empty()
    }
}

/// Per-stream errors (`diff` summed for integers, maxed for floats) and the largest
/// magnitude of `a`, the streams being runs of the last axis's length.
fn per_stream<T: Copy>(
    a: &ArrayD<T>,
    b: &ArrayD<T>,
    sum: bool,
    diff: impl Fn(T, T) -> (f64, f64),
) -> (Vec<f64>, f64) {
    let len = a.shape().last().copied().unwrap_or(1).max(1);
    let mut rows = vec![0.0; a.len().div_ceil(len)];
    let mut max_abs = 0.0_f64;
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let (d, m) = diff(x, y);
        let r = &mut rows[i / len];
        *r = if sum { *r + d } else { r.max(d) };
        max_abs = max_abs.max(m);
    }
    (rows, max_abs)
}

/// Compares `output`, decoded with `scaling`, with `input`: integers must come back
/// exactly, floats within half a quantum plus rounding.
///
/// ```
/// use flacarray_core::{DecodedArray, StreamScaling, synth::compare};
/// let a = ndarray::arr2(&[[1, 2], [3, 4]]).into_dyn();
/// let b = ndarray::arr2(&[[1, 2], [3, 5]]).into_dyn();
/// let c = compare(&DecodedArray::Int32(a), &DecodedArray::Int32(b), &StreamScaling::None)?;
/// assert_eq!((c.error, c.bound, c.bad_streams), (1.0, 0.0, vec![1]));
/// # Ok::<(), flacarray_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] when the shapes or dtypes differ.
pub fn compare(
    input: &DecodedArray,
    output: &DecodedArray,
    scaling: &StreamScaling,
) -> Result<Comparison> {
    if input.shape() != output.shape() {
        return Err(Error::InvalidArgument(format!(
            "shape {} read back as {}",
            fmt_shape(input.shape()),
            fmt_shape(output.shape())
        )));
    }
    let half_q = match scaling {
        StreamScaling::F32 { gains, .. } => gains
            .iter()
            .map(|g| 0.5 / f64::from(*g))
            .fold(0.0, f64::max),
        StreamScaling::F64 { gains, .. } => gains.iter().map(|g| 0.5 / g).fold(0.0, f64::max),
        _ => 0.0,
    };
    let count = |x: bool| (f64::from(u8::from(x)), 0.0);
    let ((rows, _), sum, bound) = match (input, output) {
        (DecodedArray::Int32(a), DecodedArray::Int32(b)) => {
            (per_stream(a, b, true, |x, y| count(x != y)), true, 0.0)
        }
        (DecodedArray::Int64(a), DecodedArray::Int64(b)) => {
            (per_stream(a, b, true, |x, y| count(x != y)), true, 0.0)
        }
        (DecodedArray::Float32(a), DecodedArray::Float32(b)) => {
            // f32 differences are exact in f64, so widening loses nothing.
            let r = per_stream(a, b, false, |x, y| {
                ((f64::from(x) - f64::from(y)).abs(), f64::from(x).abs())
            });
            let eps = f64::from(f32::EPSILON);
            let bound = half_q * (1.0 + 1e-6) + 4.0 * eps * r.1;
            (r, false, bound)
        }
        (DecodedArray::Float64(a), DecodedArray::Float64(b)) => {
            let r = per_stream(a, b, false, |x, y| ((x - y).abs(), x.abs()));
            let bound = half_q * (1.0 + 1e-12) + 4.0 * f64::EPSILON * r.1;
            (r, false, bound)
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "{} read back as {}",
                input.dtype(),
                output.dtype()
            )));
        }
    };
    let error = if sum {
        rows.iter().sum()
    } else {
        rows.iter().copied().fold(0.0, f64::max)
    };
    let bad_streams = (0..rows.len()).filter(|&k| rows[k] > bound).collect();
    Ok(Comparison {
        error,
        bound,
        bad_streams,
    })
}

/// CPU time consumed so far by every live thread of this process, or `None` where
/// `/proc/self/task/*/schedstat` cannot be read (not Linux, or no schedstats).
///
/// The first field of `schedstat` is the thread's time on a CPU in nanoseconds
/// (advancing at scheduler ticks of a few milliseconds); a benchmark's threads (the
/// caller and the rayon pool) live through all of its steps, so the difference of two
/// readings is the CPU time of what ran between them.
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

/// Runs `f` and returns its result with the wall time and the process CPU time
/// ([`process_cpu_time`]) it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let c0 = process_cpu_time();
    let t = Instant::now();
    let v = f();
    let wall = t.elapsed();
    let cpu = c0.zip(process_cpu_time()).map(|(a, b)| b.saturating_sub(a));
    (v, wall, cpu)
}

/// Wall and process CPU times of the repeated runs of one step, for throughputs of the
/// best run (MB/s: 10^6 bytes per second; a zero time counts as 1 ns).
///
/// ```
/// let mut t = flacarray_core::synth::Timings::default();
/// assert_eq!(t.time(|| 6 * 7), 42);
/// assert_eq!(t.wall.len(), 1);
/// assert!(t.mb_s(1000) > 0.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// Wall times.
    pub wall: Vec<Duration>,
    /// CPU times (all threads), `None` once the system failed to tell one.
    pub cpu: Option<Vec<Duration>>,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            wall: Vec::new(),
            cpu: Some(Vec::new()),
        }
    }
}

impl Timings {
    /// Runs `f` through [`timed`], records its times and returns its result.
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let (v, wall, cpu) = timed(f);
        self.push(wall, cpu);
        v
    }

    /// Records one run; a missing CPU reading drops the CPU series.
    pub fn push(&mut self, wall: Duration, cpu: Option<Duration>) {
        self.wall.push(wall);
        match (self.cpu.as_mut(), cpu) {
            (Some(v), Some(c)) => v.push(c),
            _ => self.cpu = None,
        }
    }

    /// MB/s of `bytes` in the best wall time.
    #[must_use]
    pub fn mb_s(&self, bytes: u64) -> f64 {
        mb_per_s(bytes, self.wall.iter().min())
    }

    /// MB/s of `bytes` per CPU-second in the run with the least CPU time.
    #[must_use]
    pub fn cpu_mb_s(&self, bytes: u64) -> Option<f64> {
        Some(mb_per_s(bytes, self.cpu.as_deref()?.iter().min()))
    }
}

fn mb_per_s(bytes: u64, t: Option<&Duration>) -> f64 {
    let secs = t.map_or(0.0, Duration::as_secs_f64);
    bytes as f64 / 1e6 / secs.max(1e-9)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{
        SplitMix64, Timings, array_demo_cases, compare, detector_signal, process_cpu_time,
        stream_demo_cases, timed, timestreams,
    };
    use crate::{CompressOptions, DecodedArray, FlacArray, ReadOptions, StreamScaling};

    #[test]
    fn matches_reference_sequence() {
        // Reference values of SplitMix64 seeded with 0 (as in the xoshiro authors' code).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut rng = SplitMix64::new(42);
        let n = 200_000;
        let u: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean_u = u.iter().sum::<f64>() / f64::from(n);
        assert!((mean_u - 0.5).abs() < 0.01, "{mean_u}");
        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = z.iter().sum::<f64>() / f64::from(n);
        let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / f64::from(n);
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        let va: Vec<u64> = (0..10).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..10).map(|_| b.next_u64()).collect();
        assert_eq!(va, vb);
        assert_ne!(
            va,
            (0..10)
                .map(|_| SplitMix64::new(8).next_u64())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn timestreams_shape_determinism_and_noise_level() {
        let a = timestreams(4, 20_000, 1.0, 7);
        assert_eq!(a.shape(), &[4, 20_000]);
        assert_eq!(a, timestreams(4, 20_000, 1.0, 7));
        assert_ne!(a, timestreams(4, 20_000, 1.0, 8));
        // Sample-to-sample differences are dominated by the white noise: var ≈ 2σ².
        for row in a.rows() {
            let d: Vec<f64> = row.windows(2).into_iter().map(|w| w[1] - w[0]).collect();
            let var = d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64;
            assert!((var - 2.0).abs() < 0.1, "{var}");
            assert!(row.iter().all(|v| v.is_finite() && v.abs() < 40.0));
        }
    }

    #[test]
    fn detector_signal_is_deterministic_and_noisy_around_dc() {
        let a = detector_signal(&mut SplitMix64::new(5), 50_000, 1e4);
        assert_eq!(a, detector_signal(&mut SplitMix64::new(5), 50_000, 1e4));
        assert_ne!(a, detector_signal(&mut SplitMix64::new(6), 50_000, 1e4));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!((mean - 1e4).abs() < 20.0, "{mean}");
        // Differences: white noise (var 2) plus the drift step and the fast sine's
        // slope, both far smaller.
        let var = a.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / 49_999.0;
        assert!((var - 2.0).abs() < 0.1, "{var}");
    }

    #[test]
    fn stream_demo_cases_are_deterministic_and_shaped() {
        let a = stream_demo_cases(3, 1000, 5);
        let b = stream_demo_cases(3, 1000, 5);
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
        assert_ne!(stream_demo_cases(3, 1000, 6)[0].data, a[0].data);
    }

    /// Compresses `case` at level 5 on `threads`, decodes and compares; returns the
    /// ratio and the comparison.
    fn round_trip(case: &super::Case, threads: usize) -> (f64, super::Comparison) {
        let opts = CompressOptions {
            threads: Some(threads),
            ..case.opts.clone()
        };
        let fa = FlacArray::from_decoded(&case.data, &opts, None).expect("compresses");
        let back = fa
            .decompress(&ReadOptions::default())
            .expect("decompresses");
        let c = compare(&case.data, &back.array, fa.scaling()).expect("same shape");
        let input = (case.data.shape().iter().product::<usize>()
            * if case.data.dtype().is_64bit() { 8 } else { 4 }) as f64;
        (input / fa.nbytes() as f64, c)
    }

    #[test]
    fn small_stream_demo_round_trips_and_compresses() {
        let ratios: Vec<f64> = stream_demo_cases(2, 5000, 1)
            .iter()
            .map(|case| {
                let (ratio, c) = round_trip(case, 1);
                assert!(c.ok(), "{}: {c:?}", case.name);
                assert_eq!((c.error, c.bound), (0.0, 0.0));
                ratio
            })
            .collect();
        assert!(ratios[0] > 2.0, "detector int32 ratio {}", ratios[0]);
        assert!(ratios[1] > 1.5, "detector int64 ratio {}", ratios[1]);
        assert!(ratios[2] < 1.01, "noise ratio {}", ratios[2]);
    }

    #[test]
    fn small_array_demo_round_trips_every_case() {
        let cases = array_demo_cases(3, 5000, 1);
        assert_eq!(cases.len(), 4);
        for case in &cases {
            let (ratio, c) = round_trip(case, 2);
            assert!(c.ok() && ratio > 1.0, "{}: {c:?} {ratio}", case.name);
            if case.data.dtype().is_float() {
                assert!(c.error > 0.0 && c.bound < 1e-3, "{c:?}");
            } else {
                assert_eq!((c.error, c.bound), (0.0, 0.0));
            }
        }
    }

    #[test]
    fn compare_counts_integer_mismatches_and_flags_float_streams() {
        let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[3]), vec![1, 2, 3]).expect("a");
        let b = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[3]), vec![1, 5, 3]).expect("b");
        let c = compare(
            &DecodedArray::Int32(a.clone()),
            &DecodedArray::Int32(b),
            &StreamScaling::None,
        )
        .expect("same shape");
        assert_eq!((c.error, c.bound, c.bad_streams), (1.0, 0.0, vec![0]));
        let f = ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn();
        let g = ndarray::arr2(&[[1.0, 2.0], [3.0, 4.25]]).into_dyn();
        let scaling = StreamScaling::F64 {
            offsets: vec![0.0; 2],
            gains: vec![10.0; 2],
        };
        let c = compare(
            &DecodedArray::Float64(f),
            &DecodedArray::Float64(g),
            &scaling,
        )
        .expect("same shape");
        assert_eq!((c.error, c.bad_streams), (0.25, vec![1]));
        assert!((c.bound - 0.05).abs() < 1e-9, "{}", c.bound);
        let err = compare(
            &DecodedArray::Int32(a.clone()),
            &DecodedArray::Int64(a.mapv(i64::from)),
            &StreamScaling::None,
        )
        .expect_err("dtypes differ");
        assert!(
            err.to_string().contains("int32 read back as int64"),
            "{err}"
        );
    }

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
        let ms = Duration::from_millis;
        let mut s = Timings {
            wall: vec![],
            cpu: Some(vec![ms(3)]),
        };
        s.push(ms(5), Some(ms(2)));
        assert_eq!(s.cpu, Some(vec![ms(3), ms(2)]));
        assert_eq!(s.cpu_mb_s(2_000_000), Some(1000.0));
        s.push(ms(4), None);
        assert_eq!(s.cpu, None);
        s.push(ms(8), Some(ms(1)));
        assert_eq!((s.wall.len(), s.mb_s(4_000_000), s.cpu), (3, 1000.0, None));
    }
}
