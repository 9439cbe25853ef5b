//! `flacarray bench` (in-memory compression and decompression speed and ratio of an
//! `.npy` file or of generated float32 [`timestreams`], quanta 1e-4 unless
//! `--quanta`/`--precision`; no file written), and the round-trip runner and table
//! shared with `demo` and `stream demo`.
//!
//! Each step runs `--repeat` times and the best time is reported, in MB/s of
//! uncompressed data (10^6 bytes per second), beside the best CPU time of the process
//! ([`flacarray::synth::process_cpu_time`]): on a shared machine the steadier figure.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use flacarray::synth::{Timings, timestreams};
use flacarray::{
    CompressOptions, DecodedArray, FlacArray, PrecisionOption, QuantaOption, ReadOptions, fmt_shape,
};
use serde_json::json;

use crate::cli::BenchArgs;
use crate::npy;
use crate::progress::{self, Progress};

/// What a round trip measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Input bytes.
    pub input_bytes: u64,
    /// Compressed bytes.
    pub compressed_bytes: u64,
    /// Compression times.
    pub compress: Timings,
    /// Decompression times.
    pub decompress: Timings,
}

impl Run {
    /// Input bytes / compressed bytes.
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.input_bytes as f64 / self.compressed_bytes.max(1) as f64
    }
}

/// Runs `compress` then `decompress` `repeat` times each (once at least), timing every
/// run and advancing `p` by one per run; returns the measures, the last compressed
/// array and the last decompressed output (dropped outside the timed region).
///
/// # Errors
/// What `compress` or `decompress` return.
pub fn round_trip<D>(
    input: &DecodedArray,
    repeat: usize,
    p: &Progress,
    mut compress: impl FnMut() -> Result<FlacArray>,
    mut decompress: impl FnMut(&FlacArray) -> Result<D>,
) -> Result<(Run, FlacArray, D)> {
    let width = if input.dtype().is_64bit() { 8 } else { 4 };
    let (mut compress_times, mut decompress_times) = (Timings::default(), Timings::default());
    p.phase("compressing");
    let mut fa = compress_times.time(&mut compress)?;
    p.inc(1);
    for _ in 1..repeat {
        fa = compress_times.time(&mut compress)?;
        p.inc(1);
    }
    p.phase("decompressing");
    let mut out = decompress_times.time(|| decompress(&fa))?;
    p.inc(1);
    for _ in 1..repeat {
        out = decompress_times.time(|| decompress(&fa))?;
        p.inc(1);
    }
    let run = Run {
        input_bytes: input.shape().iter().product::<usize>() as u64 * width,
        compressed_bytes: fa.nbytes() as u64,
        compress: compress_times,
        decompress: decompress_times,
    };
    Ok((run, fa, out))
}

/// Writes `rows` as a table: the first cell left-aligned and the middle ones
/// right-aligned to `widths`, the last after two spaces.
///
/// # Errors
/// Writing fails.
pub fn table(out: &mut dyn Write, widths: &[usize], rows: &[Vec<String>]) -> std::io::Result<()> {
    for row in rows {
        let (Some((first, rest)), Some(&w0)) = (row.split_first(), widths.first()) else {
            continue;
        };
        write!(out, "{first:<w0$}")?;
        let (last, mid) = rest.split_last().unwrap_or((first, &[]));
        for (cell, w) in mid.iter().zip(&widths[1..]) {
            write!(out, " {cell:>w$}")?;
        }
        writeln!(out, "  {last}")?;
    }
    Ok(())
}

/// `flacarray bench`.
///
/// # Errors
/// The input cannot be read, float data without quantization option (file input),
/// integer data with one, compression/decompression fails, or writing fails.
pub fn run_and_print(args: &BenchArgs, out: &mut dyn Write) -> Result<()> {
    let (source, data, default_quanta) = match &args.input {
        Some(p) => (p.display().to_string(), npy::read_array(p)?, None),
        None => {
            let (s, n) = (
                usize::try_from(args.streams)?,
                usize::try_from(args.samples)?,
            );
            let d = timestreams(s, n, 1.0, 123_456_789).mapv(|v| v as f32);
            let d = DecodedArray::Float32(d.into_dyn());
            ("generated".to_owned(), d, Some(1e-4))
        }
    };
    let dtype = data.dtype();
    let (quanta, precision) = (args.quant.quanta, args.quant.precision);
    let given = quanta.is_some() || precision.is_some();
    if dtype.is_float() && !given && default_quanta.is_none() {
        bail!("{source}: {dtype} data needs --quanta or --precision");
    }
    if !dtype.is_float() && given {
        bail!(
            "{source}: {dtype} data is stored losslessly; --quanta and --precision apply to float data only"
        );
    }
    let default_quanta = default_quanta.filter(|_| precision.is_none());
    let opts = CompressOptions {
        level: args.level,
        quanta: quanta.or(default_quanta).map(QuantaOption::Scalar),
        precision: precision.map(PrecisionOption::Scalar),
        threads: args.common.threads(),
        ..CompressOptions::default()
    };
    let read = ReadOptions {
        threads: args.common.threads(),
        ..ReadOptions::default()
    };
    let repeat = usize::try_from(args.repeat)?;
    let p = progress::bar(args.common.quiet, Some(2 * repeat as u64), "bench");
    let (r, fa, back) = round_trip(
        &data,
        repeat,
        &p,
        || FlacArray::from_decoded(&data, &opts, None).with_context(|| source.clone()),
        |fa| decompress_fresh(fa, &read).with_context(|| source.clone()),
    )?;
    if back.shape != data.shape() {
        let got = fmt_shape(&back.shape);
        bail!("{source}: decoded shape {got} differs from the input's");
    }
    // The same decode into a new `Vec` (`FlacArray::decompress`), whose 4 KiB pages
    // fault one by one: what a caller of the library pays with the system allocator.
    let mut vec_times = Timings::default();
    for _ in 0..repeat {
        let a = vec_times.time(|| fa.decompress(&read).with_context(|| source.clone()))?;
        if !back.equals(&a.array) {
            bail!("{source}: the two decodes differ");
        }
    }
    p.finish();
    let (c, d, bytes) = (&r.compress, &r.decompress, r.input_bytes);
    let secs = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).collect::<Vec<f64>>();
    if args.json {
        let v = json!({
            "source": source, "dtype": dtype.name(), "shape": data.shape(),
            "level": args.level, "threads": args.common.threads, "repeat": args.repeat,
            "input_bytes": bytes, "compressed_bytes": r.compressed_bytes, "ratio": r.ratio(),
            "compress_mb_s": c.mb_s(bytes), "decompress_mb_s": d.mb_s(bytes),
            "compress_seconds": secs(&c.wall), "decompress_seconds": secs(&d.wall),
            "compress_cpu_mb_s": c.cpu_mb_s(bytes), "decompress_cpu_mb_s": d.cpu_mb_s(bytes),
            "compress_cpu_seconds": c.cpu.as_deref().map(secs),
            "decompress_cpu_seconds": d.cpu.as_deref().map(secs),
            "decompress_vec_mb_s": vec_times.mb_s(bytes),
            "decompress_vec_seconds": secs(&vec_times.wall),
            "huge_pages": back.huge_pages,
        });
        writeln!(out, "{v}")?;
        return Ok(());
    }
    let cpu = match (c.cpu_mb_s(bytes), d.cpu_mb_s(bytes)) {
        (Some(c), Some(d)) => {
            format!("; per CPU-second: compress {c:.1} MB/s, decompress {d:.1} MB/s")
        }
        _ => String::new(),
    };
    writeln!(
        out,
        "{source}: {dtype} {}, level {}: {bytes} -> {} bytes, ratio {:.3}, compress {:.1} MB/s, \
         decompress {:.1} MB/s{} (best of {repeat}){cpu}; decompress into a new Vec {:.1} MB/s",
        fmt_shape(data.shape()),
        args.level,
        r.compressed_bytes,
        r.ratio(),
        c.mb_s(bytes),
        d.mb_s(bytes),
        if back.huge_pages { " (huge pages)" } else { "" },
        vec_times.mb_s(bytes),
    )?;
    Ok(())
}

/// A decoded array in fresh anonymous memory.
pub struct FreshOutput {
    /// The values, native-endian, C order.
    bytes: memmap2::MmapMut,
    /// The element type.
    dtype: flacarray::DType,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Whether the kernel accepted the transparent-huge-page advice (`madvise`).
    pub huge_pages: bool,
}

impl FreshOutput {
    /// Whether `a` holds the same values (bit for bit) in the same shape.
    fn equals(&self, a: &DecodedArray) -> bool {
        fn same<T: bytemuck::Pod>(bytes: &[u8], a: &ndarray::ArrayD<T>) -> bool {
            a.as_slice().is_some_and(|v| {
                let v: &[u8] = bytemuck::cast_slice(v);
                bytes.get(..v.len()) == Some(v)
            })
        }
        a.dtype() == self.dtype
            && a.shape() == self.shape.as_slice()
            && match a {
                DecodedArray::Int32(v) => same(&self.bytes, v),
                DecodedArray::Int64(v) => same(&self.bytes, v),
                DecodedArray::Float32(v) => same(&self.bytes, v),
                DecodedArray::Float64(v) => same(&self.bytes, v),
            }
    }
}

/// Decodes all of `fa` into freshly mapped anonymous memory advised for transparent
/// huge pages: the allocation numpy makes for a large array (it asks for huge pages
/// on arrays of 4 MiB and more), so that this side-by-side figure pays for a new
/// output as flacarray 0.4.1's `to_array` does (about 50 faults of 2 MiB for 100 MB
/// rather than 25,000 of 4 KiB). The advice is a hint: where transparent huge pages
/// are off, the memory is ordinary pages.
///
/// # Errors
/// The mapping cannot be made; decoding fails.
pub fn decompress_fresh(fa: &FlacArray, read: &ReadOptions<'_>) -> Result<FreshOutput> {
    use flacarray::DType;
    let dtype = fa.dtype();
    let width = if dtype.is_64bit() { 8 } else { 4 };
    let n: usize = fa.shape().iter().product();
    // One spare byte keeps the mapping non-empty for an empty array.
    let mut bytes = memmap2::MmapMut::map_anon(n * width + 1)?;
    #[cfg(target_os = "linux")]
    let huge_pages = bytes.advise(memmap2::Advice::HugePage).is_ok();
    #[cfg(not(target_os = "linux"))]
    let huge_pages = false;
    let out = &mut bytes[..n * width];
    let sel = match dtype {
        DType::Int32 => fa.decompress_into::<i32>(read, bytemuck::cast_slice_mut(out))?,
        DType::Int64 => fa.decompress_into::<i64>(read, bytemuck::cast_slice_mut(out))?,
        DType::Float32 => fa.decompress_into::<f32>(read, bytemuck::cast_slice_mut(out))?,
        DType::Float64 => fa.decompress_into::<f64>(read, bytemuck::cast_slice_mut(out))?,
    };
    Ok(FreshOutput {
        bytes,
        dtype,
        shape: sel.shape,
        huge_pages,
    })
}
