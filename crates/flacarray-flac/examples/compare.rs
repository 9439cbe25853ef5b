//! Prints a markdown table comparing this codec with libFLAC (bundled 1.5.0 through
//! libflac-sys) on the benchmark signals: compressed size, encode and decode MB/s
//! (of 4-byte input samples), single thread, best of several runs.
//!
//! `cargo run --release -p flacarray-flac --example compare [-- SAMPLES [LEVELS]]`

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use flacarray_flac::{Decoder, Encoder, EncoderConfig};

fn best_of<F: FnMut()>(runs: usize, mut f: F) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let levels: Vec<u8> = match args.get(2) {
        Some(s) => s.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![0, 5, 8],
    };
    let runs = 5;
    println!(
        "libFLAC: {}; {n} samples per channel; best of {runs} runs\n",
        libflac_oracle::vendor_string()
    );
    println!(
        "| signal | level | size ratio (ours/libFLAC) | ours bytes | libFLAC bytes | enc MB/s ours | enc MB/s libFLAC | enc speed-up | dec MB/s ours | dec MB/s libFLAC | dec speed-up |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for sig in common::signals(n) {
        let mb = (sig.samples.len() * 4) as f64 / 1e6;
        let per_channel = (sig.samples.len() / sig.channels as usize) as u64;
        for &level in &levels {
            let cfg = EncoderConfig {
                level,
                channels: sig.channels,
                ..Default::default()
            };
            let mut enc = Encoder::new(cfg)?;
            let mut ours = Vec::new();
            let t_enc = best_of(runs, || {
                ours.clear();
                enc.encode_into(&sig.samples, &mut ours)
                    .map(drop)
                    .unwrap_or_else(|e| panic!("{e}"));
            });
            let mut theirs = Vec::new();
            let t_lib_enc = best_of(runs, || {
                theirs =
                    libflac_oracle::encode(&sig.samples, sig.channels, 32, u32::from(level), None)
                        .unwrap_or_else(|e| panic!("{e}"));
            });
            let mut dec = Decoder::new();
            let mut out = vec![0i32; sig.samples.len()];
            let t_dec = best_of(runs, || {
                dec.decode_into(&ours, per_channel, &mut out)
                    .map(drop)
                    .unwrap_or_else(|e| panic!("{e}"));
            });
            assert_eq!(out, sig.samples, "round trip of {}", sig.name);
            let t_lib_dec = best_of(runs, || {
                let (_, _, v) = libflac_oracle::decode(&theirs).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(v.len(), sig.samples.len());
            });
            println!(
                "| {} | {level} | {:.4} | {} | {} | {:.0} | {:.0} | {:.2}x | {:.0} | {:.0} | {:.2}x |",
                sig.name,
                ours.len() as f64 / theirs.len() as f64,
                ours.len(),
                theirs.len(),
                mb / t_enc,
                mb / t_lib_enc,
                t_lib_enc / t_enc,
                mb / t_dec,
                mb / t_lib_dec,
                t_lib_dec / t_dec
            );
        }
    }
    Ok(())
}
