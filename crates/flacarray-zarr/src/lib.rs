//! Zarr storage of flacarray groups, on [zarrs](https://docs.rs/zarrs).
//!
//! A flacarray group holds one compressed N-d array: the FLAC bytes of every stream
//! (a run of `stream_size` values along the last axis) concatenated in `compressed`,
//! with per-stream byte offsets, lengths and (float data) offsets and gains. This
//! crate stores it in a Zarr directory store, with the names, attributes, dtypes and
//! shapes of flacarray 0.4.1 (`flacarray.zarr`), through [`ZarrStore`], a backend of
//! `flacarray-core`'s [`FlacArrayReader`](flacarray_core::FlacArrayReader) and
//! [`FlacArrayWriter`](flacarray_core::FlacArrayWriter):
//!
//! * writing: format 1 as a Zarr **v3** store with the codecs zarr-python 3 uses by
//!   default (`bytes` little-endian + `zstd` level 0), or a Zarr **v2** store with
//!   zarr-python 2's default Blosc (lz4, clevel 5, byte shuffle); fill value 0, and
//!   chunks equal to it are not written;
//! * reading: what flacarray 0.4.1 writes through zarr-python 3 or 2 (any chunk
//!   shapes, zstd / Blosc / gzip, missing chunks read as the fill value), and format
//!   0 groups of flacarray 0.2.x (all four dtypes).
//!
//! Group attributes live in the group's `zarr.json` (v3) or `.zattrs` (v2);
//! `stream_size` in those of `stream_starts`. A malformed store gives an [`Error`]
//! naming the store, the group and the array or attribute, never a panic.
//!
//! ```
//! use flacarray_core::{CompressOptions, ReadOptions, read_array, write_array};
//! use flacarray_zarr::{ZarrFormat, ZarrStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("x.zarr");
//! let data = ndarray::Array2::from_shape_fn((2, 500), |(i, j)| (i as f64) + 1e-3 * j as f64);
//! let opts = CompressOptions { quanta: Some(flacarray_core::QuantaOption::Scalar(1e-6)), ..Default::default() };
//! write_array(&mut ZarrStore::create(&path, "/", false, ZarrFormat::V2)?, &data, &opts)?;
//! let back = read_array(&ZarrStore::open(&path, "/")?, &ReadOptions::default())?;
//! let back = back.array.into_array::<f64>()?;
//! assert!(back.iter().zip(data.iter()).all(|(a, b)| (a - b).abs() <= 0.5e-6));
//! // Writing over it needs `replace`.
//! assert!(write_array(&mut ZarrStore::create(&path, "/", false, ZarrFormat::V2)?, &data, &opts).is_err());
//! # Ok(())
//! # }
//! ```
//!
//! This crate only makes the zarrs calls: it fetches and writes attributes and bytes.
//! What every backend does the same way lives in `flacarray-core`: the names and
//! versions of the stored layout ([`flacarray_core::layout`]), the reading of the
//! format-version and channel attributes and the layout errors naming the file and
//! group ([`flacarray_core::Place`]), and the checks of the stream table
//! ([`flacarray_core::validate`]).
#![forbid(unsafe_code)]

mod error;
pub mod names;
mod read;
mod store;
mod swap;
mod write;

pub use error::{Error, Result, ZarrsError};
pub use store::ZarrStore;
pub use swap::{remove_stale_temporaries, write_store_swapped};
pub use write::{COMPRESSED_INNER_CHUNK, DEFAULT_COMPRESSED_CHUNK, ZarrFormat};

/// The zarrs crate this one is built on.
pub use zarrs;
