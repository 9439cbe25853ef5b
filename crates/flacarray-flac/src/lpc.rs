//! Linear prediction analysis for the encoder: apodization windows,
//! autocorrelation, Levinson-Durbin recursion, coefficient quantization and the
//! integer residual.

/// Highest LPC order FLAC allows.
pub(crate) const MAX_ORDER: usize = 32;

/// A Tukey window of length `n` with taper fraction `p` (0 = rectangle, 1 = Hann),
/// written into `w`. Only the shape matters to the encoder: it tames the block edges
/// so that the autocorrelation sees a smoother spectrum.
pub(crate) fn tukey(w: &mut [f64], p: f64) {
    let n = w.len();
    w.fill(1.0);
    if n < 3 || p <= 0.0 {
        return;
    }
    // Taper length on each side; at least one sample so short blocks still taper.
    let taper = ((p / 2.0) * n as f64) as usize;
    let taper = taper.clamp(1, n / 2);
    for i in 0..taper {
        let v = 0.5 - 0.5 * (std::f64::consts::PI * i as f64 / taper as f64).cos();
        w[i] = v;
        w[n - 1 - i] = v;
    }
}

/// A Tukey window over `[start, end)` and zero elsewhere ("partial Tukey").
pub(crate) fn partial_tukey(w: &mut [f64], p: f64, start: usize, end: usize) {
    w.fill(0.0);
    tukey(&mut w[start..end], p);
}

/// A Tukey window over the whole block with `[start, end)` cut out ("punch-out").
/// Lets a predictor ignore a transient in one part of the block.
pub(crate) fn punchout_tukey(w: &mut [f64], p: f64, start: usize, end: usize) {
    let n = w.len();
    w.fill(0.0);
    if start > 0 {
        tukey(&mut w[..start], p);
    }
    if end < n {
        tukey(&mut w[end..], p);
    }
}

/// Autocorrelation `r[lag] = sum x[i] * x[i + lag]` for lags `0..r.len()`.
///
/// f64 accumulation: inputs are windowed 33-bit integers (below 2^33) so each product
/// is below 2^66 and a block sum below 2^82; f64's 53-bit mantissa loses the low bits
/// of such sums, which only perturbs the predictor, never correctness (the residual
/// is computed exactly in integers afterwards).
#[inline(always)]
pub(crate) fn autocorrelation(x: &[f64], r: &mut [f64]) {
    let n = x.len();
    let mut lag = 0;
    while lag < r.len() {
        if lag + 4 <= r.len() && lag + 4 <= n {
            autocorrelation_x4(x, lag, &mut r[lag..lag + 4]);
            lag += 4;
        } else {
            r[lag] = autocorrelation_one(x, lag);
            lag += 1;
        }
    }
}

/// The sum for one lag, in the order that defines the encoder's output: four
/// partial sums over `chunks_exact(4)` (lane `j` takes the products at positions
/// `j mod 4`, in order), a sequential tail, then `(s0 + s1) + (s2 + s3) + tail`.
/// Four partial sums break the dependency chain so the loop pipelines.
#[inline(always)]
fn autocorrelation_one(x: &[f64], lag: usize) -> f64 {
    let n = x.len();
    if lag >= n {
        return 0.0;
    }
    let (a, b) = (&x[..n - lag], &x[lag..]);
    let mut s = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (u, v) in (&mut ca).zip(&mut cb) {
        s[0] += u[0] * v[0];
        s[1] += u[1] * v[1];
        s[2] += u[2] * v[2];
        s[3] += u[3] * v[3];
    }
    finish(s, ca.remainder(), cb.remainder())
}

#[inline(always)]
fn finish(s: [f64; 4], a: &[f64], b: &[f64]) -> f64 {
    let mut tail = 0.0;
    for (u, v) in a.iter().zip(b) {
        tail += u * v;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// Lags `lag..lag + 4` (all below `x.len()`) at once, each summed in exactly the
/// order of [`autocorrelation_one`] (so the encoder's output does not change):
/// the chunks that every one of the four has are done in one loop, which shares
/// the loads of `x[i..i + 4]` and runs four independent accumulator chains instead
/// of one (the single-lag loop waits on the latency of its additions); each lag
/// then finishes its own remaining chunks and tail.
#[inline(always)]
fn autocorrelation_x4(x: &[f64], lag: usize, r: &mut [f64]) {
    debug_assert!(lag + 4 <= x.len() && r.len() == 4);
    let n = x.len();
    let common = (n - lag - 3) / 4 * 4;
    let s = crate::simd::autocorrelation_x4_common(x, lag, common);
    for (d, (out, mut acc)) in r.iter_mut().zip(s).enumerate() {
        let l = lag + d;
        let (a, b) = (&x[common..n - l], &x[l + common..]);
        let mut ca = a.chunks_exact(4);
        let mut cb = b.chunks_exact(4);
        for (u, v) in (&mut ca).zip(&mut cb) {
            acc[0] += u[0] * v[0];
            acc[1] += u[1] * v[1];
            acc[2] += u[2] * v[2];
            acc[3] += u[3] * v[3];
        }
        *out = finish(acc, ca.remainder(), cb.remainder());
    }
}

/// The partial sums of lags `lag..lag + 4` over the first `common` samples
/// (a multiple of 4 with `lag + 3 + common <= x.len()`): `s[d][j]` sums
/// `x[i] * x[i + lag + d]` over `i = j mod 4`, in increasing `i`. The portable copy
/// of [`crate::simd::autocorrelation_x4_common`].
#[inline(always)]
pub(crate) fn autocorrelation_x4_common_impl(
    x: &[f64],
    lag: usize,
    common: usize,
) -> [[f64; 4]; 4] {
    let mut s = [[0.0f64; 4]; 4];
    let a = x[..common].as_chunks::<4>().0;
    let b0 = x[lag..lag + common].as_chunks::<4>().0;
    let b1 = x[lag + 1..lag + 1 + common].as_chunks::<4>().0;
    let b2 = x[lag + 2..lag + 2 + common].as_chunks::<4>().0;
    let b3 = x[lag + 3..lag + 3 + common].as_chunks::<4>().0;
    for ((((u, v0), v1), v2), v3) in a.iter().zip(b0).zip(b1).zip(b2).zip(b3) {
        for (d, v) in [v0, v1, v2, v3].into_iter().enumerate() {
            for j in 0..4 {
                s[d][j] += u[j] * v[j];
            }
        }
    }
    s
}

/// Levinson-Durbin recursion. From autocorrelation `r[0..=max_order]` computes, for
/// every order `m` in `1..=max_order`, predictor coefficients `lp[m-1][..m]`
/// (prediction `x[i] ~ sum_j lp[j] * x[i-1-j]`) and the residual energy `err[m-1]`.
/// Returns the highest order reached (stops early when the energy vanishes).
#[inline(always)]
pub(crate) fn levinson(
    r: &[f64],
    max_order: usize,
    lp: &mut [[f64; MAX_ORDER]; MAX_ORDER],
    err: &mut [f64; MAX_ORDER],
) -> usize {
    let mut a = [0.0f64; MAX_ORDER];
    let mut e = r[0];
    if e <= 0.0 {
        return 0;
    }
    for m in 0..max_order {
        // Reflection coefficient for order m+1.
        let mut acc = r[m + 1];
        for j in 0..m {
            acc -= a[j] * r[m - j];
        }
        let k = acc / e;
        let mut next = a;
        next[m] = k;
        for j in 0..m {
            next[j] = a[j] - k * a[m - 1 - j];
        }
        a = next;
        e *= 1.0 - k * k;
        lp[m][..=m].copy_from_slice(&a[..=m]);
        err[m] = e;
        if e <= 0.0 || !e.is_finite() {
            return m + 1;
        }
    }
    max_order
}

/// Expected bits per residual sample for a Laplacian residual of energy `err` over
/// `n` samples: half the log2 of the per-sample variance, scaled as in the classic
/// FLAC estimate (a Rice code costs about log2(mean |e|) + 1.5 bits).
pub(crate) fn expected_bits(err: f64, n: usize) -> f64 {
    if err <= 0.0 || n == 0 {
        return 0.0;
    }
    let b = 0.5 * (0.5 * err / n as f64).log2();
    if b > 0.0 { b } else { 0.0 }
}

/// Quantizes `lp` to `precision`-bit signed integers (sign included) with a right
/// shift of at most 15, carrying the rounding error from one coefficient to the next
/// so that the quantized predictor's response stays close to the real one.
/// Returns `None` when the coefficients are all zero or too large to represent with
/// a non-negative shift.
#[inline(always)]
pub(crate) fn quantize(lp: &[f64], precision: u32, q: &mut [i32]) -> Option<u32> {
    let cmax = lp.iter().fold(0.0f64, |m, &c| m.max(c.abs()));
    if cmax <= 0.0 || !cmax.is_finite() {
        return None;
    }
    // Largest magnitude a (precision)-bit signed value can take.
    let qmax = (1i64 << (precision - 1)) - 1;
    // Exponent e with 2^(e-1) <= cmax < 2^e; shift so that cmax * 2^shift < 2^(precision-1).
    let e = cmax.log2().floor() as i64 + 1;
    let shift = i64::from(precision) - 1 - e;
    if shift < 0 {
        return None;
    }
    let shift = shift.min(15);
    let scale = (1i64 << shift) as f64;
    let mut carry = 0.0f64;
    for (c, out) in lp.iter().zip(q.iter_mut()) {
        carry += c * scale;
        let v = (carry.round() as i64).clamp(-qmax - 1, qmax);
        carry -= v as f64;
        // Clamped to the precision, which is at most 15 bits: fits i32.
        {
            *out = v as i32;
        }
    }
    // `shift` is within 0..=15.
    Some(shift as u32)
}

/// Computes the LPC residual of `x[order..]` into `res`, or returns `false` when a
/// residual does not fit in a signed 32-bit integer (the format's limit), in which
/// case this predictor must not be used.
///
/// Samples are below 2^33 in magnitude and coefficients below 2^15, so each product
/// is below 2^48 and a sum of 32 below 2^53: exact in i64.
#[inline(always)]
///
/// With `narrow`, the caller promises that every sample fits an i32, which lets the
/// products be formed from 32-bit operands.
pub(crate) fn residual(
    x: &[i64],
    coefs: &[i32],
    shift: u32,
    narrow: bool,
    res: &mut [i32],
) -> bool {
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match (coefs.len(), narrow) {
                $(($n, false) => residual_n::<$n, false>(x, coefs, shift, res),)*
                $(($n, true) => residual_n::<$n, true>(x, coefs, shift, res),)*
                _ => false,
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
}

#[inline(always)]
fn residual_n<const N: usize, const NARROW: bool>(
    x: &[i64],
    coefs: &[i32],
    shift: u32,
    res: &mut [i32],
) -> bool {
    let mut c = [0i64; N];
    for (j, &v) in coefs.iter().rev().enumerate() {
        c[j] = i64::from(v);
    }
    // Checked every 256 samples so that a predictor that overflows (common on
    // full-range 32-bit noise) is abandoned early, without a branch per sample.
    let len = x.len().saturating_sub(N).min(res.len());
    let mut start = 0;
    while start < len {
        let end = (start + 256).min(len);
        let mut ok = true;
        for i in start..end {
            let w: &[i64; N] = match x[i..i + N].try_into() {
                Ok(w) => w,
                Err(_) => return false,
            };
            let mut acc = 0i64;
            for j in 0..N {
                // With NARROW every sample is an i32, so the truncation is exact and
                // the product is a 32 x 32-bit multiply.
                let v = if NARROW { i64::from(w[j] as i32) } else { w[j] };
                acc += c[j] * v;
            }
            let e = x[i + N] - (acc >> shift);
            ok &= fits_residual(e);
            // Out-of-range values are never used: `ok` rejects the predictor.
            {
                res[i] = e as i32;
            }
        }
        if !ok {
            return false;
        }
        start = end;
    }
    true
}

/// Residuals must fit a signed 32-bit integer; INT32_MIN is excluded as libFLAC
/// does, which keeps every zigzag-folded value below 2^32 - 1.
#[inline(always)]
pub(crate) fn fits_residual(e: i64) -> bool {
    (-i64::from(i32::MAX)..=i64::from(i32::MAX)).contains(&e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four-lag loop gives every lag's sum bit for bit as the one-lag loop
    /// (the encoder's output depends on it): lengths 1..=80 and around block
    /// sizes, lag counts 1..=33, values from tiny to 2^33 with both signs.
    #[test]
    fn autocorrelation_x4_is_bitwise_the_single_lag_sum() {
        let mut seed = 3u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 11
        };
        let lens = (1..=80).chain([191, 577, 1151, 4095, 4096, 4097]);
        for n in lens {
            let x: Vec<f64> = (0..n)
                .map(|_| {
                    let r = next();
                    let mag = (r % 34) as i32;
                    let v = ((r >> 8) % (1 << 33)) as f64 / 2f64.powi(33 - mag);
                    if r & 1 == 0 { v } else { -v * 0.731 }
                })
                .collect();
            for lags in [1usize, 2, 4, 5, 8, 9, 13, 33] {
                let mut r = vec![f64::NAN; lags];
                autocorrelation(&x, &mut r);
                for (lag, &got) in r.iter().enumerate() {
                    let want = autocorrelation_one(&x, lag);
                    assert_eq!(got.to_bits(), want.to_bits(), "n {n} lag {lag}");
                }
                // The CPU-specific kernel against the portable one, directly.
                if lags + 3 < n {
                    let common = (n - lags - 3) / 4 * 4;
                    let fast = crate::simd::autocorrelation_x4_common(&x, lags, common);
                    let portable = autocorrelation_x4_common_impl(&x, lags, common);
                    assert_eq!(
                        fast.map(|s| s.map(f64::to_bits)),
                        portable.map(|s| s.map(f64::to_bits)),
                        "n {n} lag {lags}"
                    );
                }
            }
        }
    }

    #[test]
    fn levinson_recovers_ar2() {
        // x[i] = 1.6 x[i-1] - 0.8 x[i-2] + small noise: the order-2 predictor should
        // come back close to (1.6, -0.8) and beat order 1 by a wide margin.
        let mut x = vec![0.0f64; 4096];
        let mut seed = 12345u64;
        for i in 2..x.len() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
            x[i] = 1.6 * x[i - 1] - 0.8 * x[i - 2] + noise;
        }
        let mut r = [0.0; 3];
        autocorrelation(&x, &mut r);
        let mut lp = [[0.0; MAX_ORDER]; MAX_ORDER];
        let mut err = [0.0; MAX_ORDER];
        assert_eq!(levinson(&r, 2, &mut lp, &mut err), 2);
        assert!((lp[1][0] - 1.6).abs() < 0.05, "{:?}", &lp[1][..2]);
        assert!((lp[1][1] + 0.8).abs() < 0.05, "{:?}", &lp[1][..2]);
        assert!(err[1] < err[0] * 0.5);
    }

    #[test]
    fn quantize_keeps_precision_and_shift_bounds() {
        let mut q = [0i32; 3];
        let shift = quantize(&[1.6, -0.8, 0.01], 12, &mut q);
        assert_eq!(shift, Some(10));
        assert_eq!(q, [1638, -819, 10]);
        assert!(quantize(&[0.0, 0.0], 12, &mut q).is_none());
    }

    #[test]
    fn residual_rejects_overflow() {
        let x = [
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            i64::from(i32::MIN),
        ];
        let mut res = [0i32; 2];
        // Predicting "same as before" gives a step of 2^32 - 1: too large.
        assert!(!residual(&x, &[1], 0, false, &mut res));
        let y = [10i64, 13, 17];
        assert!(residual(&y, &[1], 0, false, &mut res));
        assert_eq!(res, [3, 4]);
        assert!(residual(&y, &[1], 0, true, &mut res));
        assert_eq!(res, [3, 4]);
    }
}
