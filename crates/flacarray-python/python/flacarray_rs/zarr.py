"""Write and read FlacArray data in a zarr Group (zarr-python 3 or 2; v3 and v2
stores).  Same layout as :mod:`flacarray_rs.hdf5`.

Zarr I/O is serial: with ``mpi_comm``, pass the group on rank 0 only (see
:class:`ZarrGroup`); rank 0 reads or writes every rank's part.
"""

import numpy as np

from . import _readwrite
from ._errors import FlacArrayError
from ._io import Backend
from .utils import function_timer

try:
    import zarr

    have_zarr = True
except ImportError:
    zarr = None
    have_zarr = False


class ZarrGroup(object):
    """A zarr group opened on rank 0 only (``handle`` is None on other ranks).

    As a context manager it returns the zarr Group itself (None on other ranks).
    """

    def __init__(self, name, mode, comm=None):
        self.handle = None
        if comm is None or comm.rank == 0:
            self.handle = zarr.open_group(name, mode=mode)
        if comm is not None:
            comm.barrier()

    def close(self):
        """Close the store."""
        if getattr(self, "handle", None) is not None:
            try:
                self.handle.store.close()
            except Exception:  # noqa: BLE001 - some stores have no close
                pass
            self.handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self.handle

    def __exit__(self, *args):
        self.close()


class _ZarrBackend(Backend):
    kind = "zarr"

    @staticmethod
    def create(grp, name, shape, dtype):
        shape = tuple(int(x) for x in shape)
        if hasattr(grp, "create_array"):
            return grp.create_array(name, shape=shape, dtype=dtype)
        return grp.create_dataset(name, shape=shape, dtype=dtype)


_B = _ZarrBackend()


def _need_zarr():
    if not have_zarr:
        raise FlacArrayError("zarr is not importable, cannot use Zarr")


@function_timer
def write_compressed(
    zgrp,
    leading_shape,
    global_leading_shape,
    stream_size,
    stream_starts,
    global_stream_starts,
    stream_nbytes,
    stream_offsets,
    stream_gains,
    compressed,
    n_channels,
    local_nbytes,
    global_nbytes,
    global_process_nbytes,
    mpi_comm,
    mpi_dist,
):
    """Write already compressed parts into ``zgrp`` (see
    :func:`flacarray_rs.hdf5.write_compressed`)."""
    _need_zarr()
    _readwrite.write_compressed(
        _B, zgrp, leading_shape, global_leading_shape, stream_size, stream_starts,
        stream_nbytes, stream_offsets, stream_gains, compressed, n_channels, mpi_comm,
        mpi_dist, False,
    )


@function_timer
def write_array(
    arr, zgrp, level=5, quanta=None, precision=None, mpi_comm=None, use_threads=False,
    keep_nonfinite=False,
):
    """Compress a numpy array and write it into a zarr group (arguments as
    :func:`flacarray_rs.hdf5.write_array`; ranks without data may pass None)."""
    _need_zarr()
    _readwrite.write_array(_B, arr, zgrp, level, quanta, precision, mpi_comm, use_threads, False,
                           keep_nonfinite=keep_nonfinite)


@function_timer
def read_compressed(zgrp, keep=None, mpi_comm=None, mpi_dist=None):
    """Read this rank's compressed parts (see
    :func:`flacarray_rs.hdf5.read_compressed`)."""
    _need_zarr()
    return _readwrite.read_compressed(_B, zgrp, keep, mpi_comm, mpi_dist, False)


@function_timer
def read_array(
    zgrp,
    keep=None,
    stream_slice=None,
    keep_indices=False,
    mpi_comm=None,
    mpi_dist=None,
    use_threads=False,
    no_flatten=False,
):
    """Read and decompress an array stored in a zarr group (arguments as
    :func:`flacarray_rs.hdf5.read_array`)."""
    _need_zarr()
    return _readwrite.read_array(
        _B, zgrp, keep, stream_slice, keep_indices, mpi_comm, mpi_dist, use_threads,
        no_flatten, False,
    )


def array_properties(zgrp, mpi_comm=None):
    """What a zarr group stores, without reading stream bytes (see
    :func:`flacarray_rs.hdf5.array_properties`)."""
    _need_zarr()
    return _readwrite.array_properties(_B, zgrp, mpi_comm)


__all__ = [
    "have_zarr",
    "ZarrGroup",
    "write_compressed",
    "write_array",
    "read_compressed",
    "read_array",
    "array_properties",
]
