//! The cost of keeping NaN: a float32 (100, 250000) timestream with 0.1% NaN in runs,
//! compressed with `keep_nonfinite`, against the same data with every NaN replaced by
//! the previous finite sample (its neighbour) compressed without it.
//!
//! Sizes count the compressed bytes plus, with NaN kept, the stored flags (one byte per
//! stream) and run bytes. Each input is compressed `REPS` times, alternately; the
//! figures are the fastest wall time and the mean CPU time (less disturbed by a loaded
//! machine).
//!
//! `cargo run --release -p flacarray-core --example nonfinite_cost [threads]`
#![allow(clippy::unwrap_used, reason = "example")]

use std::time::Instant;

use flacarray_core::synth::SplitMix64;
use flacarray_core::{CompressOptions, FlacArray, QuantaOption};
use ndarray::Array2;

const STREAMS: usize = 100;
const SAMPLES: usize = 250_000;
const REPS: usize = 10;

/// CPU time used by the process so far (user + system, all threads), in seconds, from
/// `/proc/self/stat` (clock ticks of 1/100 s). On a loaded machine it varies far less
/// than wall time: waiting for a core is not counted.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 of `rest`.
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Compresses both inputs `REPS` times, alternating so that both see the same machine
/// load; returns, per input, the fastest wall time and the mean CPU time of a run.
fn time_pair(
    a: (&Array2<f32>, &CompressOptions),
    b: (&Array2<f32>, &CompressOptions),
) -> ([f64; 2], [f64; 2], FlacArray, FlacArray) {
    let once = |(d, o): (&Array2<f32>, &CompressOptions)| {
        let c = cpu_seconds();
        let t = Instant::now();
        let fa = FlacArray::from_array(d, o).unwrap();
        (t.elapsed().as_secs_f64(), cpu_seconds() - c, fa)
    };
    let (mut wa, mut ca, mut wb, mut cb) = (f64::INFINITY, 0.0, f64::INFINITY, 0.0);
    let (mut fa, mut fb) = (None, None);
    for _ in 0..REPS {
        let (w, c, f) = once(a);
        wa = wa.min(w);
        ca += c / REPS as f64;
        fa = Some(f);
        let (w, c, f) = once(b);
        wb = wb.min(w);
        cb += c / REPS as f64;
        fb = Some(f);
    }
    ([wa, ca], [wb, cb], fa.unwrap(), fb.unwrap())
}

fn main() {
    let threads = std::env::args().nth(1).map(|t| t.parse::<usize>().unwrap());
    let mut rng = SplitMix64::new(42);
    // A timestream: slow drift (random walk), a periodic signal and white noise.
    let mut data = Array2::<f32>::zeros((STREAMS, SAMPLES));
    for mut row in data.rows_mut() {
        let mut walk = 0.0f64;
        let phase = rng.next_f64() * std::f64::consts::TAU;
        for (k, v) in row.iter_mut().enumerate() {
            walk += (rng.next_f64() - 0.5) * 0.02;
            let noise = (rng.next_f64() - 0.5) * 0.5;
            #[allow(clippy::cast_possible_truncation)]
            {
                *v = (walk + (k as f64 * 0.003 + phase).sin() + noise) as f32;
            }
        }
    }
    // 0.1% NaN in runs of 1 to 50 samples at random places.
    let target = STREAMS * SAMPLES / 1000;
    let mut nan = 0;
    let mut with_nan = data.clone();
    while nan < target {
        let s = (rng.next_u64() % STREAMS as u64) as usize;
        let len = 1 + (rng.next_u64() % 50) as usize;
        let at = (rng.next_u64() % (SAMPLES - len) as u64) as usize;
        for k in at..at + len {
            if !with_nan[[s, k]].is_nan() {
                with_nan[[s, k]] = f32::NAN;
                nan += 1;
            }
        }
    }
    // The baseline: every NaN replaced by its neighbour (the previous finite sample,
    // the next one at a stream's start).
    let mut filled = with_nan.clone();
    for mut row in filled.rows_mut() {
        let first = row.iter().copied().find(|v| v.is_finite()).unwrap_or(0.0);
        let mut held = first;
        for v in &mut row {
            if v.is_finite() {
                held = *v;
            } else {
                *v = held;
            }
        }
    }
    let opts = CompressOptions {
        quanta: Some(QuantaOption::Scalar(1e-3)),
        threads,
        ..Default::default()
    };
    let keep = CompressOptions {
        keep_nonfinite: true,
        ..opts.clone()
    };
    // Warm up the pool and caches.
    FlacArray::from_array(&filled, &opts).unwrap();
    let (t_base, t_keep, base, kept) = time_pair((&filled, &opts), (&with_nan, &keep));
    let nf = kept.nonfinite().unwrap();
    let table = nf.flags(SAMPLES).len() + nf.encode().len();
    let size_base = base.nbytes();
    let size_keep = kept.nbytes() + table;
    println!(
        "{STREAMS}x{SAMPLES} float32, {nan} NaN ({:.3}%) in {} runs, threads {threads:?}",
        100.0 * nan as f64 / (STREAMS * SAMPLES) as f64,
        nf.n_runs()
    );
    println!(
        "size: neighbours {size_base} B, NaN kept {size_keep} B ({} B streams + {table} B \
         table): {:+.4}%",
        kept.nbytes(),
        100.0 * (size_keep as f64 / size_base as f64 - 1.0)
    );
    println!(
        "compress, fastest wall time: neighbours {:.1} ms, NaN kept {:.1} ms: {:+.2}%",
        t_base[0] * 1e3,
        t_keep[0] * 1e3,
        100.0 * (t_keep[0] / t_base[0] - 1.0)
    );
    println!(
        "compress, mean CPU time: neighbours {:.1} ms, NaN kept {:.1} ms: {:+.2}%",
        t_base[1] * 1e3,
        t_keep[1] * 1e3,
        100.0 * (t_keep[1] / t_base[1] - 1.0)
    );
}
