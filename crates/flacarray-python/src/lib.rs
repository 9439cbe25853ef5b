//! The compiled part of the Python package `flacarray_rs` (imported as
//! `flacarray_rs._native`): thin entry points into `flacarray-core` and
//! `flacarray-quant` that take and return numpy arrays.
//!
//! Everything numeric runs here with the GIL released; the Python package around it
//! (shapes, keep masks, files through h5py / zarr-python, MPI through mpi4py) decides
//! what to call. This crate links neither libhdf5 nor MPI on purpose: h5py wheels
//! carry their own libhdf5, and two copies in one process share no global state.
//!
//! Errors are raised as the exception classes of `flacarray_rs._errors`, which derive
//! from both `ValueError` and `RuntimeError` (and `IndexError` for bad indices), so
//! code written against flacarray 0.4.1 catches them whichever it expected.

use flacarray_core::integrity::{Checksums, header_hash};
use flacarray_core::{
    CompressOptions, DType, Error as CoreError, FlacArray, FlacArrayParts, Index, LogicalArray,
    LogicalDType, NonFinite, PrecisionOption, QuantaOption, ReadOptions, SampleSlice, StoredMeta,
    StreamScaling, Value, f16,
};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use numpy::{
    IntoPyArray, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Raises `flacarray_rs._errors.<class_name>(msg)` (falls back to `RuntimeError` if
/// the Python module cannot be imported, which only happens in a broken install).
fn py_error(py: Python<'_>, class_name: &str, msg: String) -> PyErr {
    let cls = py
        .import("flacarray_rs._errors")
        .and_then(|m| m.getattr(class_name));
    match cls {
        Ok(c) => match c.call1((msg.clone(),)) {
            Ok(v) => PyErr::from_value(v),
            Err(e) => e,
        },
        Err(_) => pyo3::exceptions::PyRuntimeError::new_err(msg),
    }
}

/// Maps a core error onto the package's exception classes. The message is the
/// error's `Display`, the same text the command line tool prints.
fn core_err(py: Python<'_>, e: &CoreError) -> PyErr {
    let class = match e {
        CoreError::Index(_) => "FlacArrayIndexError",
        CoreError::Corrupt(_) | CoreError::Flac { .. } | CoreError::Store(_) => "CorruptDataError",
        _ => "FlacArrayError",
    };
    py_error(py, class, e.to_string())
}

fn arg_err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    py_error(py, "FlacArrayError", msg.into())
}

fn dtype_of(py: Python<'_>, name: &str) -> PyResult<DType> {
    DType::from_name(name).map_err(|e| core_err(py, &e))
}

/// Quanta argument: `None`, a float, or a 1-d float64 array with one value per stream.
fn quanta_opt(q: Option<&Bound<'_, PyAny>>) -> PyResult<Option<QuantaOption>> {
    let Some(q) = q else { return Ok(None) };
    if q.is_none() {
        return Ok(None);
    }
    if let Ok(a) = q.extract::<PyReadonlyArray1<'_, f64>>() {
        return Ok(Some(QuantaOption::PerStream(a.as_array().to_vec())));
    }
    Ok(Some(QuantaOption::Scalar(q.extract::<f64>()?)))
}

/// Precision argument: `None`, an int, or a 1-d int32 array with one value per stream.
fn precision_opt(p: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PrecisionOption>> {
    let Some(p) = p else { return Ok(None) };
    if p.is_none() {
        return Ok(None);
    }
    if let Ok(a) = p.extract::<PyReadonlyArray1<'_, i32>>() {
        return Ok(Some(PrecisionOption::PerStream(a.as_array().to_vec())));
    }
    Ok(Some(PrecisionOption::Scalar(p.extract::<i32>()?)))
}

/// `threads` argument: `None` or 0 means one thread (0.4.1's `use_threads=False`
/// path), `n` a pool of `n` threads. The values never depend on it.
fn threads_opt(threads: Option<usize>) -> Option<usize> {
    Some(threads.unwrap_or(1).max(1))
}

type CompressOut<'py> = (
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Option<Bound<'py, PyAny>>,
    Option<Bound<'py, PyAny>>,
    u32,
    Option<Bound<'py, PyArray1<u8>>>,
    Option<Bound<'py, PyArray1<u8>>>,
);

fn compress_typed<'py, T>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    opts: &CompressOptions,
) -> PyResult<FlacArray>
where
    T: Value + numpy::Element,
{
    let a = arr.extract::<PyReadonlyArrayDyn<'py, T>>()?;
    let view = a.as_array();
    let r = py.detach(|| FlacArray::from_array(&view, opts));
    r.map_err(|e| core_err(py, &e))
}

/// float16 input: numpy hands the bits over as uint16 (`arr.view("uint16")`).
fn compress_f16<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    opts: &CompressOptions,
) -> PyResult<FlacArray> {
    let bits = arr.call_method1("view", ("uint16",))?;
    let a = bits.extract::<PyReadonlyArrayDyn<'py, u16>>()?;
    let halves = a.as_array().mapv(f16::from_bits);
    let r = py.detach(|| FlacArray::from_array(&halves, opts));
    r.map_err(|e| core_err(py, &e))
}

fn to_i64_vec(py: Python<'_>, v: Vec<u64>) -> PyResult<Vec<i64>> {
    v.into_iter()
        .map(|x| i64::try_from(x).map_err(|_| arg_err(py, "byte offset overflows int64")))
        .collect()
}

/// Compresses an array of numpy type `dtype` (`"int32"`, `"int64"`, `"float32"`,
/// `"float64"` or a type they carry: `"bool"`, `"int8"`, `"int16"`, `"uint8"`,
/// `"uint16"`, `"uint32"`, `"uint64"`, `"float16"`), any dimension >= 1 (axes of
/// length 0 allowed), C order. Returns flat `(compressed, starts, nbytes, offsets,
/// gains, format_version, nonfinite_flags, nonfinite_runs)`; offsets and gains are
/// `None` for integers, the non-finite arrays `None` unless `keep_nonfinite` kept some.
#[pyfunction]
#[pyo3(signature = (arr, dtype, level=5, quanta=None, precision=None, threads=None, keep_nonfinite=false))]
#[allow(clippy::too_many_arguments)]
fn compress<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    dtype: &str,
    level: i64,
    quanta: Option<&Bound<'py, PyAny>>,
    precision: Option<&Bound<'py, PyAny>>,
    threads: Option<usize>,
    keep_nonfinite: bool,
) -> PyResult<CompressOut<'py>> {
    let level = u8::try_from(level)
        .ok()
        .filter(|l| *l <= 8)
        .ok_or_else(|| arg_err(py, format!("compression level {level} is not in 0..=8")))?;
    let opts = CompressOptions {
        level,
        quanta: quanta_opt(quanta)?,
        precision: precision_opt(precision)?,
        threads: threads_opt(threads),
        keep_nonfinite,
        ..Default::default()
    };
    let logical = LogicalDType::from_name(dtype).map_err(|e| core_err(py, &e))?;
    let fa = match logical {
        LogicalDType::Bool => compress_typed::<bool>(py, arr, &opts)?,
        LogicalDType::Int8 => compress_typed::<i8>(py, arr, &opts)?,
        LogicalDType::Int16 => compress_typed::<i16>(py, arr, &opts)?,
        LogicalDType::Int32 => compress_typed::<i32>(py, arr, &opts)?,
        LogicalDType::Int64 => compress_typed::<i64>(py, arr, &opts)?,
        LogicalDType::Uint8 => compress_typed::<u8>(py, arr, &opts)?,
        LogicalDType::Uint16 => compress_typed::<u16>(py, arr, &opts)?,
        LogicalDType::Uint32 => compress_typed::<u32>(py, arr, &opts)?,
        LogicalDType::Uint64 => compress_typed::<u64>(py, arr, &opts)?,
        LogicalDType::Float16 => compress_f16(py, arr, &opts)?,
        LogicalDType::Float32 => compress_typed::<f32>(py, arr, &opts)?,
        LogicalDType::Float64 => compress_typed::<f64>(py, arr, &opts)?,
    };
    let nonfinite = fa
        .nonfinite()
        .map(|nf| (nf.flags(fa.stream_size()), nf.encode()));
    let parts = fa.into_parts();
    let (offsets, gains) = scaling_to_py(py, parts.scaling);
    let (flags, runs) = match nonfinite {
        Some((f, r)) => (
            Some(PyArray1::from_vec(py, f)),
            Some(PyArray1::from_vec(py, r)),
        ),
        None => (None, None),
    };
    Ok((
        PyArray1::from_vec(py, parts.compressed),
        PyArray1::from_vec(py, to_i64_vec(py, parts.starts)?),
        PyArray1::from_vec(py, to_i64_vec(py, parts.nbytes)?),
        offsets,
        gains,
        parts.format_version,
        flags,
        runs,
    ))
}

/// The stored type that carries numpy type `logical` (`"uint16"` -> `"int32"`).
#[pyfunction]
fn stored_dtype(py: Python<'_>, logical: &str) -> PyResult<&'static str> {
    let l = LogicalDType::from_name(logical).map_err(|e| core_err(py, &e))?;
    Ok(l.stored().name())
}

/// Two uint8 numpy arrays (non-finite flags and runs).
type ByteArrays<'py> = (Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<u8>>);

/// Parses and checks a group's stored non-finite flags and runs (for streams of
/// `stream_size` samples over `leading_shape`, float64 data or float32) and returns
/// the flags and runs of the flat streams `indices`, in that order.
#[pyfunction]
fn nonfinite_select<'py>(
    py: Python<'py>,
    flags: PyReadonlyArray1<'py, u8>,
    runs: PyReadonlyArray1<'py, u8>,
    stream_size: usize,
    leading_shape: Vec<usize>,
    float64: bool,
    indices: Vec<usize>,
) -> PyResult<ByteArrays<'py>> {
    let f = flags.as_array().to_vec();
    let r = runs.as_array().to_vec();
    let n = f.len();
    if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
        return Err(arg_err(py, format!("stream {bad} of {n} streams")));
    }
    let res = py.detach(|| {
        NonFinite::decode(&f, &r, stream_size, &leading_shape, float64).map(|nf| {
            let sub = nf.select(&indices);
            (sub.flags(stream_size), sub.encode())
        })
    });
    let (f, r) = res.map_err(|e| core_err(py, &e))?;
    Ok((PyArray1::from_vec(py, f), PyArray1::from_vec(py, r)))
}

/// The value of the group attribute `flacarray_rs_checksums` for an array of stored
/// `dtype` in format `version`, from the sums of every rank's
/// [`Engine::checksum_parts`] (each modulo 2^64).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn checksum_attr(
    py: Python<'_>,
    version: u32,
    dtype: &str,
    leading_shape: Vec<usize>,
    stream_size: usize,
    total_bytes: u64,
    table: u64,
    streams: u64,
    writer: &str,
) -> PyResult<String> {
    let dtype = dtype_of(py, dtype)?;
    let meta = StoredMeta {
        format_version: version,
        dtype,
        leading_shape,
        stream_size,
        total_bytes,
    };
    Ok(Checksums {
        dtype,
        writer: writer.to_owned(),
        table: header_hash(&meta).wrapping_add(table),
        streams,
    }
    .to_attr())
}

fn scaling_to_py(
    py: Python<'_>,
    s: StreamScaling,
) -> (Option<Bound<'_, PyAny>>, Option<Bound<'_, PyAny>>) {
    match s {
        StreamScaling::F32 { offsets, gains } => (
            Some(PyArray1::from_vec(py, offsets).into_any()),
            Some(PyArray1::from_vec(py, gains).into_any()),
        ),
        StreamScaling::F64 { offsets, gains } => (
            Some(PyArray1::from_vec(py, offsets).into_any()),
            Some(PyArray1::from_vec(py, gains).into_any()),
        ),
        StreamScaling::I64Offsets(o) => (Some(PyArray1::from_vec(py, o).into_any()), None),
        StreamScaling::None => (None, None),
    }
}

/// Builds the per-stream parameters from flat numpy arrays, for `dtype` in format
/// `version`.
fn scaling_from_py(
    py: Python<'_>,
    dtype: DType,
    version: u32,
    offsets: Option<&Bound<'_, PyAny>>,
    gains: Option<&Bound<'_, PyAny>>,
) -> PyResult<StreamScaling> {
    let offsets = offsets.filter(|o| !o.is_none());
    let gains = gains.filter(|g| !g.is_none());
    Ok(match (dtype, offsets, gains) {
        (DType::Int32, None, None) => StreamScaling::None,
        (DType::Int64, None, None) if version >= 1 => StreamScaling::None,
        (DType::Int64, Some(o), None) if version == 0 => {
            StreamScaling::I64Offsets(o.extract::<PyReadonlyArray1<'_, i64>>()?.to_vec()?)
        }
        (DType::Float32, Some(o), Some(g)) => StreamScaling::F32 {
            offsets: o.extract::<PyReadonlyArray1<'_, f32>>()?.to_vec()?,
            gains: g.extract::<PyReadonlyArray1<'_, f32>>()?.to_vec()?,
        },
        (DType::Float64, Some(o), Some(g)) => StreamScaling::F64 {
            offsets: o.extract::<PyReadonlyArray1<'_, f64>>()?.to_vec()?,
            gains: g.extract::<PyReadonlyArray1<'_, f64>>()?.to_vec()?,
        },
        _ => {
            return Err(arg_err(
                py,
                format!(
                    "stream offsets and gains do not match {dtype} data in format \
                     version {version} (floats need both, integers neither)"
                ),
            ));
        }
    })
}

fn u64_vec(py: Python<'_>, a: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u64>> {
    let a = a.extract::<PyReadonlyArrayDyn<'_, i64>>()?;
    a.as_array()
        .iter()
        .map(|&v| {
            u64::try_from(v).map_err(|_| {
                py_error(
                    py,
                    "CorruptDataError",
                    format!("corrupt flacarray data: negative stream {what} {v}"),
                )
            })
        })
        .collect()
}

/// A compressed array held by the engine: the parts of a Python `FlacArray` checked
/// once (every stream's byte range inside the buffer, parameters matching the dtype)
/// and kept for repeated decoding and indexing.
#[pyclass(module = "flacarray_rs._native", frozen)]
struct Engine {
    inner: FlacArray,
}

#[pymethods]
impl Engine {
    /// `Engine(compressed, stream_size, starts, nbytes, dtype, offsets, gains,
    /// leading_shape, one_d, version, logical, nonfinite_flags, nonfinite_runs)`;
    /// `starts`/`nbytes`/`offsets`/`gains`/`nonfinite_flags` flat in C order over
    /// `leading_shape`. `dtype` is the stored type, `logical` the type decoding
    /// returns (default: the stored one).
    #[new]
    #[pyo3(signature = (compressed, stream_size, starts, nbytes, dtype, offsets, gains, leading_shape, one_d, version=1, logical=None, nonfinite_flags=None, nonfinite_runs=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        compressed: PyReadonlyArray1<'_, u8>,
        stream_size: usize,
        starts: &Bound<'_, PyAny>,
        nbytes: &Bound<'_, PyAny>,
        dtype: &str,
        offsets: Option<&Bound<'_, PyAny>>,
        gains: Option<&Bound<'_, PyAny>>,
        leading_shape: Vec<usize>,
        one_d: bool,
        version: u32,
        logical: Option<&str>,
        nonfinite_flags: Option<PyReadonlyArray1<'_, u8>>,
        nonfinite_runs: Option<PyReadonlyArray1<'_, u8>>,
    ) -> PyResult<Self> {
        let dtype = dtype_of(py, dtype)?;
        let logical = match logical {
            None => LogicalDType::from(dtype),
            Some(name) => LogicalDType::from_name(name).map_err(|e| core_err(py, &e))?,
        };
        let parts = FlacArrayParts {
            leading_shape,
            stream_size,
            one_d,
            dtype,
            compressed: compressed.as_array().to_vec(),
            starts: u64_vec(py, starts, "start")?,
            nbytes: u64_vec(py, nbytes, "byte count")?,
            scaling: scaling_from_py(py, dtype, version, offsets, gains)?,
            format_version: version,
        };
        let stream_size = parts.stream_size;
        let leading = parts.leading_shape.clone();
        let mut inner = FlacArray::from_parts(parts).map_err(|e| core_err(py, &e))?;
        let nonfinite = match (nonfinite_flags, nonfinite_runs) {
            (None, None) => None,
            (Some(f), Some(r)) => Some(
                NonFinite::decode(
                    f.as_slice()?,
                    r.as_slice()?,
                    stream_size,
                    &leading,
                    dtype == DType::Float64,
                )
                .map_err(|e| core_err(py, &e))?,
            ),
            _ => {
                return Err(arg_err(
                    py,
                    "non-finite flags and runs must be given together",
                ));
            }
        };
        if nonfinite.is_some() || logical != LogicalDType::from(dtype) {
            inner = inner
                .with_extension(logical, nonfinite)
                .map_err(|e| core_err(py, &e))?;
        }
        Ok(Self { inner })
    }

    /// This array's part of the checksums `flacarray_rs_checksums`: `(table, streams)`
    /// sums when its streams are flat streams `first..` of the stored array and its
    /// bytes start at byte `byte_offset` of the stored bytes.
    fn checksum_parts(&self, first: usize, byte_offset: u64) -> (u64, u64) {
        Checksums::parts(&self.inner, first, byte_offset)
    }

    /// Decodes the kept streams (flat bool mask in C order, or `None` for all) and
    /// samples `first..last` (Python slice bounds, `None` allowed). Returns a 2-d
    /// `(n_kept, n_samples)` array with a mask, else leading shape + `(n_samples,)`.
    #[pyo3(signature = (keep=None, first=None, last=None, threads=None))]
    fn decompress<'py>(
        &self,
        py: Python<'py>,
        keep: Option<PyReadonlyArray1<'py, bool>>,
        first: Option<i64>,
        last: Option<i64>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let keep_vec = keep.as_ref().map(|k| k.as_array().to_vec());
        let inner = &self.inner;
        let opts = ReadOptions {
            keep: keep_vec.as_deref(),
            stream_slice: SampleSlice::new(first, last),
            keep_indices: false,
            no_flatten: true,
            threads: threads_opt(threads),
        };
        if inner.logical_dtype().is_stored() {
            return match inner.dtype() {
                DType::Int32 => decompress_to_numpy::<i32>(py, inner, &opts),
                DType::Int64 => decompress_to_numpy::<i64>(py, inner, &opts),
                DType::Float32 => decompress_to_numpy::<f32>(py, inner, &opts),
                DType::Float64 => decompress_to_numpy::<f64>(py, inner, &opts),
            };
        }
        let r = py.detach(|| inner.decompress(&opts));
        let sel = r.map_err(|e| core_err(py, &e))?;
        logical_to_py(py, sel.array, inner.logical_dtype())
    }

    /// numpy basic indexing: `key` is a list of `int`, `(start, stop, step)` tuples,
    /// `Ellipsis` and `None`. Integer-only keys return a 0-d array.
    fn get<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let mut items = Vec::new();
        for it in key.try_iter()? {
            let it = it?;
            if it.is_none() {
                items.push(Index::NewAxis);
            } else if it.is(py.Ellipsis()) {
                items.push(Index::Ellipsis);
            } else if let Ok(t) = it.cast::<PyTuple>() {
                let (start, stop, step): (Option<i64>, Option<i64>, Option<i64>) = t.extract()?;
                items.push(Index::Slice { start, stop, step });
            } else if let Ok(i) = it.extract::<i64>() {
                items.push(Index::Int(i));
            } else {
                return Err(PyTypeError::new_err(
                    "only integers, slices, Ellipsis and None are valid indices",
                ));
            }
        }
        let inner = &self.inner;
        let r = py.detach(|| inner.get(&items));
        let arr = r.map_err(|e| core_err(py, &e))?;
        logical_to_py(py, arr, inner.logical_dtype())
    }

    /// Total compressed bytes held.
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.nbytes()
    }
}

/// Decodes a selection of `fa` (stored and logical type `T`) straight into a new
/// numpy array. numpy allocates arrays of 4 MiB and more on transparent huge pages
/// (`madvise`), so a large output costs a few hundred page faults rather than one
/// per 4 KiB, and no Rust buffer is made and handed over.
fn decompress_to_numpy<'py, T: flacarray_core::Element + numpy::Element>(
    py: Python<'py>,
    fa: &FlacArray,
    opts: &ReadOptions<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = fa.selection_shape(opts).map_err(|e| core_err(py, &e))?;
    let arr = PyArrayDyn::<T>::zeros(py, IxDyn(&shape), false);
    {
        let mut rw = arr.readwrite();
        let out = rw
            .as_slice_mut()
            .map_err(|e| PyTypeError::new_err(e.to_string()))?;
        py.detach(|| fa.decompress_into(opts, out))
            .map_err(|e| core_err(py, &e))?;
    }
    Ok(arr.into_any())
}

/// Decoded values in the logical type as numpy (float16 through its uint16 bits,
/// viewed as float16).
fn logical_to_py(
    py: Python<'_>,
    a: flacarray_core::DecodedArray,
    logical: LogicalDType,
) -> PyResult<Bound<'_, PyAny>> {
    use LogicalArray as L;
    let v = LogicalArray::from_decoded(a, logical).map_err(|e| core_err(py, &e))?;
    Ok(match v {
        L::Bool(a) => a.into_pyarray(py).into_any(),
        L::Int8(a) => a.into_pyarray(py).into_any(),
        L::Int16(a) => a.into_pyarray(py).into_any(),
        L::Int32(a) => a.into_pyarray(py).into_any(),
        L::Int64(a) => a.into_pyarray(py).into_any(),
        L::Uint8(a) => a.into_pyarray(py).into_any(),
        L::Uint16(a) => a.into_pyarray(py).into_any(),
        L::Uint32(a) => a.into_pyarray(py).into_any(),
        L::Uint64(a) => a.into_pyarray(py).into_any(),
        L::Float16(a) => a
            .mapv(f16::to_bits)
            .into_pyarray(py)
            .into_any()
            .call_method1("view", ("float16",))?,
        L::Float32(a) => a.into_pyarray(py).into_any(),
        L::Float64(a) => a.into_pyarray(py).into_any(),
    })
}

/// Quantizes float data of shape `(n_streams, stream_size)` with a quanta or a
/// precision (0.4.1's `float_to_int`). Returns `(ints, offsets, gains)`, flat params.
#[pyfunction]
#[pyo3(signature = (data, quanta=None, precision=None))]
fn float_to_int<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    quanta: Option<&Bound<'py, PyAny>>,
    precision: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let q = quanta_opt(quanta)?;
    let p = precision_opt(precision)?;
    if let Ok(a) = data.extract::<PyReadonlyArrayDyn<'py, f32>>() {
        let (i, o, g) = quantize_typed::<f32>(py, &a, q.as_ref(), p.as_ref())?;
        return Ok((
            i.into_pyarray(py).into_any(),
            PyArray1::from_vec(py, o).into_any(),
            PyArray1::from_vec(py, g).into_any(),
        ));
    }
    let a = data.extract::<PyReadonlyArrayDyn<'py, f64>>()?;
    let (i, o, g) = quantize_typed::<f64>(py, &a, q.as_ref(), p.as_ref())?;
    Ok((
        i.into_pyarray(py).into_any(),
        PyArray1::from_vec(py, o).into_any(),
        PyArray1::from_vec(py, g).into_any(),
    ))
}

type Quantized<T> = (
    ArrayD<<T as flacarray_quant::QuantFloat>::Int>,
    Vec<T>,
    Vec<T>,
);

fn quantize_typed<T>(
    py: Python<'_>,
    a: &PyReadonlyArrayDyn<'_, T>,
    q: Option<&QuantaOption>,
    p: Option<&PrecisionOption>,
) -> PyResult<Quantized<T>>
where
    T: flacarray_quant::QuantFloat + numpy::Element,
    T::Int: Send,
{
    use flacarray_quant::{Precision, QuantSpec, Quanta};
    let view = a.as_array();
    let shape = view.shape().to_vec();
    let Some((&stream_size, lead)) = shape.split_last() else {
        return Err(arg_err(py, "cannot quantize a 0-dimensional array"));
    };
    let std = view.as_standard_layout();
    let data = std
        .as_slice()
        .ok_or_else(|| arg_err(py, "array is not contiguous"))?;
    let per: Vec<T>;
    let quanta = match q {
        None => None,
        Some(QuantaOption::Scalar(v)) => Some(Quanta::Scalar(T::from_f64(*v))),
        Some(QuantaOption::PerStream(v)) => {
            per = v.iter().map(|x| T::from_f64(*x)).collect();
            Some(Quanta::PerStream(&per))
        }
    };
    let precision = match p {
        None => None,
        Some(PrecisionOption::Scalar(v)) => Some(Precision::Scalar(*v)),
        Some(PrecisionOption::PerStream(v)) => Some(Precision::PerStream(v)),
    };
    let spec =
        QuantSpec::from_options(quanta, precision).map_err(|e| arg_err(py, e.to_string()))?;
    let lead: Vec<usize> = if lead.is_empty() {
        vec![1]
    } else {
        lead.to_vec()
    };
    let r = py.detach(|| flacarray_quant::quantize(data, stream_size, &spec));
    let qd = r.map_err(|e| {
        // Name the stream by its leading index, as the core engine does.
        let msg = match &e {
            flacarray_quant::Error::NonFinite { stream, .. }
            | flacarray_quant::Error::Overflow { stream, .. }
            | flacarray_quant::Error::InvalidQuanta { stream, .. } => {
                format!(
                    "stream {}: {e}",
                    flacarray_core::stream_name(*stream, &lead)
                )
            }
            _ => e.to_string(),
        };
        arg_err(py, msg)
    })?;
    let ints =
        ArrayD::from_shape_vec(IxDyn(&shape), qd.ints).map_err(|e| arg_err(py, e.to_string()))?;
    Ok((ints, qd.offsets, qd.gains))
}

/// Reconstructs floats from quantized integers of shape `(..., stream_size)` with
/// flat per-stream offsets and gains (0.4.1's `int_to_float`). `version` 0 applies
/// the legacy format's formula to `int32` samples.
#[pyfunction]
#[pyo3(signature = (idata, offsets, gains, version=1))]
fn int_to_float<'py>(
    py: Python<'py>,
    idata: &Bound<'py, PyAny>,
    offsets: &Bound<'py, PyAny>,
    gains: &Bound<'py, PyAny>,
    version: u32,
) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(i) = idata.extract::<PyReadonlyArrayDyn<'py, i32>>() {
        if version == 0 && offsets.extract::<PyReadonlyArray1<'py, f64>>().is_ok() {
            let o = offsets.extract::<PyReadonlyArray1<'py, f64>>()?;
            let g = gains.extract::<PyReadonlyArray1<'py, f64>>()?;
            return dequant(
                py,
                &i.as_array(),
                o.as_slice()?,
                g.as_slice()?,
                flacarray_quant::v0::dequantize::<f64>,
            );
        }
        let o = offsets.extract::<PyReadonlyArray1<'py, f32>>()?;
        let g = gains.extract::<PyReadonlyArray1<'py, f32>>()?;
        return dequant(
            py,
            &i.as_array(),
            o.as_slice()?,
            g.as_slice()?,
            flacarray_quant::dequantize::<f32>,
        );
    }
    let i = idata.extract::<PyReadonlyArrayDyn<'py, i64>>()?;
    let o = offsets.extract::<PyReadonlyArray1<'py, f64>>()?;
    let g = gains.extract::<PyReadonlyArray1<'py, f64>>()?;
    dequant(
        py,
        &i.as_array(),
        o.as_slice()?,
        g.as_slice()?,
        flacarray_quant::dequantize::<f64>,
    )
}

fn dequant<'py, I, T, F>(
    py: Python<'py>,
    ints: &ArrayViewD<'_, I>,
    offsets: &[T],
    gains: &[T],
    f: F,
) -> PyResult<Bound<'py, PyAny>>
where
    I: Clone + Sync,
    T: numpy::Element + Sync + Send,
    F: Fn(&[I], usize, &[T], &[T]) -> flacarray_quant::Result<Vec<T>> + Send + Sync,
{
    let shape = ints.shape().to_vec();
    let stream_size = shape.last().copied().unwrap_or(0);
    if stream_size == 0 {
        return Err(arg_err(py, "integer data must have a non-empty last axis"));
    }
    let std = ints.as_standard_layout();
    let data = std
        .as_slice()
        .ok_or_else(|| arg_err(py, "array is not contiguous"))?;
    let r = py.detach(|| f(data, stream_size, offsets, gains));
    let out = r.map_err(|e| arg_err(py, e.to_string()))?;
    let arr = ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| arg_err(py, e.to_string()))?;
    Ok(PyArrayDyn::from_owned_array(py, arr).into_any())
}

/// Size of the extension's rayon pool when `use_threads=True`.
#[pyfunction]
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The module `flacarray_rs._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(float_to_int, m)?)?;
    m.add_function(wrap_pyfunction!(int_to_float, m)?)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add_function(wrap_pyfunction!(stored_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(nonfinite_select, m)?)?;
    m.add_function(wrap_pyfunction!(checksum_attr, m)?)?;
    m.add_class::<Engine>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
