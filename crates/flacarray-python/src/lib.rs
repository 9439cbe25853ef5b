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

use flacarray_core::{
    CompressOptions, DType, Error as CoreError, FlacArray, FlacArrayParts, Index, PrecisionOption,
    QuantaOption, ReadOptions, SampleSlice, StreamScaling,
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
);

fn compress_typed<'py, T>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    opts: &CompressOptions,
) -> PyResult<FlacArrayParts>
where
    T: flacarray_core::Element + numpy::Element + Sync,
{
    let a = arr.extract::<PyReadonlyArrayDyn<'py, T>>()?;
    let view = a.as_array();
    let r = py.detach(|| FlacArray::from_array(&view, opts));
    r.map(FlacArray::into_parts).map_err(|e| core_err(py, &e))
}

fn to_i64_vec(py: Python<'_>, v: Vec<u64>) -> PyResult<Vec<i64>> {
    v.into_iter()
        .map(|x| i64::try_from(x).map_err(|_| arg_err(py, "byte offset overflows int64")))
        .collect()
}

/// Compresses an array of `dtype` (`"int32"`, `"int64"`, `"float32"`, `"float64"`),
/// any dimension >= 1, C order. Returns flat `(compressed, starts, nbytes, offsets,
/// gains)`; offsets and gains are `None` for integers.
#[pyfunction]
#[pyo3(signature = (arr, dtype, level=5, quanta=None, precision=None, threads=None))]
fn compress<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    dtype: &str,
    level: i64,
    quanta: Option<&Bound<'py, PyAny>>,
    precision: Option<&Bound<'py, PyAny>>,
    threads: Option<usize>,
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
        ..Default::default()
    };
    let parts = match dtype_of(py, dtype)? {
        DType::Int32 => compress_typed::<i32>(py, arr, &opts)?,
        DType::Int64 => compress_typed::<i64>(py, arr, &opts)?,
        DType::Float32 => compress_typed::<f32>(py, arr, &opts)?,
        DType::Float64 => compress_typed::<f64>(py, arr, &opts)?,
    };
    let (offsets, gains) = scaling_to_py(py, parts.scaling);
    Ok((
        PyArray1::from_vec(py, parts.compressed),
        PyArray1::from_vec(py, to_i64_vec(py, parts.starts)?),
        PyArray1::from_vec(py, to_i64_vec(py, parts.nbytes)?),
        offsets,
        gains,
    ))
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
    /// leading_shape, one_d, version)`; `starts`/`nbytes`/`offsets`/`gains` flat in C
    /// order over `leading_shape`.
    #[new]
    #[pyo3(signature = (compressed, stream_size, starts, nbytes, dtype, offsets, gains, leading_shape, one_d, version=1))]
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
    ) -> PyResult<Self> {
        let dtype = dtype_of(py, dtype)?;
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
        let inner = FlacArray::from_parts(parts).map_err(|e| core_err(py, &e))?;
        Ok(Self { inner })
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
        let r = py.detach(|| {
            inner.decompress(&ReadOptions {
                keep: keep_vec.as_deref(),
                stream_slice: SampleSlice::new(first, last),
                keep_indices: false,
                no_flatten: true,
                threads: threads_opt(threads),
            })
        });
        let sel = r.map_err(|e| core_err(py, &e))?;
        Ok(decoded_to_py(py, sel.array))
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
        Ok(decoded_to_py(py, arr))
    }

    /// Total compressed bytes held.
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.nbytes()
    }
}

fn decoded_to_py(py: Python<'_>, a: flacarray_core::DecodedArray) -> Bound<'_, PyAny> {
    use flacarray_core::DecodedArray as D;
    match a {
        D::Int32(a) => a.into_pyarray(py).into_any(),
        D::Int64(a) => a.into_pyarray(py).into_any(),
        D::Float32(a) => a.into_pyarray(py).into_any(),
        D::Float64(a) => a.into_pyarray(py).into_any(),
    }
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
    m.add_class::<Engine>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
