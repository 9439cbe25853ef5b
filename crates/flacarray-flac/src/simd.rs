//! Run-time CPU dispatch, the only module of the crate with `unsafe` code.
//!
//! The hot loops (Rice decoding, predictor restore, residual and autocorrelation
//! loops of the encoder) are written once, in safe portable Rust, as
//! `#[inline(always)]` functions. This module compiles each of them a second time
//! inside a `#[target_feature]` function for x86-64 CPUs with AVX2, BMI1, BMI2 and
//! LZCNT (the "x86-64-v3" level), and picks one of the two copies at run time.
//! With those features the compiler counts leading zeros in one instruction (the
//! baseline needs `bsr` and a fix-up), shifts by a register without the flag
//! dependency of `shl cl` (`shlx`), and vectorizes 256 bits wide instead of 128.
//! Both copies are compiled from the same source with the same integer and IEEE
//! semantics (Rust never fuses or reorders floating-point operations on its own),
//! so they give identical results; the tests check that on random and boundary
//! inputs, and [`force_scalar`] (or `FLACARRAY_FORCE_SCALAR=1` in the environment)
//! selects the portable copy everywhere.
//!
//! The only `unsafe` operation is the call of a `#[target_feature]` function, made
//! after `is_x86_feature_detected!` has confirmed every feature it enables.

use std::sync::atomic::{AtomicU8, Ordering};

/// Dispatch state: not yet decided, portable code, or the x86-64-v3 copies.
const UNDECIDED: u8 = 0;
const PORTABLE: u8 = 1;
const V3: u8 = 2;

static LEVEL: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Whether this CPU has every feature the accelerated copies are compiled with.
fn cpu_has_v3() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The first decision: the environment variable, then the CPU.
fn decide() -> u8 {
    let forced =
        std::env::var_os("FLACARRAY_FORCE_SCALAR").is_some_and(|v| !v.is_empty() && v != "0");
    if !forced && cpu_has_v3() {
        V3
    } else {
        PORTABLE
    }
}

#[inline(always)]
fn use_v3() -> bool {
    let mut level = LEVEL.load(Ordering::Relaxed);
    if level == UNDECIDED {
        level = decide();
        LEVEL.store(level, Ordering::Relaxed);
    }
    level == V3
}

/// Forces the portable (scalar, baseline x86-64) code paths when `on` is true;
/// `false` returns to run-time CPU detection. Both paths give identical results;
/// this exists for tests and for comparing speed. The environment variable
/// `FLACARRAY_FORCE_SCALAR=1`, read once at the first call of the codec, has the
/// same effect as `force_scalar(true)`.
pub fn force_scalar(on: bool) {
    let level = if on || !cpu_has_v3() { PORTABLE } else { V3 };
    LEVEL.store(level, Ordering::Relaxed);
}

/// Whether the codec currently uses its CPU-specific (AVX2, BMI2, LZCNT) code paths.
pub fn accelerated() -> bool {
    use_v3()
}

/// Defines `$name` as a safe function that runs `$body` (a path to an
/// `#[inline(always)]` function with the same signature) either as compiled for the
/// baseline target or inlined into a copy compiled for x86-64-v3.
macro_rules! dispatched {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $body:path;) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
                fn v3($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                if use_v3() {
                    // SAFETY: `use_v3` is true only when `is_x86_feature_detected!`
                    // reported every feature that `v3` is compiled with.
                    return unsafe { v3($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

dispatched! {
    /// One subframe of at most 32 bits per sample (see `decode::decode_subframe_impl`).
    pub(crate) fn decode_subframe(
        r: &mut crate::bitread::BitReader<'_>,
        bps: u32,
        out: &mut [i32],
        pos: usize,
        defer: bool,
    ) -> crate::error::Result<Option<crate::decode::Lpc>> = crate::decode::decode_subframe_impl;
}

dispatched! {
    /// One 33-bit side subframe (see `decode::decode_subframe_wide_impl`).
    pub(crate) fn decode_subframe_wide(
        r: &mut crate::bitread::BitReader<'_>,
        bps: u32,
        out: &mut [i64],
        res: &mut [i32],
        pos: usize,
    ) -> crate::error::Result<()> = crate::decode::decode_subframe_wide_impl;
}

dispatched! {
    /// Four LPC subframes restored together (see `decode::restore_lpc_x4_impl`).
    pub(crate) fn restore_lpc_x4(
        bufs: [&mut [i32]; 4],
        params: &[crate::decode::Lpc; 4],
        c: &[[i32; 4]; crate::decode::MAX_JOINT_ORDER],
        shift: u32,
        order: usize,
    ) -> [bool; 4] = crate::decode::restore_lpc_x4_impl;
}

dispatched! {
    /// One frame encoded (see `Encoder::encode_frame_body`).
    pub(crate) fn encode_frame(
        enc: &mut crate::encode::Encoder,
        blk: &[i32],
        number: u64,
        out: &mut Vec<u8>,
    ) -> () = crate::encode::Encoder::encode_frame_body;
}

/// Partial autocorrelation sums of four lags (see
/// `lpc::autocorrelation_x4_common_impl`). With AVX the four lanes of each lag's
/// sums are one 256-bit register: a multiply and an add per lag and chunk, the
/// same IEEE operations on the same operands in the same order as the portable
/// loop (no fused multiply-add), so the sums are equal bit for bit. The compiler
/// does not find this form itself: it merges the overlapping loads of the four
/// lags into shuffles of 128-bit halves.
pub(crate) fn autocorrelation_x4_common(x: &[f64], lag: usize, common: usize) -> [[f64; 4]; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        if use_v3() && lag + 3 + common <= x.len() && common.is_multiple_of(4) {
            // SAFETY: `use_v3` confirmed AVX2 (which implies AVX) at run time, and the
            // bounds were checked above.
            return unsafe { avx::autocorrelation_x4_common(x, lag, common) };
        }
    }
    crate::lpc::autocorrelation_x4_common_impl(x, lag, common)
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };

    /// # Safety
    /// The CPU must support AVX; `lag + 3 + common <= x.len()` and `common` is a
    /// multiple of 4.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn autocorrelation_x4_common(
        x: &[f64],
        lag: usize,
        common: usize,
    ) -> [[f64; 4]; 4] {
        let p = x.as_ptr();
        let mut s: [__m256d; 4] = [_mm256_setzero_pd(); 4];
        let mut i = 0;
        while i < common {
            // SAFETY: i + 4 <= common <= x.len(), and i + lag + d + 4 <= lag + 3 +
            // common <= x.len() for d <= 3: every load lies within `x`.
            unsafe {
                let u = _mm256_loadu_pd(p.add(i));
                for (d, acc) in s.iter_mut().enumerate() {
                    let v = _mm256_loadu_pd(p.add(i + lag + d));
                    *acc = _mm256_add_pd(*acc, _mm256_mul_pd(u, v));
                }
            }
            i += 4;
        }
        let mut out = [[0.0f64; 4]; 4];
        for (o, acc) in out.iter_mut().zip(s) {
            // SAFETY: `o` has room for the four lanes stored.
            unsafe { _mm256_storeu_pd(o.as_mut_ptr(), acc) };
        }
        out
    }
}

/// CRC-16 of `data` continuing from `crc` (see `crc::crc16_update_table`), with a
/// carry-less multiply (PCLMULQDQ) fold of 64 bytes per step when the CPU has it.
pub(crate) fn crc16_update(crc: u16, data: &[u8]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    {
        if data.len() >= clmul::MIN_LEN
            && use_v3()
            && std::arch::is_x86_feature_detected!("pclmulqdq")
        {
            // SAFETY: `use_v3` confirmed SSSE3's successor features (AVX2 implies
            // SSSE3 and SSE4.1) and the check above confirmed PCLMULQDQ, every
            // feature that `fold` is compiled with.
            return unsafe { clmul::crc16(crc, data) };
        }
    }
    crate::crc::crc16_update_table(crc, data)
}

/// CRC-16 by folding: the message is a polynomial over GF(2), most significant
/// bit first, and the CRC is `M(x) * x^16 mod P(x)` (`P = 0x18005`). A 128-bit
/// block `A = H x^64 + L` that lies `D` bits before the end of the part already
/// folded is congruent to `H * (x^(D+64) mod P) + L * (x^D mod P)`: two 64 x 16-bit
/// carry-less products of at most 79 bits, which are xored into the block `D` bits
/// further on. Four accumulators 16 bytes apart step 64 bytes at a time (`D = 512`)
/// so that four multiplies are in flight; they are then folded into one (`D = 128`).
/// The last accumulator, congruent to the whole folded prefix modulo `P`, goes
/// through the table CRC as 16 bytes (which multiplies by `x^16` and reduces), and
/// the table finishes the bytes after the last whole 16-byte block.
#[cfg(target_arch = "x86_64")]
mod clmul {
    use std::arch::x86_64::{
        __m128i, _mm_clmulepi64_si128, _mm_loadu_si128, _mm_set_epi8, _mm_set_epi64x,
        _mm_shuffle_epi8, _mm_storeu_si128, _mm_xor_si128,
    };

    /// Shorter inputs use the table alone.
    pub(super) const MIN_LEN: usize = 64;

    /// `x^n mod P(x)`, the FLAC CRC-16 polynomial.
    const fn x_pow_mod(n: u32) -> u64 {
        let mut r: u32 = 1;
        let mut i = 0;
        while i < n {
            r <<= 1;
            if r & 0x1_0000 != 0 {
                r ^= 0x1_8005;
            }
            i += 1;
        }
        r as u64
    }

    const K512: (u64, u64) = (x_pow_mod(512 + 64), x_pow_mod(512));
    const K128: (u64, u64) = (x_pow_mod(128 + 64), x_pow_mod(128));

    #[inline]
    #[target_feature(enable = "sse2")]
    fn consts(k: (u64, u64)) -> __m128i {
        // The constants are below 2^16: the casts keep every bit.
        _mm_set_epi64x(k.0 as i64, k.1 as i64)
    }

    /// Block `A` (16 bytes earlier) times `x^D` reduced to 79 bits, xored into `b`.
    #[inline]
    #[target_feature(enable = "pclmulqdq,sse2")]
    fn fold(a: __m128i, k: __m128i, b: __m128i) -> __m128i {
        let hi = _mm_clmulepi64_si128(a, k, 0x11);
        let lo = _mm_clmulepi64_si128(a, k, 0x00);
        _mm_xor_si128(_mm_xor_si128(hi, lo), b)
    }

    /// Sixteen bytes as a 128-bit polynomial, the first byte's top bit as `x^127`.
    #[inline]
    #[target_feature(enable = "ssse3")]
    fn load(chunk: &[u8], rev: __m128i) -> __m128i {
        debug_assert!(chunk.len() >= 16);
        // SAFETY: the slice holds at least 16 bytes (every caller passes 16-byte
        // chunks) and `_mm_loadu_si128` has no alignment requirement.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        _mm_shuffle_epi8(v, rev)
    }

    /// # Safety
    /// The CPU must support PCLMULQDQ, SSSE3 and SSE4.1; `data` holds at least
    /// [`MIN_LEN`] bytes.
    #[target_feature(enable = "pclmulqdq,ssse3,sse4.1")]
    pub(super) unsafe fn crc16(crc: u16, data: &[u8]) -> u16 {
        let rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let k512 = consts(K512);
        let k128 = consts(K128);
        let mut blocks = data.chunks_exact(64);
        let Some(first) = blocks.next() else {
            return crate::crc::crc16_update_table(crc, data);
        };
        // A running CRC `c` is the same as `c` xored into the first two bytes of
        // the message (the table loop shifts it out exactly as it shifts them).
        let init = _mm_set_epi64x(i64::from(crc) << 48, 0);
        let mut a0 = _mm_xor_si128(load(&first[..16], rev), init);
        let mut a1 = load(&first[16..32], rev);
        let mut a2 = load(&first[32..48], rev);
        let mut a3 = load(&first[48..64], rev);
        for b in &mut blocks {
            a0 = fold(a0, k512, load(&b[..16], rev));
            a1 = fold(a1, k512, load(&b[16..32], rev));
            a2 = fold(a2, k512, load(&b[32..48], rev));
            a3 = fold(a3, k512, load(&b[48..64], rev));
        }
        let mut acc = fold(a0, k128, a1);
        acc = fold(acc, k128, a2);
        acc = fold(acc, k128, a3);
        let rest = blocks.remainder();
        let mut tail = rest.chunks_exact(16);
        for b in &mut tail {
            acc = fold(acc, k128, load(b, rev));
        }
        let mut bytes = [0u8; 16];
        // SAFETY: `bytes` has room for the 16 bytes stored, alignment is not required.
        unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), _mm_shuffle_epi8(acc, rev)) };
        let c = crate::crc::crc16_update_table(0, &bytes);
        crate::crc::crc16_update_table(c, tail.remainder())
    }
}

#[cfg(test)]
mod tests {
    use crate::crc::crc16_update_table;

    /// The carry-less fold against the table: every length 0..=600 (all remainders
    /// of the 64- and 16-byte steps), long inputs, random and extreme bytes, and
    /// every starting CRC class (zero, all ones, random).
    #[test]
    fn clmul_crc16_matches_table() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("pclmulqdq")
                || !std::arch::is_x86_feature_detected!("sse4.1")
            {
                return;
            }
            let mut seed = 99u64;
            let mut next = || {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) as u32
            };
            let random: Vec<u8> = (0..20_000).map(|_| next() as u8).collect();
            let ones = vec![0xFFu8; 20_000];
            let zeros = vec![0u8; 20_000];
            for data in [&random, &ones, &zeros] {
                let lens = (0..=600).chain([1023, 1024, 1025, 4095, 8191, 16_384, 20_000]);
                for len in lens {
                    for init in [0u16, 0xFFFF, next() as u16] {
                        let expect = crc16_update_table(init, &data[..len]);
                        if len >= super::clmul::MIN_LEN {
                            // SAFETY: the features were detected above; len >= MIN_LEN.
                            let got = unsafe { super::clmul::crc16(init, &data[..len]) };
                            assert_eq!(got, expect, "len {len}, init {init:#x}");
                        }
                        assert_eq!(super::crc16_update(init, &data[..len]), expect, "len {len}");
                    }
                }
            }
            // A frame followed by its own CRC checks to zero, as the decoder tests it.
            let mut frame = random[..5000].to_vec();
            let c = crc16_update_table(0, &frame);
            frame.extend(c.to_be_bytes());
            assert_eq!(super::crc16_update(0, &frame), 0);
        }
    }
}
