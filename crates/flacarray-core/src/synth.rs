//! Synthetic signals for demos, benchmarks and tests: a deterministic generator
//! ([`SplitMix64`]) and detector-like timestreams ([`timestreams`], shaped like
//! flacarray's `demo.create_fake_data`; [`detector_signal`], one stream with a
//! random-walk drift).
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

use ndarray::Array2;

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

#[cfg(test)]
mod tests {
    use super::{SplitMix64, detector_signal, timestreams};

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
}
