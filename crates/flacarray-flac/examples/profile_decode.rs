//! Decodes one benchmark signal many times, for profilers (`perf record`).
//! `cargo run --release --example profile_decode -- SIGNAL_INDEX LEVEL ITERATIONS [decode|encode|libflac-decode|libflac-encode]`

#[path = "../benches/common/mod.rs"]
mod common;

use flacarray_flac::{Decoder, Encoder, EncoderConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let idx: usize = args.get(1).map_or(Ok(0), |s| s.parse())?;
    let level: u8 = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let iters: usize = args.get(3).map_or(Ok(20), |s| s.parse())?;
    let mode = args.get(4).map_or("decode", String::as_str);
    let sig = common::signals(1_000_000).swap_remove(idx);
    let mut enc = Encoder::new(EncoderConfig {
        level,
        channels: sig.channels,
        ..Default::default()
    })?;
    let mut bytes = Vec::new();
    enc.encode_into(&sig.samples, &mut bytes)?;
    let n = (sig.samples.len() / sig.channels as usize) as u64;
    let mut out = vec![0i32; sig.samples.len()];
    let mut dec = Decoder::new();
    let lib_bytes = libflac_oracle::encode(&sig.samples, sig.channels, 32, u32::from(level), None)?;
    for _ in 0..iters {
        match mode {
            "encode" => {
                bytes.clear();
                enc.encode_into(&sig.samples, &mut bytes)?;
            }
            "libflac-encode" => drop(libflac_oracle::encode(
                &sig.samples,
                sig.channels,
                32,
                u32::from(level),
                None,
            )?),
            "libflac-decode" => drop(libflac_oracle::decode(&lib_bytes)?),
            _ => drop(dec.decode_into(&bytes, n, &mut out)?),
        }
    }
    println!("{} bytes", bytes.len());
    Ok(())
}
