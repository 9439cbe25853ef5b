"""Low-level compression: ``array_compress`` returns the raw parts of a FlacArray."""

import numpy as np

from . import _native
from ._errors import FlacArrayError
from .utils import function_timer, precision_arg, quanta_arg, threads_for

_SUPPORTED = ("int32", "int64", "float32", "float64")


@function_timer
def array_compress(arr, level=5, quanta=None, precision=None, use_threads=False):
    """Compress a numpy array stream by stream (the last axis is the stream axis).

    int32 and int64 data are stored losslessly; float32 and float64 data need exactly
    one of ``quanta`` (scalar, or an array with the leading shape: one per stream) or
    ``precision`` (significant digits relative to each stream's standard deviation;
    scalar or per stream).

    Args:
        arr (numpy.ndarray):  The data (any dimension >= 1).  Non-contiguous input is
            copied to C order.
        level (int):  FLAC compression level 0-8.
        quanta (float, array):  Float data: the value of one integer step.
        precision (int, array):  Float data: significant digits to keep.
        use_threads (bool):  Compress streams on all cores (same bytes either way).

    Returns:
        (tuple): ``(compressed, starts, nbytes, offsets, gains)``: uint8 bytes, int64
        starts and byte counts with the leading shape (``(1,)`` for 1-D input), and
        float offsets and gains with the same shape (None for integers).
    """
    arr = np.asarray(arr)
    if arr.size == 0:
        raise ValueError("Cannot compress a zero-sized array!")
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
    comp, starts, nbytes, offsets, gains = _native.compress(
        np.ascontiguousarray(arr),
        arr.dtype.name,
        level=int(level),
        quanta=q,
        precision=p,
        threads=threads_for(use_threads),
    )
    starts = starts.reshape(out_shape)
    nbytes = nbytes.reshape(out_shape)
    if offsets is not None:
        offsets = offsets.reshape(out_shape)
        gains = gains.reshape(out_shape)
    return (comp, starts, nbytes, offsets, gains)


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
    return (
        compressed,
        starts,
        nbytes,
        np.zeros(starts_shape, dtype=dtype),
        np.zeros(starts_shape, dtype=dtype),
    )


__all__ = ["array_compress", "array_compress_empty"]
