//! Low-level functions mirroring flacarray 0.4.1's `array_compress`,
//! `array_decompress` and `array_decompress_slice`.

use ndarray::{ArrayBase, ArrayD, ArrayViewD, Data, Dimension, IxDyn};

use crate::array::FlacArray;
use crate::codec::{self, CompressOptions, Source, with_threads};
use crate::dtype::{DType, DecodedArray, Element, StreamScaling};
use crate::error::{Error, Result};
use crate::select::{index_tuples, kept_streams};

/// What [`array_compress`] returns: 0.4.1's `(compressed, starts, nbytes, offsets,
/// gains)`. `starts` and `nbytes` have the leading shape (`(1,)` for 1-d input).
#[derive(Debug, Clone, PartialEq)]
pub struct Compressed {
    /// Concatenated FLAC streams.
    pub compressed: Vec<u8>,
    /// Byte offset of each stream, leading shape.
    pub starts: ArrayD<i64>,
    /// Byte length of each stream, leading shape.
    pub nbytes: ArrayD<i64>,
    /// Offsets and gains (float data), in stream order.
    pub scaling: StreamScaling,
}

/// Compresses an array (as [`FlacArray::from_array`]) and returns the raw outputs.
///
/// ```
/// use flacarray_core::{array_compress, array_decompress, CompressOptions, DecompressOptions, StreamsRef};
/// let a = ndarray::arr2(&[[1_i32, 2, 3], [4, 5, 6]]);
/// let c = array_compress(&a, &CompressOptions::default())?;
/// assert_eq!(c.starts.shape(), &[2]);
/// let src = StreamsRef {
///     compressed: &c.compressed,
///     stream_size: 3,
///     starts: c.starts.view(),
///     nbytes: c.nbytes.view(),
///     scaling: &c.scaling,
///     is_int64: false,
/// };
/// let back = array_decompress(&src, &DecompressOptions::default())?;
/// assert_eq!(back.as_array::<i32>().unwrap(), &a.into_dyn());
/// # Ok::<(), flacarray_core::Error>(())
/// ```
///
/// # Errors
/// As [`FlacArray::from_array`].
pub fn array_compress<T, S, D>(arr: &ArrayBase<S, D>, opts: &CompressOptions) -> Result<Compressed>
where
    T: Element,
    S: Data<Elem = T>,
    D: Dimension,
{
    let fa = FlacArray::from_array(arr, opts)?;
    let lead = fa.leading_shape().to_vec();
    let p = fa.into_parts();
    let to_i64 = |v: Vec<u64>| -> Result<ArrayD<i64>> {
        let v: Vec<i64> = v
            .into_iter()
            .map(|x| {
                i64::try_from(x)
                    .map_err(|_| Error::InvalidArgument("byte offset overflows i64".into()))
            })
            .collect::<Result<_>>()?;
        ArrayD::from_shape_vec(IxDyn(&lead), v).map_err(|e| Error::InvalidArgument(e.to_string()))
    };
    Ok(Compressed {
        compressed: p.compressed,
        starts: to_i64(p.starts)?,
        nbytes: to_i64(p.nbytes)?,
        scaling: p.scaling,
    })
}

/// The inputs of [`array_decompress`]: 0.4.1's `compressed, stream_size,
/// stream_starts, stream_nbytes, stream_offsets, stream_gains, is_int64`.
#[derive(Debug, Clone)]
pub struct StreamsRef<'a> {
    /// Concatenated FLAC streams.
    pub compressed: &'a [u8],
    /// Samples per stream.
    pub stream_size: usize,
    /// Byte offset of each stream; its shape is the leading shape (a 0-d array is one
    /// stream).
    pub starts: ArrayViewD<'a, i64>,
    /// Byte length of each stream, same shape.
    pub nbytes: ArrayViewD<'a, i64>,
    /// Offsets and gains; [`StreamScaling::None`] for integers,
    /// [`StreamScaling::I64Offsets`] for format-0 `int64` data.
    pub scaling: &'a StreamScaling,
    /// Whether the streams are 2-channel 64-bit data (`int64`/`float64`).
    pub is_int64: bool,
}

/// Options of [`array_decompress`] and [`array_decompress_slice`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecompressOptions {
    /// First sample to decode (`None`: 0).
    pub first_stream_sample: Option<u64>,
    /// End sample, exclusive (`None`: the stream size).
    pub last_stream_sample: Option<u64>,
    /// Worker threads (`None`: rayon's global pool).
    pub threads: Option<usize>,
    /// Keep a single stream 2-d instead of flattening it.
    pub no_flatten: bool,
}

fn to_u64s(a: &ArrayViewD<'_, i64>, what: &str) -> Result<Vec<u64>> {
    a.iter()
        .map(|&v| {
            u64::try_from(v).map_err(|_| Error::Corrupt(format!("negative stream {what} {v}")))
        })
        .collect()
}

/// Decompresses raw streams (0.4.1's `array_decompress`). The result has shape
/// `starts.shape + (n_samples,)`, flattened to 1-d for a single stream (starts of
/// shape `(1,)` or `()`) unless `no_flatten`.
///
/// Differences from 0.4.1: a sample range must satisfy `first < last <= stream_size`
/// (0.4.1 treats a negative bound as "whole stream"; here that is `None`), and empty
/// `compressed` bytes with streams to decode are an error (0.4.1 returns zeros).
///
/// # Errors
/// [`Error::InvalidArgument`] for inconsistent arguments, [`Error::Corrupt`]
/// for a table outside the bytes, [`Error::Flac`] for a stream that does not decode.
pub fn array_decompress(src: &StreamsRef<'_>, opts: &DecompressOptions) -> Result<DecodedArray> {
    Ok(array_decompress_slice(src, None, opts)?.0)
}

/// [`array_decompress`] with a keep mask over the leading shape (0.4.1's
/// `array_decompress_slice`): the kept streams come out 2-d `(n_kept, n_samples)` in C
/// order (1-d when exactly one is kept, unless `no_flatten`), with their leading
/// index tuples. Without a mask it is [`array_decompress`] and the indices are `None`.
///
/// # Errors
/// As [`array_decompress`]; a mask of the wrong length is invalid.
pub fn array_decompress_slice(
    src: &StreamsRef<'_>,
    keep: Option<&[bool]>,
    opts: &DecompressOptions,
) -> Result<(DecodedArray, Option<Vec<Vec<usize>>>)> {
    if src.starts.shape() != src.nbytes.shape() {
        return Err(Error::InvalidArgument(format!(
            "starts shape {:?} differs from nbytes shape {:?}",
            src.starts.shape(),
            src.nbytes.shape()
        )));
    }
    let leading: Vec<usize> = if src.starts.ndim() == 0 {
        vec![1]
    } else {
        src.starts.shape().to_vec()
    };
    let (dtype, version) = match (src.scaling, src.is_int64) {
        (StreamScaling::None, false) => (DType::Int32, 1),
        (StreamScaling::None, true) => (DType::Int64, 1),
        (StreamScaling::F32 { .. }, false) => (DType::Float32, 1),
        (StreamScaling::F64 { .. }, true) => (DType::Float64, 1),
        (StreamScaling::I64Offsets(_), false) => (DType::Int64, 0),
        _ => {
            return Err(Error::InvalidArgument(
                "offsets/gains do not match is_int64 (float32 data is 1-channel, float64 \
                 2-channel)"
                    .into(),
            ));
        }
    };
    let ss = src.stream_size;
    let first = usize::try_from(opts.first_stream_sample.unwrap_or(0))
        .map_err(|_| Error::Index("first sample too large".into()))?;
    let last = match opts.last_stream_sample {
        None => ss,
        Some(l) => usize::try_from(l).map_err(|_| Error::Index("last sample too large".into()))?,
    };
    if ss == 0 || last > ss || first >= last {
        return Err(Error::Index(format!(
            "sample range {first}..{last} is not a non-empty range inside streams of {ss}"
        )));
    }
    let starts = to_u64s(&src.starts, "start")?;
    let nbytes = to_u64s(&src.nbytes, "byte count")?;
    let source = Source {
        bytes: src.compressed,
        starts: &starts,
        nbytes: &nbytes,
        stream_size: ss,
        leading: &leading,
        dtype,
        scaling: src.scaling,
        version,
        nonfinite: None,
    };
    source.check()?;
    let n = last - first;
    let (streams, shape, indices) = match keep {
        None => {
            let single = leading == [1];
            let shape = if single && !opts.no_flatten {
                vec![n]
            } else {
                let mut s = src.starts.shape().to_vec();
                s.push(n);
                s
            };
            ((0..starts.len()).collect::<Vec<_>>(), shape, None)
        }
        Some(k) => {
            let streams = kept_streams(k, &leading)?;
            let shape = if streams.len() == 1 && !opts.no_flatten {
                vec![n]
            } else {
                vec![streams.len(), n]
            };
            let idx = index_tuples(&streams, &leading);
            (streams, shape, Some(idx))
        }
    };
    let arr = match dtype {
        DType::Int32 => DecodedArray::Int32(decode_typed(
            &source,
            &streams,
            first..last,
            &shape,
            opts.threads,
        )?),
        DType::Int64 => DecodedArray::Int64(decode_typed(
            &source,
            &streams,
            first..last,
            &shape,
            opts.threads,
        )?),
        DType::Float32 => DecodedArray::Float32(decode_typed(
            &source,
            &streams,
            first..last,
            &shape,
            opts.threads,
        )?),
        DType::Float64 => DecodedArray::Float64(decode_typed(
            &source,
            &streams,
            first..last,
            &shape,
            opts.threads,
        )?),
    };
    Ok((arr, indices))
}

fn decode_typed<T: Element>(
    src: &Source<'_>,
    streams: &[usize],
    range: std::ops::Range<usize>,
    shape: &[usize],
    threads: Option<usize>,
) -> Result<ArrayD<T>> {
    let mut buf = vec![T::default(); streams.len() * range.len()];
    with_threads(threads, || {
        codec::decode(src, streams, range, T::output(&mut buf))
    })??;
    ArrayD::from_shape_vec(IxDyn(shape), buf).map_err(|e| Error::InvalidArgument(e.to_string()))
}
