//! Whole-array compress and decompress of a `(100, 100_000)` float32 timestream array
//! (noise + drift + sines, like flacarray's `create_fake_data`) with 1 and 2 threads.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flacarray_core::{CompressOptions, FlacArray, QuantaOption, ReadOptions};
use ndarray::Array2;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Duration;

const SHAPE: (usize, usize) = (100, 100_000);

/// Like `create_fake_data(sigma=1)`: per-stream DC offset, two sines scaled per
/// stream, slow drift, and unit Gaussian noise (Box-Muller).
fn fake_data() -> Array2<f32> {
    let mut rng = StdRng::seed_from_u64(123_456_789);
    let (rows, n) = SHAPE;
    let f0 = 5.0 / n as f64;
    let mut a = Array2::<f32>::zeros(SHAPE);
    for r in 0..rows {
        let dc = 5.0 * (rng.random::<f64>() - 0.5);
        let scale = rng.random::<f64>();
        for t in 0..n {
            let tt = t as f64;
            let wave = 2.0 * (2.0 * std::f64::consts::PI * 3.0 * f0 * tt).sin()
                + 6.0 * (2.0 * std::f64::consts::PI * f0 * tt).sin();
            let u1: f64 = rng.random::<f64>().max(1e-300);
            let u2: f64 = rng.random();
            let noise = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            let drift = 1e-5 * tt;
            a[[r, t]] = (dc + scale * wave + drift + noise) as f32;
        }
    }
    a
}

fn bench(c: &mut Criterion) {
    let data = fake_data();
    let bytes = (data.len() * 4) as u64;
    let mut g = c.benchmark_group("core_f32_100x100000");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for threads in [1usize, 2] {
        let opts = CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-3)),
            threads: Some(threads),
            ..Default::default()
        };
        g.bench_function(format!("compress/threads={threads}"), |b| {
            b.iter(|| FlacArray::from_array(&data, &opts).unwrap());
        });
        let fa = FlacArray::from_array(&data, &opts).unwrap();
        let ro = ReadOptions {
            threads: Some(threads),
            ..Default::default()
        };
        g.bench_function(format!("decompress/threads={threads}"), |b| {
            b.iter(|| fa.decompress(&ro).unwrap());
        });
    }
    g.finish();
}

/// Why thread pools are cached per thread count: building one spawns its threads,
/// which costs about as much as compressing a small array.
fn pool_cost(c: &mut Criterion) {
    let small = Array2::from_shape_fn((8, 2000), |(i, j)| (i * 2000 + j) as i32 % 977);
    let mut g = c.benchmark_group("pool");
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("build_pool_2_threads", |b| {
        b.iter(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap()
        });
    });
    let opts = CompressOptions {
        threads: Some(2),
        ..Default::default()
    };
    g.bench_function("compress_8x2000_i32_cached_pool", |b| {
        b.iter(|| FlacArray::from_array(&small, &opts).unwrap());
    });
    g.finish();
}

criterion_group!(benches, bench, pool_cost);
criterion_main!(benches);
