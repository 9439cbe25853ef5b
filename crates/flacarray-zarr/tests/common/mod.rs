//! Helpers shared by the integration tests: the workspace's test kit, with the Zarr
//! cases of a fixture folder.
#![allow(unused_imports, dead_code, reason = "each test file uses a subset")]

pub use flacarray_testkit::{
    Case, assert_same, bits, copy_dir, files_under, fixtures, flat_bools, flatten_v0, npy,
    npy_decoded, reference_decoded, write_npy,
};

/// Every case with a Zarr store under `fixtures/<sub>`, sorted by name.
pub fn zarr_cases(sub: &str) -> Vec<Case> {
    flacarray_testkit::cases(sub, "data.zarr")
}
