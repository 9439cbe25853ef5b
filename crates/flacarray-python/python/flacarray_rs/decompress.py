"""Low-level decompression of raw FLAC stream buffers."""

import numpy as np

from . import _native
from ._errors import FlacArrayError
from .utils import ensure_one_element, function_timer, keep_indices_of, threads_for


def _decoded_dtype(is_int64, has_offsets):
    if has_offsets:
        return np.dtype(np.float64) if is_int64 else np.dtype(np.float32)
    return np.dtype(np.int64) if is_int64 else np.dtype(np.int32)


def make_engine(compressed, stream_size, stream_starts, stream_nbytes, offsets, gains,
                dtype, leading_shape, one_d=False, version=1, nonfinite=None):
    """An engine object holding checked parts (used by FlacArray and the readers).

    ``dtype`` is the element type decoding returns (the stored type or one it
    carries); ``nonfinite`` None or the ``(flags, runs)`` of kept NaN/inf."""
    def flat(a, dt=None):
        return None if a is None else np.ascontiguousarray(a, dtype=dt).reshape(-1)

    logical = np.dtype(dtype).name
    nf_flags, nf_runs = (None, None) if nonfinite is None else nonfinite
    return _native.Engine(
        np.ascontiguousarray(compressed, dtype=np.uint8).reshape(-1),
        int(stream_size),
        flat(stream_starts, np.int64),
        flat(stream_nbytes, np.int64),
        _native.stored_dtype(logical),
        flat(offsets),
        flat(gains),
        [int(x) for x in leading_shape],
        bool(one_d),
        int(version),
        logical=logical,
        nonfinite_flags=flat(nf_flags, np.uint8),
        nonfinite_runs=flat(nf_runs, np.uint8),
    )


@function_timer
def array_decompress_slice(
    compressed,
    stream_size,
    stream_starts,
    stream_nbytes,
    stream_offsets=None,
    stream_gains=None,
    keep=None,
    first_stream_sample=None,
    last_stream_sample=None,
    is_int64=False,
    use_threads=False,
    no_flatten=False,
):
    """Decompress the kept streams, and optionally a sample range, of raw FLAC bytes.

    Floats come back when both ``stream_offsets`` and ``stream_gains`` are given
    (giving only one is an error), integers otherwise; ``is_int64`` says whether the
    streams hold 64-bit data (int64/float64).  ``first_stream_sample`` and
    ``last_stream_sample`` bound the samples like a Python slice (None = open end,
    negative values count from the end).  ``keep`` is a bool array with the shape of
    ``stream_starts``.

    Returns:
        (tuple): ``(array, indices)``.  Without ``keep``: the array has shape
        ``stream_starts.shape + (n_samples,)`` and indices is None.  With ``keep``: a
        2-D ``(n_kept, n_samples)`` array and the list of kept index tuples.  A
        single stream (starts of shape ``(1,)`` or a scalar) is flattened to 1-D
        unless ``no_flatten``.
    """
    if (stream_offsets is None) != (stream_gains is None):
        if stream_offsets is not None:
            raise FlacArrayError("When specifying offsets, you must also provide the gains")
        raise FlacArrayError("When specifying gains, you must also provide the offsets")
    has_off = stream_offsets is not None
    dtype = _decoded_dtype(is_int64, has_off)
    compressed = np.asarray(compressed)
    if len(compressed) == 0:
        empty_shape = np.shape(stream_starts) + (int(stream_size),)
        return np.zeros(empty_shape, dtype=dtype), list()

    is_scalar = not isinstance(stream_starts, np.ndarray) or stream_starts.shape == (1,)
    if is_scalar:
        stream_starts = ensure_one_element(stream_starts, np.int64)
        stream_nbytes = ensure_one_element(stream_nbytes, np.int64)
        if has_off:
            stream_offsets = ensure_one_element(stream_offsets, dtype)
            stream_gains = ensure_one_element(stream_gains, dtype)
    stream_starts = np.asarray(stream_starts)
    leading = stream_starts.shape
    if np.shape(stream_nbytes) != leading:
        raise FlacArrayError("stream_nbytes must have the shape of stream_starts")
    if has_off:
        stream_offsets = np.asarray(stream_offsets, dtype=dtype)
        stream_gains = np.asarray(stream_gains, dtype=dtype)
        if stream_offsets.shape != leading or stream_gains.shape != leading:
            raise FlacArrayError("stream offsets and gains must have the shape of stream_starts")
    indices = None
    flat_keep = None
    if keep is not None:
        keep = np.asarray(keep)
        if keep.shape != leading:
            raise FlacArrayError("The keep array should have the same shape as stream_starts")
        flat_keep = np.ascontiguousarray(keep, dtype=bool).reshape(-1)
        indices = keep_indices_of(keep)
    engine = make_engine(
        compressed, stream_size, stream_starts, stream_nbytes,
        stream_offsets if has_off else None, stream_gains if has_off else None,
        dtype, leading,
    )
    arr = engine.decompress(
        keep=flat_keep,
        first=None if first_stream_sample is None else int(first_stream_sample),
        last=None if last_stream_sample is None else int(last_stream_sample),
        threads=threads_for(use_threads),
    )
    if is_scalar and not no_flatten:
        arr = arr.reshape((-1,))
    return (arr, indices)


@function_timer
def array_decompress(
    compressed,
    stream_size,
    stream_starts,
    stream_nbytes,
    stream_offsets=None,
    stream_gains=None,
    first_stream_sample=None,
    last_stream_sample=None,
    is_int64=False,
    use_threads=False,
    no_flatten=False,
):
    """Decompress raw FLAC bytes (:func:`array_decompress_slice` without a keep
    mask).  Returns the array of shape ``stream_starts.shape + (n_samples,)``,
    flattened to 1-D for a single stream unless ``no_flatten``."""
    arr, _ = array_decompress_slice(
        compressed,
        stream_size,
        stream_starts,
        stream_nbytes,
        stream_offsets=stream_offsets,
        stream_gains=stream_gains,
        keep=None,
        first_stream_sample=first_stream_sample,
        last_stream_sample=last_stream_sample,
        is_int64=is_int64,
        use_threads=use_threads,
        no_flatten=no_flatten,
    )
    return arr


__all__ = ["array_decompress", "array_decompress_slice"]
