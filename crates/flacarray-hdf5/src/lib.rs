//! HDF5 storage of flacarray groups, on [hdf5-metno](https://docs.rs/hdf5-metno).
//!
//! A flacarray group holds one compressed N-d array: the FLAC bytes of every stream
//! (a run of `stream_size` values along the last axis) concatenated in `compressed`,
//! with per-stream byte offsets, lengths and (float data) offsets and gains. This
//! crate moves that content between HDF5 files and the core's model of it, without
//! decoding anything: [`Hdf5Store`] is a backend of `flacarray-core`'s
//! [`FlacArrayReader`](flacarray_core::FlacArrayReader) and
//! [`FlacArrayWriter`](flacarray_core::FlacArrayWriter), which fetches the metadata
//! ([`StoredMeta`](flacarray_core::StoredMeta)), the stream table
//! ([`StreamTable`](flacarray_core::StreamTable)) and byte ranges of `compressed`,
//! and writes a [`FlacArray`](flacarray_core::FlacArray). Around it:
//!
//! * [`write_group`] / [`write_file`] write format 1 exactly as flacarray 0.4.1 lays
//!   it out (group attributes as scalar variable-length UTF-8 strings, contiguous
//!   datasets without filters), into the root or any sub-group of a new or existing
//!   file, leaving the group's other attributes alone; [`create_layout`] and
//!   [`GroupWriter`] write one in parts (MPI ranks);
//! * [`read_meta`] / [`read_file_meta`] check a group and return its
//!   [`StoredMeta`](flacarray_core::StoredMeta);
//! * [`read_group`] / [`read_file`] read it as a
//!   [`FlacArray`](flacarray_core::FlacArray), optionally only the bytes of the
//!   streams in a keep mask. Format 1 (flacarray ≥ 0.3), format 0 (0.2.x, all four
//!   dtypes) and this project's format 2 are read.
//!
//! A malformed file gives an [`Error`] naming the file, the group and the dataset or
//! attribute, never a panic.
//!
//! ```
//! use flacarray_core::{CompressOptions, FlacArray};
//! use flacarray_hdf5::{read_file, write_file, WriteOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("x.h5");
//! let data = ndarray::Array2::from_shape_fn((2, 1000), |(i, j)| (i * 1000 + j) as i32);
//! let arr = FlacArray::from_array(&data, &CompressOptions::default())?;
//! write_file(&path, "/detector/a", &arr, WriteOptions::default())?;
//! assert_eq!(read_file(&path, "/detector/a", None)?, arr);
//! // Only the second stream's bytes, rebased to start at 0.
//! let second = read_file(&path, "/detector/a", Some(&[false, true]))?;
//! let (s, n) = (arr.stream_starts()[1] as usize, arr.stream_nbytes()[1] as usize);
//! assert_eq!(second.stream_starts(), [0]);
//! assert_eq!(second.compressed(), &arr.compressed()[s..s + n]);
//! // Writing over it needs `replace`.
//! assert!(write_file(&path, "/detector/a", &arr, WriteOptions::default()).is_err());
//! write_file(&path, "/detector/a", &arr, WriteOptions { replace: true })?;
//! # Ok(())
//! # }
//! ```
//!
//! This crate only makes the HDF5 calls: it fetches and writes attributes and bytes.
//! What every backend does the same way lives in `flacarray-core`: the names and
//! versions of the stored layout ([`flacarray_core::layout`]), the reading of the
//! format-version and channel attributes and the layout errors naming the file and
//! group ([`flacarray_core::Place`]), and the checks of the stream table
//! ([`flacarray_core::validate`]).
#![forbid(unsafe_code)]

mod attr;
mod error;
pub mod names;
mod read;
mod store;
mod swap;
mod write;

pub use error::{Error, Result};
pub use flacarray_core::layout::{FORMAT_VERSION, SOFTWARE_VERSION};
pub use read::{open_file_group, read_file, read_file_meta, read_group, read_meta};
pub use store::Hdf5Store;
pub use swap::{
    TEMP_GROUP_PREFIX, holds_only_flacarray, remove_temporary_groups, write_file_swapped,
};
pub use write::{GroupLayout, GroupWriter, WriteOptions, create_layout, write_file, write_group};

/// The hdf5-metno crate this one is built on, for callers that open files and groups
/// themselves.
pub use hdf5;
