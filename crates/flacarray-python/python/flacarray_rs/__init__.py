"""flacarray_rs: flacarray 0.4.1's Python API on a Rust engine.

``import flacarray_rs as flacarray`` runs code written for flacarray 0.4.1:
:class:`FlacArray` and the submodules ``array``, ``compress``, ``decompress``,
``demo``, ``mpi``, ``utils``, ``hdf5``, ``hdf5_utils`` and ``zarr`` have the same
public names and arguments.  Compression and decompression run in Rust with the GIL
released (``use_threads=True`` uses every core; the results never depend on it);
files are read and written with h5py and zarr-python, MPI goes through mpi4py.

Differences from 0.4.1 (bugs fixed): per-stream quanta arrays work; NaN, infinity
and integer overflow are refused with an error naming the stream; indexing follows
numpy (negative indices and steps, scalar results); ``stream_slice`` bounds are
normalized like a Python slice; every documented property works; errors derive from
both ``ValueError`` and ``RuntimeError``.  See the package README.
"""

from ._errors import CorruptDataError, FlacArrayError, FlacArrayIndexError
from ._version import __version__
from .array import FlacArray
from . import (  # noqa: F401 - submodules as attributes, as in flacarray 0.4.1
    array,
    compress,
    decompress,
    demo,
    hdf5,
    hdf5_utils,
    mpi,
    utils,
    zarr,
)


def info(group, mpi_comm=None):
    """An array's stored properties (no stream bytes are read) from an h5py or zarr
    group: a dict with ``format_version``, ``software_version``, ``flac_channels``,
    ``dtype``, ``shape``, ``leading_shape``, ``stream_size``, ``n_streams``,
    ``compressed_nbytes`` and ``has_offsets``."""
    mod = type(group).__module__ or ""
    if mod.startswith("h5py"):
        from .hdf5 import array_properties
    else:
        from .zarr import array_properties
    return array_properties(group, mpi_comm=mpi_comm)


__all__ = [
    "FlacArray",
    "FlacArrayError",
    "FlacArrayIndexError",
    "CorruptDataError",
    "info",
    "__version__",
]
