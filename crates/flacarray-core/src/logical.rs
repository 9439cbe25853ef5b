//! Element types beyond the four flacarray 0.4.1 stores, each carried by one of them.
//!
//! | logical type | stored as | format | how |
//! | --- | --- | --- | --- |
//! | `bool` | `int32` | 1 | 0 / 1 |
//! | `int8`, `int16`, `uint8`, `uint16` | `int32` | 1 | widened |
//! | `uint32` | `int64` | 1 | widened |
//! | `uint64` | `int64` | 1, or 2 with a value ≥ 2^63 | the same 64 bits |
//! | `float16` | `float32` | 1 | widened, quantized as `float32`, rounded back |
//!
//! In format 1 flacarray 0.4.1 reads the stored type with the same values (a
//! `float16` array: the `float32` values that round to ours). A `uint64` value at or
//! above 2^63 would read as a negative `int64`, so such an array is written in format 2,
//! which 0.4.1 refuses.

use half::f16;
use ndarray::ArrayD;

use crate::dtype::{DType, DecodedArray, Element, InputRef};
use crate::error::{Error, Result};

/// The element type of the caller's data: one of the stored [`DType`]s or a type
/// carried by one (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogicalDType {
    /// `bool`, stored as `int32` 0 / 1.
    Bool,
    /// `int8`, stored as `int32`.
    Int8,
    /// `int16`, stored as `int32`.
    Int16,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `uint8`, stored as `int32`.
    Uint8,
    /// `uint16`, stored as `int32`.
    Uint16,
    /// `uint32`, stored as `int64`.
    Uint32,
    /// `uint64`, stored as the `int64` with the same bits.
    Uint64,
    /// `float16`, stored as `float32`.
    Float16,
    /// `float32`.
    Float32,
    /// `float64`.
    Float64,
}

impl LogicalDType {
    /// Every logical type.
    pub const ALL: [Self; 12] = [
        Self::Bool,
        Self::Int8,
        Self::Int16,
        Self::Int32,
        Self::Int64,
        Self::Uint8,
        Self::Uint16,
        Self::Uint32,
        Self::Uint64,
        Self::Float16,
        Self::Float32,
        Self::Float64,
    ];

    /// numpy's name (`"uint16"`, `"float16"`, `"bool"`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Uint8 => "uint8",
            Self::Uint16 => "uint16",
            Self::Uint32 => "uint32",
            Self::Uint64 => "uint64",
            Self::Float16 => "float16",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
        }
    }

    /// Parses numpy's name (the inverse of [`LogicalDType::name`]).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for any other name.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "data type {name}: flacarray stores bool, int8/16/32/64, uint8/16/32/64 \
                     and float16/32/64"
                ))
            })
    }

    /// The stored type that carries it.
    #[must_use]
    pub fn stored(self) -> DType {
        match self {
            Self::Bool | Self::Int8 | Self::Int16 | Self::Int32 | Self::Uint8 | Self::Uint16 => {
                DType::Int32
            }
            Self::Int64 | Self::Uint32 | Self::Uint64 => DType::Int64,
            Self::Float16 | Self::Float32 => DType::Float32,
            Self::Float64 => DType::Float64,
        }
    }

    /// Whether it is one of the four stored types itself (then nothing records it).
    #[must_use]
    pub fn is_stored(self) -> bool {
        Self::from(self.stored()) == self
    }
}

impl From<DType> for LogicalDType {
    fn from(d: DType) -> Self {
        match d {
            DType::Int32 => Self::Int32,
            DType::Int64 => Self::Int64,
            DType::Float32 => Self::Float32,
            DType::Float64 => Self::Float64,
        }
    }
}

impl std::fmt::Display for LogicalDType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded array in its logical element type.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum LogicalArray {
    Bool(ArrayD<bool>),
    Int8(ArrayD<i8>),
    Int16(ArrayD<i16>),
    Int32(ArrayD<i32>),
    Int64(ArrayD<i64>),
    Uint8(ArrayD<u8>),
    Uint16(ArrayD<u16>),
    Uint32(ArrayD<u32>),
    Uint64(ArrayD<u64>),
    Float16(ArrayD<f16>),
    Float32(ArrayD<f32>),
    Float64(ArrayD<f64>),
}

macro_rules! each_variant {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            LogicalArray::Bool($a) => $body,
            LogicalArray::Int8($a) => $body,
            LogicalArray::Int16($a) => $body,
            LogicalArray::Int32($a) => $body,
            LogicalArray::Int64($a) => $body,
            LogicalArray::Uint8($a) => $body,
            LogicalArray::Uint16($a) => $body,
            LogicalArray::Uint32($a) => $body,
            LogicalArray::Uint64($a) => $body,
            LogicalArray::Float16($a) => $body,
            LogicalArray::Float32($a) => $body,
            LogicalArray::Float64($a) => $body,
        }
    };
}

impl LogicalArray {
    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> LogicalDType {
        match self {
            Self::Bool(_) => LogicalDType::Bool,
            Self::Int8(_) => LogicalDType::Int8,
            Self::Int16(_) => LogicalDType::Int16,
            Self::Int32(_) => LogicalDType::Int32,
            Self::Int64(_) => LogicalDType::Int64,
            Self::Uint8(_) => LogicalDType::Uint8,
            Self::Uint16(_) => LogicalDType::Uint16,
            Self::Uint32(_) => LogicalDType::Uint32,
            Self::Uint64(_) => LogicalDType::Uint64,
            Self::Float16(_) => LogicalDType::Float16,
            Self::Float32(_) => LogicalDType::Float32,
            Self::Float64(_) => LogicalDType::Float64,
        }
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        each_variant!(self, a => a.shape())
    }

    /// Converts decoded values of the stored type into `logical`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `logical` is not carried by the decoded type;
    /// [`Error::Corrupt`] when a stored value does not fit the logical type (a
    /// `uint8` array holding 300, a `bool` array holding 2).
    pub fn from_decoded(d: DecodedArray, logical: LogicalDType) -> Result<Self> {
        if d.dtype() != logical.stored() {
            return Err(Error::InvalidArgument(format!(
                "{logical} data is stored as {}, not {}",
                logical.stored(),
                d.dtype()
            )));
        }
        Ok(match (d, logical) {
            (DecodedArray::Int32(a), LogicalDType::Bool) => Self::Bool(narrow(a)?),
            (DecodedArray::Int32(a), LogicalDType::Int8) => Self::Int8(narrow(a)?),
            (DecodedArray::Int32(a), LogicalDType::Int16) => Self::Int16(narrow(a)?),
            (DecodedArray::Int32(a), LogicalDType::Uint8) => Self::Uint8(narrow(a)?),
            (DecodedArray::Int32(a), LogicalDType::Uint16) => Self::Uint16(narrow(a)?),
            (DecodedArray::Int64(a), LogicalDType::Uint32) => Self::Uint32(narrow(a)?),
            (DecodedArray::Int64(a), LogicalDType::Uint64) => Self::Uint64(narrow(a)?),
            (DecodedArray::Float32(a), LogicalDType::Float16) => Self::Float16(narrow(a)?),
            (DecodedArray::Int32(a), _) => Self::Int32(a),
            (DecodedArray::Int64(a), _) => Self::Int64(a),
            (DecodedArray::Float32(a), _) => Self::Float32(a),
            (DecodedArray::Float64(a), _) => Self::Float64(a),
        })
    }

    /// The array as `ArrayD<T>` if `T` is its element type.
    #[must_use]
    pub fn as_array<T: Value>(&self) -> Option<&ArrayD<T>> {
        T::logical_ref(self)
    }

    /// Consumes `self` into `ArrayD<T>`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `T` is not the element type.
    pub fn into_array<T: Value>(self) -> Result<ArrayD<T>> {
        let have = self.dtype();
        T::from_logical(self).map_err(|_| {
            Error::InvalidArgument(format!("the array holds {have}, not {}", T::LOGICAL))
        })
    }
}

fn narrow<T: Value>(a: ArrayD<T::Stored>) -> Result<ArrayD<T>> {
    let mut bad = None;
    let out = a.mapv(|s| {
        T::from_stored(s).unwrap_or_else(|| {
            bad.get_or_insert(s);
            T::default()
        })
    });
    match bad {
        None => Ok(out),
        Some(s) => Err(Error::Corrupt(format!(
            "stored value {s:?} does not fit the array's type {}",
            T::LOGICAL
        ))),
    }
}

mod sealed {
    /// Keeps [`super::Value`] implemented for the twelve logical types only.
    pub trait Sealed {}
    impl Sealed for bool {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
    impl Sealed for half::f16 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type that [`crate::FlacArray::from_array`] accepts: the four stored
/// types ([`Element`]) and the types they carry (sealed).
pub trait Value:
    sealed::Sealed + Copy + Default + Send + Sync + std::fmt::Debug + PartialEq + 'static
{
    /// The runtime tag of the type.
    const LOGICAL: LogicalDType;
    /// The stored type that carries it.
    type Stored: Element;
    /// The stored value (exact for integers and `bool`; `float16` widens exactly).
    fn to_stored(self) -> Self::Stored;
    /// The value back, or `None` when the stored value does not fit.
    fn from_stored(s: Self::Stored) -> Option<Self>;
    /// Wraps an array.
    #[doc(hidden)]
    fn into_logical(a: ArrayD<Self>) -> LogicalArray;
    /// Unwraps an array of this type, or gives it back.
    #[doc(hidden)]
    fn from_logical(d: LogicalArray) -> std::result::Result<ArrayD<Self>, LogicalArray>;
    /// Borrows an array of this type.
    #[doc(hidden)]
    fn logical_ref(d: &LogicalArray) -> Option<&ArrayD<Self>>;
    /// The samples themselves when the type is stored as is (no conversion needed).
    #[doc(hidden)]
    fn direct(x: &[Self]) -> Option<InputRef<'_>>;
}

macro_rules! impl_value {
    ($t:ty, $var:ident, $stored:ty, |$x:ident| $to:expr, |$s:ident| $from:expr, $direct:expr) => {
        impl Value for $t {
            const LOGICAL: LogicalDType = LogicalDType::$var;
            type Stored = $stored;
            fn to_stored(self) -> $stored {
                let $x = self;
                $to
            }
            fn from_stored($s: $stored) -> Option<Self> {
                $from
            }
            fn into_logical(a: ArrayD<Self>) -> LogicalArray {
                LogicalArray::$var(a)
            }
            fn from_logical(d: LogicalArray) -> std::result::Result<ArrayD<Self>, LogicalArray> {
                match d {
                    LogicalArray::$var(a) => Ok(a),
                    other => Err(other),
                }
            }
            fn logical_ref(d: &LogicalArray) -> Option<&ArrayD<Self>> {
                match d {
                    LogicalArray::$var(a) => Some(a),
                    _ => None,
                }
            }
            fn direct(x: &[Self]) -> Option<InputRef<'_>> {
                $direct(x)
            }
        }
    };
}

fn converted<T>(_: &[T]) -> Option<InputRef<'_>> {
    None
}

impl_value!(i32, Int32, i32, |x| x, |s| Some(s), |x| Some(
    InputRef::I32(x)
));
impl_value!(i64, Int64, i64, |x| x, |s| Some(s), |x| Some(
    InputRef::I64(x)
));
impl_value!(f32, Float32, f32, |x| x, |s| Some(s), |x| Some(
    InputRef::F32(x)
));
impl_value!(f64, Float64, f64, |x| x, |s| Some(s), |x| Some(
    InputRef::F64(x)
));
impl_value!(
    bool,
    Bool,
    i32,
    |x| i32::from(x),
    |s| match s {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    },
    converted
);
impl_value!(
    i8,
    Int8,
    i32,
    |x| i32::from(x),
    |s| Self::try_from(s).ok(),
    converted
);
impl_value!(
    i16,
    Int16,
    i32,
    |x| i32::from(x),
    |s| Self::try_from(s).ok(),
    converted
);
impl_value!(
    u8,
    Uint8,
    i32,
    |x| i32::from(x),
    |s| Self::try_from(s).ok(),
    converted
);
impl_value!(
    u16,
    Uint16,
    i32,
    |x| i32::from(x),
    |s| Self::try_from(s).ok(),
    converted
);
impl_value!(
    u32,
    Uint32,
    i64,
    |x| i64::from(x),
    |s| Self::try_from(s).ok(),
    converted
);
// The same 64 bits: values at or above 2^63 are stored as negative int64.
impl_value!(
    u64,
    Uint64,
    i64,
    |x| x.cast_signed(),
    |s| Some(s.cast_unsigned()),
    converted
);
// float16 widens exactly to float32 (NaN payloads included); reading rounds to nearest.
impl_value!(
    f16,
    Float16,
    f32,
    |x| widen_f16(x),
    |s| Some(narrow_f16(s)),
    converted
);

/// `f16` to `f32`, exact; a NaN keeps its sign and payload bit for bit (a hardware
/// conversion would set the quiet bit of a signalling NaN).
fn widen_f16(x: f16) -> f32 {
    if !x.is_nan() {
        return x.to_f32();
    }
    let b = u32::from(x.to_bits());
    f32::from_bits(((b & 0x8000) << 16) | 0x7f80_0000 | ((b & 0x3ff) << 13))
}

/// `f32` to `f16`, rounding to nearest; a NaN keeps its sign and the top 10 bits of
/// its payload as they are (`f16::from_f32` sets the quiet bit, which would change a
/// signalling NaN that widened exactly to `f32`).
fn narrow_f16(s: f32) -> f16 {
    if !s.is_nan() {
        return f16::from_f32(s);
    }
    let b = s.to_bits();
    // Sign bit 31 -> 15; payload bits 22..13 -> 9..0 (the bits an f16 NaN widens from).
    #[allow(clippy::cast_possible_truncation)]
    let (sign, payload) = (((b >> 16) & 0x8000) as u16, ((b >> 13) & 0x3ff) as u16);
    // A payload only in the low 13 bits would narrow to infinity: keep it a NaN.
    let payload = if payload == 0 { 0x200 } else { payload };
    f16::from_bits(sign | 0x7c00 | payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_stored_types() {
        for t in LogicalDType::ALL {
            assert_eq!(LogicalDType::from_name(t.name()).ok(), Some(t));
        }
        assert!(LogicalDType::from_name("complex64").is_err());
        assert_eq!(LogicalDType::Uint32.stored(), DType::Int64);
        assert_eq!(LogicalDType::Float16.stored(), DType::Float32);
        assert!(LogicalDType::Float64.is_stored());
        assert!(!LogicalDType::Bool.is_stored());
    }

    #[test]
    fn out_of_range_stored_values_are_refused() {
        let a = ndarray::arr1(&[0_i32, 1, 2]).into_dyn();
        let e = LogicalArray::from_decoded(DecodedArray::Int32(a.clone()), LogicalDType::Bool);
        assert!(
            matches!(e, Err(Error::Corrupt(ref m)) if m.contains("2")),
            "{e:?}"
        );
        let b = LogicalArray::from_decoded(DecodedArray::Int32(a), LogicalDType::Uint8)
            .and_then(LogicalArray::into_array::<u8>)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.as_slice(), Some(&[0_u8, 1, 2][..]));
        let neg = ndarray::arr1(&[-1_i32]).into_dyn();
        assert!(
            LogicalArray::from_decoded(DecodedArray::Int32(neg), LogicalDType::Uint16).is_err()
        );
        let big = ndarray::arr1(&[1_i64 << 32]).into_dyn();
        assert!(
            LogicalArray::from_decoded(DecodedArray::Int64(big), LogicalDType::Uint32).is_err()
        );
        let wrong = ndarray::arr1(&[1_i64]).into_dyn();
        assert!(matches!(
            LogicalArray::from_decoded(DecodedArray::Int64(wrong), LogicalDType::Uint8),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn float16_nan_payloads_survive_the_float32_path() {
        for bits in [0x7e00_u16, 0x7c01, 0xfd55, 0x7c00, 0xfc00, 0x3c00, 0x0001] {
            let h = f16::from_bits(bits);
            assert_eq!(
                f16::from_stored(h.to_stored()).map(f16::to_bits),
                Some(bits)
            );
        }
    }
}
