//! Decode CPU time per call of this codec only, for quick A/B runs of decoder changes:
//! each benchmark signal is encoded once, then decoded in batches timed by the
//! thread's CPU time (`/proc/thread-self/schedstat`, Linux); best of five batches.
//!
//! `FLACARRAY_BENCH_DATA=DIR cargo run --release -p flacarray-flac --example decode_time -- [LEVEL [MODE]]`
//! MODE is `decode` (default) or `encode`.

#[path = "../benches/common/mod.rs"]
mod common;

use flacarray_flac::{Decoder, Encoder, EncoderConfig};

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn best_ms<F: FnMut()>(per_batch: usize, mut f: F) -> f64 {
    let mut best = u64::MAX;
    for _ in 0..5 {
        let a = cpu_ns().unwrap_or(0);
        for _ in 0..per_batch {
            f();
        }
        let b = cpu_ns().unwrap_or(0);
        best = best.min(b.saturating_sub(a));
    }
    best as f64 / 1e6 / per_batch as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let level: u8 = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let mode = args.get(2).map_or("decode", String::as_str);
    for sig in common::signals(1_000_000) {
        let per_channel = (sig.samples.len() / sig.channels as usize) as u64;
        let mut enc = Encoder::new(EncoderConfig {
            level,
            channels: sig.channels,
            ..Default::default()
        })?;
        let mut bytes = Vec::new();
        let t_enc = best_ms(if mode == "encode" { 6 } else { 1 }, || {
            bytes.clear();
            enc.encode_into(&sig.samples, &mut bytes)
                .map(drop)
                .unwrap_or_else(|e| panic!("{e}"));
        });
        let mut dec = Decoder::new();
        let mut out = vec![0i32; sig.samples.len()];
        let t = if mode == "encode" {
            t_enc
        } else {
            best_ms(20, || {
                dec.decode_into(&bytes, per_channel, &mut out)
                    .map(drop)
                    .unwrap_or_else(|e| panic!("{e}"));
            })
        };
        assert_eq!(out.len(), sig.samples.len());
        if mode != "encode" {
            assert_eq!(out, sig.samples, "round trip of {}", sig.name);
        }
        let mbs = sig.samples.len() as f64 * 4.0 / 1e6 / (t / 1e3);
        println!(
            "{:<20} {mode} {t:.3} ms {mbs:.0} MB/s bytes {}",
            sig.name,
            bytes.len()
        );
    }
    Ok(())
}
