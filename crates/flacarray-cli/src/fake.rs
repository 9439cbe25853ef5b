//! Synthetic detector timestreams for `flacarray demo` and `flacarray bench`, shaped
//! like flacarray's `demo.create_fake_data`: per stream a DC offset, two
//! sines scaled by a random factor, white noise, plus a slow drift.
//!
//! The values do not reproduce numpy's random streams (the generator is
//! [`SplitMix64`]); the same seed gives the same data on every platform.

use ndarray::Array2;

use crate::prng::SplitMix64;

/// `(streams, samples)` timestreams with noise sigma `sigma`:
///
/// `dc + scale * (2σ sin(2π·3f0·t) + 6σ sin(2π·f0·t)) + drift·(t/N)² + N(0, σ)`
///
/// with `f0 = 5/N`, `dc = 5σ·(u − 0.5)` (0.4.1's `dc_sigma = 5`), `scale` uniform in
/// `[0, 1)` and a drift amplitude drawn from a normal law of standard deviation `3σ`.
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

#[cfg(test)]
mod tests {
    use super::timestreams;

    #[test]
    fn shape_determinism_and_noise_level() {
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
}
