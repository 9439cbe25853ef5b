//! Codec CPU time per call, this codec against libFLAC, on a loaded machine: each call
//! is timed by the thread's own CPU time (`/proc/thread-self/schedstat`, Linux), so
//! time spent waiting for a core does not count; the best of three batches of calls
//! is kept. Prints CSV: signal, level, then milliseconds per call for
//! decode (ours, libFLAC) and encode (ours, libFLAC), and compressed sizes.
//!
//! `FLACARRAY_BENCH_DATA=DIR cargo run --release -p flacarray-flac --example cpu_table -- [SAMPLES [LEVELS]]`

#[path = "../benches/common/mod.rs"]
mod common;

use flacarray_flac::{Decoder, Encoder, EncoderConfig};

/// CPU time of this thread so far, in nanoseconds; `None` off Linux.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// CPU time per call of `f` in milliseconds: the best of three batches of `per_batch`
/// calls. The kernel's run-time counter advances at scheduler ticks and context
/// switches (every few milliseconds), so a batch must last well over that.
fn best_ms<F: FnMut()>(per_batch: usize, mut f: F) -> f64 {
    let mut best = u64::MAX;
    for _ in 0..3 {
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
    let n: usize = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let levels: Vec<u8> = match args.get(2) {
        Some(s) => s.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![0, 5, 8],
    };
    println!(
        "signal,level,values,dec_ours_ms,dec_libflac_ms,enc_ours_ms,enc_libflac_ms,bytes_ours,bytes_libflac"
    );
    for sig in common::signals(n) {
        let per_channel = (sig.samples.len() / sig.channels as usize) as u64;
        for &level in &levels {
            let mut enc = Encoder::new(EncoderConfig {
                level,
                channels: sig.channels,
                ..Default::default()
            })?;
            let mut ours = Vec::new();
            let enc_runs = if level >= 8 { 3 } else { 10 };
            let t_enc = best_ms(enc_runs, || {
                ours.clear();
                enc.encode_into(&sig.samples, &mut ours)
                    .map(drop)
                    .unwrap_or_else(|e| panic!("{e}"));
            });
            let mut theirs = Vec::new();
            let t_lib_enc = best_ms(enc_runs, || {
                theirs =
                    libflac_oracle::encode(&sig.samples, sig.channels, 32, u32::from(level), None)
                        .unwrap_or_else(|e| panic!("{e}"));
            });
            let mut dec = Decoder::new();
            let mut out = vec![0i32; sig.samples.len()];
            let t_dec = best_ms(30, || {
                dec.decode_into(&ours, per_channel, &mut out)
                    .map(drop)
                    .unwrap_or_else(|e| panic!("{e}"));
            });
            assert_eq!(out, sig.samples, "round trip of {}", sig.name);
            let t_lib_dec = best_ms(30, || {
                let (_, _, v) = libflac_oracle::decode(&theirs).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(v.len(), sig.samples.len());
            });
            println!(
                "{},{level},{},{t_dec:.3},{t_lib_dec:.3},{t_enc:.3},{t_lib_enc:.3},{},{}",
                sig.name,
                sig.samples.len(),
                ours.len(),
                theirs.len()
            );
        }
    }
    Ok(())
}
