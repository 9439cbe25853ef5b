//! Fuzz target: the whole-array readers (`read_flacarray`, `read_array` with a keep
//! mask and a sample slice, `read_flacarray_rows`) on a store whose metadata, stream
//! table and bytes are arbitrary. The input layout is documented in
//! `flacarray_core::fuzzing`; the stable test `fuzz_replay` in
//! `crates/flacarray-core/tests/fuzz_replay.rs` runs the same body over seeds and
//! random mutations.
//!
//! A panic, an abort (allocation without bound) or an `Ok` of the wrong size is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    flacarray_core::fuzzing::fuzz_read(data);
});
