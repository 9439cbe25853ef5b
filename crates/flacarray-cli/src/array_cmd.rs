//! The array commands: `compress`, `decompress`, `info` and `verify`.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};
pub use flacarray::fmt_shape;
use flacarray::npy::itemsize;
use flacarray::zarr::ZarrFormat;
use flacarray::{
    CompressOptions, DecodedArray, FlacArray, LogicalArray, LogicalDType, PrecisionOption,
    QuantaOption, ReadOptions, SampleSlice, parse_index,
};
use serde_json::json;

use crate::cli::{CompressArgs, DecompressArgs, InfoArgs, VerifyArgs};
use crate::npy;
use crate::progress;
use crate::storage::Store;

use flacarray::options::{leading_of, per_stream, precisions};

/// The compression options of `flacarray compress` for data of `dtype` and `shape`.
///
/// # Errors
/// Float data without a quantization option, integer data with one, a per-stream file
/// of the wrong shape, or a precision that is not an integer.
pub fn compress_options(
    args: &CompressArgs,
    dtype: LogicalDType,
    shape: &[usize],
) -> Result<CompressOptions> {
    let float = dtype.stored().is_float();
    let leading = leading_of(shape);
    let given = args.quant.quanta.is_some()
        || args.quanta_file.is_some()
        || args.quant.precision.is_some()
        || args.precision_file.is_some();
    let input = args.input.display();
    if float && !given {
        bail!(
            "{input}: {dtype} data needs one of --quanta, --quanta-file, --precision or \
             --precision-file (how finely to quantize it)"
        );
    }
    if !float && given {
        return Err(crate::UsageError(format!(
            "{input}: {dtype} data is stored losslessly; --quanta, --quanta-file, \
             --precision and --precision-file apply to float data only"
        ))
        .into());
    }
    let quanta = if let Some(q) = args.quant.quanta {
        Some(QuantaOption::Scalar(q))
    } else if let Some(p) = &args.quanta_file {
        let values = per_stream(&npy::read_f64(p)?, &leading);
        Some(QuantaOption::PerStream(
            values.with_context(|| p.display().to_string())?,
        ))
    } else {
        None
    };
    let precision = if let Some(p) = args.quant.precision {
        Some(PrecisionOption::Scalar(p))
    } else if let Some(p) = &args.precision_file {
        let values = per_stream(&npy::read_f64(p)?, &leading);
        let ints = values.and_then(|v| precisions(&v));
        let ints = ints.with_context(|| p.display().to_string())?;
        Some(PrecisionOption::PerStream(ints))
    } else {
        None
    };
    Ok(CompressOptions {
        level: args.level,
        quanta,
        precision,
        threads: args.common.threads(),
        keep_nonfinite: args.keep_nonfinite,
        ..CompressOptions::default()
    })
}

/// Compresses `data`, advancing `progress` by the streams done (the library reports
/// them as its workers finish; the bytes do not depend on it).
///
/// # Errors
/// As [`FlacArray::from_values`].
pub fn compress_with_progress(
    data: &LogicalArray,
    opts: &CompressOptions,
    progress: &progress::Progress,
) -> Result<FlacArray, flacarray::Error> {
    FlacArray::from_values(data, opts, Some(&|n| progress.inc(n as u64)))
}

/// The store `flacarray compress` writes to, in the Zarr format asked for.
pub(crate) fn output_store(args: &CompressArgs) -> Store {
    let store = Store::for_path(&args.output, &args.group);
    match args.zarr_format {
        Some(2) => store.with_zarr_format(ZarrFormat::V2),
        Some(_) => store.with_zarr_format(ZarrFormat::V3),
        None => store,
    }
}

/// A compression error in the user's terms: numbers in `%g` style.
fn compress_error(e: flacarray::Error) -> anyhow::Error {
    use crate::fmt_g;
    use flacarray::Error as CoreError;
    use flacarray::quant::Error as QuantError;
    match e {
        CoreError::Quantize {
            stream,
            source:
                QuantError::Overflow {
                    value,
                    quanta,
                    min_quanta,
                    bits,
                    ..
                },
        } => anyhow!(
            "stream {stream}: value {} does not fit in a {bits}-bit integer with quanta {}; \
             the smallest quanta that fits this stream is {}",
            fmt_g(value),
            fmt_g(quanta),
            fmt_g(min_quanta)
        ),
        CoreError::Quantize {
            stream,
            source: QuantError::InvalidQuanta { quanta, reason, .. },
        } => anyhow!(
            "stream {stream}: quanta {} cannot be used: {reason}",
            fmt_g(quanta)
        ),
        // The message already names the stream by its leading index; the quantizer's
        // cause (by flat number) would only repeat it.
        other @ CoreError::Quantize { .. } => anyhow!("{other}"),
        other => anyhow::Error::new(other),
    }
}

/// Copies standard input to an unnamed temporary file (removed by the system when
/// closed, even after `kill -9`) and returns it with a path that opens it
/// (`/proc/self/fd/N`), for `compress -`: the `.npy` reader needs to seek.
fn spool_stdin() -> Result<(std::fs::File, std::path::PathBuf)> {
    use std::os::fd::AsRawFd;
    let mut f = tempfile::tempfile().context("standard input: cannot create a temporary file")?;
    std::io::copy(&mut std::io::stdin().lock(), &mut f).context("standard input: cannot read")?;
    let path = std::path::PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()));
    Ok((f, path))
}

/// `flacarray compress`.
///
/// # Errors
/// Any failure, naming the file (and the stream for data that cannot be quantized).
pub fn compress(args: &CompressArgs, out: &mut dyn Write) -> Result<()> {
    if args.output.as_os_str() == "-" {
        bail!("-: compress writes an HDF5 file or a Zarr store, not standard output");
    }
    // `-`: the .npy comes from standard input.
    let spooled = if args.input.as_os_str() == "-" {
        Some(spool_stdin()?)
    } else {
        None
    };
    let shown_input = args.input.clone();
    let input_path = spooled
        .as_ref()
        .map_or(args.input.clone(), |(_, p)| p.clone());
    let resolved = crate::outcheck::resolve_output(&args.output)?;
    let mut store_args = args.clone();
    store_args.output = resolved.clone();
    let store = output_store(&store_args);
    let kind = crate::outcheck::OutputKind::of(&store);
    if spooled.is_none() {
        crate::outcheck::check_input(&args.input)?;
    }
    let mut inputs: Vec<&std::path::Path> = vec![&input_path];
    inputs.extend(args.quanta_file.as_deref());
    inputs.extend(args.precision_file.as_deref());
    crate::outcheck::check_output(&resolved, &inputs, kind, args.force)?;
    // Check the options against the header before reading the data.
    let named = |e: flacarray::npy::Error| {
        let e = anyhow::Error::new(e);
        if spooled.is_some() {
            anyhow!(
                "{}",
                crate::one_line(&e).replace(&input_path.display().to_string(), "-")
            )
        } else {
            e
        }
    };
    let (dtype, shape) = npy::peek(&input_path).map_err(named)?;
    let mut opt_args = args.clone();
    opt_args.input = shown_input;
    let opts = compress_options(&opt_args, dtype, &shape)?;
    if kind == crate::outcheck::OutputKind::Hdf5 && shape.len() > 33 {
        bail!(
            "{}: {} dimensions: an HDF5 group holds at most 32 leading dimensions (33 with \
             the sample axis)",
            args.input.display(),
            shape.len()
        );
    }
    let n_streams: usize = leading_of(&shape).iter().product();
    let p = progress::bar(args.common.quiet, Some(n_streams as u64), "compressing");
    let fa = flacarray::npy::compress_file(&input_path, &opts, Some(&|n| p.inc(n as u64)))
        .map_err(|e| match e {
            flacarray::npy::CompressError::Read(e) => named(e),
            flacarray::npy::CompressError::Compress(e) => {
                compress_error(e).context(args.input.display().to_string())
            }
            e => anyhow::Error::new(e),
        })?;
    p.phase("writing");
    crate::storage::write(&store, &fa, args.force)?;
    p.finish();
    if !args.common.quiet {
        let input_bytes = (shape.iter().product::<usize>() * itemsize(dtype)) as u64;
        writeln!(
            out,
            "{} -> {}: {} {}, {} bytes -> {} bytes (ratio {:.3})",
            args.input.display(),
            store.describe(),
            dtype,
            fmt_shape(&shape),
            input_bytes,
            fa.nbytes(),
            input_bytes as f64 / fa.nbytes().max(1) as f64
        )?;
    }
    Ok(())
}

/// The `--keep` mask of `decompress` in C order, checked against the stored leading shape.
///
/// # Errors
/// The mask cannot be read or has another shape than the stored leading shape.
pub(crate) fn keep_mask(args: &DecompressArgs, store: &Store) -> Result<Option<Vec<bool>>> {
    let Some(path) = &args.keep else {
        return Ok(None);
    };
    let mask = npy::read_bool(path)?;
    let (leading, _, _) = store.meta()?;
    if mask.shape() != leading.as_slice() {
        bail!(
            "{}: keep mask shape {} does not match the leading shape {} of {}",
            path.display(),
            fmt_shape(mask.shape()),
            fmt_shape(&leading),
            store.describe()
        );
    }
    Ok(Some(mask.iter().copied().collect()))
}

/// The `--samples` slice of `decompress` for streams of `n` samples (all without it).
///
/// # Errors
/// The slice does not fit the stream.
pub(crate) fn sample_slice(args: &DecompressArgs, store: &Store, n: usize) -> Result<SampleSlice> {
    let Some(s) = args.samples else {
        return Ok(SampleSlice::FULL);
    };
    // Inside the stream the lenient and strict rules agree, so the slice itself is
    // returned once the strict check has passed.
    s.resolve_strict(n)
        .map_err(|e| anyhow!("{}: --samples {s}: {e}", store.describe()))?;
    Ok(s)
}

/// The selection `flacarray decompress` asks for, in the element type of the data
/// that was compressed.
///
/// # Errors
/// The store cannot be read, the mask or the slice does not fit, a stream does not
/// decode; the message names the file and group (and the stream).
pub fn decompress_selection(
    args: &DecompressArgs,
    progress: &progress::Progress,
) -> Result<LogicalArray> {
    let store = Store::for_path(&args.store.input, &args.store.group);
    let logical = store.logical_dtype()?;
    let arr = decode_selection(args, &store, progress)?;
    LogicalArray::from_decoded(arr, logical).with_context(|| store.describe())
}

/// [`decompress_selection`] in the stored element type.
fn decode_selection(
    args: &DecompressArgs,
    store: &Store,
    progress: &progress::Progress,
) -> Result<DecodedArray> {
    let threads = args.common.threads();
    if let Some(expr) = &args.select {
        let key = parse_index(expr).map_err(|e| anyhow!("--select {expr:?}: {e}"))?;
        let fa = store.read(None, args.no_flatten)?;
        return crate::with_pool(threads, || fa.get(&key))
            .with_context(|| format!("{}: --select {expr:?}", store.describe()));
    }
    let keep = keep_mask(args, store)?;
    let resolve = |n: usize| sample_slice(args, store, n);
    if let Some(k) = &keep
        && !k.iter().any(|&b| b)
    {
        // Nothing kept: an empty (0, samples) array, as read_array returns.
        let (_, n, dtype) = store.meta()?;
        let range = resolve(n)?.resolve(n)?;
        return Ok(DecodedArray::empty(dtype, &[0, range.len()])?);
    }
    if args.samples.is_some() {
        // Only the frames holding the samples are read (whole streams for a long range).
        let (_, n, _) = store.meta()?;
        let read = ReadOptions {
            keep: keep.as_deref(),
            stream_slice: resolve(n)?,
            no_flatten: args.no_flatten,
            threads,
            ..ReadOptions::default()
        };
        return Ok(store.read_selection(&read)?);
    }
    let fa = store.read(keep.as_deref(), args.no_flatten)?;
    let stream_slice = resolve(fa.stream_size())?;
    decode_with_progress(&fa, stream_slice, threads, progress).with_context(|| store.describe())
}

/// Decodes samples `stream_slice` of every stream of `fa`, advancing `progress` by
/// the streams done. The result equals [`FlacArray::decompress`] with the same slice.
///
/// # Errors
/// As [`FlacArray::decompress`].
pub fn decode_with_progress(
    fa: &FlacArray,
    stream_slice: SampleSlice,
    threads: Option<usize>,
    progress: &progress::Progress,
) -> Result<DecodedArray, flacarray::Error> {
    progress.set_length(fa.n_streams() as u64);
    let read = ReadOptions {
        stream_slice,
        threads,
        ..ReadOptions::default()
    };
    let sel = fa.decompress_with_progress(&read, &|n| progress.inc(n as u64))?;
    Ok(sel.array)
}

/// `flacarray decompress`.
///
/// # Errors
/// As [`decompress_selection`], or the output cannot be written.
pub fn decompress(args: &DecompressArgs, out: &mut dyn Write) -> Result<()> {
    crate::output::set_sync(args.sync);
    let to_stdout = args.output.as_os_str() == "-";
    let target = if to_stdout {
        None
    } else {
        let resolved = crate::outcheck::resolve_output(&args.output)?;
        let mut inputs: Vec<&std::path::Path> = vec![&args.store.input];
        inputs.extend(args.keep.as_deref());
        crate::outcheck::check_output(
            &resolved,
            &inputs,
            crate::outcheck::OutputKind::File,
            args.force,
        )?;
        Some(resolved)
    };
    let p = progress::bar(args.common.quiet, None, "decompressing");
    let store = Store::for_path(&args.store.input, &args.store.group);
    let (dtype, shape) = match &target {
        // Whole streams into a file: decoded and written a block of rows at a time.
        Some(t) if args.select.is_none() && args.samples.is_none() => {
            let keep = keep_mask(args, &store)?;
            let (k, f, inc) = (keep.as_deref(), args.no_flatten, |n| p.inc(n as u64));
            crate::with_pool(args.common.threads(), || {
                store.decompress_npy_file(t, k, f, args.sync, &inc)
            })?
        }
        _ => {
            let arr = decompress_selection(args, &p)?;
            p.phase("writing");
            if let Some(t) = &target {
                npy::write_file(t, &arr)?;
            } else {
                npy::write_to(out, &arr).context("standard output")?;
                out.flush().context("standard output")?;
            }
            (arr.dtype(), arr.shape().to_vec())
        }
    };
    p.finish();
    if !args.common.quiet && !to_stdout {
        let (d, s) = (store.describe(), fmt_shape(&shape));
        writeln!(out, "{d} -> {}: {dtype} {s}", args.output.display())?;
    }
    Ok(())
}

pub use flacarray::store::levels_for_block_size;

/// `flacarray info`.
///
/// # Errors
/// The store cannot be read or its first stream has no valid STREAMINFO.
pub fn info(args: &InfoArgs, out: &mut dyn Write) -> Result<()> {
    let store = Store::for_path(&args.store.input, &args.store.group);
    let info = store.read_info()?;
    let meta = &info.meta;
    let sum = info
        .summary()
        .map_err(|e| anyhow!("{}: stream 0: STREAMINFO: {e}", store.describe()))?;
    let (si, shape, n, input_bytes, ratio) = (
        sum.stream_info.unwrap_or_default(),
        &sum.shape,
        sum.n_streams,
        sum.input_bytes,
        sum.ratio,
    );
    let (min, mean, max) = (
        sum.min_stream_bytes,
        sum.mean_stream_bytes,
        sum.max_stream_bytes,
    );
    let nbytes = &info.table.nbytes;
    let (path, group) = (store.path().display().to_string(), store.group());
    if args.json {
        let v = json!({
            "file": path,
            "group": group,
            "format_version": meta.format_version,
            "software_version": info.software_version,
            "dtype": info.logical.name(),
            "stored_dtype": meta.dtype.name(),
            "shape": shape,
            "leading_shape": meta.leading_shape,
            "stream_size": meta.stream_size,
            "n_streams": n,
            "input_bytes": input_bytes,
            "compressed_bytes": meta.total_bytes,
            "ratio": ratio,
            "stream_bytes": { "min": min, "mean": mean, "max": max, "all": nbytes },
            "nonfinite": sum.nonfinite.map(|c| json!({
                "nan": c.nan, "pos_inf": c.pos_inf, "neg_inf": c.neg_inf, "streams": c.streams,
            })),
            "flac": sum.stream_info.is_some().then(|| json!({
                "channels": si.channels,
                "bits_per_sample": si.bits_per_sample,
                "min_block_size": si.min_block_size,
                "max_block_size": si.max_block_size,
                "levels": levels_for_block_size(si.max_block_size),
                "min_frame_size": si.min_frame_size,
                "max_frame_size": si.max_frame_size,
                "total_samples": si.total_samples,
            })),
        });
        writeln!(out, "{v}")?;
        return Ok(());
    }
    writeln!(out, "file:             {path}")?;
    writeln!(out, "group:            {group}")?;
    writeln!(
        out,
        "format version:   {} (written by {})",
        meta.format_version,
        info.software_version.as_deref().unwrap_or("unknown")
    )?;
    if info.logical.is_stored() {
        writeln!(out, "dtype:            {}", meta.dtype)?;
    } else {
        writeln!(
            out,
            "dtype:            {} (stored as {})",
            info.logical, meta.dtype
        )?;
    }
    writeln!(out, "shape:            {}", fmt_shape(shape))?;
    writeln!(out, "streams:          {n} of {} samples", meta.stream_size)?;
    writeln!(out, "input bytes:      {input_bytes}")?;
    writeln!(out, "compressed bytes: {}", meta.total_bytes)?;
    writeln!(out, "ratio:            {ratio:.3}")?;
    writeln!(
        out,
        "stream bytes:     min {min}, mean {mean:.1}, max {max}"
    )?;
    if let Some(c) = sum.nonfinite {
        let (nan, pos, neg, streams) = (c.nan, c.pos_inf, c.neg_inf, c.streams);
        writeln!(
            out,
            "non-finite kept:  {nan} NaN, {pos} +inf, {neg} -inf in {streams} stream(s)"
        )?;
    }
    if sum.stream_info.is_none() {
        writeln!(out, "FLAC (stream 0):  none (empty array)")?;
        return Ok(());
    }
    writeln!(
        out,
        "FLAC (stream 0):  {} channel(s), {} bits per sample, block size {} (levels {}), \
         frames {}..{} bytes, total_samples {}",
        si.channels,
        si.bits_per_sample,
        si.max_block_size,
        levels_for_block_size(si.max_block_size),
        si.min_frame_size,
        si.max_frame_size,
        si.total_samples
    )?;
    Ok(())
}

pub use flacarray::verify::VerifyReport;

/// Decodes every stream of `fa`, a block of streams at a time, with a progress display.
///
/// # Errors
/// The first stream that does not decode (to exactly `stream_size` samples).
pub fn verify_array(fa: &FlacArray, quiet: bool, threads: Option<usize>) -> Result<VerifyReport> {
    let p = progress::bar(quiet, Some(fa.n_streams() as u64), "verifying");
    let r = flacarray::verify::verify(fa, threads, &|n| p.inc(n as u64))?;
    p.finish();
    Ok(r)
}

/// `flacarray verify`.
///
/// # Errors
/// The first stream that does not decode (to exactly `stream_size` samples), named by
/// its index, with the file and group; an inconsistent recorded dtype or non-finite
/// table, named.
pub fn verify(args: &VerifyArgs, out: &mut dyn Write) -> Result<()> {
    let store = Store::for_path(&args.store.input, &args.store.group);
    // The recorded dtype and kept NaN/inf, checked first with errors naming them.
    store.read_info()?;
    let fa = store.read(None, true)?;
    let (quiet, threads) = (args.common.quiet, args.common.threads());
    let r = verify_array(&fa, quiet, threads).with_context(|| store.describe())?;
    writeln!(
        out,
        "{}: ok: {} streams, {} samples, {} compressed bytes checked",
        store.describe(),
        r.streams,
        r.samples,
        r.bytes
    )?;
    Ok(())
}
