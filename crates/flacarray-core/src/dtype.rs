//! Element types, decoded arrays and per-stream scaling parameters.

use ndarray::ArrayD;

use crate::error::{Error, Result};

/// The four element types flacarray stores.
///
/// | dtype | FLAC channels (format 1) | per-stream parameters |
/// | --- | --- | --- |
/// | `Int32` | 1 | none |
/// | `Int64` | 2 (low word, high word) | none (format 0: an `i64` offset) |
/// | `Float32` | 1 (quantized to `i32`) | `f32` offset and gain |
/// | `Float64` | 2 (quantized to `i64`) | `f64` offset and gain |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit signed integers.
    Int32,
    /// 64-bit signed integers.
    Int64,
    /// 32-bit floats.
    Float32,
    /// 64-bit floats.
    Float64,
}

impl DType {
    /// numpy's name: `"int32"`, `"int64"`, `"float32"` or `"float64"` (0.4.1's `typestr`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
        }
    }

    /// Parses numpy's name (the inverse of [`DType::name`]).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for any other name.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "int32" => Ok(Self::Int32),
            "int64" => Ok(Self::Int64),
            "float32" => Ok(Self::Float32),
            "float64" => Ok(Self::Float64),
            other => Err(Error::Unsupported(format!(
                "data type {other}: flacarray stores int32, int64, float32 and float64"
            ))),
        }
    }

    /// Whether the type is quantized (floats) and so has offsets and gains.
    #[must_use]
    pub fn is_float(self) -> bool {
        matches!(self, Self::Float32 | Self::Float64)
    }

    /// Whether the type is 64 bits wide (stored as 2 FLAC channels in format 1).
    #[must_use]
    pub fn is_64bit(self) -> bool {
        matches!(self, Self::Int64 | Self::Float64)
    }

    /// FLAC channels per stream in format `version` (format 0 is always 1).
    #[must_use]
    pub fn channels(self, version: u32) -> u32 {
        if version >= 1 && self.is_64bit() {
            2
        } else {
            1
        }
    }

    /// The dtype 0.4.1 infers from a stored group (`utils.compressed_dtype`):
    /// 2 channels + offsets → float64, 2 → int64, 1 + offsets → float32, 1 → int32.
    #[must_use]
    pub fn from_channels(channels: u32, has_offsets: bool) -> Option<Self> {
        match (channels, has_offsets) {
            (1, false) => Some(Self::Int32),
            (1, true) => Some(Self::Float32),
            (2, false) => Some(Self::Int64),
            (2, true) => Some(Self::Float64),
            _ => None,
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-stream parameters that turn decoded integers back into values, one entry per
/// stream in C order over the leading shape.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamScaling {
    /// Integer data in format 1 (and `int32` in format 0): the integers are the values.
    None,
    /// `float32` data: `value = offset + (f32)(1/gain) * (f32)i`, in `f32`.
    F32 {
        /// Offset of each stream.
        offsets: Vec<f32>,
        /// Gain (`1/quanta`) of each stream.
        gains: Vec<f32>,
    },
    /// `float64` data: `value = offset + (1/gain) * (f64)i`, in `f64`.
    F64 {
        /// Offset of each stream.
        offsets: Vec<f64>,
        /// Gain (`1/quanta`) of each stream.
        gains: Vec<f64>,
    },
    /// `int64` data in the legacy format 0: `value = offset + i` for `i32` samples.
    I64Offsets(Vec<i64>),
}

impl StreamScaling {
    /// Number of streams described, or `None` for [`StreamScaling::None`].
    #[must_use]
    pub fn len(&self) -> Option<usize> {
        match self {
            Self::None => None,
            Self::F32 { offsets, .. } => Some(offsets.len()),
            Self::F64 { offsets, .. } => Some(offsets.len()),
            Self::I64Offsets(o) => Some(o.len()),
        }
    }

    /// Whether there are no parameters at all ([`StreamScaling::None`] or zero streams).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len().is_none_or(|n| n == 0)
    }

    /// The parameters of the streams `sel` (flat indices), in that order.
    #[must_use]
    pub fn select(&self, sel: &[usize]) -> Self {
        match self {
            Self::None => Self::None,
            Self::F32 { offsets, gains } => Self::F32 {
                offsets: sel.iter().map(|&i| offsets[i]).collect(),
                gains: sel.iter().map(|&i| gains[i]).collect(),
            },
            Self::F64 { offsets, gains } => Self::F64 {
                offsets: sel.iter().map(|&i| offsets[i]).collect(),
                gains: sel.iter().map(|&i| gains[i]).collect(),
            },
            Self::I64Offsets(o) => Self::I64Offsets(sel.iter().map(|&i| o[i]).collect()),
        }
    }

    /// The parameters of the streams `range` (flat indices), in order.
    ///
    /// # Panics
    /// When `range` is outside the streams described.
    #[must_use]
    pub fn range(&self, range: std::ops::Range<usize>) -> Self {
        match self {
            Self::None => Self::None,
            Self::F32 { offsets, gains } => Self::F32 {
                offsets: offsets[range.clone()].to_vec(),
                gains: gains[range].to_vec(),
            },
            Self::F64 { offsets, gains } => Self::F64 {
                offsets: offsets[range.clone()].to_vec(),
                gains: gains[range].to_vec(),
            },
            Self::I64Offsets(o) => Self::I64Offsets(o[range].to_vec()),
        }
    }

    /// The numpy types of the stored `stream_offsets` and `stream_gains` arrays these
    /// parameters are (`None` for an absent array): what
    /// [`crate::layout::infer_dtype`] reads the dtype from.
    #[must_use]
    pub fn stored_types(&self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            Self::None => (None, None),
            Self::F32 { .. } => (Some("float32"), Some("float32")),
            Self::F64 { .. } => (Some("float64"), Some("float64")),
            Self::I64Offsets(_) => (Some("int64"), None),
        }
    }

    /// Checks that the parameters fit `dtype` in format `version` and `n_streams`
    /// streams, and that offsets and gains have the same length.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] describing the mismatch.
    pub fn check(&self, dtype: DType, version: u32, n_streams: usize) -> Result<()> {
        let ok = match (self, dtype) {
            (Self::None, DType::Int32) => true,
            (Self::None, DType::Int64) => version >= 1,
            (Self::I64Offsets(_), DType::Int64) => version == 0,
            (Self::F32 { .. }, DType::Float32) | (Self::F64 { .. }, DType::Float64) => true,
            _ => false,
        };
        if !ok {
            return Err(Error::InvalidArgument(format!(
                "stream parameters {} do not fit {dtype} data in format {version}",
                self.kind()
            )));
        }
        let lens = match self {
            Self::None => return Ok(()),
            Self::F32 { offsets, gains } => (offsets.len(), gains.len()),
            Self::F64 { offsets, gains } => (offsets.len(), gains.len()),
            Self::I64Offsets(o) => (o.len(), o.len()),
        };
        if lens != (n_streams, n_streams) {
            return Err(Error::InvalidArgument(format!(
                "{} offsets and {} gains for {n_streams} streams",
                lens.0, lens.1
            )));
        }
        Ok(())
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::None => "(none)",
            Self::F32 { .. } => "float32 offsets/gains",
            Self::F64 { .. } => "float64 offsets/gains",
            Self::I64Offsets(_) => "int64 offsets",
        }
    }
}

/// A decoded array of the stored element type.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedArray {
    /// `int32` values.
    Int32(ArrayD<i32>),
    /// `int64` values.
    Int64(ArrayD<i64>),
    /// `float32` values.
    Float32(ArrayD<f32>),
    /// `float64` values.
    Float64(ArrayD<f64>),
}

impl DecodedArray {
    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match self {
            Self::Int32(_) => DType::Int32,
            Self::Int64(_) => DType::Int64,
            Self::Float32(_) => DType::Float32,
            Self::Float64(_) => DType::Float64,
        }
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        match self {
            Self::Int32(a) => a.shape(),
            Self::Int64(a) => a.shape(),
            Self::Float32(a) => a.shape(),
            Self::Float64(a) => a.shape(),
        }
    }

    /// The array as `ArrayD<T>` if `T` is its element type.
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray};
    /// let a = ndarray::arr2(&[[1_i64, 2, 3], [4, 5, 6]]);
    /// let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
    /// let back = fa.to_array()?;
    /// assert_eq!(back.as_array::<i64>().unwrap(), &a.into_dyn());
    /// assert!(back.as_array::<i32>().is_none());
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    #[must_use]
    pub fn as_array<T: Element>(&self) -> Option<&ArrayD<T>> {
        T::decoded_ref(self)
    }

    /// Consumes `self` into `ArrayD<T>`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `T` is not the element type.
    pub fn into_array<T: Element>(self) -> Result<ArrayD<T>> {
        let have = self.dtype();
        T::from_decoded(self).map_err(|_| {
            Error::InvalidArgument(format!("the array holds {have}, not {}", T::DTYPE))
        })
    }
}

mod sealed {
    /// Keeps [`super::Element`] implemented for the four stored types only.
    pub trait Sealed {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A borrowed input slice of one of the four types (dispatch once per call, not per
/// sample).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum InputRef<'a> {
    /// `i32` samples.
    I32(&'a [i32]),
    /// `i64` samples.
    I64(&'a [i64]),
    /// `f32` samples.
    F32(&'a [f32]),
    /// `f64` samples.
    F64(&'a [f64]),
}

/// A borrowed output slice of one of the four types.
#[doc(hidden)]
#[derive(Debug)]
pub enum OutputMut<'a> {
    /// `i32` samples.
    I32(&'a mut [i32]),
    /// `i64` samples.
    I64(&'a mut [i64]),
    /// `f32` samples.
    F32(&'a mut [f32]),
    /// `f64` samples.
    F64(&'a mut [f64]),
}

/// An element type flacarray stores: `i32`, `i64`, `f32` or `f64` (sealed).
///
/// The typed decoders of the stored values are generic over it; the constructors take
/// any [`crate::Value`] (these four and the types they carry, such as `u16` or `bool`),
/// so an unsupported element type (`i128`, `char`, ...) is a compile-time error.
pub trait Element:
    crate::logical::Value
    + sealed::Sealed
    + Copy
    + Default
    + Send
    + Sync
    + std::fmt::Debug
    + PartialEq
    + 'static
{
    /// The runtime tag of the type.
    const DTYPE: DType;
    /// Dispatch helper.
    #[doc(hidden)]
    fn input(x: &[Self]) -> InputRef<'_>;
    /// Dispatch helper.
    #[doc(hidden)]
    fn output(x: &mut [Self]) -> OutputMut<'_>;
    /// Wraps an array.
    #[doc(hidden)]
    fn into_decoded(a: ArrayD<Self>) -> DecodedArray;
    /// Unwraps an array of this type, or gives it back.
    #[doc(hidden)]
    fn from_decoded(d: DecodedArray) -> std::result::Result<ArrayD<Self>, DecodedArray>;
    /// Borrows an array of this type.
    #[doc(hidden)]
    fn decoded_ref(d: &DecodedArray) -> Option<&ArrayD<Self>>;
}

macro_rules! impl_element {
    ($t:ty, $tag:ident, $var:ident, $io:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$tag;
            fn input(x: &[Self]) -> InputRef<'_> {
                InputRef::$io(x)
            }
            fn output(x: &mut [Self]) -> OutputMut<'_> {
                OutputMut::$io(x)
            }
            fn into_decoded(a: ArrayD<Self>) -> DecodedArray {
                DecodedArray::$var(a)
            }
            fn from_decoded(d: DecodedArray) -> std::result::Result<ArrayD<Self>, DecodedArray> {
                match d {
                    DecodedArray::$var(a) => Ok(a),
                    other => Err(other),
                }
            }
            fn decoded_ref(d: &DecodedArray) -> Option<&ArrayD<Self>> {
                match d {
                    DecodedArray::$var(a) => Some(a),
                    _ => None,
                }
            }
        }
    };
}

impl_element!(i32, Int32, Int32, I32);
impl_element!(i64, Int64, Int64, I64);
impl_element!(f32, Float32, Float32, F32);
impl_element!(f64, Float64, Float64, F64);
