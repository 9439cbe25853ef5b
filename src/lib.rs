#![doc = include_str!("../README.md")]
//!
//! # Module map
//!
//! - the crate root: the in-memory array ([`FlacArray`]), its options and selections, the
//!   low-level buffer API ([`array_compress`], [`array_decompress`]) and the storage
//!   traits every backend implements ([`FlacArrayReader`], [`FlacArrayWriter`]), all from
//!   `flacarray-core`;
//! - [`flac`]: the FLAC stream codec (`flacarray-flac`);
//! - [`hdf5`] (feature `hdf5`, on by default): flacarray's HDF5 layout (`flacarray-hdf5`);
//! - [`zarr`] (feature `zarr`, on by default): the same layout in Zarr v2/v3 directory
//!   stores (`flacarray-zarr`);
//! - [`npy`]: numpy `.npy` files in and out, checked against hostile headers;
//! - [`atomic`]: writing a file or store through a temporary name and a rename;
//! - [`store`] (features `hdf5` and `zarr`): a flacarray group in an HDF5 file or a
//!   Zarr store, chosen from the path;
//! - [`options`]: per-stream quanta and precisions checked against the data;
//! - [`verify`]: decoding every stream of an array as a check;
//! - `mpi` (feature `mpi`, off by default): arrays split over MPI ranks along axis 0
//!   (`flacarray-mpi`).
//!
//! # Where to change what
//!
//! The crates are layered: `flacarray-flac` and `flacarray-quant` know nothing of
//! arrays; `flacarray-core` builds the array, its stored model and its checks on
//! them; the backends (`flacarray-hdf5`, `flacarray-zarr`) only fetch and write
//! attributes and bytes; `flacarray-mpi`, this facade and the `flacarray` command sit
//! on top.
//!
//! - **An element type.** The four stored types (`int32`, `int64`, `float32`,
//!   `float64`) and their per-stream scaling are [`DType`] and [`StreamScaling`]
//!   (`crates/flacarray-core/src/dtype.rs`); the types carried through them (bool,
//!   small and unsigned integers, float16) are [`LogicalDType`] and [`Value`]
//!   (`crates/flacarray-core/src/logical.rs`), kept NaN/inf are [`NonFinite`]
//!   (`nonfinite.rs`); float-to-integer quantization is [`quant`]. What a type
//!   writes (attribute `flacarray_dtype`, format 2) is decided by [`StoredExtension`]
//!   in `crates/flacarray-core/src/store.rs` and described in `docs/format.md`; the
//!   backends need no change. [`npy`] maps types to `.npy` descriptors.
//! - **A storage backend.** Implement [`FlacArrayReader`] (metadata, stream table,
//!   byte ranges, optional checksums and extension) and [`FlacArrayWriter`]; interpret
//!   attributes with [`flacarray_core::place`] and let [`read_flacarray`] /
//!   [`read_array`] run the checks of [`flacarray_core::validate`]. Run the core's
//!   conformance suite (`flacarray_core::conformance::run` and `run_extended`, cargo
//!   feature `conformance`) in the backend's tests; `flacarray-zarr` is the smaller
//!   model to copy the shape of. To make it reachable by path, add it to [`store`].
//! - **The Rice coder.** Encoding: the partition and parameter search in
//!   `crates/flacarray-flac/src/rice.rs`, the bit writer's `write_rice` in
//!   `bitwrite.rs`. Decoding: `read_rice` in `crates/flacarray-flac/src/bitread.rs`
//!   (batched, one 64-bit load per group of codes); `simd.rs` compiles the hot decode
//!   and encode paths a second time for AVX2 CPUs and picks one at run time
//!   ([`flac::force_scalar`] or `FLACARRAY_FORCE_SCALAR=1` forces the portable copy).
//!   The codec's tests (`crates/flacarray-flac/tests/`) compare against libFLAC and
//!   run in both copies.

pub use flacarray_core::{
    CompressOptions, Compressed, DType, DecodedArray, DecompressOptions, Element, Error, FlacArray,
    FlacArrayParts, FlacArrayReader, FlacArrayWriter, Index, LogicalArray, LogicalDType,
    MemoryStore, NonFinite, NonFiniteFlag, PrecisionOption, QuantaOption, ReadOptions, RowBlocks,
    SampleSlice, Selection, SelectionShape, StoredExtension, StoredMeta, StreamScaling,
    StreamTable, StreamsRef, Value, array_compress, array_decompress, array_decompress_slice,
    current_extension, f16, fmt_shape, parse_index, read_array, read_flacarray,
    read_flacarray_rows, write_array,
};

/// The names of the stored layout's attributes and datasets, shared by every backend.
pub use flacarray_core::layout;

/// Quantization of floats to integers and back (crate `flacarray-quant`).
pub use flacarray_core::quant;

/// Synthetic detector timestreams for demos, benchmarks and tests.
pub use flacarray_core::synth;

/// The FLAC stream codec (crate `flacarray-flac`).
pub use flacarray_flac as flac;

/// flacarray's HDF5 layout, read and write (crate `flacarray-hdf5`; cargo feature `hdf5`).
#[cfg(feature = "hdf5")]
pub use flacarray_hdf5 as hdf5;

/// flacarray's layout in Zarr v2 and v3 directory stores (crate `flacarray-zarr`; cargo
/// feature `zarr`).
#[cfg(feature = "zarr")]
pub use flacarray_zarr as zarr;

pub mod atomic;
pub mod npy;
pub mod options;
pub mod verify;

#[cfg(all(feature = "hdf5", feature = "zarr"))]
pub mod store;

/// The MPI-distributed FlacArray (crate `flacarray-mpi`; cargo feature `mpi`).
#[cfg(feature = "mpi")]
pub use flacarray_mpi as mpi;
