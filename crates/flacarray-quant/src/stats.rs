//! numpy's `np.std`, reproduced operation for operation, and powers of ten.

use crate::float::QuantFloat;

/// numpy's block size for pairwise summation (`PW_BLOCKSIZE`).
const PW_BLOCKSIZE: usize = 128;

/// numpy's pairwise summation (`@TYPE@_pairwise_sum`), applied to `f(a[i])`.
///
/// numpy materialises the mapped array (e.g. the squared deviations) before summing;
/// mapping each element on load gives the same values in the same order. Below 8
/// elements it is a plain loop from `-0.0`; up to 128 it uses 8 interleaved
/// accumulators combined as `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))` and then the tail;
/// above that it splits at `n/2` rounded down to a multiple of 8 and recurses.
fn pairwise_sum<T: QuantFloat>(a: &[T], f: &impl Fn(T) -> T) -> T {
    let n = a.len();
    if n < 8 {
        let mut res = T::NEG_ZERO;
        for &v in a {
            res = res + f(v);
        }
        res
    } else if n <= PW_BLOCKSIZE {
        let mut r = [T::ZERO; 8];
        for (rj, &v) in r.iter_mut().zip(&a[..8]) {
            *rj = f(v);
        }
        let main = n - n % 8;
        for c in a[8..main].chunks_exact(8) {
            for (rj, &v) in r.iter_mut().zip(c) {
                *rj = *rj + f(v);
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[main..] {
            res = res + f(v);
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2], f) + pairwise_sum(&a[n2..], f)
    }
}

/// `numpy.add.reduce` along the (contiguous) last axis: the output starts at the
/// identity `+0.0` and the inner loop adds the pairwise sum of the whole row.
/// (Since numpy 2.3 a reduction that needs no buffering is not split into
/// 8192-element chunks, so one pairwise sum covers the row.)
fn numpy_sum<T: QuantFloat>(a: &[T], f: &impl Fn(T) -> T) -> T {
    T::ZERO + pairwise_sum(a, f)
}

/// `x / n` as numpy's `true_divide(x, intp(n), out=x)` computes it: the `f32`/`int64`
/// pair promotes to `f64`, and the quotient is rounded back to the data type.
fn div_count<T: QuantFloat>(x: T, n: usize) -> T {
    #[allow(
        clippy::cast_precision_loss,
        reason = "numpy converts the int64 count to double the same way; exact below 2^53"
    )]
    let n = n as f64;
    T::from_f64(x.to_f64() / n)
}

/// The population standard deviation of `x` as `np.std(x)` (ddof = 0) computes it in
/// the data type, bit for bit (numpy 2.x on x86-64):
/// `sqrt(sum((x - mean)^2) / n)` with `mean = sum(x) / n`, every sum pairwise and
/// accumulated in the data type (`f32` for `f32` data). Returns NaN for an empty slice.
///
/// ```
/// let x = [1.0_f64, 2.0, 3.0, 4.0];
/// assert_eq!(flacarray_quant::numpy_std(&x), 1.25_f64.sqrt());
/// ```
#[must_use]
pub fn numpy_std<T: QuantFloat>(x: &[T]) -> T {
    if x.is_empty() {
        return T::from_f64(f64::NAN);
    }
    let mean = div_count(numpy_sum(x, &|v| v), x.len());
    let ss = numpy_sum(x, &|v| {
        let d = v - mean;
        d * d
    });
    div_count(ss, x.len()).sqrt()
}

/// `10^p` correctly rounded to `f64`: what Python's `float(10**p)` gives for `p >= 0`
/// (exact up to `p = 22`), and the correctly rounded `10.0**p` for `p < 0` (CPython
/// calls the C library's `pow`, which agrees wherever it is correctly rounded).
pub(crate) fn ten_pow(p: i32) -> f64 {
    if (0..=22).contains(&p) {
        // Every power up to 10^22 is exact in f64 and so is each product.
        let mut v = 1.0_f64;
        for _ in 0..p {
            v *= 10.0;
        }
        v
    } else {
        // Rust's float parser rounds correctly; "1e400" gives inf, "1e-400" gives 0.
        format!("1e{p}").parse::<f64>().unwrap_or(f64::NAN)
    }
}

/// The quanta numpy derives from the precision `digits` and the stream's standard
/// deviation (see [`crate::Precision`] for the two roundings).
pub(crate) fn precision_quanta<T: QuantFloat>(std: T, digits: i32, per_stream: bool) -> T {
    let ten_p = ten_pow(digits);
    if per_stream {
        // numpy: f32 array / int64 array -> f64 division, then `.astype(f32)`.
        T::from_f64(std.to_f64() / ten_p)
    } else {
        T::scalar_precision_quanta(std, ten_p)
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "test inputs and expected values are built with plain casts"
)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_small_and_blocked_orders() {
        // Below 8 elements: a plain loop from -0.0.
        assert_eq!(
            pairwise_sum(&[-0.0_f64; 3], &|v| v).to_bits(),
            (-0.0_f64).to_bits()
        );
        // 1e16 + 1 + 1 ... in a plain loop loses the ones; the 8 accumulators of the
        // blocked loop keep them apart: lane 0 holds 1e16, the other lanes sum ones.
        let mut a = vec![1.0_f64; 16];
        a[0] = 1e16;
        let s = pairwise_sum(&a, &|v| v);
        // r0 = 1e16 + 1 (rounds to 1e16), r1..r7 = 2 each: (1e16 + 2) + 12 = 1e16 + 14.
        assert_eq!(s, 1e16 + 14.0);
        let naive: f64 = a.iter().fold(0.0, |acc, &v| acc + v);
        assert_eq!(naive, 1e16);
    }

    #[test]
    fn pairwise_split_point() {
        // n = 200 splits at 100 - 100 % 8 = 96; check against an explicit composition.
        let a: Vec<f32> = (0..200).map(|i| 1.0 + (i as f32) * 1e-3).collect();
        let whole = pairwise_sum(&a, &|v| v);
        let parts = pairwise_sum(&a[..96], &|v| v) + pairwise_sum(&a[96..], &|v| v);
        assert_eq!(whole.to_bits(), parts.to_bits());
    }

    #[test]
    fn ten_pow_values() {
        assert_eq!(ten_pow(0), 1.0);
        assert_eq!(ten_pow(6), 1e6);
        assert_eq!(ten_pow(22), 1e22);
        assert_eq!(ten_pow(23), 1e23);
        assert_eq!(ten_pow(-3), 1e-3);
        assert_eq!(ten_pow(400), f64::INFINITY);
    }

    #[test]
    fn precision_forms_round_differently_for_f32() {
        // Scalar form divides in f32; per-stream divides in f64 then rounds.
        let std = 0.123_456_79_f32;
        let scalar = precision_quanta(std, 3, false);
        let array = precision_quanta(std, 3, true);
        assert_eq!(scalar, std / 1000.0_f32);
        assert_eq!(array, (f64::from(std) / 1000.0) as f32);
        // For f64 the two forms agree.
        assert_eq!(
            precision_quanta(0.3_f64, 4, false),
            precision_quanta(0.3_f64, 4, true)
        );
    }

    #[test]
    fn numpy_std_constant_exact_sum() {
        assert_eq!(numpy_std(&[3.25_f32; 1000]), 0.0);
        assert!(numpy_std::<f32>(&[]).is_nan());
    }
}
