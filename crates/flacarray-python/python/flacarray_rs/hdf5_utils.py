"""h5py helpers: opening files serially or with the MPI-IO driver."""

import os
import tempfile

from .mpi import MPI, use_mpi
from .utils import log

try:
    import h5py

    have_hdf5 = True
except ImportError:
    h5py = None
    have_hdf5 = False

_hdf5_is_parallel = None


def have_hdf5_parallel():
    """True when h5py can open files with the ``mpio`` driver (probed once)."""
    global _hdf5_is_parallel
    if _hdf5_is_parallel is not None:
        return _hdf5_is_parallel
    _hdf5_is_parallel = False
    if not (use_mpi and have_hdf5):
        return _hdf5_is_parallel
    try:
        with tempfile.TemporaryDirectory() as tempdir:
            path = os.path.join(tempdir, f"probe_mpio_{MPI.COMM_WORLD.rank}.h5")
            with h5py.File(path, "w", driver="mpio", comm=MPI.COMM_SELF):
                _hdf5_is_parallel = True
    except (ValueError, AssertionError, AttributeError, OSError):
        _hdf5_is_parallel = False
    return _hdf5_is_parallel


def hdf5_use_serial(hgrp, mpi_comm):
    """True unless every rank of ``mpi_comm`` holds a group handle (then each rank
    does its own I/O)."""
    if mpi_comm is None or mpi_comm.size == 1:
        return True
    total = mpi_comm.allreduce(1 if hgrp is not None else 0, op=MPI.SUM)
    return total != mpi_comm.size


def hdf5_open(path, mode, comm=None, force_serial=False):
    """Open an HDF5 file: on every rank with the ``mpio`` driver when available (and
    not ``force_serial``), else on rank 0 only (None elsewhere)."""
    parallel = have_hdf5_parallel() and not force_serial and comm is not None
    rank = 0 if comm is None else comm.rank
    if parallel:
        hf = h5py.File(path, mode, driver="mpio", comm=comm)
        log.debug(f"Opened file {path} in parallel")
        return hf
    if rank == 0:
        hf = h5py.File(path, mode)
        log.debug(f"Opened file {path} serially")
        return hf
    return None


class H5File(object):
    """An open HDF5 file (see :func:`hdf5_open`) as ``.handle``; a context manager
    returning itself."""

    def __init__(self, name, mode, comm=None, force_serial=False):
        self.handle = hdf5_open(name, mode, comm=comm, force_serial=force_serial)

    def close(self):
        """Flush and close the file."""
        if getattr(self, "handle", None) is not None:
            self.handle.flush()
            self.handle.close()
            self.handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()


def check_dataset_buffer_size(msg, slices, dtype, parallel):
    """Log a warning when a parallel HDF5 transfer exceeds 2^31 - 1 bytes."""
    if not parallel:
        return
    nelem = 1
    for slc in slices:
        nelem *= slc.stop - slc.start
    import numpy as np

    nbytes = nelem * np.dtype(dtype).itemsize
    if nbytes >= 2147483647:
        log.warning(f"{msg}:  buffer size of {nbytes} bytes > 2^31 - 1.  HDF5 parallel I/O will likely fail.")


__all__ = [
    "have_hdf5",
    "have_hdf5_parallel",
    "hdf5_use_serial",
    "hdf5_open",
    "H5File",
    "check_dataset_buffer_size",
]
