"""The format-independent halves of ``hdf5.py`` and ``zarr.py``."""

import numpy as np

from . import _io
from ._version import __version__
from .compress import array_compress_empty, compress_parts, stored_dtype
from .decompress import make_engine
from .mpi import local_input
from .utils import slice_bounds, threads_for

SOFTWARE_VERSION = f"flacarray-rs {__version__}"


def write_array(backend, arr, grp, level, quanta, precision, mpi_comm, use_threads, parallel,
                keep_nonfinite=False):
    arr, empty, props = local_input(arr, mpi_comm)
    global_shape = props["shape"]
    dtype = props["dtype"]
    n_channels = 2 if stored_dtype(dtype).itemsize == 8 else 1
    version = 1
    nonfinite = None
    if empty:
        comp, starts, nbytes, offsets, gains = array_compress_empty(global_shape, dtype, quanta, precision)
        leading = (0,) + tuple(global_shape[1:-1])
    else:
        p = compress_parts(
            arr, level=level, quanta=quanta, precision=precision, use_threads=use_threads,
            keep_nonfinite=keep_nonfinite,
        )
        comp, starts, nbytes, offsets, gains = (
            p["compressed"], p["starts"], p["nbytes"], p["offsets"], p["gains"]
        )
        version = p["version"]
        nonfinite = p["nonfinite"]
        leading = (1,) if arr.ndim == 1 else arr.shape[:-1]
    _io.write_distributed(
        backend, grp, SOFTWARE_VERSION, leading, global_shape[:-1], global_shape[-1],
        starts, nbytes, offsets, gains, comp, n_channels, mpi_comm, props["dist"],
        parallel=parallel, dtype=dtype, format_version=version, nonfinite=nonfinite,
    )


def decode_part(meta, part, stream_slice, use_threads, no_flatten):
    """Decode one rank's part as ``read_array`` returns it."""
    first, last = slice_bounds(stream_slice)
    starts = part["starts"]
    if part["compressed"].size == 0 and meta.version < 2:
        return np.zeros(starts.shape + (meta.stream_size,), dtype=meta.logical)
    engine = make_engine(
        part["compressed"], meta.stream_size, starts, part["nbytes"], part["offsets"],
        part["gains"], meta.logical, starts.shape, version=meta.version,
        nonfinite=part.get("nonfinite"),
    )
    arr = engine.decompress(keep=None, first=first, last=last, threads=threads_for(use_threads))
    if starts.shape == (1,) and not no_flatten:
        arr = arr.reshape((-1,))
    return arr


def read_array(backend, grp, keep, stream_slice, keep_indices, mpi_comm, mpi_dist,
               use_threads, no_flatten, parallel):
    slice_bounds(stream_slice)
    meta, part, _ = _io.read_distributed(
        backend, grp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist, parallel=parallel
    )
    arr = decode_part(meta, part, stream_slice, use_threads, no_flatten)
    if keep_indices:
        return arr, part["indices"]
    return arr


def read_compressed(backend, grp, keep, mpi_comm, mpi_dist, parallel):
    meta, part, dist = _io.read_distributed(
        backend, grp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist, parallel=parallel
    )
    if part["shape"] is None:
        local_shape = (0,) + meta.global_shape[1:]
    else:
        local_shape = tuple(part["shape"]) + (meta.stream_size,)
    return (
        local_shape,
        meta.global_shape,
        part["compressed"],
        meta.n_channels,
        part["starts"],
        part["nbytes"],
        part["offsets"],
        part["gains"],
        dist,
        part["indices"],
    )


def write_compressed(backend, grp, leading_shape, global_leading_shape, stream_size,
                     stream_starts, stream_nbytes, stream_offsets, stream_gains, compressed,
                     n_channels, mpi_comm, mpi_dist, parallel, dtype=None, format_version=1,
                     nonfinite=None):
    _io.write_distributed(
        backend, grp, SOFTWARE_VERSION, leading_shape, global_leading_shape, stream_size,
        stream_starts, stream_nbytes, stream_offsets, stream_gains, compressed, n_channels,
        mpi_comm, mpi_dist, parallel=parallel, dtype=dtype, format_version=format_version,
        nonfinite=nonfinite,
    )


def array_properties(backend, grp, mpi_comm=None):
    meta = None
    err = None
    rank = 0 if mpi_comm is None else mpi_comm.rank
    if grp is not None or rank == 0:
        try:
            meta = _io.read_meta(backend, grp)
        except Exception as e:  # noqa: BLE001 - broadcast below
            err = e
    if mpi_comm is not None and mpi_comm.size > 1:
        err = mpi_comm.bcast(err, root=0)
        meta = mpi_comm.bcast(meta, root=0)
    if err is not None:
        raise err
    return meta.as_dict()
