//! The parallel engine: encode and decode many streams with rayon.
//!
//! Results never depend on the thread count. Each stream is encoded independently
//! (its own quantization and its own FLAC stream) and the streams are concatenated in
//! stream order, so chunking and scheduling only change *when* a stream is encoded,
//! never its bytes.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use flacarray_flac::{Decoder, Encoder, EncoderConfig, FrameSizes};
use flacarray_quant::{Precision, QuantFloat, QuantSpec, Quanta, StreamPlan, dequantize_stream};
use rayon::prelude::*;

use crate::dtype::{DType, InputRef, OutputMut, StreamScaling};
use crate::error::{Error, Result, from_quant, stream_name};
use crate::nonfinite::{NonFinite, Run as NfRun, fill_stream};

/// How the quanta of float streams is chosen (one of the two is required for float
/// data, and neither may be given for integer data).
#[derive(Debug, Clone, PartialEq)]
pub enum QuantaOption {
    /// One quanta for every stream. Converted to the data type first, as numpy's
    /// `quanta * ones(leading_shape, dtype)` does (so `1e-3` is `1e-3_f32` for `f32`).
    Scalar(f64),
    /// One quanta per stream, in C order over the leading shape (converted likewise).
    PerStream(Vec<f64>),
}

/// A precision in significant digits: quanta = `std(stream) / 10^p` (see
/// [`flacarray_quant::Precision`] for the exact rounding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrecisionOption {
    /// One precision for every stream.
    Scalar(i32),
    /// One precision per stream, in C order over the leading shape.
    PerStream(Vec<i32>),
}

/// Options of [`crate::FlacArray::from_array`] and [`crate::array_compress`].
///
/// ```
/// use flacarray_core::{CompressOptions, QuantaOption};
/// let opts = CompressOptions { quanta: Some(QuantaOption::Scalar(1e-3)), ..Default::default() };
/// assert_eq!(opts.level, 5);
/// assert!(opts.escape_coding);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CompressOptions {
    /// FLAC compression level 0..=8 (libFLAC's presets). Default 5, as flacarray.
    pub level: u8,
    /// Quanta for float data.
    pub quanta: Option<QuantaOption>,
    /// Precision for float data.
    pub precision: Option<PrecisionOption>,
    /// Worker threads: `None` uses rayon's global pool, `Some(n)` a private pool of
    /// `n` threads (cached per `n`). The output is identical for every choice.
    pub threads: Option<usize>,
    /// Let the FLAC encoder store residual partitions as raw values when smaller.
    /// Default `true`: libFLAC (so flacarray 0.4.1) decodes them, and they save
    /// about 1.7% on `int64` data with small values.
    pub escape_coding: bool,
    /// Keep NaN and ±inf in float data instead of refusing them: their positions and
    /// values are recorded per stream and the gaps filled before quantization
    /// ([`crate::NonFinite`]). An array that holds any is written in format 2, which
    /// flacarray 0.4.1 refuses. Default `false`: a non-finite sample is an error
    /// naming its stream.
    pub keep_nonfinite: bool,
}

impl CompressOptions {
    /// The options for the streams `lo..hi` only (a block of rows, an MPI rank's
    /// slab): per-stream quanta and precisions are cut to that range. An option too
    /// short for it becomes empty, which compression rejects as having the wrong
    /// length.
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, QuantaOption};
    /// let opts = CompressOptions {
    ///     quanta: Some(QuantaOption::PerStream(vec![1.0, 2.0, 3.0, 4.0])),
    ///     ..Default::default()
    /// };
    /// assert_eq!(opts.for_streams(1, 3).quanta, Some(QuantaOption::PerStream(vec![2.0, 3.0])));
    /// ```
    #[must_use]
    pub fn for_streams(&self, lo: usize, hi: usize) -> Self {
        let mut o = self.clone();
        if let Some(QuantaOption::PerStream(v)) = &self.quanta {
            let part = v.get(lo..hi).map(<[f64]>::to_vec).unwrap_or_default();
            o.quanta = Some(QuantaOption::PerStream(part));
        }
        if let Some(PrecisionOption::PerStream(v)) = &self.precision {
            let part = v.get(lo..hi).map(<[i32]>::to_vec).unwrap_or_default();
            o.precision = Some(PrecisionOption::PerStream(part));
        }
        o
    }
}

impl Default for CompressOptions {
    fn default() -> Self {
        Self {
            level: 5,
            quanta: None,
            precision: None,
            threads: None,
            escape_coding: true,
            keep_nonfinite: false,
        }
    }
}

/// How many threads this crate's parallel work uses when called from here with
/// `threads: None`: those of the rayon pool the caller runs in (the global pool
/// outside any).
///
/// ```
/// assert!(flacarray_core::current_threads() >= 1);
/// ```
#[must_use]
pub fn current_threads() -> usize {
    rayon::current_num_threads()
}

/// Runs `f` on the pool for `threads` (`None`: the current/global pool). Pools are
/// built once per thread count and cached: building a pool spawns its threads, which
/// costs far more than a small compression call.
pub(crate) fn with_threads<R: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> R + Send,
) -> Result<R> {
    let Some(n) = threads else {
        return Ok(f());
    };
    if n == 0 {
        return Err(Error::InvalidArgument("threads must be at least 1".into()));
    }
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pool = {
        let mut map = POOLS
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .map_err(|_| Error::InvalidArgument("thread pool cache poisoned".into()))?;
        match map.get(&n) {
            Some(p) => Arc::clone(p),
            None => {
                let p = Arc::new(
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(n)
                        .build()
                        .map_err(|e| Error::InvalidArgument(format!("thread pool: {e}")))?,
                );
                map.insert(n, Arc::clone(&p));
                p
            }
        }
    };
    Ok(pool.install(f))
}

/// Samples per chunk of streams encoded by one task. Big enough that per-chunk costs
/// (a task, one output `Vec`) vanish against the encoding, small enough that a wave
/// of chunks held in memory at once stays a few MB per thread.
const CHUNK_SAMPLES: usize = 1 << 18;
/// Chunks per thread in one wave: enough to balance uneven streams.
const CHUNKS_PER_THREAD: usize = 4;

/// The result of compressing many streams.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Encoded {
    pub bytes: Vec<u8>,
    pub starts: Vec<u64>,
    pub nbytes: Vec<u64>,
    pub scaling: StreamScaling,
    /// Kept non-finite samples (only when some stream has any).
    pub nonfinite: Option<NonFinite>,
}

/// Per-worker state: the encoder and the scratch of one stream.
#[derive(Default)]
struct Scratch {
    ints: Vec<i32>,
    wide: Vec<i64>,
}

thread_local! {
    // The filled copy of a stream with kept NaN/inf. Per thread rather than per
    // worker: rayon builds a worker per job, and a fresh stream-sized buffer each time
    // costs its page faults (about 8% of the compress time of 250,000-sample float32
    // streams). Holds at most one stream per pool thread.
    static FILL32: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    static FILL64: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Per-worker state: the encoder and the scratch of one stream.
struct EncWorker {
    enc: Encoder,
    s: Scratch,
}

/// One chunk's output: its streams' bytes back to back, their lengths and their
/// (offset, gain) widened to `f64` (exact for `f32`).
struct ChunkOut {
    bytes: Vec<u8>,
    nbytes: Vec<u64>,
    params: Vec<(f64, f64)>,
    /// Non-finite runs of the chunk's streams and their count per stream (with
    /// `keep_nonfinite` only).
    runs: Vec<NfRun>,
    run_counts: Vec<usize>,
}

/// The quantization rule of a float call, in the data type.
enum Spec<'a> {
    None,
    F32(QuantSpec<'a, f32>),
    F64(QuantSpec<'a, f64>),
}

/// Splits `i64` samples into interleaved (low word, high word) `i32` pairs: channel 0
/// is the low 32 bits as an `i32` bit pattern, channel 1 the arithmetic high word;
/// `out` holds two values per sample.
fn split_i64(x: &[i64], out: &mut [i32]) {
    for (o, &v) in out.chunks_exact_mut(2).zip(x) {
        // Truncation to the low word is the point: `as i32` keeps the bit pattern.
        #[allow(clippy::cast_possible_truncation)]
        {
            o[0] = v as i32;
            o[1] = (v >> 32) as i32;
        }
    }
}

/// Joins interleaved (low, high) `i32` pairs back into `i64`: `hi << 32 | (u32)lo`.
fn join_i64(pairs: &[i32], out: &mut [i64]) {
    for (o, p) in out.iter_mut().zip(pairs.chunks_exact(2)) {
        *o = (i64::from(p[1]) << 32) | i64::from(p[0].cast_unsigned());
    }
}

/// A streams-done hook, for a progress display: called from any worker thread with
/// the number of streams just finished. The calls of one operation add up to its
/// number of streams (none are reported for a stream that failed).
pub type Progress<'a> = &'a (dyn Fn(usize) + Sync);

/// Compresses `input` (`n_streams * stream_size` values in C order) stream by stream.
#[cfg(test)]
pub(crate) fn compress(
    input: InputRef<'_>,
    stream_size: usize,
    leading: &[usize],
    opts: &CompressOptions,
) -> Result<Encoded> {
    compress_progress(input, stream_size, leading, opts, None)
}

/// [`compress`], reporting each chunk of streams to `progress` once it is encoded.
pub(crate) fn compress_progress(
    input: InputRef<'_>,
    stream_size: usize,
    leading: &[usize],
    opts: &CompressOptions,
    progress: Option<Progress<'_>>,
) -> Result<Encoded> {
    let n_values = match input {
        InputRef::I32(x) => x.len(),
        InputRef::I64(x) => x.len(),
        InputRef::F32(x) => x.len(),
        InputRef::F64(x) => x.len(),
    };
    if stream_size == 0 || n_values == 0 {
        return Err(Error::InvalidArgument(
            "cannot compress a zero-sized array".into(),
        ));
    }
    let n_streams = n_values / stream_size;
    if n_streams * stream_size != n_values || leading.iter().product::<usize>() != n_streams {
        return Err(Error::InvalidArgument(format!(
            "{n_values} values do not form the leading shape {leading:?} of streams of \
             {stream_size}"
        )));
    }
    let is_float = matches!(input, InputRef::F32(_) | InputRef::F64(_));
    if !is_float && (opts.quanta.is_some() || opts.precision.is_some()) {
        return Err(Error::InvalidArgument(
            "quanta and precision apply to float data only".into(),
        ));
    }
    // Per-stream quanta converted once to the data type (numpy's astype rounding).
    let (q32, q64): (Vec<f32>, Vec<f64>) = match (&opts.quanta, input) {
        #[allow(clippy::cast_possible_truncation)]
        (Some(QuantaOption::PerStream(q)), InputRef::F32(_)) => {
            (q.iter().map(|&v| v as f32).collect(), Vec::new())
        }
        (Some(QuantaOption::PerStream(q)), InputRef::F64(_)) => (Vec::new(), q.clone()),
        _ => (Vec::new(), Vec::new()),
    };
    let spec = match input {
        InputRef::F32(_) => Spec::F32(float_spec(opts, &q32, n_streams, |v| {
            #[allow(clippy::cast_possible_truncation)]
            let r = v as f32;
            r
        })?),
        InputRef::F64(_) => Spec::F64(float_spec(opts, &q64, n_streams, |v| v)?),
        _ => Spec::None,
    };
    let dtype = match input {
        InputRef::I32(_) => DType::Int32,
        InputRef::I64(_) => DType::Int64,
        InputRef::F32(_) => DType::Float32,
        InputRef::F64(_) => DType::Float64,
    };
    let cfg = EncoderConfig {
        level: opts.level,
        channels: dtype.channels(1),
        bits_per_sample: 32,
        escape_coding: opts.escape_coding,
        ..EncoderConfig::default()
    };
    // Validate the configuration once, on the caller's thread.
    Encoder::new(cfg.clone()).map_err(|e| Error::InvalidArgument(e.to_string()))?;

    let per_chunk = (CHUNK_SAMPLES / stream_size).clamp(1, n_streams);
    let chunks: Vec<Range<usize>> = (0..n_streams)
        .step_by(per_chunk)
        .map(|s| s..(s + per_chunk).min(n_streams))
        .collect();

    with_threads(opts.threads, || {
        let wave = rayon::current_num_threads().max(1) * CHUNKS_PER_THREAD;
        // Fewer streams than threads leave threads idle: split each stream's frames.
        let split = n_streams < rayon::current_num_threads();
        let mut out = Encoded {
            bytes: Vec::new(),
            starts: Vec::with_capacity(n_streams),
            nbytes: Vec::with_capacity(n_streams),
            scaling: StreamScaling::None,
            nonfinite: None,
        };
        let mut runs = Vec::new();
        let mut run_counts = Vec::new();
        let mut params: Vec<(f64, f64)> = Vec::with_capacity(if is_float { n_streams } else { 0 });
        // Appends one wave's chunks in stream order; errors are taken in that order so
        // the reported stream is deterministic.
        let mut append = |results: Vec<Result<ChunkOut>>| -> Result<()> {
            for res in results {
                let c = res?;
                let mut pos = out.bytes.len() as u64;
                for &n in &c.nbytes {
                    out.starts.push(pos);
                    out.nbytes.push(n);
                    pos += n;
                }
                if out.bytes.is_empty() {
                    // The first chunk (the only one of a single stream) is kept as
                    // it is rather than copied.
                    out.bytes = c.bytes;
                } else {
                    if out.bytes.capacity() - out.bytes.len() < c.bytes.len() {
                        // Room for the rest at the ratio so far plus 1/16, not a
                        // doubling: glibc grows a block of this size by copying it into
                        // fresh pages, and doubling copied and faulted in about twice
                        // the output (a 100 MB float32 file compress: 39,600 minor
                        // faults against 20,600 with this estimate).
                        let done = out.starts.len();
                        let guess = (pos as usize / done.max(1))
                            .saturating_mul(n_streams)
                            .saturating_add(pos as usize / 16);
                        out.bytes
                            .reserve(guess.saturating_sub(out.bytes.len()).max(c.bytes.len()));
                    }
                    out.bytes.extend_from_slice(&c.bytes);
                }
                params.extend_from_slice(&c.params);
                runs.extend_from_slice(&c.runs);
                run_counts.extend_from_slice(&c.run_counts);
            }
            Ok(())
        };
        let encode_wave = |group: &[Range<usize>]| -> Vec<Result<ChunkOut>> {
            group
                .par_iter()
                .map_init(
                    || {
                        Encoder::new(cfg.clone()).map(|enc| EncWorker {
                            enc,
                            s: Scratch::default(),
                        })
                    },
                    |w, r| match w {
                        Ok(w) => {
                            let c = encode_chunk(
                                input,
                                &spec,
                                r.clone(),
                                (stream_size, leading),
                                w,
                                (split, opts.keep_nonfinite),
                            )?;
                            if let Some(p) = progress {
                                p(r.len());
                            }
                            Ok(c)
                        }
                        Err(e) => Err(Error::InvalidArgument(e.to_string())),
                    },
                )
                .collect()
        };
        // Waves bound the memory held in unconcatenated chunk buffers to two waves of
        // `wave * CHUNK_SAMPLES` samples' worth of bytes, whatever the array size. The
        // previous wave is appended while this one is encoded: appended serially after
        // each wave, the copy and the wait for the wave's slowest chunk left a thread
        // idle for about a sixth of a 2-thread float32 compress.
        // On one thread nothing runs beside the copy, and holding the previous wave's
        // buffers while encoding only keeps more memory live (fresh pages cost page
        // faults): each wave is appended as soon as it is encoded.
        let overlap = rayon::current_num_threads() > 1;
        let mut pending = Vec::new();
        for group in chunks.chunks(wave) {
            let ready = std::mem::take(&mut pending);
            let (appended, results) = rayon::join(|| append(ready), || encode_wave(group));
            appended?;
            pending = results;
            if !overlap {
                append(std::mem::take(&mut pending))?;
            }
        }
        append(pending)?;
        #[allow(clippy::cast_possible_truncation)]
        {
            out.scaling = match dtype {
                DType::Float32 => StreamScaling::F32 {
                    offsets: params.iter().map(|p| p.0 as f32).collect(),
                    gains: params.iter().map(|p| p.1 as f32).collect(),
                },
                DType::Float64 => StreamScaling::F64 {
                    offsets: params.iter().map(|p| p.0).collect(),
                    gains: params.iter().map(|p| p.1).collect(),
                },
                DType::Int32 | DType::Int64 => StreamScaling::None,
            };
        }
        if !runs.is_empty() {
            out.nonfinite = Some(NonFinite::from_counts(
                &run_counts,
                runs,
                dtype == DType::Float64,
            ));
        }
        Ok(out)
    })?
}

/// Builds the quantization rule for one float type from the options.
fn float_spec<'a, T: Copy>(
    opts: &'a CompressOptions,
    per_stream: &'a [T],
    n_streams: usize,
    cast: impl Fn(f64) -> T,
) -> Result<QuantSpec<'a, T>> {
    let quanta = match &opts.quanta {
        None => None,
        Some(QuantaOption::Scalar(q)) => Some(Quanta::Scalar(cast(*q))),
        Some(QuantaOption::PerStream(q)) => {
            check_per_stream("quanta", q.len(), n_streams)?;
            Some(Quanta::PerStream(per_stream))
        }
    };
    let precision = match &opts.precision {
        None => None,
        Some(PrecisionOption::Scalar(p)) => Some(Precision::Scalar(*p)),
        Some(PrecisionOption::PerStream(p)) => {
            check_per_stream("precision", p.len(), n_streams)?;
            Some(Precision::PerStream(p))
        }
    };
    QuantSpec::from_options(quanta, precision).map_err(|e| match e {
        flacarray_quant::Error::InvalidArgument(m) => Error::InvalidArgument(m),
        other => Error::Quant(other),
    })
}

fn check_per_stream(what: &str, len: usize, n: usize) -> Result<()> {
    if len == n {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "per-stream {what} has {len} entries for {n} streams"
        )))
    }
}

/// Encodes streams `r` into one buffer. Allocates only the chunk's output; the
/// scratch buffers live in the worker and are reused for every stream.
fn encode_chunk(
    input: InputRef<'_>,
    spec: &Spec<'_>,
    r: Range<usize>,
    (ss, leading): (usize, &[usize]),
    w: &mut EncWorker,
    (split, keep): (bool, bool),
) -> Result<ChunkOut> {
    let mut c = ChunkOut {
        bytes: Vec::new(),
        nbytes: Vec::with_capacity(r.len()),
        params: Vec::new(),
        runs: Vec::new(),
        run_counts: Vec::new(),
    };
    for g in r {
        let span = g * ss..(g + 1) * ss;
        let flac_err = |e| Error::Flac {
            stream: stream_name(g, leading),
            source: e,
        };
        let n = match (input, spec) {
            (InputRef::I32(x), _) => {
                encode_ints(w, &StreamInts::I32(&x[span]), split, &mut c.bytes).map_err(flac_err)?
            }
            (InputRef::I64(x), _) => {
                encode_ints(w, &StreamInts::I64(&x[span]), split, &mut c.bytes).map_err(flac_err)?
            }
            (InputRef::F32(x), Spec::F32(q)) => {
                let x = &x[span];
                with_filled(&FILL32, x, keep, &mut c, |x, c| {
                    let plan = plan_one(x, q, g, leading)?;
                    let p = plan.params();
                    c.params.push((f64::from(p.offset), f64::from(p.gain)));
                    encode_ints(w, &StreamInts::F32(x, plan), split, &mut c.bytes).map_err(flac_err)
                })?
            }
            (InputRef::F64(x), Spec::F64(q)) => {
                let x = &x[span];
                with_filled(&FILL64, x, keep, &mut c, |x, c| {
                    let plan = plan_one(x, q, g, leading)?;
                    let p = plan.params();
                    c.params.push((p.offset, p.gain));
                    encode_ints(w, &StreamInts::F64(x, plan), split, &mut c.bytes).map_err(flac_err)
                })?
            }
            (InputRef::F32(_) | InputRef::F64(_), _) => {
                return Err(Error::InvalidArgument(
                    "missing float quantization for the data type".into(),
                ));
            }
        };
        c.nbytes.push(n as u64);
    }
    Ok(c)
}

/// Frames per part when one stream is split across threads: enough that a part's
/// own task, output buffer and encoder setup cost little against encoding 64 blocks
/// (256 Ki samples at the default block size).
///
/// Unit tests use 4 so that streams of a few dozen frames take the parallel path.
const MIN_PART_FRAMES: usize = if cfg!(test) { 4 } else { 64 };
/// Parts per thread of a split stream, to even out parts that compress at
/// different speeds.
const PARTS_PER_THREAD: usize = 4;

/// How many frames each part of a stream of `frames` frames gets, or `None` when the
/// stream is too short to be worth splitting over the current pool.
fn part_frames(frames: usize) -> Option<usize> {
    let threads = rayon::current_num_threads();
    if threads < 2 || frames < 2 * MIN_PART_FRAMES {
        return None;
    }
    let parts = (frames / MIN_PART_FRAMES).min(threads * PARTS_PER_THREAD);
    Some(frames.div_ceil(parts))
}

/// Runs `f` on `x`, or with `keep` and a non-finite sample in `x`, on its filled
/// copy (the runs go to `c`). The copy's buffer is taken out of the thread-local
/// `cell` for the call and put back after: `f` may run parallel parts of the stream,
/// and a rayon thread waiting for them can start another stream's encoding, which
/// must not find the buffer borrowed.
fn with_filled<T: crate::nonfinite::NfFloat, R>(
    cell: &'static std::thread::LocalKey<std::cell::RefCell<Vec<T>>>,
    x: &[T],
    keep: bool,
    c: &mut ChunkOut,
    f: impl FnOnce(&[T], &mut ChunkOut) -> Result<R>,
) -> Result<R> {
    if !keep {
        return f(x, c);
    }
    let mut fill = cell.with_borrow_mut(std::mem::take);
    let n = fill_stream(x, &mut fill, &mut c.runs);
    c.run_counts.push(n);
    let r = f(if n > 0 { &fill[..] } else { x }, c);
    cell.with_borrow_mut(|b| *b = fill);
    r
}

/// Samples per channel of the integers made at a time from a float or `int64`
/// stream for the encoder: 64 Ki samples (512 KiB of interleaved `i32` for two
/// channels) stay in the L2 cache between the conversion and the encoder, and a
/// stream of any length needs no integer copy of itself.
const ENCODE_RUN_SAMPLES: usize = 1 << 16;

/// The integers of one stream to encode: given as they are, or made a run at a
/// time from the stream's samples.
enum StreamInts<'a> {
    /// One channel, encoded in place.
    I32(&'a [i32]),
    /// Two channels: the low and high words of each sample.
    I64(&'a [i64]),
    /// One channel of quantized `f32`.
    F32(&'a [f32], StreamPlan<f32>),
    /// Two channels: the low and high words of the quantized `f64`.
    F64(&'a [f64], StreamPlan<f64>),
}

impl StreamInts<'_> {
    /// Samples per channel.
    fn len(&self) -> usize {
        match self {
            Self::I32(x) => x.len(),
            Self::I64(x) => x.len(),
            Self::F32(x, _) => x.len(),
            Self::F64(x, _) => x.len(),
        }
    }

    /// Writes the interleaved integers of samples `first..` (per channel) into `out`,
    /// as many as it holds; `wide` is scratch for the quantized `f64`.
    fn fill(&self, first: usize, out: &mut [i32], wide: &mut Vec<i64>) {
        match *self {
            Self::I32(x) => out.copy_from_slice(&x[first..first + out.len()]),
            Self::I64(x) => split_i64(&x[first..first + out.len() / 2], out),
            Self::F32(x, plan) => {
                // The lengths match by construction, which is all `convert` checks.
                let _ = plan.convert(&x[first..first + out.len()], out);
            }
            Self::F64(x, plan) => {
                let n = out.len() / 2;
                wide.resize(n, 0);
                let _ = plan.convert(&x[first..first + n], wide);
                split_i64(wide, out);
            }
        }
    }
}

/// Appends one FLAC stream of `src` to `out`; returns its length in bytes. Integers
/// that are not given as they are (float and `int64` streams) are made a run of
/// [`ENCODE_RUN_SAMPLES`] at a time, so a stream costs no integer copy of itself.
/// With `split`, runs of frames are encoded in parallel and joined after one stream
/// header: frames are independent and numbered from the run's first frame, so the
/// bytes are exactly those of the serial encoder whatever the thread count.
fn encode_ints(
    w: &mut EncWorker,
    src: &StreamInts<'_>,
    split: bool,
    out: &mut Vec<u8>,
) -> flacarray_flac::Result<usize> {
    let enc = &mut w.enc;
    let channels = enc.config().channels as usize;
    let bs = enc.block_size() as usize;
    let samples = src.len();
    let run_blocks = (ENCODE_RUN_SAMPLES / bs).max(1);
    let per = match (split, part_frames(samples.div_ceil(bs))) {
        (true, Some(per)) if !enc.config().md5 => per,
        _ => {
            return match src {
                StreamInts::I32(x) => enc.encode_into(x, out),
                _ => {
                    let Scratch { ints, wide } = &mut w.s;
                    enc.encode_from(samples as u64, run_blocks, ints, out, |first, buf| {
                        // `first` < `samples`, a `usize`.
                        #[allow(clippy::cast_possible_truncation)]
                        src.fill(first as usize, buf, wide);
                    })
                }
            };
        }
    };
    let cfg = enc.config().clone();
    let n_parts = samples.div_ceil(per * bs);
    let parts: Vec<flacarray_flac::Result<(Vec<u8>, FrameSizes)>> = (0..n_parts)
        .into_par_iter()
        .map_init(
            || (Encoder::new(cfg.clone()), Vec::new(), Vec::new()),
            |(e, ints, wide), p| {
                let e = e.as_mut().map_err(|e| e.clone())?;
                let part = p * per * bs..((p + 1) * per * bs).min(samples);
                let mut bytes = Vec::new();
                if let StreamInts::I32(x) = src {
                    let sizes = e.encode_frames_into(&x[part], (p * per) as u64, &mut bytes)?;
                    return Ok((bytes, sizes));
                }
                let mut sizes = FrameSizes::NONE;
                for (k, first) in part.clone().step_by(run_blocks * bs).enumerate() {
                    let n = (run_blocks * bs).min(part.end - first);
                    ints.resize(n * channels, 0);
                    src.fill(first, ints, wide);
                    let frame = (p * per + k * run_blocks) as u64;
                    sizes = sizes.merge(e.encode_frames_into(ints, frame, &mut bytes)?);
                }
                Ok((bytes, sizes))
            },
        )
        .collect();
    let parts: Vec<(Vec<u8>, FrameSizes)> =
        parts.into_iter().collect::<flacarray_flac::Result<_>>()?;
    let sizes = parts.iter().fold(FrameSizes::NONE, |a, (_, s)| a.merge(*s));
    let start = out.len();
    enc.write_stream_header(samples as u64, sizes, out)?;
    out.reserve(parts.iter().map(|(b, _)| b.len()).sum());
    // Each part is freed once copied, so the stream is held about once, not twice.
    for (b, _) in parts {
        out.extend_from_slice(&b);
    }
    Ok(out.len() - start)
}

/// Decodes samples `range` of a stream of `ss` samples per channel into `out`. With
/// `split` and the whole stream asked for, runs of frames are decoded in parallel
/// from frame starts found by scanning ([`flacarray_flac::locate_frame`]); each run
/// must end exactly where the next was found (a sync pattern can occur by chance
/// inside frame data) and every frame's CRC-16 is checked. Any doubt falls back to
/// the serial decoder, whose result or error is authoritative.
///
/// With `piece = Some(k)`, `bytes` is a stream piece (see [`decode_pieces`]) decoded
/// into `frames` first; `Ok(false)` when it does not decode exactly.
#[allow(clippy::too_many_arguments)]
fn decode_ints(
    dec: &mut Decoder,
    frames: &mut Vec<i32>,
    bytes: &[u8],
    ss: u64,
    range: Range<u64>,
    split: bool,
    piece: Option<u64>,
    out: &mut [i32],
) -> flacarray_flac::Result<bool> {
    if let Some(k) = piece {
        return Ok(decode_piece(dec, frames, bytes, ss, range, k, out).is_some());
    }
    if split
        && range == (0..ss)
        && let Some(per) = split_plan(bytes, ss)
        && decode_parts(bytes, ss, per, out)
    {
        return Ok(true);
    }
    dec.decode_range_into(bytes, ss, range, out).map(|_| true)
}

/// Decodes samples `range` out of a piece holding the stream header and the frames
/// from frame `k` on; `None` unless every frame decodes (CRC-16 included) and the
/// last one needed ends exactly at the end of the piece.
fn decode_piece(
    dec: &mut Decoder,
    frames: &mut Vec<i32>,
    bytes: &[u8],
    ss: u64,
    range: Range<u64>,
    k: u64,
    out: &mut [i32],
) -> Option<()> {
    let (info, first) = flacarray_flac::read_stream_header(bytes).ok()?;
    let channels = usize::try_from(info.channels).ok()?;
    let s0 = k.checked_mul(u64::from(info.max_block_size))?;
    if range.start < s0 || range.end > ss {
        return None;
    }
    // Samples from the piece's first frame to the end of the range, per channel; at
    // most the range plus one block, since the piece starts at the range's frame.
    let skip = usize::try_from(range.start - s0)
        .ok()?
        .checked_mul(channels)?;
    let n = usize::try_from(range.end - s0)
        .ok()?
        .checked_mul(channels)?;
    if out.len() != n - skip {
        return None;
    }
    frames.resize(n, 0);
    let end = dec
        .decode_frames_into(bytes, ss, first, k, &mut frames[..n])
        .ok()?;
    if end != bytes.len() {
        return None;
    }
    out.copy_from_slice(&frames[skip..n]);
    Some(())
}

/// Frames per part (and the block size and channel count) for decoding a whole
/// stream in parallel, or `None` when it should be decoded serially.
fn split_plan(bytes: &[u8], ss: u64) -> Option<(usize, usize, usize)> {
    let info = flacarray_flac::read_stream_info(bytes).ok()?;
    if info.min_block_size != info.max_block_size || info.total_samples != ss {
        return None;
    }
    let bs = info.max_block_size as usize;
    let frames = usize::try_from(ss).ok()?.div_ceil(bs.max(1));
    Some((part_frames(frames)?, bs, info.channels as usize))
}

/// Decodes the parts of a whole stream in parallel into disjoint slices of `out`;
/// `false` when a frame start was not found or a part did not end where the next
/// begins (`out` then holds garbage and the caller decodes serially).
fn decode_parts(
    bytes: &[u8],
    ss: u64,
    (per, bs, channels): (usize, usize, usize),
    out: &mut [i32],
) -> bool {
    let part_len = per * bs * channels;
    if out.len() as u64 != ss.saturating_mul(channels as u64) {
        return false;
    }
    let n_parts = out.len().div_ceil(part_len);
    let starts: Option<Vec<usize>> = (0..n_parts)
        .into_par_iter()
        .map(|p| {
            flacarray_flac::locate_frame(bytes, (p * per) as u64)
                .ok()
                .flatten()
        })
        .collect();
    let Some(starts) = starts else {
        return false;
    };
    out.par_chunks_mut(part_len)
        .enumerate()
        .map_init(Decoder::new, |d, (p, o)| {
            let end = starts.get(p + 1).copied().unwrap_or(bytes.len());
            d.decode_frames_into(bytes, ss, starts[p], (p * per) as u64, o)
                .is_ok_and(|e| e == end)
        })
        .all(|ok| ok)
}

/// Samples per channel decoded at a time when a whole stream is converted to another
/// type on the fly: 256 KiB of `i32` per channel, whatever the stream's length.
const CONVERT_SAMPLES: usize = 1 << 16;

/// Decodes a whole fixed-block-size stream into `out` (one `T` per sample), a chunk
/// of whole frames at a time through the worker's `frames`, each chunk converted by
/// `conv`; with
/// `split`, parts of the stream on several threads as in [`decode_parts`]. `false`
/// on any doubt or error (`out` then holds garbage and the caller decodes the usual
/// way, whose result or error is authoritative).
fn decode_converted<T: Send>(
    w: &mut DecWorker,
    bytes: &[u8],
    ss: u64,
    split: bool,
    out: &mut [T],
    conv: &(impl Fn(&[i32], &mut [T]) -> bool + Sync),
) -> bool {
    let Ok((info, first)) = flacarray_flac::read_stream_header(bytes) else {
        return false;
    };
    let bs = info.max_block_size as usize;
    if info.min_block_size != info.max_block_size || bs < 16 || out.len() as u64 != ss {
        return false;
    }
    let run = Run {
        bytes,
        ss,
        bs,
        channels: info.channels as usize,
    };
    if split && let Some((per, _, _)) = split_plan(bytes, ss) {
        let n_parts = out.len().div_ceil(per * bs);
        let starts: Option<Vec<usize>> = (0..n_parts)
            .into_par_iter()
            .map(|p| {
                flacarray_flac::locate_frame(bytes, (p * per) as u64)
                    .ok()
                    .flatten()
            })
            .collect();
        if let Some(starts) = starts {
            return out
                .par_chunks_mut(per * bs)
                .enumerate()
                .map_init(
                    || (Decoder::new(), Vec::new()),
                    |(d, s), (p, o)| {
                        let end = starts.get(p + 1).copied().unwrap_or(bytes.len());
                        run.frames(d, s, starts[p], (p * per) as u64, o, conv) == Some(end)
                    },
                )
                .all(|ok| ok);
        }
    }
    run.frames(&mut w.dec, &mut w.frames, first, 0, out, conv) == Some(bytes.len())
}

/// A run of frames of one fixed-block-size stream, decoded chunk by chunk.
struct Run<'a> {
    bytes: &'a [u8],
    ss: u64,
    bs: usize,
    channels: usize,
}

impl Run<'_> {
    /// Decodes the frames from frame `frame` at byte `at` into `out` (one `T` per
    /// sample, `out` ending at a frame boundary or the stream's end); returns the
    /// offset past the last frame.
    fn frames<T>(
        &self,
        dec: &mut Decoder,
        scratch: &mut Vec<i32>,
        mut at: usize,
        mut frame: u64,
        out: &mut [T],
        conv: &impl Fn(&[i32], &mut [T]) -> bool,
    ) -> Option<usize> {
        let step = (CONVERT_SAMPLES / self.bs).max(1);
        for c in out.chunks_mut(step * self.bs) {
            let n = c.len() * self.channels;
            if scratch.len() < n {
                scratch.resize(n, 0);
            }
            at = dec
                .decode_frames_into(self.bytes, self.ss, at, frame, &mut scratch[..n])
                .ok()?;
            if !conv(&scratch[..n], c) {
                return None;
            }
            frame += step as u64;
        }
        Some(at)
    }
}

/// Plans the quantization of one stream with its rule; errors name the stream by
/// leading index.
fn plan_one<T: QuantFloat>(
    x: &[T],
    spec: &QuantSpec<'_, T>,
    g: usize,
    leading: &[usize],
) -> Result<StreamPlan<T>> {
    let s = spec.stream(g).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "no quanta or precision for stream {}",
            stream_name(g, leading)
        ))
    })?;
    StreamPlan::new(x, s, g).map_err(|e| from_quant(e, g, leading))
}

/// Everything needed to decode streams out of one compressed buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub bytes: &'a [u8],
    pub starts: &'a [u64],
    pub nbytes: &'a [u64],
    pub stream_size: usize,
    /// Leading shape, for naming streams in errors.
    pub leading: &'a [usize],
    pub dtype: DType,
    pub scaling: &'a StreamScaling,
    pub version: u32,
    /// Kept non-finite samples, written over the decoded values.
    pub nonfinite: Option<&'a NonFinite>,
}

impl<'a> Source<'a> {
    /// Checks the table: lengths, parameters, and that every stream's byte range lies
    /// inside the buffer.
    pub(crate) fn check(&self) -> Result<()> {
        let n = self.starts.len();
        if self.nbytes.len() != n {
            return Err(Error::Corrupt(format!(
                "{n} stream starts but {} byte counts",
                self.nbytes.len()
            )));
        }
        if self.leading.iter().product::<usize>() != n {
            return Err(Error::Corrupt(format!(
                "{n} streams do not fill the leading shape {:?}",
                self.leading
            )));
        }
        self.scaling
            .check(self.dtype, self.version, n)
            .map_err(|e| Error::Corrupt(e.to_string()))?;
        let total = self.bytes.len() as u64;
        for (g, (&s, &b)) in self.starts.iter().zip(self.nbytes).enumerate() {
            if s.checked_add(b).is_none_or(|end| end > total) {
                return Err(Error::Corrupt(format!(
                    "stream {}: bytes {s}..{s}+{b} lie outside the {total} compressed bytes",
                    stream_name(g, self.leading)
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn stream_bytes(&self, g: usize) -> &'a [u8] {
        // In range: checked by `check` before any decode.
        #[allow(clippy::cast_possible_truncation)]
        let s = self.starts[g] as usize;
        #[allow(clippy::cast_possible_truncation)]
        let e = s + self.nbytes[g] as usize;
        &self.bytes[s..e]
    }
}

/// Per-worker decoding state.
#[derive(Default)]
struct DecWorker {
    dec: Decoder,
    ints: Vec<i32>,
    wide: Vec<i64>,
    /// The whole frames around a range decoded from a stream piece.
    frames: Vec<i32>,
}

/// Decodes samples `range` of the streams `sel` (flat indices, in output order) into
/// `out` (`sel.len() * range.len()` values of the source's dtype), in parallel.
/// The source must have passed [`Source::check`].
pub(crate) fn decode(
    src: &Source<'_>,
    sel: &[usize],
    range: Range<usize>,
    out: OutputMut<'_>,
) -> Result<()> {
    decode_progress(src, sel, range, out, None)
}

/// [`decode`], reporting every stream to `progress` once it is decoded.
pub(crate) fn decode_progress(
    src: &Source<'_>,
    sel: &[usize],
    range: Range<usize>,
    out: OutputMut<'_>,
    progress: Option<Progress<'_>>,
) -> Result<()> {
    decode_pieces(src, None, sel, range, out, progress).map(|_| ())
}

/// [`decode_progress`] where some streams' bytes are only a piece of the stream:
/// `pieces[g] = Some(k)` says that stream `g`'s bytes are its header followed by the
/// frames from frame `k` up to the end of the frame holding sample `range.end - 1`
/// (see `crate::ranged`). Returns, per output row, whether it was decoded: a piece
/// that does not decode exactly (a frame that fails its CRC-16, a run that does not
/// end at the end of the piece: a sync pattern inside frame data can make a piece
/// start or end at a false frame) leaves its row unwritten and `false`, for the
/// caller to decode the whole stream instead. Errors of whole streams are errors.
pub(crate) fn decode_pieces(
    src: &Source<'_>,
    pieces: Option<&[Option<u64>]>,
    sel: &[usize],
    range: Range<usize>,
    out: OutputMut<'_>,
    progress: Option<Progress<'_>>,
) -> Result<Vec<bool>> {
    let len = range.len();
    let want = sel.len() * len;
    let have = match &out {
        OutputMut::I32(o) => o.len(),
        OutputMut::I64(o) => o.len(),
        OutputMut::F32(o) => o.len(),
        OutputMut::F64(o) => o.len(),
    };
    if have != want {
        return Err(Error::InvalidArgument(format!(
            "output buffer holds {have} values, {want} are needed"
        )));
    }
    let out_dtype = match &out {
        OutputMut::I32(_) => DType::Int32,
        OutputMut::I64(_) => DType::Int64,
        OutputMut::F32(_) => DType::Float32,
        OutputMut::F64(_) => DType::Float64,
    };
    if out_dtype != src.dtype {
        return Err(Error::InvalidArgument(format!(
            "output buffer is {out_dtype}, the data is {}",
            src.dtype
        )));
    }
    if let Some(&g) = sel.iter().find(|&&g| g >= src.starts.len()) {
        return Err(Error::Index(format!(
            "stream {g} out of range for {} streams",
            src.starts.len()
        )));
    }
    if range.end > src.stream_size {
        return Err(Error::Index(format!(
            "sample range {}..{} outside streams of {}",
            range.start, range.end, src.stream_size
        )));
    }
    if pieces.is_some_and(|p| p.len() != src.starts.len()) {
        return Err(Error::InvalidArgument(
            "one piece entry per stream is needed".into(),
        ));
    }
    if want == 0 {
        // An empty sample range: every stream is done without decoding.
        if let Some(p) = progress.filter(|_| !sel.is_empty()) {
            p(sel.len());
        }
        return Ok(vec![true; sel.len()]);
    }
    let r64 = range.start as u64..range.end as u64;
    let ss = src.stream_size as u64;
    let v0 = src.version == 0;
    // Fewer streams than threads leave threads idle: split each stream's frames.
    let split = sel.len() < rayon::current_num_threads();
    // Whole long streams converted to another type are decoded a chunk of frames at
    // a time, so no integer copy of the stream is held (format 1 only).
    let chunked =
        |piece: Option<u64>| piece.is_none() && !v0 && r64 == (0..ss) && len > CONVERT_SAMPLES;
    // The piece's samples into the worker's integer buffer (`n` words: one per sample,
    // two for the 64-bit word pairs); false when a piece must be decoded whole.
    let decode_to = |dec: &mut Decoder,
                     frames: &mut Vec<i32>,
                     g: usize,
                     piece: Option<u64>,
                     bytes: &[u8],
                     out: &mut [i32]| {
        decode_ints(dec, frames, bytes, ss, r64.clone(), split, piece, out)
            .map_err(|e| flac_err(src, g, e))
    };
    let ints = |w: &mut DecWorker, g: usize, piece: Option<u64>, bytes: &[u8], n: usize| {
        w.ints.resize(n, 0);
        decode_to(&mut w.dec, &mut w.frames, g, piece, bytes, &mut w.ints)
    };
    match out {
        OutputMut::I32(o) => run(
            src,
            pieces,
            sel,
            len,
            o,
            progress,
            |w, g, piece, bytes, o| decode_to(&mut w.dec, &mut w.frames, g, piece, bytes, o),
            |_, _| {},
        ),
        OutputMut::I64(o) => run(
            src,
            pieces,
            sel,
            len,
            o,
            progress,
            |w, g, piece, bytes, o| {
                if v0 {
                    if !ints(w, g, piece, bytes, len)? {
                        return Ok(false);
                    }
                    let StreamScaling::I64Offsets(offs) = src.scaling else {
                        return Err(Error::Corrupt("format 0 int64 data without offsets".into()));
                    };
                    let off = offs[g];
                    for (o, &i) in o.iter_mut().zip(&w.ints) {
                        *o = off.checked_add(i64::from(i)).ok_or_else(|| {
                            Error::Corrupt(format!(
                                "stream {}: offset {off} plus a sample overflows int64",
                                stream_name(g, src.leading)
                            ))
                        })?;
                    }
                } else {
                    if chunked(piece)
                        && decode_converted(w, bytes, ss, split, o, &|i, c| {
                            join_i64(i, c);
                            true
                        })
                    {
                        return Ok(true);
                    }
                    if !ints(w, g, piece, bytes, 2 * len)? {
                        return Ok(false);
                    }
                    join_i64(&w.ints, o);
                }
                Ok(true)
            },
            |_, _| {},
        ),
        OutputMut::F32(o) => run(
            src,
            pieces,
            sel,
            len,
            o,
            progress,
            |w, g, piece, bytes, o| {
                let StreamScaling::F32 { offsets, gains } = src.scaling else {
                    return Err(Error::Corrupt(
                        "float32 data without float32 offsets/gains".into(),
                    ));
                };
                let (off, gain) = (offsets[g], gains[g]);
                if chunked(piece)
                    && decode_converted(w, bytes, ss, split, o, &|i, c| {
                        dequantize_stream(i, off, gain, c).is_ok()
                    })
                {
                    return Ok(true);
                }
                if !ints(w, g, piece, bytes, len)? {
                    return Ok(false);
                }
                let r = if v0 {
                    flacarray_quant::v0::dequantize_into(
                        &w.ints,
                        len,
                        &offsets[g..=g],
                        &gains[g..=g],
                        o,
                    )
                } else {
                    dequantize_stream(&w.ints, offsets[g], gains[g], o)
                };
                r.map(|()| true).map_err(|e| from_quant(e, g, src.leading))
            },
            |g, o| {
                if let Some(nf) = src.nonfinite {
                    nf.apply(g, &range, o);
                }
            },
        ),
        OutputMut::F64(o) => run(
            src,
            pieces,
            sel,
            len,
            o,
            progress,
            |w, g, piece, bytes, o| {
                let StreamScaling::F64 { offsets, gains } = src.scaling else {
                    return Err(Error::Corrupt(
                        "float64 data without float64 offsets/gains".into(),
                    ));
                };
                let r = if v0 {
                    if !ints(w, g, piece, bytes, len)? {
                        return Ok(false);
                    }
                    flacarray_quant::v0::dequantize_into(
                        &w.ints,
                        len,
                        &offsets[g..=g],
                        &gains[g..=g],
                        o,
                    )
                } else {
                    let (off, gain) = (offsets[g], gains[g]);
                    if chunked(piece)
                        && decode_converted(w, bytes, ss, split, o, &|i, c| {
                            // Through a small stack buffer: the join needs `i64`s.
                            let mut wide = [0i64; 256];
                            i.chunks(2 * wide.len())
                                .zip(c.chunks_mut(wide.len()))
                                .all(|(i, c)| {
                                    let w = &mut wide[..c.len()];
                                    join_i64(i, w);
                                    dequantize_stream(w, off, gain, c).is_ok()
                                })
                        })
                    {
                        return Ok(true);
                    }
                    w.wide.resize(len, 0);
                    if !ints(w, g, piece, bytes, 2 * len)? {
                        return Ok(false);
                    }
                    join_i64(&w.ints, &mut w.wide);
                    dequantize_stream(&w.wide, offsets[g], gains[g], o)
                };
                r.map(|()| true).map_err(|e| from_quant(e, g, src.leading))
            },
            |g, o| {
                if let Some(nf) = src.nonfinite {
                    nf.apply(g, &range, o);
                }
            },
        ),
    }
}

fn flac_err(src: &Source<'_>, g: usize, e: flacarray_flac::Error) -> Error {
    Error::Flac {
        stream: stream_name(g, src.leading),
        source: e,
    }
}

/// Runs `kernel` over every selected stream and its output row, in parallel, with one
/// [`DecWorker`] per rayon task split (so scratch buffers are reused across streams),
/// then `finish` on every row the kernel decoded, whichever path it took (kept
/// non-finite values are written back there).
/// The first error in stream order is returned, so errors do not depend on scheduling.
#[allow(clippy::too_many_arguments)]
fn run<T: Send>(
    src: &Source<'_>,
    pieces: Option<&[Option<u64>]>,
    sel: &[usize],
    len: usize,
    out: &mut [T],
    progress: Option<Progress<'_>>,
    kernel: impl Fn(&mut DecWorker, usize, Option<u64>, &[u8], &mut [T]) -> Result<bool> + Sync,
    finish: impl Fn(usize, &mut [T]) + Sync,
) -> Result<Vec<bool>> {
    let results: Vec<Result<bool>> = out
        .par_chunks_mut(len)
        .zip(sel.par_iter())
        .map_init(DecWorker::default, |w, (o, &g)| {
            let piece = pieces.and_then(|p| p.get(g).copied().flatten());
            let done = kernel(w, g, piece, src.stream_bytes(g), o)?;
            if done {
                finish(g, o);
            }
            if let Some(p) = progress {
                p(1);
            }
            Ok(done)
        })
        .collect();
    results.into_iter().collect()
}

#[cfg(test)]
mod split_tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<i64> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // A smooth part plus noise, so LPC, fixed and verbatim frames all occur.
                let wave = ((i as f64) * 0.01).sin() * 1e6;
                wave as i64 + ((x >> 40) as i64 - (1 << 23))
            })
            .collect()
    }

    fn source<'a>(e: &'a Encoded, ss: usize, leading: &'a [usize], dtype: DType) -> Source<'a> {
        Source {
            bytes: &e.bytes,
            starts: &e.starts,
            nbytes: &e.nbytes,
            stream_size: ss,
            leading,
            dtype,
            scaling: &e.scaling,
            version: 1,
            nonfinite: e.nonfinite.as_ref(),
        }
    }

    #[test]
    fn split_streams_are_byte_identical_and_decode_for_any_thread_count() {
        for ss in [40_000usize, 70_001] {
            for n_streams in [1usize, 2] {
                let leading = [n_streams];
                let raw = noise(ss * n_streams, ss as u64);
                let i32s: Vec<i32> = raw.iter().map(|&v| v as i32).collect();
                let i64s: Vec<i64> = raw.iter().map(|&v| v * 1000 + 7).collect();
                let f32s: Vec<f32> = raw.iter().map(|&v| v as f32 * 1e-3).collect();
                let f64s: Vec<f64> = raw.iter().map(|&v| v as f64 * 1e-3).collect();
                let inputs = [
                    (InputRef::I32(&i32s), DType::Int32),
                    (InputRef::I64(&i64s), DType::Int64),
                    (InputRef::F32(&f32s), DType::Float32),
                    (InputRef::F64(&f64s), DType::Float64),
                ];
                for (input, dtype) in inputs {
                    let is_float = matches!(dtype, DType::Float32 | DType::Float64);
                    for level in [0u8, 5, 8] {
                        let opts = |t| CompressOptions {
                            level,
                            threads: Some(t),
                            quanta: is_float.then_some(QuantaOption::Scalar(1e-3)),
                            ..Default::default()
                        };
                        let one = compress(input, ss, &leading, &opts(1))
                            .unwrap_or_else(|e| panic!("{e}"));
                        let src1 = source(&one, ss, &leading, dtype);
                        let mut want = vec![0f64; ss * n_streams];
                        let mut got = want.clone();
                        for t in [1usize, 2, 3, 4] {
                            let what = format!(
                                "ss {ss} streams {n_streams} {dtype} level {level} threads {t}"
                            );
                            let par = compress(input, ss, &leading, &opts(t))
                                .unwrap_or_else(|e| panic!("{what}: {e}"));
                            assert!(par == one, "{what}: bytes differ");
                            let sel: Vec<usize> = (0..n_streams).collect();
                            let into = |o: &mut Vec<f64>, threads| {
                                with_threads(Some(threads), || {
                                    decode_f64(&src1, &sel, ss, dtype, o)
                                })
                                .and_then(|r| r)
                                .unwrap_or_else(|e| panic!("{what}: {e}"));
                            };
                            if t == 1 {
                                into(&mut want, 1);
                            }
                            into(&mut got, t);
                            assert!(got == want, "{what}: decoded values differ");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn many_waves_concatenate_in_stream_order_and_report_the_first_bad_stream() {
        // Streams of a whole chunk each, more than a few waves of them on 1-3 threads
        // (a wave is CHUNKS_PER_THREAD chunks per thread): each wave is appended while
        // the next one is encoded.
        let ss = CHUNK_SAMPLES;
        let n_streams = 3 * 3 * CHUNKS_PER_THREAD + 5;
        let leading = [n_streams];
        let raw = noise(ss * n_streams, 99);
        let mut f32s: Vec<f32> = raw.iter().map(|&v| v as f32 * 1e-3).collect();
        let opts = |t| CompressOptions {
            threads: Some(t),
            quanta: Some(QuantaOption::Scalar(1e-3)),
            ..Default::default()
        };
        let one = |k: usize| {
            compress(
                InputRef::F32(&f32s[k * ss..(k + 1) * ss]),
                ss,
                &[1],
                &opts(1),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let singles: Vec<Encoded> = (0..n_streams).map(one).collect();
        for t in [1usize, 2, 3] {
            let all = compress(InputRef::F32(&f32s), ss, &leading, &opts(t))
                .unwrap_or_else(|e| panic!("{e}"));
            let mut pos = 0u64;
            for (k, single) in singles.iter().enumerate() {
                let (lo, n) = (all.starts[k], all.nbytes[k]);
                assert_eq!(lo, pos, "threads {t} stream {k}");
                assert_eq!(n as usize, single.bytes.len(), "threads {t} stream {k}");
                let lo = usize::try_from(lo).unwrap_or(usize::MAX);
                assert!(
                    all.bytes[lo..lo + n as usize] == single.bytes[..],
                    "stream {k}"
                );
                pos += n;
            }
            assert_eq!(all.bytes.len() as u64, pos);
            let StreamScaling::F32 { offsets, gains } = &all.scaling else {
                panic!("float32 parameters expected");
            };
            for (k, single) in singles.iter().enumerate() {
                let StreamScaling::F32 {
                    offsets: o,
                    gains: g,
                } = &single.scaling
                else {
                    panic!("float32 parameters expected");
                };
                assert_eq!((offsets[k], gains[k]), (o[0], g[0]), "stream {k}");
            }
        }
        // A NaN in a late wave and one in an earlier wave: the earlier stream is named,
        // whatever the thread count.
        let late = n_streams - 2;
        let early = 2 * CHUNKS_PER_THREAD + 1;
        f32s[late * ss + 17] = f32::NAN;
        f32s[early * ss + 5] = f32::NAN;
        for t in [1usize, 2, 3] {
            let e = compress(InputRef::F32(&f32s), ss, &leading, &opts(t))
                .err()
                .unwrap_or_else(|| panic!("threads {t}: NaN accepted"))
                .to_string();
            assert!(
                e.starts_with(&format!("stream ({early},): sample 5 ")),
                "threads {t}: {e}"
            );
        }
    }

    /// The stream of the whole-stream path: every integer of the stream first
    /// (quantized, and split into words for 64-bit types), then one FLAC encode.
    #[allow(clippy::unwrap_used, reason = "test")]
    fn whole_stream(ints: &[i32], channels: u32, level: u8) -> Vec<u8> {
        let cfg = EncoderConfig {
            level,
            channels,
            escape_coding: true,
            ..EncoderConfig::default()
        };
        flacarray_flac::encode(ints, &cfg).unwrap()
    }

    #[test]
    #[allow(clippy::unwrap_used, reason = "test")]
    fn quantizing_a_run_at_a_time_gives_the_whole_stream_bytes() {
        use flacarray_quant::{StreamSpec, quantize_stream};
        // Lengths below, at and across a block (4096 at level 5, 1152 at level 0) and
        // a run (65536 samples), and long enough for the parallel parts to hold
        // several runs each (600,001 samples: 8 parts of 19 or 66 frames).
        for ss in [1usize, 4095, 4097, 65_536 + 4096 + 3, 600_001] {
            for n_streams in [1usize, 3] {
                if ss == 600_001 && n_streams == 3 {
                    continue;
                }
                let leading = [n_streams];
                let raw = noise(ss * n_streams, ss as u64 + 11);
                let i64s: Vec<i64> = raw.iter().map(|&v| v * 1000 + (1 << 40)).collect();
                let f32s: Vec<f32> = raw.iter().map(|&v| v as f32 * 1e-3).collect();
                let f64s: Vec<f64> = raw.iter().map(|&v| v as f64 * 1e-3).collect();
                for level in [0u8, 5] {
                    for threads in [1usize, 2] {
                        let what = format!("ss {ss} streams {n_streams} level {level} t {threads}");
                        let opts = |quanta: Option<QuantaOption>, precision| CompressOptions {
                            level,
                            threads: Some(threads),
                            quanta,
                            precision,
                            ..Default::default()
                        };
                        // int64: low and high words.
                        let e = compress(InputRef::I64(&i64s), ss, &leading, &opts(None, None))
                            .unwrap();
                        for (g, x) in i64s.chunks(ss).enumerate() {
                            let mut w = vec![0; 2 * ss];
                            split_i64(x, &mut w);
                            let s = e.starts[g] as usize;
                            let got = &e.bytes[s..s + e.nbytes[g] as usize];
                            assert!(got == whole_stream(&w, 2, level), "{what} int64 {g}");
                        }
                        // float32, by quanta and by precision.
                        for (q, p, spec) in [
                            (
                                Some(QuantaOption::Scalar(1e-3)),
                                None,
                                StreamSpec::Quanta(1e-3),
                            ),
                            (
                                None,
                                Some(PrecisionOption::Scalar(3)),
                                StreamSpec::Precision {
                                    digits: 3,
                                    per_stream: false,
                                },
                            ),
                        ] {
                            let e = compress(
                                InputRef::F32(&f32s),
                                ss,
                                &leading,
                                &opts(q.clone(), p.clone()),
                            )
                            .unwrap();
                            let StreamScaling::F32 { offsets, gains } = &e.scaling else {
                                panic!("{what}: float32 scaling");
                            };
                            for (g, x) in f32s.chunks(ss).enumerate() {
                                let mut ints = vec![0; ss];
                                let want = quantize_stream(x, spec, g, &mut ints).unwrap();
                                assert_eq!(
                                    (offsets[g], gains[g]),
                                    (want.offset, want.gain),
                                    "{what}"
                                );
                                let s = e.starts[g] as usize;
                                let got = &e.bytes[s..s + e.nbytes[g] as usize];
                                assert!(got == whole_stream(&ints, 1, level), "{what} f32 {g}");
                            }
                            // float64 with the same rule.
                            let spec64 = match spec {
                                StreamSpec::Quanta(_) => StreamSpec::Quanta(1e-3),
                                StreamSpec::Precision { digits, per_stream } => {
                                    StreamSpec::Precision { digits, per_stream }
                                }
                            };
                            let e =
                                compress(InputRef::F64(&f64s), ss, &leading, &opts(q, p)).unwrap();
                            let StreamScaling::F64 { offsets, gains } = &e.scaling else {
                                panic!("{what}: float64 scaling");
                            };
                            for (g, x) in f64s.chunks(ss).enumerate() {
                                let mut wide = vec![0; ss];
                                let want = quantize_stream(x, spec64, g, &mut wide).unwrap();
                                assert_eq!(
                                    (offsets[g], gains[g]),
                                    (want.offset, want.gain),
                                    "{what}"
                                );
                                let mut w = vec![0; 2 * ss];
                                split_i64(&wide, &mut w);
                                let s = e.starts[g] as usize;
                                let got = &e.bytes[s..s + e.nbytes[g] as usize];
                                assert!(got == whole_stream(&w, 2, level), "{what} f64 {g}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Decodes everything as the source's dtype and widens it to f64 for comparing.
    fn decode_f64(
        src: &Source<'_>,
        sel: &[usize],
        ss: usize,
        dtype: DType,
        o: &mut [f64],
    ) -> Result<()> {
        let n = o.len();
        match dtype {
            DType::Int32 => {
                let mut v = vec![0i32; n];
                decode(src, sel, 0..ss, OutputMut::I32(&mut v))?;
                o.iter_mut().zip(v).for_each(|(o, v)| *o = f64::from(v));
            }
            DType::Int64 => {
                let mut v = vec![0i64; n];
                decode(src, sel, 0..ss, OutputMut::I64(&mut v))?;
                o.iter_mut().zip(v).for_each(|(o, v)| *o = v as f64);
            }
            DType::Float32 => {
                let mut v = vec![0f32; n];
                decode(src, sel, 0..ss, OutputMut::F32(&mut v))?;
                o.iter_mut().zip(v).for_each(|(o, v)| *o = f64::from(v));
            }
            DType::Float64 => decode(src, sel, 0..ss, OutputMut::F64(o))?,
        }
        Ok(())
    }

    #[test]
    fn a_planted_sync_pattern_falls_back_to_the_serial_decoder() {
        // Level 0 (blocks of 1152) on full-range noise: verbatim frames, whose 32-bit
        // samples sit byte-aligned after a 6-byte frame header and a subframe header.
        let bs = 1152;
        let ss = 40 * bs + 500;
        let mut x: Vec<i32> = noise(ss, 9)
            .iter()
            .enumerate()
            .map(|(i, &v)| (v as i32) ^ ((i as i32).wrapping_mul(0x9E37_79B9u32 as i32)))
            .collect();
        let opts = CompressOptions {
            level: 0,
            threads: Some(1),
            ..Default::default()
        };
        let leading = [1usize];
        let clean =
            compress(InputRef::I32(&x), ss, &leading, &opts).unwrap_or_else(|e| panic!("{e}"));
        // With 2 threads, parts of 6 frames start at frames 6, 12, ...: copy frame 12's
        // header into the last samples of frame 11, after the scan's starting estimate.
        let k = 12u64;
        let real = flacarray_flac::locate_frame(&clean.bytes, k)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("frame {k} not found"));
        let h = &clean.bytes[real..real + 8];
        let at = 12 * bs - 4;
        x[at] = i32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        x[at + 1] = i32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let hostile =
            compress(InputRef::I32(&x), ss, &leading, &opts).unwrap_or_else(|e| panic!("{e}"));
        let found = flacarray_flac::locate_frame(&hostile.bytes, k)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("frame {k} not found"));
        assert!(
            found < real,
            "the planted header at {found} is found first (real frame at {real})"
        );
        let plan = with_threads(Some(2), || split_plan(&hostile.bytes, ss as u64))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan, Some((6, bs, 1)));
        let mut out = vec![0i32; ss];
        let parts_ok = with_threads(Some(2), || {
            decode_parts(&hostile.bytes, ss as u64, (6, bs, 1), &mut out)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !parts_ok,
            "the parallel decode must notice the false frame start"
        );
        let src = source(&hostile, ss, &leading, DType::Int32);
        let mut got = vec![0i32; ss];
        with_threads(Some(2), || {
            decode(&src, &[0], 0..ss, OutputMut::I32(&mut got))
        })
        .and_then(|r| r)
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(got == x, "the fallback decodes exactly");
        // A corrupted byte is an error, in parallel as serially.
        let mut bad = hostile.clone();
        let mid = bad.bytes.len() / 2;
        bad.bytes[mid] ^= 0x10;
        let src = source(&bad, ss, &leading, DType::Int32);
        for t in [1usize, 2] {
            let r = with_threads(Some(t), || {
                decode(&src, &[0], 0..ss, OutputMut::I32(&mut got))
            })
            .and_then(|r| r);
            assert!(r.is_err(), "threads {t}: corruption undetected");
        }
    }
}
