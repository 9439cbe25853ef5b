"""Low-level compression: ``array_compress`` returns the raw parts of a FlacArray."""

import numpy as np

from . import _native
from ._errors import FlacArrayError
from .utils import function_timer, precision_arg, quanta_arg, threads_for

#: The element types stored as such (flacarray 0.4.1's four).
STORED_DTYPES = ("int32", "int64", "float32", "float64")
#: Every element type accepted: the stored four and the types they carry (bool and
#: the small integers through int32, uint32 and uint64 through int64, float16
#: through float32; see ``docs/format.md``).
SUPPORTED_DTYPES = STORED_DTYPES + (
    "bool", "int8", "int16", "uint8", "uint16", "uint32", "uint64", "float16",
)
_SUPPORTED = SUPPORTED_DTYPES


def stored_dtype(dtype):
    """The stored element type (int32, int64, float32, float64) that carries ``dtype``."""
    return np.dtype(_native.stored_dtype(np.dtype(dtype).name))


@function_timer
def array_compress(arr, level=5, quanta=None, precision=None, use_threads=False,
                   keep_nonfinite=False):
    """Compress a numpy array stream by stream (the last axis is the stream axis).

    Integer and bool data are stored losslessly; float data need exactly one of
    ``quanta`` (scalar, or an array with the leading shape: one per stream) or
    ``precision`` (significant digits relative to each stream's standard deviation;
    scalar or per stream).  Axes of length 0 are allowed (no bytes).

    Args:
        arr (numpy.ndarray):  The data (any dimension >= 1): int32, int64, float32,
            float64, or bool, int8, int16, uint8, uint16, uint32, uint64, float16.
            Non-contiguous input is copied to C order.
        level (int):  FLAC compression level 0-8.
        quanta (float, array):  Float data: the value of one integer step.
        precision (int, array):  Float data: significant digits to keep.
        use_threads (bool):  Compress streams on all cores (same bytes either way).
        keep_nonfinite (bool):  Float data: keep NaN and +-inf (bit for bit); the
            tuple returned here cannot carry them, use
            :meth:`flacarray_rs.FlacArray.from_array` to keep them.  Without it a
            non-finite sample raises an error naming its stream.

    Returns:
        (tuple): ``(compressed, starts, nbytes, offsets, gains)``: uint8 bytes, int64
        starts and byte counts with the leading shape (``(1,)`` for 1-D input), and
        float offsets and gains with the same shape (None for integers).
    """
    p = compress_parts(arr, level, quanta, precision, use_threads, keep_nonfinite)
    if p["nonfinite"] is not None:
        raise FlacArrayError(
            "the data holds NaN or infinity, which the tuple of array_compress cannot "
            "carry: use FlacArray.from_array(..., keep_nonfinite=True)"
        )
    return (p["compressed"], p["starts"], p["nbytes"], p["offsets"], p["gains"])


def compress_parts(arr, level=5, quanta=None, precision=None, use_threads=False,
                   keep_nonfinite=False):
    """:func:`array_compress` returning a dict: ``compressed``, ``starts``,
    ``nbytes``, ``offsets``, ``gains`` (as the tuple), ``version`` (format version
    1 or 2), ``dtype`` (the input's element type) and ``nonfinite`` (None, or the
    ``(flags, runs)`` uint8 arrays of the kept NaN/inf: flags with the leading
    shape)."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        raise IndexError("Cannot compress a 0-dimensional array")
    dt = arr.dtype
    if dt.name not in _SUPPORTED or not dt.isnative:
        if dt.name in _SUPPORTED:
            arr = arr.astype(dt.newbyteorder("="))
        else:
            raise ValueError(f"Unsupported data type '{arr.dtype}'")
    leading_shape = arr.shape[:-1]
    out_shape = leading_shape if len(leading_shape) > 0 else (1,)
    is_float = arr.dtype.kind == "f"
    dtype_name = arr.dtype.name
    if is_float:
        if quanta is None and precision is None:
            raise FlacArrayError(
                f"Compressing floating point data ('{arr.dtype}') requires "
                "specifying either quanta or precision."
            )
        if quanta is not None and precision is not None:
            raise FlacArrayError("Cannot set both quanta and precision")
        q = quanta_arg(quanta, leading_shape)
        p = precision_arg(precision, leading_shape)
    else:
        q = None
        p = None
    comp, starts, nbytes, offsets, gains, version, nf_flags, nf_runs = _native.compress(
        np.ascontiguousarray(arr),
        dtype_name,
        level=int(level),
        quanta=q,
        precision=p,
        threads=threads_for(use_threads),
        keep_nonfinite=bool(keep_nonfinite),
    )
    starts = starts.reshape(out_shape)
    nbytes = nbytes.reshape(out_shape)
    if offsets is not None:
        offsets = offsets.reshape(out_shape)
        gains = gains.reshape(out_shape)
    nonfinite = None
    if nf_flags is not None:
        nonfinite = (nf_flags.reshape(out_shape), nf_runs)
    return {
        "compressed": comp,
        "starts": starts,
        "nbytes": nbytes,
        "offsets": offsets,
        "gains": gains,
        "version": int(version),
        "dtype": np.dtype(dtype_name),
        "nonfinite": nonfinite,
    }


def array_compress_empty(global_shape, dtype, quanta, precision):
    """The parts of a rank that holds no rows of a distributed array: empty bytes
    and zero-length tables of shape ``(0,) + global leading shape[1:]``.  Offsets and
    gains are present when ``quanta`` or ``precision`` is given."""
    leading_shape = tuple(global_shape[:-1])
    starts_shape = (0,) + leading_shape[1:]
    compressed = np.zeros(0, dtype=np.uint8)
    starts = np.zeros(starts_shape, dtype=np.int64)
    nbytes = np.zeros(starts_shape, dtype=np.int64)
    if quanta is None and precision is None:
        return (compressed, starts, nbytes, None, None)
    # The tables hold the stored type (float32 for float16 data).
    pdt = np.dtype(dtype)
    if pdt.name in SUPPORTED_DTYPES:
        pdt = stored_dtype(pdt)
    return (
        compressed,
        starts,
        nbytes,
        np.zeros(starts_shape, dtype=pdt),
        np.zeros(starts_shape, dtype=pdt),
    )


__all__ = ["array_compress", "array_compress_empty", "compress_parts", "stored_dtype"]
