//! [`FlacArray`]: an N-d array held as one FLAC stream per 1-d slice along the last axis.

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use crate::codec::{self, CompressOptions, Progress, Source, with_threads};
use crate::dtype::{DType, DecodedArray, Element, InputRef, StreamScaling};
use crate::error::{Error, Result, fmt_index};
use crate::logical::{LogicalArray, LogicalDType, Value};
use crate::nonfinite::NonFinite;
use crate::select::{Index, SampleSlice, index_tuples, kept_streams, parse_index, resolve_key};

/// A compressed array: the concatenated FLAC streams of every 1-d slice along the last
/// axis, their byte table and their float parameters.
///
/// The *leading shape* is the shape without the last axis; streams are numbered in C
/// order over it. A one-dimensional array is one stream with leading shape `(1,)`, as
/// flacarray stores it, but [`FlacArray::shape`] still reports `(N,)` (0.4.1's
/// `shape`; [`FlacArray::global_shape`] is `(1, N)`).
///
/// ```
/// use flacarray_core::{CompressOptions, FlacArray, QuantaOption};
/// use ndarray::Array2;
///
/// let data = Array2::from_shape_fn((3, 1000), |(i, j)| ((i * 1000 + j) as f32 * 0.01).sin());
/// let opts = CompressOptions { quanta: Some(QuantaOption::Scalar(1e-4)), ..Default::default() };
/// let fa = FlacArray::from_array(&data, &opts)?;
/// assert_eq!(fa.shape(), &[3, 1000]);
/// assert_eq!(fa.leading_shape(), &[3]);
/// let back = fa.to_array_typed::<f32>()?;
/// for (a, b) in data.iter().zip(back.iter()) {
///     assert!((a - b).abs() <= 0.5e-4 + 1e-6);
/// }
/// # Ok::<(), flacarray_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FlacArray {
    leading_shape: Vec<usize>,
    stream_size: usize,
    one_d: bool,
    dtype: DType,
    compressed: Vec<u8>,
    starts: Vec<u64>,
    nbytes: Vec<u64>,
    scaling: StreamScaling,
    format_version: u32,
    logical: LogicalDType,
    nonfinite: Option<NonFinite>,
}

/// The raw parts of a [`FlacArray`], for backends and the low-level functions.
#[derive(Debug, Clone, PartialEq)]
pub struct FlacArrayParts {
    /// Leading shape (at least one axis; `[1]` for a single stream).
    pub leading_shape: Vec<usize>,
    /// Samples per stream (> 0).
    pub stream_size: usize,
    /// Report the shape as `(stream_size,)` (only with leading shape `[1]`): set for an
    /// array built from 1-d data, and by storage reads of a single stream without
    /// `no_flatten` (0.4.1 returns such reads flattened).
    pub one_d: bool,
    /// Element type.
    pub dtype: DType,
    /// Concatenated FLAC streams.
    pub compressed: Vec<u8>,
    /// Byte offset of every stream in `compressed`, C order over the leading shape.
    pub starts: Vec<u64>,
    /// Byte length of every stream.
    pub nbytes: Vec<u64>,
    /// Offsets and gains (floats; format-0 `int64` offsets).
    pub scaling: StreamScaling,
    /// On-disk format version the streams follow: 1 (written by this crate and
    /// flacarray ≥ 0.3), 0 (flacarray ≤ 0.2: every stream 1-channel `i32`) or 2
    /// (format 1's streams plus what flacarray 0.4.1 cannot read: see
    /// [`FlacArray::with_extension`]).
    pub format_version: u32,
}

/// What to decode from a [`FlacArray`]: the streams to keep and the samples of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions<'a> {
    /// Keep mask over the leading shape, in C order (`None` = every stream). The kept
    /// streams come out as a 2-d `(n_kept, n_samples)` array, flattened to 1-d when
    /// exactly one is kept (unless `no_flatten`); none kept gives `(0, n_samples)`.
    pub keep: Option<&'a [bool]>,
    /// Samples of each stream (Python slice semantics, see [`SampleSlice`]).
    pub stream_slice: SampleSlice,
    /// Return the leading index of every kept stream (with `keep` only).
    pub keep_indices: bool,
    /// Never flatten a single stream to 1-d.
    pub no_flatten: bool,
    /// Worker threads (`None`: rayon's global pool). The values never depend on it.
    pub threads: Option<usize>,
}

/// A decoded selection and, on request, the leading indices of the kept streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The values.
    pub array: DecodedArray,
    /// Leading index tuple of every returned stream (only with a keep mask and
    /// `keep_indices`).
    pub indices: Option<Vec<Vec<usize>>>,
}

/// The shape of a selection written by [`FlacArray::decompress_into`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionShape {
    /// Shape of the values written.
    pub shape: Vec<usize>,
    /// As [`Selection::indices`].
    pub indices: Option<Vec<Vec<usize>>>,
}

/// The streams and samples a read decodes, and the result's shape.
struct Plan {
    streams: Vec<usize>,
    range: std::ops::Range<usize>,
    shape: Vec<usize>,
    indices: Option<Vec<Vec<usize>>>,
}

impl FlacArray {
    /// Compresses an array of any dimension ≥ 1 of `i32`, `i64`, `f32`, `f64`, or a
    /// type they carry (`bool`, `i8`, `i16`, `u8`, `u16`, `u32`, `u64`, `f16`: see
    /// [`LogicalDType`]).
    ///
    /// Float data needs exactly one of `opts.quanta` or `opts.precision`; integer data
    /// neither. A non-contiguous or non-standard-layout input (a transposed or sliced
    /// view) is copied to C order first rather than rejected (0.4.1 raises there).
    /// An array with an axis of length 0 compresses to no bytes and keeps its shape.
    ///
    /// The result is in format 1 (what flacarray 0.4.1 reads) unless it holds
    /// something 0.4.1 would read wrongly: kept NaN/inf, a `uint64` value ≥ 2^63, or
    /// an empty axis; then it is format 2 ([`FlacArray::format_version`]).
    ///
    /// # Errors
    /// * [`Error::InvalidArgument`]: a 0-d array, a bad level, both or neither of
    ///   quanta/precision for floats, a per-stream option of the wrong length;
    /// * [`Error::Quantize`]: a stream cannot be quantized (the message names it, e.g.
    ///   `stream (1, 2)`), for example a NaN without `opts.keep_nonfinite`.
    pub fn from_array<T, S, D>(arr: &ArrayBase<S, D>, opts: &CompressOptions) -> Result<Self>
    where
        T: Value,
        S: Data<Elem = T>,
        D: Dimension,
    {
        Self::build(arr, opts, None)
    }

    /// [`FlacArray::from_array`], calling `progress` with the number of streams
    /// encoded as they finish (from the worker threads, in chunks of streams; the
    /// calls add up to [`FlacArray::n_streams`] on success). The bytes are those of
    /// [`FlacArray::from_array`]: progress changes nothing but the calls.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use flacarray_core::{CompressOptions, FlacArray};
    /// let a = ndarray::Array::from_shape_fn((4, 5, 100), |(i, j, k)| (i + j * k) as i32);
    /// let done = AtomicUsize::new(0);
    /// let opts = CompressOptions::default();
    /// let fa = FlacArray::from_array_with_progress(&a, &opts, &|n| {
    ///     done.fetch_add(n, Ordering::Relaxed);
    /// })?;
    /// assert_eq!(done.into_inner(), 20);
    /// assert_eq!(fa, FlacArray::from_array(&a, &opts)?);
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`FlacArray::from_array`].
    pub fn from_array_with_progress<T, S, D>(
        arr: &ArrayBase<S, D>,
        opts: &CompressOptions,
        progress: Progress<'_>,
    ) -> Result<Self>
    where
        T: Value,
        S: Data<Elem = T>,
        D: Dimension,
    {
        Self::build(arr, opts, Some(progress))
    }

    /// Compresses any of the four array types ([`FlacArray::from_array`] on the
    /// array inside), with an optional progress hook as
    /// [`FlacArray::from_array_with_progress`].
    ///
    /// # Errors
    /// As [`FlacArray::from_array`].
    pub fn from_decoded(
        data: &DecodedArray,
        opts: &CompressOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<Self> {
        match data {
            DecodedArray::Int32(a) => Self::build(a, opts, progress),
            DecodedArray::Int64(a) => Self::build(a, opts, progress),
            DecodedArray::Float32(a) => Self::build(a, opts, progress),
            DecodedArray::Float64(a) => Self::build(a, opts, progress),
        }
    }

    /// Compresses an array of any of the twelve element types ([`LogicalArray`]:
    /// [`FlacArray::from_array`] on the array inside), with an optional progress hook
    /// as [`FlacArray::from_array_with_progress`].
    ///
    /// # Errors
    /// As [`FlacArray::from_array`].
    pub fn from_values(
        data: &LogicalArray,
        opts: &CompressOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<Self> {
        match data {
            LogicalArray::Bool(a) => Self::build(a, opts, progress),
            LogicalArray::Int8(a) => Self::build(a, opts, progress),
            LogicalArray::Int16(a) => Self::build(a, opts, progress),
            LogicalArray::Int32(a) => Self::build(a, opts, progress),
            LogicalArray::Int64(a) => Self::build(a, opts, progress),
            LogicalArray::Uint8(a) => Self::build(a, opts, progress),
            LogicalArray::Uint16(a) => Self::build(a, opts, progress),
            LogicalArray::Uint32(a) => Self::build(a, opts, progress),
            LogicalArray::Uint64(a) => Self::build(a, opts, progress),
            LogicalArray::Float16(a) => Self::build(a, opts, progress),
            LogicalArray::Float32(a) => Self::build(a, opts, progress),
            LogicalArray::Float64(a) => Self::build(a, opts, progress),
        }
    }

    fn build<T, S, D>(
        arr: &ArrayBase<S, D>,
        opts: &CompressOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<Self>
    where
        T: Value,
        S: Data<Elem = T>,
        D: Dimension,
    {
        let shape = arr.shape();
        let Some((&stream_size, lead)) = shape.split_last() else {
            return Err(Error::InvalidArgument(
                "cannot compress a 0-dimensional array".into(),
            ));
        };
        let one_d = lead.is_empty();
        let leading_shape = if one_d { vec![1] } else { lead.to_vec() };
        let dtype = T::LOGICAL.stored();
        if arr.is_empty() {
            return Ok(Self::empty(leading_shape, stream_size, one_d, T::LOGICAL));
        }
        let std = arr.as_standard_layout();
        let data = std.as_slice().ok_or_else(|| {
            Error::InvalidArgument("array could not be laid out in C order".into())
        })?;
        let converted: Vec<T::Stored>;
        let input = match T::direct(data) {
            Some(i) => i,
            None => {
                converted = data.iter().map(|v| v.to_stored()).collect();
                <T::Stored as Element>::input(&converted)
            }
        };
        // uint64 values ≥ 2^63 are stored as negative int64: 0.4.1 would read them so.
        let beyond_v1 = T::LOGICAL == LogicalDType::Uint64
            && matches!(input, InputRef::I64(x) if x.iter().any(|&v| v < 0));
        let enc = codec::compress_progress(input, stream_size, &leading_shape, opts, progress)?;
        let format_version = if beyond_v1 || enc.nonfinite.is_some() {
            2
        } else {
            1
        };
        Ok(Self {
            leading_shape,
            stream_size,
            one_d,
            dtype,
            compressed: enc.bytes,
            starts: enc.starts,
            nbytes: enc.nbytes,
            scaling: enc.scaling,
            format_version,
            logical: T::LOGICAL,
            nonfinite: enc.nonfinite,
        })
    }

    /// An array with an axis of length 0 (a 0 in `leading_shape`, or `stream_size` 0):
    /// no bytes, every stream empty, format 2 (flacarray 0.4.1 cannot store it), float
    /// offsets 0 and gains 1, `logical` recorded. [`FlacArray::from_array`] returns this
    /// for an empty input; a distributed writer uses it for a rank or a whole array
    /// without rows.
    ///
    /// ```
    /// use flacarray_core::{FlacArray, LogicalDType};
    /// let fa = FlacArray::empty(vec![0, 3], 100, false, LogicalDType::Uint16);
    /// assert_eq!(fa.shape(), vec![0, 3, 100]);
    /// assert_eq!(fa.format_version(), 2);
    /// ```
    pub fn empty(
        leading_shape: Vec<usize>,
        stream_size: usize,
        one_d: bool,
        logical: LogicalDType,
    ) -> Self {
        let n: usize = leading_shape.iter().product();
        let dtype = logical.stored();
        let scaling = match dtype {
            DType::Int32 | DType::Int64 => StreamScaling::None,
            DType::Float32 => StreamScaling::F32 {
                offsets: vec![0.0; n],
                gains: vec![1.0; n],
            },
            DType::Float64 => StreamScaling::F64 {
                offsets: vec![0.0; n],
                gains: vec![1.0; n],
            },
        };
        Self {
            leading_shape,
            stream_size,
            one_d,
            dtype,
            compressed: Vec::new(),
            starts: vec![0; n],
            nbytes: vec![0; n],
            scaling,
            format_version: 2,
            logical,
            nonfinite: None,
        }
    }

    /// Builds an array from its parts, checking that they are consistent (stream
    /// count, byte ranges inside the buffer, parameters matching the dtype).
    ///
    /// # Errors
    /// [`Error::Corrupt`] or [`Error::InvalidArgument`] describing the mismatch.
    pub fn from_parts(p: FlacArrayParts) -> Result<Self> {
        if p.leading_shape.is_empty() {
            return Err(Error::InvalidArgument(
                "the leading shape needs at least one axis".into(),
            ));
        }
        if p.stream_size == 0 && p.format_version < 2 {
            return Err(Error::InvalidArgument(
                "stream size must be positive (format 2 only stores empty streams)".into(),
            ));
        }
        if p.stream_size == 0 && p.nbytes.iter().any(|&b| b != 0) {
            return Err(Error::Corrupt(
                "streams of 0 samples must hold no bytes".into(),
            ));
        }
        if p.format_version > 2 {
            return Err(Error::Unsupported(format!(
                "flacarray format version {}",
                p.format_version
            )));
        }
        let fa = Self {
            one_d: p.one_d && p.leading_shape == [1],
            leading_shape: p.leading_shape,
            stream_size: p.stream_size,
            dtype: p.dtype,
            compressed: p.compressed,
            starts: p.starts,
            nbytes: p.nbytes,
            scaling: p.scaling,
            format_version: p.format_version,
            logical: p.dtype.into(),
            nonfinite: None,
        };
        fa.source().check()?;
        Ok(fa)
    }

    /// Adds what a format-2 (or format-1 with a recorded type) group stores beyond
    /// 0.4.1's layout: the logical element type and the kept non-finite samples.
    ///
    /// # Errors
    /// [`Error::Corrupt`]: `logical` is not carried by the stored type, a non-finite
    /// table for integer data, for another number of streams or with runs outside
    /// the streams, or a non-finite table in a format-1 group (0.4.1 would read the
    /// filled values).
    pub fn with_extension(
        mut self,
        logical: LogicalDType,
        nonfinite: Option<NonFinite>,
    ) -> Result<Self> {
        check_extension(
            self.dtype,
            self.format_version,
            self.n_streams(),
            self.stream_size,
            logical,
            nonfinite.as_ref(),
        )?;
        self.logical = logical;
        self.nonfinite = nonfinite;
        Ok(self)
    }

    /// Gives the parts back.
    #[must_use]
    pub fn into_parts(self) -> FlacArrayParts {
        FlacArrayParts {
            leading_shape: self.leading_shape,
            stream_size: self.stream_size,
            one_d: self.one_d,
            dtype: self.dtype,
            compressed: self.compressed,
            starts: self.starts,
            nbytes: self.nbytes,
            scaling: self.scaling,
            format_version: self.format_version,
        }
    }

    pub(crate) fn source(&self) -> Source<'_> {
        Source {
            bytes: &self.compressed,
            starts: &self.starts,
            nbytes: &self.nbytes,
            stream_size: self.stream_size,
            leading: &self.leading_shape,
            dtype: self.dtype,
            scaling: &self.scaling,
            version: self.format_version,
            nonfinite: self.nonfinite.as_ref(),
        }
    }

    /// The array's shape: `(N,)` for one-dimensional data, else leading shape + `(N,)`.
    #[must_use]
    pub fn shape(&self) -> Vec<usize> {
        if self.one_d {
            vec![self.stream_size]
        } else {
            self.global_shape()
        }
    }

    /// Leading shape + `(stream_size,)`: `(1, N)` for one-dimensional data.
    #[must_use]
    pub fn global_shape(&self) -> Vec<usize> {
        let mut s = self.leading_shape.clone();
        s.push(self.stream_size);
        s
    }

    /// The shape without the last axis (`(1,)` for one-dimensional data).
    #[must_use]
    pub fn leading_shape(&self) -> &[usize] {
        &self.leading_shape
    }

    /// Samples per stream (the last axis).
    #[must_use]
    pub fn stream_size(&self) -> usize {
        self.stream_size
    }

    /// Number of streams.
    #[must_use]
    pub fn n_streams(&self) -> usize {
        self.starts.len()
    }

    /// Whether [`FlacArray::shape`] reports a one-dimensional array.
    #[must_use]
    pub fn is_one_d(&self) -> bool {
        self.one_d
    }

    /// Element type.
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The concatenated FLAC streams.
    #[must_use]
    pub fn compressed(&self) -> &[u8] {
        &self.compressed
    }

    /// Total compressed bytes.
    #[must_use]
    pub fn nbytes(&self) -> usize {
        self.compressed.len()
    }

    /// Byte offset of every stream in [`FlacArray::compressed`], C order.
    #[must_use]
    pub fn stream_starts(&self) -> &[u64] {
        &self.starts
    }

    /// Byte length of every stream.
    #[must_use]
    pub fn stream_nbytes(&self) -> &[u64] {
        &self.nbytes
    }

    /// Offsets and gains of every stream (floats), or format-0 `int64` offsets.
    #[must_use]
    pub fn scaling(&self) -> &StreamScaling {
        &self.scaling
    }

    /// Format version: 1 (what flacarray 0.4.1 reads), 2 (it holds kept NaN/inf, a
    /// `uint64` value ≥ 2^63 or an empty axis, or was read from a format-2 group), or 0
    /// for legacy data read from storage. Writers store this version (0 as 1).
    #[must_use]
    pub fn format_version(&self) -> u32 {
        self.format_version
    }

    /// The caller's element type (the stored [`FlacArray::dtype`] or a type it
    /// carries).
    #[must_use]
    pub fn logical_dtype(&self) -> LogicalDType {
        self.logical
    }

    /// The kept NaN/inf samples, when any stream has some.
    #[must_use]
    pub fn nonfinite(&self) -> Option<&NonFinite> {
        self.nonfinite.as_ref()
    }

    /// Whether an axis has length 0.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.stream_size == 0 || self.n_streams() == 0
    }

    /// Decompresses everything in the logical element type
    /// ([`FlacArray::logical_dtype`]).
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray};
    /// let a = ndarray::arr2(&[[0_u16, 65535, 7], [1, 2, 3]]);
    /// let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
    /// assert_eq!(fa.dtype().name(), "int32");
    /// assert_eq!(fa.to_values_typed::<u16>()?, a.into_dyn());
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`FlacArray::to_array`]; [`Error::Corrupt`] when a stored value does not
    /// fit the logical type.
    pub fn to_values(&self) -> Result<LogicalArray> {
        LogicalArray::from_decoded(self.to_array()?, self.logical)
    }

    /// [`FlacArray::to_values`] as `ArrayD<T>`.
    ///
    /// # Errors
    /// As [`FlacArray::to_values`]; [`Error::InvalidArgument`] when `T` is not the
    /// logical type.
    pub fn to_values_typed<T: Value>(&self) -> Result<ArrayD<T>> {
        self.to_values()?.into_array()
    }

    /// [`FlacArray::select`] in the logical element type.
    ///
    /// # Errors
    /// As [`FlacArray::select`] and [`LogicalArray::from_decoded`].
    pub fn select_values(&self, key: &str) -> Result<LogicalArray> {
        LogicalArray::from_decoded(self.select(key)?, self.logical)
    }

    /// Decompresses everything, in [`FlacArray::shape`], as the stored type
    /// ([`FlacArray::dtype`]: a `uint16` array gives its values as `int32`, a `uint64`
    /// array the `int64` with the same bits; [`FlacArray::to_values`] gives the
    /// logical type).
    ///
    /// An array built in memory from a `(1, N)` array keeps `(1, N)` (0.4.1's
    /// `to_array`); one built from `(N,)` data, or read from storage with a single
    /// stream and without `no_flatten`, gives `(N,)`.
    ///
    /// # Errors
    /// [`Error::Flac`] (naming the stream) when a stream does not decode.
    pub fn to_array(&self) -> Result<DecodedArray> {
        Ok(self.decompress(&ReadOptions::default())?.array)
    }

    /// [`FlacArray::to_array`] as `ArrayD<T>`.
    ///
    /// # Errors
    /// As [`FlacArray::to_array`]; [`Error::InvalidArgument`] when `T` is not the
    /// stored type.
    pub fn to_array_typed<T: Element>(&self) -> Result<ArrayD<T>> {
        self.to_array()?.into_array()
    }

    fn plan(&self, opts: &ReadOptions<'_>) -> Result<Plan> {
        let range = opts.stream_slice.resolve(self.stream_size)?;
        let n = range.len();
        Ok(match opts.keep {
            None => {
                let shape = if self.one_d && !opts.no_flatten {
                    vec![n]
                } else {
                    let mut s = self.leading_shape.clone();
                    s.push(n);
                    s
                };
                Plan {
                    streams: (0..self.n_streams()).collect(),
                    range,
                    shape,
                    indices: None,
                }
            }
            Some(keep) => {
                let streams = kept_streams(keep, &self.leading_shape)?;
                let shape = if streams.len() == 1 && !opts.no_flatten {
                    vec![n]
                } else {
                    vec![streams.len(), n]
                };
                let indices = opts
                    .keep_indices
                    .then(|| index_tuples(&streams, &self.leading_shape));
                Plan {
                    streams,
                    range,
                    shape,
                    indices,
                }
            }
        })
    }

    /// Decompresses a selection: kept streams and a sample slice. Only the kept
    /// streams and the frames holding the slice are decoded.
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray, ReadOptions, SampleSlice};
    /// let a = ndarray::Array::from_shape_fn((2, 3, 50), |(i, j, k)| (i * 10000 + j * 100 + k) as i32);
    /// let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
    /// let keep = [true, false, false, false, false, true];
    /// let sel = fa.decompress(&ReadOptions {
    ///     keep: Some(&keep),
    ///     stream_slice: SampleSlice::new(Some(-3), None),
    ///     keep_indices: true,
    ///     ..Default::default()
    /// })?;
    /// let v = sel.array.into_array::<i32>()?;
    /// assert_eq!(v.shape(), &[2, 3]);
    /// assert_eq!(v.as_slice().unwrap(), &[47, 48, 49, 10247, 10248, 10249]);
    /// assert_eq!(sel.indices, Some(vec![vec![0, 0], vec![1, 2]]));
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a keep mask of the wrong length,
    /// [`Error::Index`] for a slice stop beyond the stream, [`Error::Flac`]
    /// when a stream does not decode.
    pub fn decompress(&self, opts: &ReadOptions<'_>) -> Result<Selection> {
        self.decompress_progress(opts, None)
    }

    /// [`FlacArray::decompress`], calling `progress` with the number of streams
    /// decoded as they finish (from the worker threads; the calls add up to the
    /// number of streams selected). The values do not depend on it.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use flacarray_core::{CompressOptions, FlacArray, ReadOptions};
    /// let a = ndarray::Array::from_shape_fn((3, 7, 50), |(i, j, k)| (i * j + k) as i64);
    /// let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
    /// let done = AtomicUsize::new(0);
    /// let sel = fa.decompress_with_progress(&ReadOptions::default(), &|n| {
    ///     done.fetch_add(n, Ordering::Relaxed);
    /// })?;
    /// assert_eq!(done.into_inner(), 21);
    /// assert_eq!(sel.array.into_array::<i64>()?, a.into_dyn());
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`FlacArray::decompress`].
    pub fn decompress_with_progress(
        &self,
        opts: &ReadOptions<'_>,
        progress: Progress<'_>,
    ) -> Result<Selection> {
        self.decompress_progress(opts, Some(progress))
    }

    fn decompress_progress(
        &self,
        opts: &ReadOptions<'_>,
        progress: Option<Progress<'_>>,
    ) -> Result<Selection> {
        let plan = self.plan(opts)?;
        let t = opts.threads;
        let array = match self.dtype {
            DType::Int32 => DecodedArray::Int32(self.run_plan::<i32>(&plan, t, progress)?),
            DType::Int64 => DecodedArray::Int64(self.run_plan::<i64>(&plan, t, progress)?),
            DType::Float32 => DecodedArray::Float32(self.run_plan::<f32>(&plan, t, progress)?),
            DType::Float64 => DecodedArray::Float64(self.run_plan::<f64>(&plan, t, progress)?),
        };
        Ok(Selection {
            array,
            indices: plan.indices,
        })
    }

    fn run_plan<T: Element>(
        &self,
        plan: &Plan,
        threads: Option<usize>,
        progress: Option<Progress<'_>>,
    ) -> Result<ArrayD<T>> {
        let mut buf = vec![T::default(); plan.streams.len() * plan.range.len()];
        let src = self.source();
        with_threads(threads, || {
            codec::decode_progress(
                &src,
                &plan.streams,
                plan.range.clone(),
                T::output(&mut buf),
                progress,
            )
        })??;
        ArrayD::from_shape_vec(IxDyn(&plan.shape), buf)
            .map_err(|e| Error::InvalidArgument(e.to_string()))
    }

    /// Decodes the contiguous streams `streams` (flat C-order indices over the leading
    /// shape: for an array of shape `(R, C, N)`, rows `a..b` are streams
    /// `a*C..b*C`), samples `stream_slice` of each, as a `(streams.len(), n_samples)`
    /// array. Only those streams are read.
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray, SampleSlice};
    /// let a = ndarray::Array::from_shape_fn((4, 30), |(i, k)| (i * 100 + k) as i32);
    /// let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
    /// let v = fa.decompress_streams(1..3, SampleSlice::new(Some(-2), None), None)?;
    /// assert_eq!(v.into_array::<i32>()?.into_raw_vec_and_offset().0, [128, 129, 228, 229]);
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Index`] for streams beyond [`FlacArray::n_streams`] or a slice stop
    /// beyond the stream; [`Error::Flac`] when a stream does not decode.
    pub fn decompress_streams(
        &self,
        streams: std::ops::Range<usize>,
        stream_slice: SampleSlice,
        threads: Option<usize>,
    ) -> Result<DecodedArray> {
        fn typed<T: Element>(
            fa: &FlacArray,
            streams: std::ops::Range<usize>,
            slice: SampleSlice,
            threads: Option<usize>,
        ) -> Result<DecodedArray> {
            let n = slice.resolve(fa.stream_size)?.len();
            let mut out = vec![T::default(); streams.len() * n];
            let rows = streams.len();
            fa.decompress_streams_into(streams, slice, &mut out, threads)?;
            ArrayD::from_shape_vec(IxDyn(&[rows, n]), out)
                .map(T::into_decoded)
                .map_err(|e| Error::InvalidArgument(e.to_string()))
        }
        match self.dtype {
            DType::Int32 => typed::<i32>(self, streams, stream_slice, threads),
            DType::Int64 => typed::<i64>(self, streams, stream_slice, threads),
            DType::Float32 => typed::<f32>(self, streams, stream_slice, threads),
            DType::Float64 => typed::<f64>(self, streams, stream_slice, threads),
        }
    }

    /// [`FlacArray::decompress_streams`] into a caller's buffer of exactly
    /// `streams.len() × n_samples` values of the stored type, stream after stream.
    ///
    /// # Errors
    /// As [`FlacArray::decompress_streams`]; [`Error::InvalidArgument`] for a buffer
    /// of the wrong type or length.
    pub fn decompress_streams_into<T: Element>(
        &self,
        streams: std::ops::Range<usize>,
        stream_slice: SampleSlice,
        out: &mut [T],
        threads: Option<usize>,
    ) -> Result<()> {
        if streams.end > self.n_streams() {
            return Err(Error::Index(format!(
                "streams {}..{} out of range for {} streams",
                streams.start,
                streams.end,
                self.n_streams()
            )));
        }
        let range = stream_slice.resolve(self.stream_size)?;
        let sel: Vec<usize> = streams.collect();
        self.decode_streams(&sel, range, out, threads)
    }

    /// Decodes samples `range` of the flat streams `streams` into `out` (row after row).
    pub(crate) fn decode_streams<T: Element>(
        &self,
        streams: &[usize],
        range: std::ops::Range<usize>,
        out: &mut [T],
        threads: Option<usize>,
    ) -> Result<()> {
        let src = self.source();
        with_threads(threads, || {
            codec::decode(&src, streams, range, T::output(out))
        })?
    }

    /// The shape [`FlacArray::decompress`] gives for `opts`, without decoding: for a
    /// caller that allocates the output itself ([`FlacArray::decompress_into`]).
    ///
    /// # Errors
    /// As [`FlacArray::decompress`] for the selection.
    pub fn selection_shape(&self, opts: &ReadOptions<'_>) -> Result<Vec<usize>> {
        Ok(self.plan(opts)?.shape)
    }

    /// [`FlacArray::decompress`] into a caller's buffer, which must hold exactly the
    /// selection (`n_streams × n_samples` values of the stored type); returns the
    /// selection's shape.
    ///
    /// # Errors
    /// As [`FlacArray::decompress`]; [`Error::InvalidArgument`] for a buffer of
    /// the wrong type or length.
    pub fn decompress_into<T: Element>(
        &self,
        opts: &ReadOptions<'_>,
        out: &mut [T],
    ) -> Result<SelectionShape> {
        let plan = self.plan(opts)?;
        self.decode_streams(&plan.streams, plan.range.clone(), out, opts.threads)?;
        Ok(SelectionShape {
            shape: plan.shape,
            indices: plan.indices,
        })
    }

    /// numpy basic indexing over [`FlacArray::shape`]: integers (negative count from
    /// the end, out of range is an error), slices with any nonzero step, `...` and new
    /// axes. Missing trailing axes are full slices. A key of integers only returns a
    /// 0-d array holding the element. Only the selected streams, and the frames that
    /// cover the selected samples, are decoded (a negative step decodes the covering
    /// range and reverses it).
    ///
    /// ```
    /// use flacarray_core::{CompressOptions, FlacArray, Index};
    /// let a = ndarray::Array::from_shape_fn((3, 4, 20), |(i, j, k)| (i * 1000 + j * 100 + k) as i64);
    /// let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
    /// let v = fa.select("1, ::-2, 5:8")?.into_array::<i64>()?;
    /// assert_eq!(v.shape(), &[2, 3]);
    /// assert_eq!(v.as_slice().unwrap(), &[1305, 1306, 1307, 1105, 1106, 1107]);
    /// let e = fa.get(&[Index::Int(-1), Index::Int(0), Index::Int(-1)])?.into_array::<i64>()?;
    /// assert_eq!(e.ndim(), 0);
    /// assert_eq!(e[[]], 2019);
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Index`] for too many indices or an integer out of range,
    /// [`Error::InvalidArgument`] for a zero step.
    pub fn get(&self, key: &[Index]) -> Result<DecodedArray> {
        Ok(match self.dtype {
            DType::Int32 => DecodedArray::Int32(self.get_typed::<i32>(key)?),
            DType::Int64 => DecodedArray::Int64(self.get_typed::<i64>(key)?),
            DType::Float32 => DecodedArray::Float32(self.get_typed::<f32>(key)?),
            DType::Float64 => DecodedArray::Float64(self.get_typed::<f64>(key)?),
        })
    }

    /// [`FlacArray::get`] with a key parsed by [`parse_index`] (e.g. `"1, ::-1, 100:200"`).
    ///
    /// # Errors
    /// As [`parse_index`] and [`FlacArray::get`].
    pub fn select(&self, key: &str) -> Result<DecodedArray> {
        self.get(&parse_index(key)?)
    }

    /// [`FlacArray::get`] as `ArrayD<T>`.
    ///
    /// # Errors
    /// As [`FlacArray::get`]; [`Error::InvalidArgument`] when `T` is not the
    /// stored type.
    pub fn get_typed<T: Element>(&self, key: &[Index]) -> Result<ArrayD<T>> {
        if T::DTYPE != self.dtype {
            return Err(Error::InvalidArgument(format!(
                "the array holds {}, not {}",
                self.dtype,
                T::DTYPE
            )));
        }
        let shape = self.shape();
        let r = resolve_key(key, &shape)?;
        let (sample_axis, lead_axes) = r
            .axes
            .split_last()
            .ok_or_else(|| Error::Index("empty shape".into()))?;
        // Streams in C order over the selected leading positions. A 1-d array's
        // implicit leading axis `(1,)` selects stream 0.
        let mut streams = vec![0usize];
        for (ax, sel) in lead_axes.iter().enumerate() {
            let n = self.leading_shape[ax];
            let mut next = Vec::with_capacity(streams.len() * sel.len);
            for &s in &streams {
                next.extend(sel.positions().map(|p| s * n + p));
            }
            streams = next;
        }
        let n_out = sample_axis.len;
        let total = streams.len() * n_out;
        let mut out = vec![T::default(); total];
        if total > 0 {
            // Covering range of the selected samples, whatever the step's sign.
            let first = sample_axis.start;
            let last = first + sample_axis.step * (n_out as i64 - 1);
            let (lo, hi) = (first.min(last), first.max(last));
            let lo = usize::try_from(lo).map_err(|_| Error::Index("negative sample".into()))?;
            let hi = usize::try_from(hi).map_err(|_| Error::Index("negative sample".into()))? + 1;
            if sample_axis.step == 1 {
                self.decode_streams(&streams, lo..hi, &mut out, None)?;
            } else {
                let width = hi - lo;
                let mut cover = vec![T::default(); streams.len() * width];
                self.decode_streams(&streams, lo..hi, &mut cover, None)?;
                for (row, o) in cover.chunks_exact(width).zip(out.chunks_exact_mut(n_out)) {
                    for (o, p) in o.iter_mut().zip(sample_axis.positions()) {
                        *o = row[p - lo];
                    }
                }
            }
        }
        ArrayD::from_shape_vec(IxDyn(&r.shape), out)
            .map_err(|e| Error::InvalidArgument(e.to_string()))
    }

    /// A new array holding only the kept streams (no decoding: the bytes are copied).
    /// Its leading shape is `(n_kept,)`, reported 1-d when exactly one stream is kept
    /// and `no_flatten` is false, as 0.4.1's `read_hdf5(keep=...)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a mask of the wrong length or no kept stream.
    pub fn keep_streams(&self, keep: &[bool], no_flatten: bool) -> Result<Self> {
        let streams = kept_streams(keep, &self.leading_shape)?;
        if streams.is_empty() {
            return Err(Error::InvalidArgument(
                "the keep mask keeps no stream".into(),
            ));
        }
        let mut compressed = Vec::new();
        let mut starts = Vec::with_capacity(streams.len());
        let mut nbytes = Vec::with_capacity(streams.len());
        for &g in &streams {
            starts.push(compressed.len() as u64);
            nbytes.push(self.nbytes[g]);
            compressed.extend_from_slice(self.source().stream_bytes(g));
        }
        Self::from_parts(FlacArrayParts {
            leading_shape: vec![streams.len()],
            stream_size: self.stream_size,
            one_d: streams.len() == 1 && !no_flatten,
            dtype: self.dtype,
            compressed,
            starts,
            nbytes,
            scaling: self.scaling.select(&streams),
            format_version: self.format_version,
        })?
        .with_extension(
            self.logical,
            self.nonfinite.as_ref().map(|nf| nf.select(&streams)),
        )
    }
}

/// Checks what [`FlacArray::with_extension`] adds against the stored type, the format
/// version and the streams (shared with the range reads of `crate::store`, which
/// decode without building a [`FlacArray`]).
pub(crate) fn check_extension(
    dtype: DType,
    format_version: u32,
    n_streams: usize,
    stream_size: usize,
    logical: LogicalDType,
    nonfinite: Option<&NonFinite>,
) -> Result<()> {
    if logical.stored() != dtype {
        return Err(Error::Corrupt(format!(
            "recorded type {logical} is not stored as {}",
            dtype
        )));
    }
    if let Some(nf) = nonfinite {
        if !dtype.is_float() {
            return Err(Error::Corrupt(format!(
                "non-finite samples recorded for {} data",
                dtype
            )));
        }
        if format_version < 2 {
            return Err(Error::Corrupt(format!(
                "non-finite samples recorded in a format {} group",
                format_version
            )));
        }
        nf.check(n_streams, stream_size, dtype == DType::Float64)?;
    }
    Ok(())
}

impl std::fmt::Display for FlacArray {
    /// `<FlacArray int32 shape=(2, 3, 40) bytes=220>`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<FlacArray {} shape={} bytes={}>",
            self.logical,
            fmt_index(&self.shape()),
            self.compressed.len()
        )
    }
}

impl DecodedArray {
    /// An array of `dtype` and `shape` holding no value (one axis at least is 0).
    ///
    /// ```
    /// use flacarray_core::{DType, DecodedArray};
    /// let e = DecodedArray::empty(DType::Float32, &[0, 5])?;
    /// assert_eq!((e.dtype(), e.shape()), (DType::Float32, &[0, 5][..]));
    /// assert!(DecodedArray::empty(DType::Int32, &[2, 5]).is_err());
    /// # Ok::<(), flacarray_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `shape` holds values.
    pub fn empty(dtype: DType, shape: &[usize]) -> Result<Self> {
        fn of<T: Element>(shape: &[usize]) -> Result<DecodedArray> {
            ArrayD::from_shape_vec(IxDyn(shape), Vec::new())
                .map(T::into_decoded)
                .map_err(|e| Error::InvalidArgument(format!("empty array {shape:?}: {e}")))
        }
        match dtype {
            DType::Int32 => of::<i32>(shape),
            DType::Int64 => of::<i64>(shape),
            DType::Float32 => of::<f32>(shape),
            DType::Float64 => of::<f64>(shape),
        }
    }
}

/// A shape as Python prints a tuple: `(3,)`, `(2, 5)`, `()`.
///
/// ```
/// assert_eq!(flacarray_core::fmt_shape(&[3]), "(3,)");
/// assert_eq!(flacarray_core::fmt_shape(&[2_u64, 5]), "(2, 5)");
/// assert_eq!(flacarray_core::fmt_shape::<usize>(&[]), "()");
/// ```
#[must_use]
pub fn fmt_shape<T: std::fmt::Display>(shape: &[T]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(ToString::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}
