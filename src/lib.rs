#![doc = include_str!("../README.md")]

pub use flacarray_core::*;
pub use flacarray_flac as flac;
