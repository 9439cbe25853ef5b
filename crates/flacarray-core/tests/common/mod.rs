//! Helpers shared by the integration tests: the workspace's test kit.
#![allow(unused_imports, reason = "each test file uses a subset")]

pub use flacarray_testkit::{
    assert_same, bits, fixtures, flat_bools, flatten_v0, json, npy, npy_array, npy_decoded,
    npy_dtype, reference_decoded, reference_slice,
};
