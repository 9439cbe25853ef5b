//! Float -> integer quantization (format 1) and its inverse.
//!
//! # The algorithm (flacarray 0.4.1, `utils.c`), per stream, in the data type `T`
//!
//! 1. `smin`, `smax` of the stream.
//! 2. Mid-range `off = (T)(0.5 * (double)(smin + smax))` (the sum rounded in `T`).
//! 3. Snap to the quanta `q` by truncation toward zero: `n = trunc(off / q)` and
//!    `off = (T)(q * n)`, both in `f64`.
//! 4. `gain = (T)(1.0 / (double)q)`.
//! 5. Per sample: `d = x - off` and `p = gain * d` rounded in `T`; then
//!    `i = trunc(p + 0.5)` if `d >= 0`, else `trunc(p - 0.5)`, with the `± 0.5` in `f64`.
//!
//! # Where the integers fit
//!
//! Let `L = 2^(B-1)` for the `B`-bit integer. For `f32` data, `p` is an `f32` and
//! `p ± 0.5` is exact in `f64`; `trunc(p + 0.5) <= L - 1` iff `p < L - 0.5`, which for
//! an `f32` (spacing 128 just below `2^31`) means `p < L`; `trunc(p - 0.5) >= -L` iff
//! `p > -L - 0.5`, i.e. `p >= -L`. For `f64` data, `p + 0.5` is rounded: every `f64`
//! below `2^63` is at most `2^63 - 1024`, to which adding 0.5 changes nothing, so
//! `fl(p + 0.5) < 2^63` iff `p < L`; and `fl(p - 0.5) >= -2^63` iff `p >= -L` (`-2^63 - 0.5`
//! rounds back to `-2^63`, the next `f64` below is `2048` away). So in both cases
//! the stream fits iff every product satisfies `-L <= p < L`.
//!
//! Rounding is monotonic, so `p` is largest at `smax` and smallest at `smin`: the
//! check costs two products per stream, and the conversion loop can then use a
//! truncating cast that is proven not to saturate.
//!
//! # Deviations from 0.4.1 (all where 0.4.1 is undefined or wrong)
//!
//! * NaN and infinity are errors naming the stream and sample.
//! * A product outside `[-L, L)` is an error naming the smallest quanta that fits.
//! * With a precision, a constant stream is stored exactly (offset = the value,
//!   gain 1, integers 0), and a non-constant stream whose derived quanta is 0 or not
//!   finite is an error.
//! * `trunc(off / q)` is taken in `f64` instead of through an `int64`. The results are
//!   identical while `|off / q| < 2^63`; beyond that C's cast is undefined and 0.4.1
//!   produces garbage, while the `f64` form keeps `off` near the mid-range.
//! * If `smin + smax` overflows `T`, the mid-range is computed in `f64` instead (0.4.1
//!   produces an infinite offset and garbage).

use crate::error::{Error, Result};
use crate::float::QuantFloat;
use crate::spec::{QuantSpec, StreamSpec};
use crate::stats::{numpy_std, precision_quanta};

/// The per-stream parameters that undo the quantization: `x ≈ offset + i / gain`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamParams<T> {
    /// The stream's offset (a multiple of the quanta, except for constant streams
    /// stored exactly under a precision).
    pub offset: T,
    /// `1 / quanta`, rounded to the data type.
    pub gain: T,
}

/// The output of [`quantize`]: integers in the layout of the input, and one offset
/// and one gain per stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized<T: QuantFloat> {
    /// The integers, one per input value, in the same order.
    pub ints: Vec<T::Int>,
    /// One offset per stream.
    pub offsets: Vec<T>,
    /// One gain per stream.
    pub gains: Vec<T>,
}

/// Offset, gain and the extreme products of a stream for a given quanta.
#[derive(Debug, Clone, Copy)]
struct Scaled<T> {
    off: T,
    gain: T,
    p_lo: T,
    p_hi: T,
}

impl<T: QuantFloat> Scaled<T> {
    /// Whether every integer fits (see the module docs): false for NaN products too.
    fn fits(&self) -> bool {
        self.gain.is_finite() && self.p_lo >= T::ZERO - T::LIMIT && self.p_hi < T::LIMIT
    }
}

/// Step 2: the mid-range, rounded like 0.4.1 (`smin + smax` in `T`, halved in `f64`).
fn mid_range<T: QuantFloat>(smin: T, smax: T) -> T {
    let s = smin + smax;
    if s.is_finite() {
        T::from_f64(0.5 * s.to_f64())
    } else {
        // Only reachable for |x| near the top of the type's range, where 0.4.1 gets
        // an infinite offset. Halving first cannot overflow.
        T::from_f64(0.5 * smin.to_f64() + 0.5 * smax.to_f64())
    }
}

/// Steps 3-4 and the extreme products of step 5 for quanta `q`.
fn scale<T: QuantFloat>(smin: T, smax: T, mid: T, q: T) -> Scaled<T> {
    let qd = q.to_f64();
    // C computes `(int64_t)(off / q)` and converts back to double. `trunc` gives the
    // same integer whenever the cast is defined, and `+ 0.0` turns the `-0.0` of a
    // small negative quotient into the `+0.0` that the int64 round trip gives.
    let n = (mid.to_f64() / qd).trunc() + 0.0;
    let off = T::from_f64(qd * n);
    let gain = T::from_f64(1.0 / qd);
    Scaled {
        off,
        gain,
        p_lo: gain * (smin - off),
        p_hi: gain * (smax - off),
    }
}

/// The error for a stream holding NaN or infinity: the first such sample.
fn non_finite<T: QuantFloat>(x: &[T], stream: usize) -> Error {
    let (index, value) = x
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map_or((0, f64::NAN), |(i, v)| (i, v.to_f64()));
    Error::NonFinite {
        stream,
        index,
        value,
    }
}

/// A quanta with which the stream (given by its extremes) fits, next to one with
/// which it does not: the smallest quanta that fits, found by bisection over the
/// ordered bit patterns of positive floats, starting from `failed` (which does not
/// fit). Each probe costs O(1) since only the extremes matter.
fn min_fitting_quanta<T: QuantFloat>(smin: T, smax: T, mid: T, failed: T) -> T {
    let fits = |q: T| scale(smin, smax, mid, q).fits();
    // The integers reach about max|x - mid| / q, so this is close to the answer.
    let amp = (smax.to_f64() - mid.to_f64()).max(mid.to_f64() - smin.to_f64());
    let estimate = T::from_f64(amp / T::LIMIT.to_f64());
    let mut hi = if estimate > failed { estimate } else { failed };
    let two = T::ONE + T::ONE;
    // Doubling reaches a fitting quanta quickly: with q > 2 * amp the products stay
    // below 1 in magnitude. The bound on the loop only guards against surprises.
    let mut guard = 0;
    while !fits(hi) {
        hi = hi * two;
        guard += 1;
        if guard > 2200 || !hi.is_finite() {
            return hi;
        }
    }
    let mut lo_bits = failed.to_bits_u64();
    let mut hi_bits = hi.to_bits_u64();
    while hi_bits - lo_bits > 1 {
        let mid_bits = lo_bits + (hi_bits - lo_bits) / 2;
        if fits(T::from_bits_u64(mid_bits)) {
            hi_bits = mid_bits;
        } else {
            lo_bits = mid_bits;
        }
    }
    T::from_bits_u64(hi_bits)
}

/// The quantization of one stream, decided from the whole stream but applied to any
/// part of it: [`StreamPlan::new`] reads the stream once (extremes, and the standard
/// deviation under a precision) and checks that every integer fits;
/// [`StreamPlan::convert`] then turns any run of the stream's samples into its
/// integers. Converting the stream piece by piece gives exactly the integers of
/// [`quantize_stream`], since each integer depends only on its sample, the offset and
/// the gain; an encoder can so hold the integers of one piece at a time instead of
/// a copy of the whole stream.
///
/// ```
/// use flacarray_quant::{quantize_stream, StreamPlan, StreamSpec};
///
/// let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin() * 3.0).collect();
/// let plan = StreamPlan::new(&x, StreamSpec::Quanta(1e-4), 0)?;
/// let mut pieces = vec![0_i32; 1000];
/// for (xs, o) in x.chunks(300).zip(pieces.chunks_mut(300)) {
///     plan.convert(xs, o)?;
/// }
/// let mut whole = vec![0_i32; 1000];
/// let p = quantize_stream(&x, StreamSpec::Quanta(1e-4), 0, &mut whole)?;
/// assert_eq!((pieces, plan.params()), (whole, p));
/// # Ok::<(), flacarray_quant::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamPlan<T> {
    params: StreamParams<T>,
    /// The extreme products of the stream (see the module docs), which choose the
    /// conversion's form.
    p_lo: T,
    p_hi: T,
    /// A constant stream stored exactly under a precision: every integer is 0.
    constant: bool,
}

impl<T: QuantFloat> StreamPlan<T> {
    /// Decides the offset and gain of stream `x` under `spec` and checks that every
    /// integer fits. `stream` is only used in error messages.
    ///
    /// # Errors
    /// [`Error::NonFinite`], [`Error::Overflow`], [`Error::InvalidQuanta`], or
    /// [`Error::InvalidArgument`] for an empty stream.
    pub fn new(x: &[T], spec: StreamSpec<T>, stream: usize) -> Result<Self> {
        if x.is_empty() {
            return Err(Error::InvalidArgument(format!("stream {stream} is empty")));
        }
        let (smin, smax, any_nan) = T::min_max(x);
        if any_nan || !smin.is_finite() || !smax.is_finite() {
            return Err(non_finite(x, stream));
        }
        let q = match spec {
            StreamSpec::Quanta(q) => {
                if !(q > T::ZERO && q.is_finite()) {
                    return Err(Error::InvalidQuanta {
                        stream,
                        quanta: q.to_f64(),
                        reason: "a quanta must be positive and finite",
                    });
                }
                q
            }
            StreamSpec::Precision { digits, per_stream } => {
                if smin == smax {
                    // Our decision: a constant stream is stored exactly. (0.4.1 uses
                    // quanta 0, gain 1 and offset -0.0, i.e. rounds it to integers.)
                    return Ok(Self {
                        params: StreamParams {
                            offset: x[0],
                            gain: T::ONE,
                        },
                        p_lo: T::ZERO,
                        p_hi: T::ZERO,
                        constant: true,
                    });
                }
                let q = precision_quanta(numpy_std(x), digits, per_stream);
                if !(q > T::ZERO && q.is_finite()) {
                    return Err(Error::InvalidQuanta {
                        stream,
                        quanta: q.to_f64(),
                        reason: "the precision gives a zero or non-finite quanta for this \
                                 non-constant stream (its standard deviation underflows or \
                                 overflows); give an explicit quanta",
                    });
                }
                q
            }
        };
        let mid = mid_range(smin, smax);
        let s = scale(smin, smax, mid, q);
        if !s.gain.is_finite() {
            return Err(Error::InvalidQuanta {
                stream,
                quanta: q.to_f64(),
                reason: "the quanta is so small that its inverse overflows the data type",
            });
        }
        if !s.fits() {
            let value = if s.p_hi < T::LIMIT { smin } else { smax };
            return Err(Error::Overflow {
                stream,
                value: value.to_f64(),
                quanta: q.to_f64(),
                min_quanta: min_fitting_quanta(smin, smax, mid, q).to_f64(),
                bits: T::INT_BITS,
            });
        }
        Ok(Self {
            params: StreamParams {
                offset: s.off,
                gain: s.gain,
            },
            p_lo: s.p_lo,
            p_hi: s.p_hi,
            constant: false,
        })
    }

    /// The stream's offset and gain.
    #[must_use]
    pub fn params(&self) -> StreamParams<T> {
        self.params
    }

    /// Writes the integers of `x`, which must be a run of samples of the stream the
    /// plan was made from, to `out` (same length). Samples from outside that stream's
    /// range give meaningless integers (the conversion's form was chosen from its
    /// extremes), never a panic.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `out` and `x` differ in length.
    pub fn convert(&self, x: &[T], out: &mut [T::Int]) -> Result<()> {
        check_len("the integer output", out.len(), x.len())?;
        if self.constant {
            out.fill(T::Int::default());
        } else {
            T::convert(
                x,
                self.params.offset,
                self.params.gain,
                self.p_lo,
                self.p_hi,
                out,
            );
        }
        Ok(())
    }
}

/// Quantizes one stream.
///
/// `stream` is only used in error messages. `out` must have the length of `x`.
/// Returns the stream's offset and gain; [`dequantize_stream`] undoes it. The same
/// as [`StreamPlan::new`] followed by [`StreamPlan::convert`] of the whole stream.
///
/// ```
/// use flacarray_quant::{dequantize_stream, quantize_stream, StreamSpec};
///
/// let x = [-10.46_f64, -10.45];
/// let mut ints = [0_i64; 2];
/// let p = quantize_stream(&x, StreamSpec::Quanta(0.1), 0, &mut ints)?;
/// // The mid-range -10.455 is snapped toward zero to a multiple of the quanta.
/// assert_eq!(p.offset, 0.1 * -104.0);
/// // x - off = -0.06 and -0.0499..: times the gain 10, rounded half away from zero.
/// assert_eq!(ints, [-1, 0]);
/// let mut back = [0.0; 2];
/// dequantize_stream(&ints, p.offset, p.gain, &mut back)?;
/// assert!((back[0] - x[0]).abs() <= 0.05 + 1e-12);
/// # Ok::<(), flacarray_quant::Error>(())
/// ```
///
/// # Errors
/// [`Error::NonFinite`], [`Error::Overflow`], [`Error::InvalidQuanta`],
/// or [`Error::InvalidArgument`] for an empty stream or a length mismatch. On
/// error `out` is left unchanged.
pub fn quantize_stream<T: QuantFloat>(
    x: &[T],
    spec: StreamSpec<T>,
    stream: usize,
    out: &mut [T::Int],
) -> Result<StreamParams<T>> {
    if x.is_empty() {
        return Err(Error::InvalidArgument(format!("stream {stream} is empty")));
    }
    if out.len() != x.len() {
        return Err(Error::InvalidArgument(format!(
            "stream {stream}: output length {} != input length {}",
            out.len(),
            x.len()
        )));
    }
    let plan = StreamPlan::new(x, spec, stream)?;
    plan.convert(x, out)?;
    Ok(plan.params())
}

/// Number of streams in `len` values of `stream_size` each.
pub(crate) fn stream_count(len: usize, stream_size: usize) -> Result<usize> {
    if stream_size == 0 {
        return Err(Error::InvalidArgument(
            "stream_size must be positive".into(),
        ));
    }
    if !len.is_multiple_of(stream_size) {
        return Err(Error::InvalidArgument(format!(
            "{len} values are not a whole number of streams of {stream_size}"
        )));
    }
    Ok(len / stream_size)
}

/// Checks that a per-stream slice has `n` entries.
pub(crate) fn check_len(what: &str, len: usize, n: usize) -> Result<()> {
    if len == n {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} has length {len}, expected {n}"
        )))
    }
}

/// Quantizes the streams `first_stream ..` of a larger array: `data` holds
/// consecutive streams of `stream_size` values, and per-stream entries of `spec`
/// are indexed by global stream number (`first_stream + k` for the `k`-th stream
/// here), so callers can split an array into chunks of streams (e.g. one per
/// thread) and pass the same `spec` to each.
///
/// # Errors
/// As [`quantize_stream`], for the first failing stream; also
/// [`Error::InvalidArgument`] when lengths do not match or a per-stream spec
/// has fewer than `first_stream + n_streams` entries. Zero streams is not an error.
/// On error the output buffers hold the results of the streams before the failing
/// one.
pub fn quantize_streams_into<T: QuantFloat>(
    data: &[T],
    stream_size: usize,
    spec: &QuantSpec<'_, T>,
    first_stream: usize,
    out: &mut [T::Int],
    offsets: &mut [T],
    gains: &mut [T],
) -> Result<()> {
    let n = stream_count(data.len(), stream_size)?;
    check_len("the integer output", out.len(), data.len())?;
    check_len("offsets", offsets.len(), n)?;
    check_len("gains", gains.len(), n)?;
    let end = first_stream
        .checked_add(n)
        .ok_or_else(|| Error::InvalidArgument("stream index overflows".into()))?;
    if let Some(len) = spec.per_stream_len()
        && len < end
    {
        return Err(Error::InvalidArgument(format!(
            "per-stream quanta/precision has {len} entries, streams {first_stream}..{end} \
             were requested"
        )));
    }
    let streams = data
        .chunks_exact(stream_size)
        .zip(out.chunks_exact_mut(stream_size));
    let params = offsets.iter_mut().zip(gains.iter_mut());
    for (stream, ((x, o), (off, gain))) in (first_stream..).zip(streams.zip(params)) {
        let s = spec.stream(stream).ok_or_else(|| {
            Error::InvalidArgument(format!("no quanta or precision for stream {stream}"))
        })?;
        let p = quantize_stream(x, s, stream, o)?;
        *off = p.offset;
        *gain = p.gain;
    }
    Ok(())
}

/// Quantizes consecutive streams of `stream_size` values into caller buffers:
/// `out` has the length of `data`, `offsets` and `gains` one entry per stream.
/// A per-stream `spec` must have exactly one entry per stream.
///
/// # Errors
/// As [`quantize_streams_into`].
pub fn quantize_into<T: QuantFloat>(
    data: &[T],
    stream_size: usize,
    spec: &QuantSpec<'_, T>,
    out: &mut [T::Int],
    offsets: &mut [T],
    gains: &mut [T],
) -> Result<()> {
    let n = stream_count(data.len(), stream_size)?;
    if let Some(len) = spec.per_stream_len() {
        check_len("per-stream quanta/precision", len, n)?;
    }
    quantize_streams_into(data, stream_size, spec, 0, out, offsets, gains)
}

/// Quantizes consecutive streams of `stream_size` values (`f32` to `i32`, `f64` to
/// `i64`), exactly as flacarray 0.4.1 does for finite data that fits.
///
/// ```
/// use flacarray_quant::{dequantize, quantize, QuantSpec, Quanta};
///
/// let data: Vec<f32> = (0..2000).map(|i| (i as f32 * 0.01).sin()).collect();
/// let q = quantize(&data, 1000, &QuantSpec::Quanta(Quanta::Scalar(1e-4)))?;
/// assert_eq!((q.ints.len(), q.offsets.len()), (2000, 2));
/// let back = dequantize(&q.ints, 1000, &q.offsets, &q.gains)?;
/// for (a, b) in data.iter().zip(&back) {
///     assert!((a - b).abs() <= 0.5e-4 + 1e-6);
/// }
/// # Ok::<(), flacarray_quant::Error>(())
/// ```
///
/// # Errors
/// As [`quantize_streams_into`].
pub fn quantize<T: QuantFloat>(
    data: &[T],
    stream_size: usize,
    spec: &QuantSpec<'_, T>,
) -> Result<Quantized<T>> {
    let n = stream_count(data.len(), stream_size)?;
    let mut q = Quantized {
        ints: vec![T::Int::default(); data.len()],
        offsets: vec![T::ZERO; n],
        gains: vec![T::ZERO; n],
    };
    quantize_into(
        data,
        stream_size,
        spec,
        &mut q.ints,
        &mut q.offsets,
        &mut q.gains,
    )?;
    Ok(q)
}

/// Reconstructs one stream: `offset + coeff * (T)i` with `coeff = (T)(1.0 / gain)`
/// computed in `f64`, each operation rounded in `T` (no fused multiply-add), as 0.4.1.
///
/// # Errors
/// [`Error::InvalidArgument`] when `out` and `ints` differ in length.
pub fn dequantize_stream<T: QuantFloat>(
    ints: &[T::Int],
    offset: T,
    gain: T,
    out: &mut [T],
) -> Result<()> {
    check_len("the float output", out.len(), ints.len())?;
    let coeff = T::from_f64(1.0 / gain.to_f64());
    T::reconstruct(ints, offset, coeff, out);
    Ok(())
}

/// Reconstructs consecutive streams of `stream_size` integers into `out` (same
/// length as `ints`), with one offset and gain per stream.
///
/// # Errors
/// [`Error::InvalidArgument`] when the lengths do not match.
pub fn dequantize_into<T: QuantFloat>(
    ints: &[T::Int],
    stream_size: usize,
    offsets: &[T],
    gains: &[T],
    out: &mut [T],
) -> Result<()> {
    let n = stream_count(ints.len(), stream_size)?;
    check_len("offsets", offsets.len(), n)?;
    check_len("gains", gains.len(), n)?;
    check_len("the float output", out.len(), ints.len())?;
    let streams = ints
        .chunks_exact(stream_size)
        .zip(out.chunks_exact_mut(stream_size));
    for ((i, o), (&off, &gain)) in streams.zip(offsets.iter().zip(gains)) {
        let coeff = T::from_f64(1.0 / gain.to_f64());
        T::reconstruct(i, off, coeff, o);
    }
    Ok(())
}

/// Allocating form of [`dequantize_into`].
///
/// # Errors
/// As [`dequantize_into`].
pub fn dequantize<T: QuantFloat>(
    ints: &[T::Int],
    stream_size: usize,
    offsets: &[T],
    gains: &[T],
) -> Result<Vec<T>> {
    let mut out = vec![T::ZERO; ints.len()];
    dequantize_into(ints, stream_size, offsets, gains, &mut out)?;
    Ok(out)
}
