"""Helpers shared by the package: logging, optional function timers, float/int
conversion and keep-mask selection (the names of flacarray 0.4.1's ``utils``)."""

import inspect
import logging
import os
import time
from functools import wraps

import numpy as np

from . import _native
from ._errors import FlacArrayError

log = logging.getLogger("flacarray")
log.setLevel(logging.INFO)
for _env_key in ("FLACARRAY_LOGLEVEL", "FLACARRAY_LOG_LEVEL"):
    if _env_key in os.environ:
        _lvl = os.environ[_env_key]
        if not hasattr(logging, _lvl):
            raise RuntimeError(f"Environment variable {_env_key} set to invalid level '{_lvl}'")
        log.setLevel(getattr(logging, _lvl))

_timers_enabled = None
_timers = dict()


def use_function_timers():
    """True when the environment variable ``FLACARRAY_TIMING`` is 1, true or yes."""
    global _timers_enabled
    if _timers_enabled is None:
        _timers_enabled = os.environ.get("FLACARRAY_TIMING", "") in ("1", "true", "yes")
    return _timers_enabled


def get_timers():
    """The accumulated timers: a dict of name -> seconds."""
    return _timers


def update_timer(name, elapsed):
    """Add ``elapsed`` seconds to the timer ``name``."""
    _timers[name] = _timers.get(name, 0.0) + elapsed


def clear_timers():
    """Reset all timers."""
    _timers.clear()


def print_timers():
    """Print every timer."""
    for name, secs in _timers.items():
        print(f"{name}:  {secs} seconds", flush=True)


def function_timer(f):
    """Decorator accumulating the run time of ``f`` when timers are enabled."""
    if not use_function_timers():
        return f
    name = f.__qualname__

    @wraps(f)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            update_timer(name, time.perf_counter() - start)

    return timed


def function_timer_stackskip(f):
    """Kept for API compatibility: same as :func:`function_timer`."""
    return function_timer(f)


def ensure_one_element(input, dtype=None):
    """Return ``input`` as a 1-element array of ``dtype``.

    An array must already have shape ``(1,)`` (and ``dtype`` if given); a scalar is
    wrapped.  Raises ``ValueError`` otherwise.
    """
    if isinstance(input, np.ndarray):
        if input.shape != (1,):
            raise ValueError("Input array does not have a single element.")
        if dtype is not None and input.dtype != np.dtype(dtype):
            raise ValueError(f"Input has dtype {input.dtype}, not {dtype}")
        return input
    if dtype is None:
        raise ValueError("Input is a scalar, dtype must be specified")
    return np.array([input], dtype=dtype)


def compressed_dtype(n_channel, offsets, gains):
    """The decompressed dtype from the FLAC channel count and the presence of
    offsets and gains: 2 channels -> int64/float64, 1 -> int32/float32."""
    is_float = offsets is not None and gains is not None
    if n_channel == 2:
        return np.dtype(np.float64) if is_float else np.dtype(np.int64)
    return np.dtype(np.float32) if is_float else np.dtype(np.int32)


def _per_stream(value, leading_shape, what, dtype):
    """A scalar, or a flat array of one value per stream (checked shape)."""
    if value is None:
        return None
    if np.ndim(value) == 0:
        return dtype(value) if dtype is not float else float(value)
    arr = np.asarray(value)
    if arr.shape != tuple(leading_shape) and not (
        len(leading_shape) == 0 and arr.shape == (1,)
    ):
        raise FlacArrayError(
            f"{what} array has shape {arr.shape}, which does not match the leading "
            f"shape of the data {tuple(leading_shape)}"
        )
    return arr


def quanta_arg(quanta, leading_shape):
    """Normalize ``quanta`` for the engine: None, a float, or flat float64 per stream."""
    q = _per_stream(quanta, leading_shape, "quanta", float)
    if isinstance(q, np.ndarray):
        return np.ascontiguousarray(q, dtype=np.float64).reshape(-1)
    return q


def precision_arg(precision, leading_shape):
    """Normalize ``precision`` for the engine: None, an int, or flat int32 per stream."""
    p = _per_stream(precision, leading_shape, "precision", int)
    if isinstance(p, np.ndarray):
        if not np.issubdtype(p.dtype, np.integer):
            if not np.all(np.equal(np.mod(p, 1), 0)):
                raise FlacArrayError("precision values must be integers")
        return np.ascontiguousarray(p, dtype=np.int32).reshape(-1)
    return p


def _full_range_quanta(data):
    """The quanta flacarray 0.4.1 derives when ``float_to_int`` gets neither quanta nor
    precision: each stream's half range around its mid-range, spread over the integer
    range with 1% to spare, ``1.01 * max|x - mid| / (2**31 - 1)`` for float32.

    For float64 0.4.1 divides by ``2**63 - 1``, which overflows its offset rounding and
    returns garbage; here the divisor is ``2**52``, so every integer stays exact in a
    float64 product. A constant stream (zero range) gets a quanta far below its value,
    ``|value| * 2**-20`` (or 1 for zeros), so it is kept to within that, where 0.4.1
    rounds it to an integer.
    """
    if data.size == 0 or data.ndim == 0:
        return None
    lo = data.min(axis=-1).astype(np.float64)
    hi = data.max(axis=-1).astype(np.float64)
    mid = 0.5 * (lo + hi)
    amp = np.maximum(hi - mid, mid - lo)
    top = float(2**31 - 1) if data.dtype == np.dtype(np.float32) else float(2**52)
    with np.errstate(invalid="ignore", over="ignore"):
        q = 1.01 * amp / top
        constant = np.abs(mid) * 2.0**-20
        q = np.where(q > 0, q, np.where(constant > 0, constant, 1.0))
    # NaN or infinite data leave q non-finite; the engine then names the stream.
    if data.ndim == 1:
        return float(q)
    return q


@function_timer
def float_to_int(data, quanta=None, precision=None):
    """Quantize float data stream by stream (the last axis is the stream axis).

    float32 data becomes int32 and float64 becomes int64.  At most one of ``quanta``
    (the value of one integer step; scalar or one per stream with the leading shape)
    or ``precision`` (significant digits relative to each stream's standard
    deviation; scalar or per stream) may be given; with neither, each stream's full
    range is spread over the integer range as in flacarray 0.4.1.  NaN, infinity and values whose
    integer would overflow raise :class:`FlacArrayError` (a ``ValueError``) naming the
    stream.

    Returns:
        (tuple): ``(integers, offsets, gains)``; offsets and gains have the leading
        shape, ``(1,)`` for 1-D input.
    """
    data = np.asarray(data)
    if quanta is not None and precision is not None:
        raise FlacArrayError("Cannot specify both quanta and precision")
    if data.dtype != np.dtype(np.float32) and data.dtype != np.dtype(np.float64):
        raise ValueError("Only float32 and float64 data are supported")
    leading_shape = data.shape[:-1]
    if quanta is None and precision is None:
        quanta = _full_range_quanta(data)
    q = quanta_arg(quanta, leading_shape)
    p = precision_arg(precision, leading_shape)
    ints, offsets, gains = _native.float_to_int(
        np.ascontiguousarray(data), quanta=q, precision=p
    )
    out_shape = leading_shape if len(leading_shape) > 0 else (1,)
    return ints, offsets.reshape(out_shape), gains.reshape(out_shape)


@function_timer
def int_to_float(idata, offset, gain):
    """Restore floats from quantized integers: int32 -> float32, int64 -> float64,
    ``offset + (1/gain) * i`` per stream.  ``offset`` and ``gain`` have the leading
    shape (or are scalars / 1-element arrays for a single stream)."""
    idata = np.asarray(idata)
    if idata.dtype == np.dtype(np.int32):
        fdt = np.float32
    elif idata.dtype == np.dtype(np.int64):
        fdt = np.float64
    else:
        raise ValueError("Input data should be int32 or int64")
    leading_shape = idata.shape[:-1]
    if len(leading_shape) == 0 or leading_shape == (1,):
        offset = ensure_one_element(offset, fdt)
        gain = ensure_one_element(gain, fdt)
    else:
        if np.shape(offset) != leading_shape:
            raise ValueError(
                f"Offset array has shape {np.shape(offset)}, expected shape {leading_shape}"
            )
        if np.shape(gain) != leading_shape:
            raise ValueError(
                f"Gain array has shape {np.shape(gain)}, expected shape {leading_shape}"
            )
    off = np.ascontiguousarray(offset, dtype=fdt).reshape(-1)
    gn = np.ascontiguousarray(gain, dtype=fdt).reshape(-1)
    return _native.int_to_float(np.ascontiguousarray(idata), off, gn)


def keep_indices_of(keep):
    """Leading index tuples (C order) of the True entries of a bool mask."""
    return [tuple(int(v) for v in row) for row in np.argwhere(np.asarray(keep))]


def keep_select(keep, stream_starts, stream_nbytes):
    """Select the kept streams' starts and byte counts.

    Returns:
        (tuple): ``(starts, nbytes, indices)`` with 1-D int64 arrays in C order of the
        mask, or the inputs and None when ``keep`` is None.
    """
    if keep is None:
        return (stream_starts, stream_nbytes, None)
    keep = np.asarray(keep)
    if keep.shape != np.shape(stream_starts) or keep.shape != np.shape(stream_nbytes):
        raise FlacArrayError("The keep array should have the same shape as stream_starts")
    mask = keep.astype(bool)
    return (
        np.asarray(stream_starts)[mask].astype(np.int64),
        np.asarray(stream_nbytes)[mask].astype(np.int64),
        keep_indices_of(mask),
    )


def select_keep_indices(arr, indices):
    """Elements of ``arr`` at the index tuples ``indices`` (None passes through)."""
    if arr is None:
        return None
    if indices is None:
        return arr
    return np.array([arr[x] for x in indices], dtype=arr.dtype)


def threads_for(use_threads):
    """Engine threads for a ``use_threads`` flag: all cores when True, else 1.
    An int is taken as the thread count itself."""
    if use_threads is True:
        return _native.default_threads()
    if use_threads is False or use_threads is None:
        return 1
    n = int(use_threads)
    return max(n, 1)


def slice_bounds(stream_slice):
    """(first, last) sample bounds of a ``stream_slice`` (step must be None or 1)."""
    if stream_slice is None:
        return (None, None)
    if not isinstance(stream_slice, slice):
        raise FlacArrayError("stream_slice must be a slice")
    if stream_slice.step is not None and stream_slice.step != 1:
        raise FlacArrayError("Only stream slices with a step size of 1 are supported")
    first = None if stream_slice.start is None else int(stream_slice.start)
    last = None if stream_slice.stop is None else int(stream_slice.stop)
    return (first, last)
