"""Write and read FlacArray data in an h5py Group (flacarray format 1; format 0
files of flacarray <= 0.2 are read too).

All objects go directly into the group passed in; other attributes already on it
(for example TOAST's ``units``) are left alone.  With ``mpi_comm``, the leading axis
is distributed: if every rank passes a group handle (a file opened with the ``mpio``
driver, or opened read-only on every rank), each rank reads or writes its own part;
otherwise pass the group on rank 0 only and rank 0 does the I/O for everyone.
"""

import numpy as np

from . import _readwrite
from ._errors import FlacArrayError
from ._io import Backend
from .hdf5_utils import have_hdf5, hdf5_use_serial
from .utils import function_timer


class _H5Backend(Backend):
    kind = "h5py"


_B = _H5Backend()


def _need_h5py():
    if not have_hdf5:
        raise FlacArrayError("h5py is not importable, cannot use HDF5")


@function_timer
def write_compressed(
    hgrp,
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
    """Write already compressed parts (see :class:`FlacArray`) into ``hgrp``.

    The byte totals and global starts are recomputed from the local parts, so the
    ``global_*`` and ``local_nbytes`` arguments are accepted for compatibility only.
    """
    _need_h5py()
    parallel = not hdf5_use_serial(hgrp, mpi_comm)
    _readwrite.write_compressed(
        _B, hgrp, leading_shape, global_leading_shape, stream_size, stream_starts,
        stream_nbytes, stream_offsets, stream_gains, compressed, n_channels, mpi_comm,
        mpi_dist, parallel,
    )


@function_timer
def write_array(
    arr, hgrp, level=5, quanta=None, precision=None, mpi_comm=None, use_threads=False,
    keep_nonfinite=False,
):
    """Compress a numpy array and write it into an HDF5 group.

    Args:
        arr (array):  The local data (None or zero rows on ranks without data).
        hgrp (h5py.Group):  The group (None on ranks other than 0 in serial MPI use).
        level (int):  FLAC compression level 0-8.
        quanta (float, array):  Float data: the value of one integer step (scalar or
            one per stream).
        precision (int, array):  Float data: significant digits to keep.
        mpi_comm (MPI.Comm):  Communicator over which axis 0 is distributed.
        use_threads (bool):  Compress on all cores (identical bytes).
        keep_nonfinite (bool):  Float data: keep NaN and +-inf (format 2, see
            :meth:`flacarray_rs.FlacArray.from_array`).

    bool, int8, int16, uint8, uint16, uint32, uint64 and float16 data are stored
    through int32, int64 and float32 and read back in their own type (see
    ``docs/format.md``); axes of length 0 are allowed.
    """
    _need_h5py()
    parallel = not hdf5_use_serial(hgrp, mpi_comm)
    _readwrite.write_array(_B, arr, hgrp, level, quanta, precision, mpi_comm, use_threads, parallel,
                           keep_nonfinite=keep_nonfinite)


@function_timer
def read_compressed(hgrp, keep=None, mpi_comm=None, mpi_dist=None):
    """Read this rank's compressed parts (only the kept streams' bytes).

    Returns:
        (tuple): ``(local_shape, global_shape, compressed, n_channels, stream_starts,
        stream_nbytes, stream_offsets, stream_gains, mpi_dist, keep_indices)``.
    """
    _need_h5py()
    parallel = not hdf5_use_serial(hgrp, mpi_comm)
    return _readwrite.read_compressed(_B, hgrp, keep, mpi_comm, mpi_dist, parallel)


@function_timer
def read_array(
    hgrp,
    keep=None,
    stream_slice=None,
    keep_indices=False,
    mpi_comm=None,
    mpi_dist=None,
    use_threads=False,
    no_flatten=False,
):
    """Read and decompress an array stored in an HDF5 group.

    Args:
        hgrp (h5py.Group):  The group (None on ranks other than 0 in serial MPI use).
        keep (array):  Bool mask over the *global* leading shape: only these streams
            are read (adjacent ones with one read) and returned as a 2-D
            ``(n_kept, n_samples)`` array.
        stream_slice (slice):  Samples of each stream (step 1; negative bounds count
            from the end).
        keep_indices (bool):  Also return the kept streams' index tuples.
        mpi_comm (MPI.Comm):  Communicator over which axis 0 is distributed.
        mpi_dist (list):  ``(first, last)`` rows per rank (default: an even split).
        use_threads (bool):  Decode on all cores (identical values).
        no_flatten (bool):  Keep a single stream 2-D ``(1, n)``.

    Returns:
        (array): The data, or ``(data, indices)`` with ``keep_indices``.
    """
    _need_h5py()
    parallel = not hdf5_use_serial(hgrp, mpi_comm)
    return _readwrite.read_array(
        _B, hgrp, keep, stream_slice, keep_indices, mpi_comm, mpi_dist, use_threads,
        no_flatten, parallel,
    )


def array_properties(hgrp, mpi_comm=None):
    """What an HDF5 group stores, without reading any stream bytes.

    Returns:
        (dict): ``format_version`` (int), ``software_version`` (str or None),
        ``flac_channels`` (1 or 2), ``dtype`` (numpy dtype), ``shape`` (global shape),
        ``leading_shape``, ``stream_size``, ``n_streams``, ``compressed_nbytes`` and
        ``has_offsets`` (float data).  Raises if the group holds no FlacArray.
    """
    _need_h5py()
    return _readwrite.array_properties(_B, hgrp, mpi_comm)


__all__ = [
    "have_hdf5",
    "write_compressed",
    "write_array",
    "read_compressed",
    "read_array",
    "array_properties",
]
