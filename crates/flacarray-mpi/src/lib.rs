//! A [`FlacArray`](flacarray_core::FlacArray) distributed over the ranks of an MPI
//! communicator along axis 0, as flacarray 0.4.1 does with mpi4py, on
//! [rsmpi](https://docs.rs/mpi).
//!
//! * [`DistFlacArray`]: each rank compresses and holds its own rows
//!   ([`DistFlacArray::from_array`]); the ranks agree on the global shape, the
//!   distribution (`mpi_dist`, one `(first, last)` row range per rank, `(k, k)` for a
//!   rank without rows) and the global byte offsets of their streams.
//! * [`write_hdf5`] / [`read_hdf5`]: HDF5 I/O through rank 0 (0.4.1's serial-HDF5 mode;
//!   no MPI-enabled HDF5 is needed), or, with the cargo feature `mpio` and an HDF5
//!   library built for MPI, every rank reading and writing its own part of the file
//!   through MPI-IO (`write_hdf5_mpio` / `read_hdf5_mpio`; see [`HDF5_MPIO`]). The file written is byte for byte the one a single
//!   process writes for the whole array. A read gives each rank its slab, optionally
//!   only the streams of a global keep mask. [`write_zarr`] / [`read_zarr`] do the same
//!   with a Zarr directory store. [`write_store`] / [`read_store`] do the
//!   same for any [`FlacArrayWriter`](flacarray_core::FlacArrayWriter) /
//!   [`FlacArrayReader`](flacarray_core::FlacArrayReader) backend opened on rank 0.
//! * Beyond flacarray 0.4.1 (format 2, `docs/format.md`): every element type
//!   [`FlacArray::from_array`](flacarray_core::FlacArray::from_array) takes (`bool`,
//!   `int8` to `uint64`, `float16`) and NaN/inf kept with
//!   [`CompressOptions::keep_nonfinite`](flacarray_core::CompressOptions::keep_nonfinite)
//!   travel with the rows: each rank's local array carries the logical type and its
//!   streams' non-finite runs, a write records them as one process would (the group is
//!   format 2 when any rank's rows need it), and a read gives each rank its rows in
//!   the logical type with NaN/inf bit for bit. Ranks without rows and arrays with an
//!   axis of length 0 (`(0, n)`, `(n, 0)`) are written and read too.
//! * [`split_rows`] and [`check_dist`]: the default distribution (numpy's
//!   `array_split`) and the checks on a given one.
//! * [`send_bytes`], [`receive_bytes`], [`broadcast_bytes`]: messages of any size
//!   (split into pieces below MPI's 2³¹ − 1 element limit); [`agree`] turns an error on
//!   one rank into an error on every rank.
//!
//! Every function taking a communicator is collective: all its ranks call it, in the
//! same order. When one rank fails, every rank returns an error (the others an
//! [`Error::OtherRank`]), so no rank is left waiting.
//!
//! # Modules
//!
//! Dependencies point one way, from the leaves at the top to the I/O at the bottom:
//!
//! | module | holds | uses |
//! |---|---|---|
//! | `error` | [`Error`], [`MpioAction`] | — |
//! | `plan` | the row plan: [`split_rows`], [`check_dist`], rows and byte starts per rank, the checks of a read's `mpi_dist` and keep mask | `error` |
//! | `protocol` | the wire format of the messages between ranks (versioned array headers with the logical dtype and kept NaN/inf, distributions, file targets, read options) | `error` |
//! | `transfer` | [`send_bytes`], [`receive_bytes`], [`broadcast_bytes`], [`agree`] | `error` |
//! | `array` | [`DistFlacArray`], the ranks' agreement on the global shape | `plan`, `protocol`, `transfer` |
//! | `mpio` | parallel HDF5 through MPI-IO (feature `mpio`) | `array`, `plan`, `protocol`, `transfer` |
//! | `io` | reads and writes through rank 0, [`write_hdf5`] / [`read_hdf5`] (dispatching to `mpio` with the feature) | `array`, `plan`, `protocol`, `transfer`, `mpio` |
//!
//! MPI can be initialised once per process: tests of this crate are examples run
//! under `mpirun` (`scripts/mpi-tests.sh`).
#![forbid(unsafe_code)]

mod array;
mod error;
mod io;
#[cfg(feature = "mpio")]
mod mpio;
mod plan;
mod protocol;
mod transfer;

pub use array::DistFlacArray;
pub use error::{Error, MpioAction, Result};
/// The Zarr format to write ([`write_zarr`]).
pub use flacarray_zarr::ZarrFormat;
pub use io::{read_hdf5, read_store, read_zarr, write_hdf5, write_store, write_zarr};
#[cfg(feature = "mpio")]
pub use mpio::{read_hdf5_mpio, write_hdf5_mpio};
pub use plan::{check_dist, split_rows};
pub use transfer::{MAX_MESSAGE_BYTES, TAG, agree, broadcast_bytes, receive_bytes, send_bytes};

/// Whether HDF5 files are read and written through MPI-IO by every rank (cargo
/// feature `mpio`, HDF5 built for MPI) rather than through rank 0.
pub const HDF5_MPIO: bool = cfg!(feature = "mpio");

/// The rsmpi crate this one is built on (initialise MPI with `mpi::initialize()`).
pub use mpi;
