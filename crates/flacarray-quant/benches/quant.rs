//! Quantization and reconstruction throughput (bytes of float input per second) on
//! 100 streams x 100 000 samples of white noise plus a slow drift.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "benchmark harness: synthetic data built with plain casts"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flacarray_quant::{Precision, QuantSpec, Quanta, dequantize_into, quantize_into};
use std::hint::black_box;

const N_STREAMS: usize = 100;
const STREAM_SIZE: usize = 100_000;

/// Deterministic noise (xorshift64*, sum of four uniforms ~ Gaussian) plus a drift.
fn noise_plus_drift() -> Vec<f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::with_capacity(N_STREAMS * STREAM_SIZE);
    for stream in 0..N_STREAMS {
        let dc = (stream as f64 - 50.0) * 0.37;
        for i in 0..STREAM_SIZE {
            let t = i as f64 / STREAM_SIZE as f64;
            let noise = (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7;
            out.push(dc + 3.0 * t + 0.5 * (t * 40.0).sin() + noise);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let d64 = noise_plus_drift();
    let d32: Vec<f32> = d64.iter().map(|&v| v as f32).collect();
    let n = d64.len();

    let mut g = c.benchmark_group("quant");
    g.sample_size(10);

    g.throughput(Throughput::Bytes((n * 4) as u64));
    let (mut i32s, mut o32, mut g32) = (
        vec![0_i32; n],
        vec![0.0_f32; N_STREAMS],
        vec![0.0_f32; N_STREAMS],
    );
    let spec32 = QuantSpec::Quanta(Quanta::Scalar(1e-3_f32));
    g.bench_function("quantize_f32", |b| {
        b.iter(|| {
            quantize_into(
                black_box(&d32),
                STREAM_SIZE,
                &spec32,
                &mut i32s,
                &mut o32,
                &mut g32,
            )
            .unwrap()
        });
    });
    let mut back32 = vec![0.0_f32; n];
    g.bench_function("dequantize_f32", |b| {
        b.iter(|| dequantize_into(black_box(&i32s), STREAM_SIZE, &o32, &g32, &mut back32).unwrap());
    });
    let prec32: QuantSpec<'_, f32> = QuantSpec::Precision(Precision::Scalar(3));
    g.bench_function("quantize_f32_precision", |b| {
        b.iter(|| {
            quantize_into(
                black_box(&d32),
                STREAM_SIZE,
                &prec32,
                &mut i32s,
                &mut o32,
                &mut g32,
            )
            .unwrap()
        });
    });

    g.throughput(Throughput::Bytes((n * 8) as u64));
    let (mut i64s, mut o64, mut g64) = (
        vec![0_i64; n],
        vec![0.0_f64; N_STREAMS],
        vec![0.0_f64; N_STREAMS],
    );
    let spec64 = QuantSpec::Quanta(Quanta::Scalar(1e-6_f64));
    g.bench_function("quantize_f64", |b| {
        b.iter(|| {
            quantize_into(
                black_box(&d64),
                STREAM_SIZE,
                &spec64,
                &mut i64s,
                &mut o64,
                &mut g64,
            )
            .unwrap()
        });
    });
    let mut back64 = vec![0.0_f64; n];
    g.bench_function("dequantize_f64", |b| {
        b.iter(|| dequantize_into(black_box(&i64s), STREAM_SIZE, &o64, &g64, &mut back64).unwrap());
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
