//! HDF5 storage of flacarray groups, on [hdf5-metno](https://docs.rs/hdf5-metno).
//!
//! A flacarray group holds one compressed N-d array: the FLAC bytes of every stream
//! (a run of `stream_size` values along the last axis) concatenated in `compressed`,
//! with per-stream byte offsets, lengths and (float data) offsets and gains. This
//! crate moves that content between HDF5 files and [`StoredArray`], the
//! storage-level view, without decoding anything:
//!
//! * [`write_group`] / [`write_file`] write format 1 exactly as flacarray 0.4.1 lays
//!   it out (group attributes as scalar variable-length UTF-8 strings, contiguous
//!   datasets without filters), into the root or any sub-group of a new or existing
//!   file, leaving the group's other attributes alone;
//! * [`read_meta`] / [`read_file_meta`] check a group and report its
//!   [`Meta`] (format version, dtype, shape, ...);
//! * [`read_group`] / [`read_file`] read it, optionally only the bytes of the
//!   streams in a keep mask. Format 1 (flacarray ≥ 0.3) and format 0 (0.2.x, all four
//!   dtypes) are both read.
//!
//! A malformed file gives an [`Error`] naming the file, the group and the dataset or
//! attribute, never a panic.
//!
//! ```
//! use flacarray_hdf5::{read_file, write_file, Dtype, StoredArray, WriteOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("x.h5");
//! // Two int32 streams of 10 samples whose (here fake) FLAC bytes are 60 and 70 bytes
//! // (the reader refuses streams shorter than the smallest FLAC stream, 52 bytes).
//! let bytes: Vec<u8> = (0..130).map(|i| i as u8).collect();
//! let arr = StoredArray::new(
//!     Dtype::Int32, vec![2], 10, vec![0, 60], vec![60, 70], None, None, bytes.clone(),
//! )?;
//! write_file(&path, "/detector/a", &arr, WriteOptions::default())?;
//! assert_eq!(read_file(&path, "/detector/a", None)?, arr);
//! // Only the second stream's bytes, rebased to start at 0.
//! let second = read_file(&path, "/detector/a", Some(&[false, true]))?;
//! assert_eq!((second.starts, second.compressed), (vec![0], bytes[60..].to_vec()));
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
mod stored;
mod swap;
mod write;

pub use error::{Error, Result};
pub use read::{Meta, open_file_group, read_file, read_file_meta, read_group, read_meta};
pub use store::Hdf5Store;
pub use stored::{Dtype, FORMAT_VERSION, Gains, Offsets, SOFTWARE_VERSION, StoredArray};
pub use swap::{TEMP_GROUP_PREFIX, remove_temporary_groups, write_file_swapped};
pub use write::{GroupLayout, GroupWriter, WriteOptions, create_layout, write_file, write_group};

/// The hdf5-metno crate this one is built on, for callers that open files and groups
/// themselves.
pub use hdf5;
