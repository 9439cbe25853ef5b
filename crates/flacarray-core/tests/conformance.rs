//! The backend conformance suite, run against the in-memory store.
#![allow(clippy::unwrap_used, reason = "tests")]

use flacarray_core::{
    CompressOptions, MemoryStore, ReadOptions, conformance, read_array, write_array,
};

#[test]
fn memory_store_passes_the_conformance_suite() {
    conformance::run_all(MemoryStore::new);
}

#[test]
fn memory_store_passes_the_extended_suite() {
    conformance::run_extended(MemoryStore::new);
}

#[test]
fn keep_reads_only_the_kept_bytes() {
    let a = conformance::synth_array::<i32>(&[6, 2000], 3);
    let mut store = MemoryStore::new();
    write_array(&mut store, &a, &CompressOptions::default()).unwrap();
    let fa = flacarray_core::read_flacarray(&store, None, false).unwrap();
    let nb = fa.stream_nbytes().to_vec();
    store.reset_counters();
    // Streams 1, 2 (adjacent: one read) and 5 (a second read).
    let keep = [false, true, true, false, false, true];
    let sel = flacarray_testkit::read_kept(&store, &keep);
    assert_eq!(sel.array.shape(), &[3, 2000]);
    assert_eq!(store.read_calls(), 2);
    assert_eq!(store.bytes_read(), nb[1] + nb[2] + nb[5]);
    // An all-false mask reads no bytes and gives (0, n).
    store.reset_counters();
    let none = [false; 6];
    let sel = flacarray_testkit::read_kept(&store, &none);
    assert_eq!(sel.array.shape(), &[0, 2000]);
    assert_eq!(store.bytes_read(), 0);
}

#[test]
fn empty_store_is_an_error() {
    let store = MemoryStore::new();
    let e = read_array(&store, &ReadOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("does not contain a FlacArray"),
        "{e}"
    );
}
