//! Peak memory of compressing one long stream in the library alone: the input is
//! made in memory, then compressed once with one thread; prints the process's peak
//! resident set (`VmHWM` of `/proc/self/status`) after making the input and after
//! compressing (the peak reset once the input is made), and the compressed size,
//! in MiB.
//!
//! `cargo run --release -p flacarray-core --example peak_compress -- DTYPE SAMPLES`
//! with DTYPE one of `int32`, `int64`, `float32`, `float64` (quanta 1e-3).
#![allow(clippy::unwrap_used, reason = "example")]

use flacarray_core::synth::SplitMix64;
use flacarray_core::{CompressOptions, FlacArray, QuantaOption};
use ndarray::Array1;

/// `VmHWM` in MiB.
fn peak_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// Resets `VmHWM` to the current resident set (Linux: 5 to `clear_refs`), so that the
/// peak counts only what follows, not the making of the input.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dtype = args.get(1).map_or("float32", String::as_str);
    let n: usize = args.get(2).map_or(50_000_000, |v| v.parse().unwrap());
    let mut rng = SplitMix64::new(3);
    let mut acc = 0.0_f64;
    // A random walk plus noise, in units of the quanta 1e-3.
    let walk: Vec<f64> = (0..n)
        .map(|_| {
            acc += rng.next_f64() - 0.5;
            acc + 3.0 * (rng.next_f64() - 0.5)
        })
        .collect();
    let opts = |float: bool| CompressOptions {
        threads: Some(1),
        quanta: float.then_some(QuantaOption::Scalar(1e-3)),
        ..Default::default()
    };
    let (input_mib, fa) = match dtype {
        "int32" => {
            #[allow(clippy::cast_possible_truncation)]
            let x: Array1<i32> = walk.iter().map(|&v| (v * 1e3) as i32).collect();
            drop(walk);
            reset_peak();
            println!("input made: peak {:.1} MiB", peak_mib());
            (
                n as f64 * 4.0,
                FlacArray::from_array(&x, &opts(false)).unwrap(),
            )
        }
        "int64" => {
            #[allow(clippy::cast_possible_truncation)]
            let x: Array1<i64> = walk.iter().map(|&v| (v * 1e3) as i64 + (1 << 40)).collect();
            drop(walk);
            reset_peak();
            println!("input made: peak {:.1} MiB", peak_mib());
            (
                n as f64 * 8.0,
                FlacArray::from_array(&x, &opts(false)).unwrap(),
            )
        }
        "float32" => {
            #[allow(clippy::cast_possible_truncation)]
            let x: Array1<f32> = walk.iter().map(|&v| v as f32).collect();
            drop(walk);
            reset_peak();
            println!("input made: peak {:.1} MiB", peak_mib());
            (
                n as f64 * 4.0,
                FlacArray::from_array(&x, &opts(true)).unwrap(),
            )
        }
        _ => {
            let x = Array1::from(walk);
            reset_peak();
            println!("input made: peak {:.1} MiB", peak_mib());
            (
                n as f64 * 8.0,
                FlacArray::from_array(&x, &opts(true)).unwrap(),
            )
        }
    };
    #[allow(clippy::cast_precision_loss)]
    let out_mib = fa.nbytes() as f64 / 1048576.0;
    let input_mib = input_mib / 1048576.0;
    let peak = peak_mib();
    println!(
        "{dtype} {n}: input {input_mib:.1} MiB, output {out_mib:.1} MiB, peak {peak:.1} MiB, \
         over input + output {:.1} MiB",
        peak - input_mib - out_mib
    );
}
