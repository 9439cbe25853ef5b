//! The names of the attributes and arrays of a flacarray group: the core's
//! [`layout`](flacarray_core::layout), and the values this crate writes.

pub use flacarray_core::layout::*;

/// The format version this crate writes.
pub const FORMAT_VERSION: &str = "1";
/// The value written to `flacarray_software_version` (as the HDF5 backend writes it).
pub const SOFTWARE_VERSION: &str = concat!("flacarray-rs ", env!("CARGO_PKG_VERSION"));
