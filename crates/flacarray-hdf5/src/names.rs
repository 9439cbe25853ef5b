//! The names of the objects in a flacarray group: the core's
//! [`layout`](flacarray_core::layout), whose arrays are HDF5 datasets here.

pub use flacarray_core::layout::*;
