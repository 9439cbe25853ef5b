//! How the quanta of each stream is chosen.

use crate::error::{Error, Result};

/// An explicit quanta: the value of one integer step.
///
/// It is converted to the data type before use, as flacarray does
/// (`quanta * ones(leading_shape, dtype)`), so pass `0.001f32` for `f32` data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quanta<'a, T> {
    /// The same quanta for every stream.
    Scalar(T),
    /// One quanta per stream, in stream order (C order of the leading axes).
    PerStream(&'a [T]),
}

/// A precision in significant digits: the quanta of a stream is its population
/// standard deviation (as numpy's `np.std` computes it) divided by `10^p`.
///
/// The two forms differ for `f32` data exactly as in flacarray 0.4.1, where
/// numpy's type promotion rounds differently:
/// * [`Precision::Scalar`] (a Python int): `std / f32(10^p)`, divided in `f32`;
/// * [`Precision::PerStream`] (a numpy int array): `f32(f64(std) / 10^p)`, divided
///   in `f64` and then rounded to `f32`.
///
/// For `f64` data both are `std / 10^p` in `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision<'a> {
    /// The same precision for every stream.
    Scalar(i32),
    /// One precision per stream, in stream order.
    PerStream(&'a [i32]),
}

/// How the quanta of every stream is chosen: exactly one of a quanta or a precision.
///
/// ```
/// use flacarray_quant::{Precision, QuantSpec, Quanta};
///
/// let by_quanta = QuantSpec::Quanta(Quanta::Scalar(1e-3_f32));
/// let by_digits: QuantSpec<'_, f64> = QuantSpec::Precision(Precision::PerStream(&[3, 4]));
/// # let _ = (by_quanta, by_digits);
/// // The Python API's keyword arguments map onto `from_options`:
/// assert!(QuantSpec::<f32>::from_options(None, None).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QuantSpec<'a, T> {
    /// An explicit quanta.
    Quanta(Quanta<'a, T>),
    /// A precision in significant digits.
    Precision(Precision<'a>),
}

/// The quanta rule for one stream, as taken from a [`QuantSpec`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StreamSpec<T> {
    /// An explicit quanta, in the data type.
    Quanta(T),
    /// A precision in significant digits.
    Precision {
        /// `p`: the quanta is `std / 10^p`.
        digits: i32,
        /// Whether the precision came from a per-stream array ([`Precision::PerStream`]),
        /// which changes the rounding of the quanta for `f32` data.
        per_stream: bool,
    },
}

impl<'a, T: Copy> QuantSpec<'a, T> {
    /// Builds a spec from the two optional arguments of the Python API.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when both or neither are given.
    pub fn from_options(
        quanta: Option<Quanta<'a, T>>,
        precision: Option<Precision<'a>>,
    ) -> Result<Self> {
        match (quanta, precision) {
            (Some(q), None) => Ok(Self::Quanta(q)),
            (None, Some(p)) => Ok(Self::Precision(p)),
            (Some(_), Some(_)) => Err(Error::InvalidArgument(
                "give either a quanta or a precision, not both".into(),
            )),
            (None, None) => Err(Error::InvalidArgument(
                "quantizing float data requires either a quanta or a precision".into(),
            )),
        }
    }

    /// Number of per-stream values, or `None` for a scalar spec.
    #[must_use]
    pub fn per_stream_len(&self) -> Option<usize> {
        match self {
            Self::Quanta(Quanta::PerStream(q)) => Some(q.len()),
            Self::Precision(Precision::PerStream(p)) => Some(p.len()),
            Self::Quanta(Quanta::Scalar(_)) | Self::Precision(Precision::Scalar(_)) => None,
        }
    }

    /// The rule for stream `stream`, or `None` when a per-stream spec is too short.
    #[must_use]
    pub fn stream(&self, stream: usize) -> Option<StreamSpec<T>> {
        match *self {
            Self::Quanta(Quanta::Scalar(q)) => Some(StreamSpec::Quanta(q)),
            Self::Quanta(Quanta::PerStream(q)) => q.get(stream).map(|&q| StreamSpec::Quanta(q)),
            Self::Precision(Precision::Scalar(digits)) => Some(StreamSpec::Precision {
                digits,
                per_stream: false,
            }),
            Self::Precision(Precision::PerStream(p)) => {
                p.get(stream).map(|&digits| StreamSpec::Precision {
                    digits,
                    per_stream: true,
                })
            }
        }
    }
}
