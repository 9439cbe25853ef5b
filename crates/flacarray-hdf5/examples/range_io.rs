//! What the HDF5 backend reads from the file, as the kernel counts it (`rchar` of
//! `/proc/self/io`: every `read`/`pread` of the process), and how fast it writes and
//! reads whole arrays.
//!
//! ```text
//! cargo run --release -p flacarray-hdf5 --example range_io [DIR]
//! ```
//!
//! 1. Two float32 streams of 10^6 samples (the range-read tests' signal, quanta 1e-4):
//!    bytes read by a full decode, and by a 1% sample range of the second stream at
//!    the start, the middle and the end, against the file's size.
//! 2. A (100, 250000) float32 timestream array (`synth::timestreams`, quanta 1e-4),
//!    one thread: best of 5 wall times to write it to a new file and to read and
//!    decode it whole.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a measuring tool")]

use std::path::Path;

use flacarray_core::synth::Timings;
use flacarray_core::{
    CompressOptions, QuantaOption, ReadOptions, SampleSlice, read_array, synth, write_array,
};
use flacarray_hdf5::Hdf5Store;
use flacarray_testkit::{long_signal, range_read_options};

/// Bytes read by this process so far.
fn rchar() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("rchar")
}

/// Bytes read by `f`, less the reads of `/proc/self/io` itself.
fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = rchar();
    let base = rchar() - before;
    let v = f();
    (v, rchar() - before - 2 * base)
}

fn ranges(dir: &Path) {
    let path = dir.join("long.h5");
    let _ = std::fs::remove_file(&path);
    let mut w = Hdf5Store::create(&path, "/g", false).unwrap();
    write_array(&mut w, &long_signal(1_000_000), &range_read_options()).unwrap();
    drop(w);
    let file = std::fs::metadata(&path).unwrap().len();
    let (_, full) = counted(|| {
        let s = Hdf5Store::open(&path, "/g").unwrap();
        read_array(&s, &ReadOptions::default()).unwrap()
    });
    println!("file {file} bytes; full decode read {full} bytes");
    let n = 1_000_000usize;
    for start in [0, 250_001, n - n / 100] {
        let keep = [false, true];
        let (_, got) = counted(|| {
            let s = Hdf5Store::open(&path, "/g").unwrap();
            let opts = ReadOptions {
                keep: Some(&keep),
                stream_slice: SampleSlice::new(Some(start as i64), Some((start + n / 100) as i64)),
                ..Default::default()
            };
            read_array(&s, &opts).unwrap()
        });
        println!(
            "1% of stream 1 from {start}: read {got} bytes = {:.2}% of the file, {:.2}% of the full decode's reads",
            100.0 * got as f64 / file as f64,
            100.0 * got as f64 / full as f64
        );
    }
}

fn speed(dir: &Path) {
    let data = synth::timestreams(100, 250_000, 1.0, 7).mapv(|v| v as f32);
    let raw = (data.len() * 4) as u64;
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-4)),
        threads: Some(1),
        ..Default::default()
    };
    let path = dir.join("speed.h5");
    let mut wt = Timings::default();
    let mut rt = Timings::default();
    for _ in 0..5 {
        let _ = std::fs::remove_file(&path);
        wt.time(|| {
            let mut w = Hdf5Store::create(&path, "/", false).unwrap();
            write_array(&mut w, &data, &opts).unwrap();
        });
        rt.time(|| {
            let s = Hdf5Store::open(&path, "/").unwrap();
            let ro = ReadOptions {
                threads: Some(1),
                ..Default::default()
            };
            read_array(&s, &ro).unwrap()
        });
    }
    let best = |t: &Timings| t.wall.iter().min().copied().unwrap_or_default();
    println!(
        "(100, 250000) float32, 1 thread, best of 5: write {:.3} s ({:.0} MB/s), read {:.3} s ({:.0} MB/s), file {} bytes",
        best(&wt).as_secs_f64(),
        wt.mb_s(raw),
        best(&rt).as_secs_f64(),
        rt.mb_s(raw),
        std::fs::metadata(&path).unwrap().len()
    );
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(std::env::temp_dir, Into::into);
    std::fs::create_dir_all(&dir).unwrap();
    ranges(&dir);
    speed(&dir);
}
