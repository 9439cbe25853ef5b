//! The codec comparison of `compare` on recorded data: each row of an int32 `.npy`
//! file (2-d, C order) is one mono FLAC stream, as flacarray stores it. Prints one
//! markdown row per file and level: compressed size, encode and decode MB/s (4-byte
//! input samples) of this codec and of libFLAC (bundled 1.5.0 through libflac-sys,
//! 32 bits per sample as flacarray 0.4.1 uses it), single thread, best of several runs.
//!
//! `cargo run --release -p flacarray-flac --example compare_npy -- [--samples N]
//! [--levels 0,5,8] [--runs R] FILE.npy...`: the first rows of each file, up to N
//! samples in all (default 2,000,000).

use std::time::Instant;

use flacarray_flac::{Decoder, Encoder, EncoderConfig};

fn best_of<F: FnMut() -> Result<(), String>>(runs: usize, mut f: F) -> Result<f64, String> {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// The first rows of an int32 2-d `.npy`, at most `limit` samples in all.
fn load_rows(path: &str, limit: usize) -> Result<Vec<Vec<i32>>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let npy = npyz::NpyFile::new(&bytes[..])?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 || npy.order() != npyz::Order::C {
        return Err(format!("{path}: need a 2-d C-order array, got shape {shape:?}").into());
    }
    let cols = usize::try_from(shape[1])?;
    let data: Vec<i32> = npy.into_vec()?;
    let n_rows = (limit / cols.max(1)).max(1).min(data.len() / cols.max(1));
    Ok(data
        .chunks_exact(cols)
        .take(n_rows)
        .map(<[i32]>::to_vec)
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut limit = 2_000_000usize;
    let mut levels: Vec<u8> = vec![0, 5, 8];
    let mut runs = 5usize;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--samples" => limit = args.next().ok_or("--samples N")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs R")?.parse()?,
            "--levels" => {
                levels = args
                    .next()
                    .ok_or("--levels L,L")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            _ => files.push(a),
        }
    }
    println!(
        "libFLAC: {}; up to {limit} samples per file, one stream per row; best of {runs} runs\n",
        libflac_oracle::vendor_string()
    );
    println!(
        "| signal | level | size ratio (ours/libFLAC) | ours bytes | libFLAC bytes | enc MB/s ours | enc MB/s libFLAC | enc speed-up | dec MB/s ours | dec MB/s libFLAC | dec speed-up |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for path in &files {
        let rows = load_rows(path, limit)?;
        let total: usize = rows.iter().map(Vec::len).sum();
        let mb = (total * 4) as f64 / 1e6;
        let name = std::path::Path::new(path)
            .file_stem()
            .map_or_else(|| path.clone(), |s| s.to_string_lossy().into_owned());
        for &level in &levels {
            let mut enc = Encoder::new(EncoderConfig {
                level,
                channels: 1,
                ..Default::default()
            })?;
            let mut ours: Vec<Vec<u8>> = vec![Vec::new(); rows.len()];
            let t_enc = best_of(runs, || {
                for (r, o) in rows.iter().zip(ours.iter_mut()) {
                    o.clear();
                    enc.encode_into(r, o).map_err(|e| e.to_string())?;
                }
                Ok(())
            })?;
            let mut theirs: Vec<Vec<u8>> = Vec::new();
            let t_lib_enc = best_of(runs, || {
                theirs = rows
                    .iter()
                    .map(|r| libflac_oracle::encode(r, 1, 32, u32::from(level), None))
                    .collect::<Result<_, _>>()?;
                Ok(())
            })?;
            let mut dec = Decoder::new();
            let mut out: Vec<Vec<i32>> = rows.iter().map(|r| vec![0; r.len()]).collect();
            let t_dec = best_of(runs, || {
                for (b, o) in ours.iter().zip(out.iter_mut()) {
                    dec.decode_into(b, o.len() as u64, o)
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            })?;
            if out != rows {
                return Err(format!("{name}: our round trip differs").into());
            }
            let t_lib_dec = best_of(runs, || {
                for (b, r) in theirs.iter().zip(&rows) {
                    let (_, _, v) = libflac_oracle::decode(b)?;
                    if v.len() != r.len() {
                        return Err(format!("{name}: libFLAC decoded {} samples", v.len()));
                    }
                }
                Ok(())
            })?;
            let ob: usize = ours.iter().map(Vec::len).sum();
            let tb: usize = theirs.iter().map(Vec::len).sum();
            println!(
                "| {name} ({}x{}) | {level} | {:.4} | {ob} | {tb} | {:.0} | {:.0} | {:.2}x | {:.0} | {:.0} | {:.2}x |",
                rows.len(),
                rows.first().map_or(0, Vec::len),
                ob as f64 / tb as f64,
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
