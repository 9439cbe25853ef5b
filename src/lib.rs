#![doc = include_str!("../README.md")]

pub use flacarray_core::*;
pub use flacarray_flac as flac;

/// The MPI-distributed FlacArray (crate `flacarray-mpi`; cargo feature `mpi`).
#[cfg(feature = "mpi")]
pub use flacarray_mpi as mpi;
