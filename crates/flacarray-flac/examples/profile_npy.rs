//! Encodes or decodes the rows of an int32 `.npy` file many times, for profilers
//! (`perf record`, `perf stat`) and side-by-side timing of two builds.
//!
//! `cargo run --release -p flacarray-flac --example profile_npy -- FILE.npy LEVEL
//! ITERATIONS [decode|encode] [SAMPLES]`: each row is one mono stream; prints the
//! best time of one pass and its rate in MB/s of 4-byte samples.

use std::time::Instant;

use flacarray_flac::{Decoder, Encoder, EncoderConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("FILE.npy LEVEL ITERATIONS [decode|encode] [SAMPLES]")?;
    let level: u8 = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let iters: usize = args.get(3).map_or(Ok(20), |s| s.parse())?;
    let mode = args.get(4).map_or("decode", String::as_str);
    let limit: usize = args.get(5).map_or(Ok(2_000_000), |s| s.parse())?;
    let bytes = std::fs::read(path)?;
    let npy = npyz::NpyFile::new(&bytes[..])?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 || npy.order() != npyz::Order::C {
        return Err(format!("{path}: need a 2-d C-order array, got shape {shape:?}").into());
    }
    let cols = usize::try_from(shape[1])?.max(1);
    let data: Vec<i32> = npy.into_vec()?;
    let rows: Vec<&[i32]> = data
        .chunks_exact(cols)
        .take((limit / cols).max(1))
        .collect();
    let total: usize = rows.iter().map(|r| r.len()).sum();
    let mut enc = Encoder::new(EncoderConfig {
        level,
        channels: 1,
        ..Default::default()
    })?;
    let mut streams: Vec<Vec<u8>> = vec![Vec::new(); rows.len()];
    for (r, s) in rows.iter().zip(streams.iter_mut()) {
        enc.encode_into(r, s)?;
    }
    let mut dec = Decoder::new();
    let mut out = vec![0i32; cols];
    let mut best = f64::MAX;
    for _ in 0..iters {
        let t = Instant::now();
        for (r, s) in rows.iter().zip(streams.iter_mut()) {
            if mode == "encode" {
                s.clear();
                enc.encode_into(r, s)?;
            } else {
                dec.decode_into(s, r.len() as u64, &mut out)?;
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    for (r, s) in rows.iter().zip(&streams) {
        dec.decode_into(s, r.len() as u64, &mut out)?;
        if out != *r {
            return Err("round trip differs".into());
        }
    }
    let bytes_out: usize = streams.iter().map(Vec::len).sum();
    // FNV-1a of every stream's bytes: two builds that encode identically agree.
    let hash = streams
        .iter()
        .flatten()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    println!(
        "{mode} level {level}: {bytes_out} bytes (FNV-1a {hash:016x}), best {:.4} s, {:.0} MB/s",
        best,
        (total * 4) as f64 / 1e6 / best
    );
    Ok(())
}
