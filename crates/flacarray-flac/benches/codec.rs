//! Criterion benchmarks: encode and decode throughput (bytes of 32-bit input samples)
//! of this codec and of libFLAC 1.5.0 (bundled by libflac-sys) on the same signals, at
//! levels 0, 5 and 8, single thread. Compressed sizes are printed once per case.
//!
//! `cargo bench -p flacarray-flac --bench codec`

#[path = "common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flacarray_flac::{Decoder, Encoder, EncoderConfig};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let n = std::env::var("FLACARRAY_BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    for sig in common::signals(n) {
        let mut group = c.benchmark_group(sig.name);
        group.throughput(Throughput::Bytes((sig.samples.len() * 4) as u64));
        group.sample_size(10);
        let per_channel = (sig.samples.len() / sig.channels as usize) as u64;
        for level in [0u8, 5, 8] {
            let cfg = EncoderConfig {
                level,
                channels: sig.channels,
                ..Default::default()
            };
            let mut enc = Encoder::new(cfg).expect("valid config");
            let mut ours = Vec::new();
            enc.encode_into(&sig.samples, &mut ours).expect("encodes");
            let theirs =
                libflac_oracle::encode(&sig.samples, sig.channels, 32, u32::from(level), None)
                    .expect("libFLAC encodes");
            eprintln!(
                "{} level {level}: ours {} bytes, libFLAC {} bytes, ratio {:.4}",
                sig.name,
                ours.len(),
                theirs.len(),
                ours.len() as f64 / theirs.len() as f64
            );
            group.bench_function(BenchmarkId::new("encode/ours", level), |b| {
                let mut out = Vec::with_capacity(ours.len());
                b.iter(|| {
                    out.clear();
                    enc.encode_into(black_box(&sig.samples), &mut out)
                        .expect("encodes");
                })
            });
            group.bench_function(BenchmarkId::new("encode/libflac", level), |b| {
                b.iter(|| {
                    libflac_oracle::encode(
                        black_box(&sig.samples),
                        sig.channels,
                        32,
                        u32::from(level),
                        None,
                    )
                    .expect("encodes")
                })
            });
            group.bench_function(BenchmarkId::new("decode/ours", level), |b| {
                let mut dec = Decoder::new();
                let mut out = vec![0i32; sig.samples.len()];
                b.iter(|| {
                    dec.decode_into(black_box(&ours), per_channel, &mut out)
                        .expect("decodes")
                })
            });
            group.bench_function(BenchmarkId::new("decode/libflac", level), |b| {
                b.iter(|| libflac_oracle::decode(black_box(&theirs)).expect("decodes"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
