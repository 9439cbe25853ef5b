//! `FlacArray`: N-dimensional `i32`/`i64`/`f32`/`f64` arrays compressed as one FLAC
//! stream per 1-d slice along the last axis, the way Python's flacarray 0.4.1 stores
//! them, with selective decoding, rayon parallelism and backend-neutral storage traits.
//! `bool`, `i8`, `i16`, `u8`, `u16`, `u32`, `u64` and `f16` are carried by those four
//! ([`LogicalDType`]); NaN and ±inf can be kept ([`NonFinite`]); arrays may have an
//! axis of length 0.
//!
//! * [`FlacArray`]: build from any [`ndarray`] array ([`FlacArray::from_array`]),
//!   decode everything ([`FlacArray::to_array`]), a keep mask and sample slice
//!   ([`FlacArray::decompress`], [`FlacArray::decompress_into`]), or numpy basic
//!   indexing ([`FlacArray::get`], [`FlacArray::select`], [`parse_index`]). Only the
//!   streams and frames a selection needs are decoded.
//! * Progress hooks ([`FlacArray::from_array_with_progress`],
//!   [`FlacArray::decompress_with_progress`]), a contiguous stream-range decode
//!   ([`FlacArray::decompress_streams`]) and concatenation along axis 0 ([`Concat`],
//!   [`FlacArray::concat`]), for tools that show progress or assemble row blocks.
//! * [`synth`]: deterministic synthetic timestreams for demos, benchmarks and tests.
//! * [`array_compress`], [`array_decompress`], [`array_decompress_slice`]: 0.4.1's
//!   low-level functions.
//! * [`FlacArrayWriter`] / [`FlacArrayReader`]: what a storage backend implements;
//!   [`read_array`], [`read_flacarray`] and [`write_array`] read only the kept streams'
//!   bytes. [`MemoryStore`] is an in-memory backend; the `conformance` feature adds a
//!   test suite for backends.
//!
//! Threads: every call takes `threads: Option<usize>` (`None` = rayon's global pool).
//! Output bytes and values are identical whatever the thread count.
//!
//! ```
//! use flacarray_core::{CompressOptions, FlacArray, PrecisionOption, ReadOptions, SampleSlice};
//! use ndarray::Array3;
//!
//! let data = Array3::from_shape_fn((2, 3, 5000), |(i, j, k)| {
//!     (i as f64) + (j as f64) * 0.5 + (k as f64 * 0.002).sin()
//! });
//! let opts = CompressOptions { precision: Some(PrecisionOption::Scalar(6)), ..Default::default() };
//! let fa = FlacArray::from_array(&data, &opts)?;
//! assert!(fa.nbytes() < 2 * 3 * 5000 * 8);
//!
//! // Two streams, samples 100..200 only.
//! let keep = [false, true, false, false, false, true];
//! let sel = fa.decompress(&ReadOptions {
//!     keep: Some(&keep),
//!     stream_slice: SampleSlice::new(Some(100), Some(200)),
//!     ..Default::default()
//! })?;
//! assert_eq!(sel.array.shape(), &[2, 100]);
//!
//! // numpy indexing: last stream of each row, reversed samples.
//! let v = fa.select("..., -1, ::-1")?.into_array::<f64>()?;
//! assert_eq!(v.shape(), &[2, 5000]);
//! # Ok::<(), flacarray_core::Error>(())
//! ```
#![forbid(unsafe_code)]

mod array;
mod codec;
mod concat;
mod dtype;
mod error;
mod logical;
mod lowlevel;
mod nonfinite;
mod ranged;
mod select;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod fuzzing;

pub mod integrity;
pub mod layout;
pub mod place;
pub mod synth;
pub mod validate;

pub use array::{FlacArray, FlacArrayParts, ReadOptions, Selection, SelectionShape, fmt_shape};
pub use codec::{CompressOptions, PrecisionOption, Progress, QuantaOption, current_threads};
pub use concat::Concat;
pub use dtype::{DType, DecodedArray, Element, StreamScaling};
#[doc(hidden)]
pub use dtype::{InputRef, OutputMut};
pub use error::{Error, Result, StoreError, stream_name};
/// The quantizer, whose [`quant::Error`] is the cause inside [`Error::Quantize`].
pub use flacarray_quant as quant;
/// The `float16` element type ([`half::f16`]), stored through the float32 path.
pub use half::f16;
pub use logical::{LogicalArray, LogicalDType, Value};
pub use lowlevel::{
    Compressed, DecompressOptions, StreamsRef, array_compress, array_decompress,
    array_decompress_slice,
};
pub use nonfinite::{NonFinite, NonFiniteFlag, Run};
pub use place::Place;
pub use select::{Index, SampleSlice, parse_index};
pub use store::{
    FlacArrayReader, FlacArrayWriter, MemoryStore, RowBlocks, StoredExtension, StoredMeta,
    StreamTable, current_extension, read_array, read_flacarray, read_flacarray_rows, write_array,
};
