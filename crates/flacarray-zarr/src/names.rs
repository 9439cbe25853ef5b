//! The names of the attributes and arrays of a flacarray group and the versions
//! written: the core's [`layout`](flacarray_core::layout).

pub use flacarray_core::layout::*;
