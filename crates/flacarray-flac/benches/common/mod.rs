//! Benchmark signals shared by the criterion suite and the comparison table.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One benchmark input: interleaved i32 samples and their channel count.
pub struct Signal {
    pub name: &'static str,
    pub channels: u32,
    pub samples: Vec<i32>,
}

fn gauss(rng: &mut StdRng) -> f64 {
    // Box-Muller; `1 - u` keeps the log argument in (0, 1].
    let u: f64 = rng.random();
    let v: f64 = rng.random();
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn split_i64(v: &[i64]) -> Vec<i32> {
    // Low word as a signed bit pattern, then the high word: flacarray's channel order.
    v.iter()
        .flat_map(|&x| [x as u32 as i32, (x >> 32) as i32])
        .collect()
}

/// Real recordings (int32 `.npy` files with one recording per row) from the directory
/// named by `FLACARRAY_BENCH_DATA`, if set: the first `n` samples of the rows laid end
/// to end, one channel. The side-by-side benchmark of the repository prepares this
/// directory (ECG, seismograms, speech, timestreams quantized to int32).
pub fn recordings(n: usize) -> Vec<Signal> {
    let Some(dir) = std::env::var_os("FLACARRAY_BENCH_DATA") else {
        return Vec::new();
    };
    let dir = std::path::PathBuf::from(dir);
    let mut out = Vec::new();
    for (name, file) in [
        ("timestreams-int32", "timestreams-int32.npy"),
        ("ecg", "ecg.npy"),
        ("seismic", "seismic.npy"),
        ("speech", "speech.npy"),
    ] {
        let path = dir.join(file);
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("{}: not found, skipped", path.display());
            continue;
        };
        let samples: Vec<i32> = npyz::NpyFile::new(&bytes[..])
            .and_then(|f| f.into_vec::<i32>())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push(Signal {
            name,
            channels: 1,
            samples: samples[..n.min(samples.len())].to_vec(),
        });
    }
    out
}

/// The synthetic benchmark signals with `n` samples per channel, followed by the real
/// recordings of [`recordings`] when `FLACARRAY_BENCH_DATA` is set.
pub fn signals(n: usize) -> Vec<Signal> {
    let mut all = synthetic(n);
    all.extend(recordings(n));
    all
}

/// The synthetic benchmark signals with `n` samples per channel.
pub fn synthetic(n: usize) -> Vec<Signal> {
    let mut rng = StdRng::seed_from_u64(20261125);
    let mut walk = 0.0f64;
    let drift: Vec<i32> = (0..n)
        .map(|_| {
            walk += 0.05 * gauss(&mut rng) * 1000.0;
            (walk + 1000.0 * gauss(&mut rng)).round() as i32
        })
        .collect();
    let full: Vec<i32> = (0..n).map(|_| rng.random::<i32>()).collect();
    let sines: Vec<i32> = (0..n)
        .map(|i| {
            let t = i as f64;
            (3.0e6 * (t * 2.0e-4).sin() + 1.0e6 * (t * 3.1e-3).sin() + 100.0 * gauss(&mut rng))
                .round() as i32
        })
        .collect();
    let i64_small: Vec<i64> = (0..n)
        .map(|_| (1000.0 * gauss(&mut rng)).round() as i64)
        .collect();
    let i64_big: Vec<i64> = (0..n)
        .map(|_| (1i64 << 40) + (1000.0 * gauss(&mut rng)).round() as i64)
        .collect();
    vec![
        Signal {
            name: "drift-noise-s1000",
            channels: 1,
            samples: drift,
        },
        Signal {
            name: "full-range-noise",
            channels: 1,
            samples: full,
        },
        Signal {
            name: "sines-noise",
            channels: 1,
            samples: sines,
        },
        Signal {
            name: "i64-s1000",
            channels: 2,
            samples: split_i64(&i64_small),
        },
        Signal {
            name: "i64-2^40-offset",
            channels: 2,
            samples: split_i64(&i64_big),
        },
    ]
}
