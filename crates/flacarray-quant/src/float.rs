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
/// any output (see `quant.rs`).
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
    /// of `d`, truncated toward zero. The caller has proven that no `p` leaves
    /// `[-LIMIT, LIMIT)`, so the truncating cast is exact.
    #[doc(hidden)]
    fn convert(x: &[Self], off: Self, gain: Self, out: &mut [Self::Int]);

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
    ($t:ty, $int:ty, $bits:expr, $limit:expr, $from_bits:expr) => {
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
                let first = x[0];
                let mut mn = [first; LANES];
                let mut mx = [first; LANES];
                let mut nan = [false; LANES];
                let chunks = x.chunks_exact(LANES);
                let rest = chunks.remainder();
                for c in chunks {
                    for j in 0..LANES {
                        let v = c[j];
                        // `v < m` and `v > m` are false for NaN, so NaN never enters.
                        mn[j] = if v < mn[j] { v } else { mn[j] };
                        mx[j] = if v > mx[j] { v } else { mx[j] };
                        nan[j] |= v.is_nan();
                    }
                }
                let mut smin = first;
                let mut smax = first;
                let mut any_nan = first.is_nan();
                for j in 0..LANES {
                    smin = if mn[j] < smin { mn[j] } else { smin };
                    smax = if mx[j] > smax { mx[j] } else { smax };
                    any_nan |= nan[j];
                }
                for &v in rest {
                    smin = if v < smin { v } else { smin };
                    smax = if v > smax { v } else { smax };
                    any_nan |= v.is_nan();
                }
                (smin, smax, any_nan)
            }

            #[inline]
            #[allow(
                clippy::cast_possible_truncation,
                reason = "truncation toward zero is the rounding step being replicated; \
                          the caller proved -2^(bits-1) <= p < 2^(bits-1), so the \
                          truncated value is in range and the cast is exact (never \
                          saturates)"
            )]
            fn convert(x: &[Self], off: Self, gain: Self, out: &mut [Self::Int]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    let d = v - off;
                    // The product is rounded in the data type (float32 in 0.4.1's C);
                    // only then is it widened and the 0.5 added in double.
                    let p = f64::from(gain * d);
                    let r = if d >= 0.0 { p + 0.5 } else { p - 0.5 };
                    *o = r as $int;
                }
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

// 2^31 and 2^63 are powers of two, exact in both types.
impl_quant_float!(f32, i32, 32, 2_147_483_648.0, |b: u64| match u32::try_from(b) {
    Ok(b) => f32::from_bits(b),
    Err(_) => f32::NAN,
});
impl_quant_float!(f64, i64, 64, 9_223_372_036_854_775_808.0, f64::from_bits);
