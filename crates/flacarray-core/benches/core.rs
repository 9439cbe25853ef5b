//! Whole-array compress and decompress of a `(100, 100_000)` float32 timestream array
//! (noise + drift + sines, like flacarray's `create_fake_data`) with 1 and 2 threads.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flacarray_core::synth::timestreams;
use flacarray_core::{CompressOptions, FlacArray, QuantaOption, ReadOptions};
use ndarray::Array2;
use std::time::Duration;

const SHAPE: (usize, usize) = (100, 100_000);

/// `create_fake_data(sigma=1)`-like float32 timestreams (the library's generator).
fn fake_data() -> Array2<f32> {
    timestreams(SHAPE.0, SHAPE.1, 1.0, 123_456_789).mapv(|v| v as f32)
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
