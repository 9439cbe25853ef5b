//! The error type of this crate.

/// Why a quantization or dequantization call failed.
///
/// Stream indices are global: a call that starts at `first_stream` reports
/// `first_stream + k` for its `k`-th stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sample is NaN or infinite. flacarray 0.4.1 rejects NaN for the whole array
    /// and turns infinities into garbage; we reject both and say where.
    #[error("stream {stream}: sample {index} is {value}; NaN and infinity cannot be quantized")]
    NonFinite {
        /// Index of the stream.
        stream: usize,
        /// Index of the sample inside the stream.
        index: usize,
        /// The offending value, widened to `f64`.
        value: f64,
    },

    /// A sample's scaled value does not fit the integer type (`i32` for `f32` data,
    /// `i64` for `f64` data). flacarray 0.4.1 silently stores `INT_MIN` there.
    #[error(
        "stream {stream}: value {value} does not fit in a {bits}-bit integer with quanta \
         {quanta}; the smallest quanta that fits this stream is {min_quanta}"
    )]
    Overflow {
        /// Index of the stream.
        stream: usize,
        /// The sample (the stream's minimum or maximum) that does not fit.
        value: f64,
        /// The quanta that was used (given, or derived from a precision).
        quanta: f64,
        /// The smallest quanta (in the data type, widened to `f64`) with which
        /// quantizing this stream succeeds.
        min_quanta: f64,
        /// Width of the integer type: 32 or 64.
        bits: u32,
    },

    /// A quanta (given, or derived from a precision) cannot be used.
    #[error("stream {stream}: quanta {quanta} cannot be used: {reason}")]
    InvalidQuanta {
        /// Index of the stream.
        stream: usize,
        /// The quanta, widened to `f64`.
        quanta: f64,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// The arguments do not fit together (lengths, stream size, quanta and precision
    /// both given or both missing, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
