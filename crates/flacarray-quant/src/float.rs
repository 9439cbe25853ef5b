//! The float types this crate quantizes, and their per-sample kernels.
//!
//! Everything that depends on the concrete type (the width of the arithmetic, the
//! integer type, the casts) lives here, in two macro-generated implementations, so
//! the hot loops are monomorphic and the generic code in `quant.rs` only orchestrates.

use std::fmt::{Debug, Display};
use std::ops::{Add, Div, Mul, Sub};

mod sealed {
    /// Keeps [`super::QuantFloat`] implemented for `f32` and `f64` only.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Lane count of the min/max pass: independent accumulators let the compiler keep
/// the comparisons in SIMD registers. The result does not depend on it (min and max
/// are exact), except for which of `-0.0`/`+0.0` wins a tie, which cannot change
/// any output.
const LANES: usize = 8;

/// A float type that flacarray quantizes: `f32` (to `i32`) or `f64` (to `i64`).
///
/// The trait is sealed. Its hidden methods are the per-type kernels; use the free
/// functions of this crate instead.
pub trait QuantFloat:
    sealed::Sealed
    + Copy
    + Debug
    + Display
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
{
    /// The integer type the values are quantized to: `i32` for `f32`, `i64` for `f64`.
    type Int: Copy + Debug + Default + PartialEq + Eq + Send + Sync + 'static;

    /// Width of [`Self::Int`] in bits (32 or 64).
    const INT_BITS: u32;

    /// `0.0`.
    #[doc(hidden)]
    const ZERO: Self;
    /// `-0.0`.
    #[doc(hidden)]
    const NEG_ZERO: Self;
    /// `1.0`.
    #[doc(hidden)]
    const ONE: Self;
    /// `2^(INT_BITS - 1)`, exactly representable. A product `p` quantizes without
    /// overflow if and only if `-LIMIT <= p < LIMIT` (derivation in `quant.rs`).
    #[doc(hidden)]
    const LIMIT: Self;

    /// Lossless widening to `f64`.
    #[doc(hidden)]
    fn to_f64(self) -> f64;
    /// Rounding (to nearest, ties to even) narrowing from `f64`; identity for `f64`.
    /// This is C's `(float)d` / assignment to a `float`.
    #[doc(hidden)]
    fn from_f64(v: f64) -> Self;
    /// Correctly rounded square root.
    #[doc(hidden)]
    fn sqrt(self) -> Self;
    /// Neither NaN nor infinite.
    #[doc(hidden)]
    fn is_finite(self) -> bool;
    /// The IEEE bit pattern, zero-extended. For positive floats it orders like the values.
    #[doc(hidden)]
    fn to_bits_u64(self) -> u64;
    /// Inverse of [`Self::to_bits_u64`] (a pattern too wide for `f32` gives NaN).
    #[doc(hidden)]
    fn from_bits_u64(bits: u64) -> Self;

    /// `(min, max, any_nan)` of a non-empty slice. NaN never takes part in the
    /// comparisons; it is reported by the flag.
    #[doc(hidden)]
    fn min_max(x: &[Self]) -> (Self, Self, bool);

    /// The per-sample conversion of flacarray 0.4.1 for one stream:
    /// `d = x - off` and `p = gain * d` in `Self`, then `p ± 0.5` in `f64` by the sign
    /// of `d`, truncated toward zero. The caller has proven that every `p` lies in
    /// `[p_lo, p_hi]` within `[-LIMIT, LIMIT)`, so the truncating cast is exact.
    #[doc(hidden)]
    fn convert(x: &[Self], off: Self, gain: Self, p_lo: Self, p_hi: Self, out: &mut [Self::Int]);

    /// The reconstruction `off + coeff * (Self)i`, each operation rounded in `Self`.
    #[doc(hidden)]
    fn reconstruct(ints: &[Self::Int], off: Self, coeff: Self, out: &mut [Self]);

    /// The same reconstruction from `i32` samples (format 0 stores all floats as `i32`).
    #[doc(hidden)]
    fn reconstruct_i32(ints: &[i32], off: Self, coeff: Self, out: &mut [Self]);

    /// The quanta numpy computes for a *scalar* precision `p` from the stream's
    /// standard deviation: `std / 10**p` with the Python number `10**p` converted
    /// to the data type first (NEP 50 "weak" scalar). `ten_p` is `10^p` correctly
    /// rounded to `f64`.
    #[doc(hidden)]
    fn scalar_precision_quanta(std: Self, ten_p: f64) -> Self;
}

macro_rules! impl_quant_float {
    ($t:ty, $int:ty, $bits:expr, $limit:expr, $from_bits:expr, $convert:expr) => {
        impl QuantFloat for $t {
            type Int = $int;
            const INT_BITS: u32 = $bits;
            const ZERO: Self = 0.0;
            const NEG_ZERO: Self = -0.0;
            const ONE: Self = 1.0;
            const LIMIT: Self = $limit;

            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }

            #[inline(always)]
            #[allow(
                clippy::cast_possible_truncation,
                reason = "narrowing to the data type with IEEE round-to-nearest is the \
                          operation being replicated (C assigns a double to a float); \
                          a no-op for f64"
            )]
            fn from_f64(v: f64) -> Self {
                v as $t
            }

            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }

            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }

            #[inline]
            fn to_bits_u64(self) -> u64 {
                u64::from(<$t>::to_bits(self))
            }

            #[inline]
            fn from_bits_u64(bits: u64) -> Self {
                ($from_bits)(bits)
            }

            fn min_max(x: &[Self]) -> (Self, Self, bool) {
                // `min`/`max` (IEEE minNum/maxNum) ignore NaN, which is reported by
                // the flag instead; they compile to MINPS/MAXPS-based code that is
                // several times faster than compare-and-select here. Which zero
                // they return for `min(-0.0, 0.0)` cannot change any output (the
                // snapped offset of a zero mid-range is +0.0 either way).
                let first = x[0];
                let mut mn = [first; LANES];
                let mut mx = [first; LANES];
                // NaN flags as integers (not bools) keep the lanes in SIMD registers.
                let mut nan = [0_u32; LANES];
                let chunks = x.chunks_exact(LANES);
                let rest = chunks.remainder();
                for c in chunks {
                    for j in 0..LANES {
                        let v = c[j];
                        mn[j] = mn[j].min(v);
                        mx[j] = mx[j].max(v);
                        nan[j] |= u32::from(v.is_nan());
                    }
                }
                let mut smin = first;
                let mut smax = first;
                let mut any_nan = first.is_nan();
                for j in 0..LANES {
                    smin = smin.min(mn[j]);
                    smax = smax.max(mx[j]);
                    any_nan |= nan[j] != 0;
                }
                for &v in rest {
                    smin = smin.min(v);
                    smax = smax.max(v);
                    any_nan |= v.is_nan();
                }
                (smin, smax, any_nan)
            }

            #[inline]
            fn convert(
                x: &[Self],
                off: Self,
                gain: Self,
                p_lo: Self,
                p_hi: Self,
                out: &mut [Self::Int],
            ) {
                ($convert)(x, off, gain, p_lo, p_hi, out);
            }

            #[inline]
            #[allow(
                clippy::cast_precision_loss,
                reason = "the integer is rounded to the data type exactly as C's \
                          `(float)i` / `(double)i` does in 0.4.1's reconstruction"
            )]
            fn reconstruct(ints: &[Self::Int], off: Self, coeff: Self, out: &mut [Self]) {
                for (o, &i) in out.iter_mut().zip(ints) {
                    *o = off + coeff * (i as $t);
                }
            }

            #[inline]
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_lossless,
                reason = "format 0 rounds the i32 sample to the data type (exact for f64, \
                          rounded above 2^24 for f32), as 0.2.4 did"
            )]
            fn reconstruct_i32(ints: &[i32], off: Self, coeff: Self, out: &mut [Self]) {
                for (o, &i) in out.iter_mut().zip(ints) {
                    *o = off + coeff * (i as $t);
                }
            }

            #[inline]
            fn scalar_precision_quanta(std: Self, ten_p: f64) -> Self {
                std / Self::from_f64(ten_p)
            }
        }
    };
}

/// The `f32` conversion: `t = trunc((double)p ± 0.5)` for `p = gain * (x - off)`
/// rounded in `f32`, i.e. `p` rounded half away from zero. Two exactly equivalent
/// forms, chosen by the range of `p` (known from the extremes):
///
/// * `|p| < 2^22` (the usual case), [`round_half_away_small`], which vectorizes;
/// * otherwise [`round_half_away_trunc`].
///
/// Both equal the literal formula because `(double)p ± 0.5` is exact for
/// `|p| >= 2^-30` (the bits of `p` and of `0.5` then span at most 53 places) and
/// otherwise rounds to a value of magnitude below 1, so `trunc(p + 0.5)` is `p`
/// rounded half up for `p >= 0`, and `trunc(p - 0.5)` is `p` rounded half down for
/// `p <= 0` (the sign of `d = x - off` is the sign of `p`, or `p` is a zero that gives
/// 0 either way). A unit test compares both forms with the literal formula over a
/// sweep of `f32` bit patterns.
fn convert_f32(x: &[f32], off: f32, gain: f32, p_lo: f32, p_hi: f32, out: &mut [i32]) {
    if p_lo > -SMALL && p_hi < SMALL {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = round_half_away_small(gain * (v - off));
        }
    } else {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = round_half_away_trunc(gain * (v - off));
        }
    }
}

/// Bound of the fast path of [`convert_f32`].
const SMALL: f32 = 4_194_304.0; // 2^22

/// `1.5 * 2^23`: adding it to `|p| < 2^22` lands in `[2^23, 2^24)`, where the `f32`
/// spacing is exactly 1, so the sum is `p` rounded to nearest (ties to even) plus
/// `MAGIC`, and its low mantissa bits hold that integer.
const MAGIC: f32 = 12_582_912.0;

/// `p` rounded half away from zero, for `|p| < 2^22`, without a float-to-int
/// conversion (which the compiler cannot vectorize with its saturating semantics):
/// `n` = round-to-nearest-even from the bits of `p + MAGIC`; `e = p - n` is exact;
/// a tie (`|e| = 0.5`) that went toward zero takes one more step away from it.
#[inline(always)]
fn round_half_away_small(p: f32) -> i32 {
    let s = p + MAGIC;
    // Both patterns lie in [2^23, 2^24) as floats: their difference is n, |n| <= 2^22.
    let n = s.to_bits().wrapping_sub(MAGIC.to_bits()).cast_signed();
    let e = p - (s - MAGIC);
    n.wrapping_add(i32::from(e == 0.5 && p > 0.0))
        .wrapping_sub(i32::from(e == -0.5 && p < 0.0))
}

/// `p` rounded half away from zero, for `-2^31 <= p < 2^31`: `t = trunc(p)` (exact:
/// for `|p| >= 2^23` the `f32` `p` is already an integer, so `t` converts back to
/// `f32` exactly), `f = p - t` (the fractional part, exact, with the sign of `p`),
/// then one step away from zero when `|f| >= 0.5`.
#[inline(always)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "p as i32 truncates toward zero on purpose and is in range (the caller \
              proved -2^31 <= p < 2^31, so it never saturates); t as f32 is exact \
              (|t| < 2^24, or t == p)"
)]
fn round_half_away_trunc(p: f32) -> i32 {
    let t = p as i32;
    let f = p - t as f32;
    // |t| < 2^23 whenever f != 0, so the step cannot overflow.
    t.wrapping_add(i32::from(f >= 0.5))
        .wrapping_sub(i32::from(f <= -0.5))
}

/// The `f64` conversion, literally as 0.4.1: `p ± 0.5` is rounded in `f64` here (for
/// `2^52 <= |p| < 2^53` it can round up to the next integer, and for `p` just below
/// 0.5 the sum rounds to 1), so no shortcut.
#[inline]
#[allow(
    clippy::cast_possible_truncation,
    reason = "truncation toward zero is the rounding step being replicated; the caller \
              proved -2^63 <= p < 2^63, so fl(p ± 0.5) truncates into the i64 range \
              and the cast never saturates"
)]
fn convert_f64(x: &[f64], off: f64, gain: f64, _p_lo: f64, _p_hi: f64, out: &mut [i64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        let d = v - off;
        let p = gain * d;
        let r = if d >= 0.0 { p + 0.5 } else { p - 0.5 };
        *o = r as i64;
    }
}

// 2^31 and 2^63 are powers of two, exact in both types.
impl_quant_float!(
    f32,
    i32,
    32,
    2_147_483_648.0,
    |b: u64| match u32::try_from(b) {
        Ok(b) => f32::from_bits(b),
        Err(_) => f32::NAN,
    },
    convert_f32
);
impl_quant_float!(
    f64,
    i64,
    64,
    9_223_372_036_854_775_808.0,
    f64::from_bits,
    convert_f64
);

#[cfg(test)]
mod tests {
    use super::{SMALL, convert_f32, round_half_away_small, round_half_away_trunc};

    /// 0.4.1's literal formula for `x` with `off = 0`, `gain = 1` (so `d = p = x`).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "in range by the caller's filter"
    )]
    fn literal(p: f32) -> i32 {
        let pd = f64::from(p);
        (if p >= 0.0 { pd + 0.5 } else { pd - 0.5 }) as i32
    }

    #[test]
    fn f32_shortcuts_equal_literal_formula() {
        // A sweep over f32 bit patterns (every 251st, both signs, all exponents) plus
        // the half-integers and their neighbours, restricted to -2^31 <= p < 2^31.
        let mut xs: Vec<f32> = (0..=u32::MAX / 251)
            .map(|k| f32::from_bits(k * 251))
            .collect();
        for k in -5000_i16..5000 {
            let h = f32::from(k) + 0.5;
            xs.extend([h, h.next_up(), h.next_down()]);
        }
        for h in [4_194_303.5_f32, -4_194_303.5, 8_388_607.5, -8_388_607.5] {
            xs.extend([h, h.next_up(), h.next_down()]);
        }
        xs.extend([0.0, -0.0, 0.5, -0.5, 2_147_483_520.0, -2_147_483_648.0]);
        let (mut small, mut all) = (0_u64, 0_u64);
        for p in xs {
            if !(-2_147_483_648.0..2_147_483_648.0).contains(&p) {
                continue;
            }
            let want = literal(p);
            assert_eq!(round_half_away_trunc(p), want, "trunc form, p = {p:e}");
            all += 1;
            if p.abs() < SMALL {
                assert_eq!(round_half_away_small(p), want, "small form, p = {p:e}");
                small += 1;
            }
        }
        assert!(small > 7_000_000 && all > 8_000_000, "{small} {all}");
        // The dispatch: the same stream through both paths.
        let x = [-3.5_f32, -2.5, -0.5, 0.49999997, 0.5, 1.5, 2.5];
        let (mut a, mut b) = ([0; 7], [0; 7]);
        convert_f32(&x, 0.0, 1.0, -3.5, 2.5, &mut a);
        convert_f32(&x, 0.0, 1.0, -3.5, SMALL, &mut b);
        assert_eq!(a, [-4, -3, -1, 0, 1, 2, 3]);
        assert_eq!(a, b);
    }
}
