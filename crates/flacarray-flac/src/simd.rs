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
    /// Four LPC subframes restored together (see `decode::restore_lpc_x4_impl`).
    pub(crate) fn restore_lpc_x4(
        t: &mut [[i32; 4]],
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
