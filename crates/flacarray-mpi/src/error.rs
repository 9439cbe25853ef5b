//! The error type of this crate.

use std::fmt;
use std::path::PathBuf;

use flacarray_core::Error as CoreError;

/// Why a distributed operation failed.
///
/// Every collective function of this crate returns an error on **every** rank when it
/// fails on any rank: the rank where it happened returns its own error, the others
/// [`Error::OtherRank`] with that rank's number and message. So no rank is left
/// waiting for a message that never comes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Building, checking or decoding a FlacArray failed.
    #[error(transparent)]
    Core(#[from] CoreError),

    /// Reading or writing the HDF5 file failed (on rank 0, which does the file I/O).
    #[error(transparent)]
    Hdf5(#[from] flacarray_hdf5::Error),

    /// Reading or writing the Zarr store failed (on rank 0, which does the store I/O).
    #[error(transparent)]
    Zarr(#[from] flacarray_zarr::Error),

    /// Opening or flushing an HDF5 file through MPI-IO failed (cargo feature `mpio`,
    /// on the rank named by the error; the others get [`Error::OtherRank`]).
    #[error("{}: {action} through MPI-IO: {source}", path.display())]
    Mpio {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: MpioAction,
        /// The error from the HDF5 library.
        #[source]
        source: flacarray_hdf5::hdf5::Error,
    },

    /// An argument is out of range or does not fit the array (for example an
    /// `mpi_dist` that does not cover the leading axis).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The ranks' local arrays do not fit together: different element types, stream
    /// sizes, trailing dimensions or format versions, or no rank holds any data.
    #[error("ranks disagree: {0}")]
    Mismatch(String),

    /// The operation failed on another rank; `message` is that rank's error.
    #[error("rank {rank} failed: {message}")]
    OtherRank {
        /// The (lowest) rank where the operation failed.
        rank: usize,
        /// Its error message.
        message: String,
    },

    /// A failure of the caller's own work on this rank, passed to [`agree`](crate::agree)
    /// so that the other ranks fail too (they get [`Error::OtherRank`] with this text).
    #[error("{0}")]
    Message(String),

    /// A message between ranks could not be decoded (ranks running different code, or
    /// a communicator shared with other traffic on this crate's tag).
    #[error("malformed MPI message: {0}")]
    Protocol(String),
}

/// What was being done to a file through MPI-IO when it failed ([`Error::Mpio`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MpioAction {
    /// Opening an existing file for reading.
    Open,
    /// Opening a file for writing (created if missing).
    OpenForWriting,
    /// Flushing the written file.
    Flush,
}

impl fmt::Display for MpioAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "opening",
            Self::OpenForWriting => "opening for writing",
            Self::Flush => "flushing",
        })
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
