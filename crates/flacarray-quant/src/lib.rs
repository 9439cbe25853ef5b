//! Float ↔ integer quantization of flacarray streams, bit-exact with flacarray 0.4.1.
//!
//! flacarray compresses float arrays by turning each stream (a run of `stream_size`
//! values along the last axis) into integers, `f32` into `i32` and `f64` into `i64`,
//! with one offset and one gain per stream, and FLAC-encoding the integers. This
//! crate does the conversion both ways, on slices, single-threaded:
//!
//! * [`quantize`] / [`quantize_into`] / [`quantize_streams_into`] over many
//!   consecutive streams, [`quantize_stream`] for one, [`StreamPlan`] for one stream converted piece by piece; the quanta is given
//!   ([`Quanta`]) or derived from a precision in significant digits ([`Precision`]);
//! * [`dequantize`] / [`dequantize_into`] / [`dequantize_stream`], the inverse;
//! * [`v0`]: the reconstruction formulas of the legacy format 0.
//!
//! For finite data whose integers fit, the integers, offsets, gains and
//! reconstructions are bit-identical to flacarray 0.4.1 on x86-64, including the
//! quanta numpy derives from a precision ([`numpy_std`]). Where 0.4.1 is wrong or
//! undefined this crate returns an error instead (NaN and infinity, integer overflow
//! with the smallest quanta that would fit), and stores a constant stream exactly
//! under a precision. The exact formulas and the deviations are documented in the
//! `quant` module source and on [`quantize_stream`].
//!
//! ```
//! use flacarray_quant::{dequantize, quantize, Precision, QuantSpec};
//!
//! // Two streams of 1000 samples each.
//! let data: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.003).cos() * 7.0).collect();
//! let spec = QuantSpec::Precision(Precision::Scalar(6));
//! let q = quantize(&data, 1000, &spec)?;
//! let back = dequantize(&q.ints, 1000, &q.offsets, &q.gains)?;
//! for (k, (a, b)) in data.iter().zip(&back).enumerate() {
//!     let quanta = 1.0 / q.gains[k / 1000];
//!     assert!((a - b).abs() <= 0.5 * quanta * (1.0 + 1e-9));
//! }
//!
//! // NaN is an error that names the stream and the sample.
//! let mut bad = data.clone();
//! bad[1500] = f64::NAN;
//! let err = quantize(&bad, 1000, &spec).unwrap_err();
//! assert!(err.to_string().contains("stream 1: sample 500"));
//! # Ok::<(), flacarray_quant::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    clippy::cast_lossless
)]

mod error;
mod float;
mod quant;
mod spec;
mod stats;
pub mod v0;

pub use error::{Error, Result};
pub use float::QuantFloat;
pub use quant::{
    Quantized, StreamParams, StreamPlan, dequantize, dequantize_into, dequantize_stream, quantize,
    quantize_into, quantize_stream, quantize_streams_into,
};
pub use spec::{Precision, QuantSpec, Quanta, StreamSpec};
pub use stats::numpy_std;

#[cfg(test)]
mod tests;
