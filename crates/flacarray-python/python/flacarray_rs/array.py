"""The FlacArray class: an N-d array held as one FLAC stream per 1-D slice along the
last axis."""

import copy
import operator

import numpy as np

from . import _io, _readwrite
from ._errors import FlacArrayError, FlacArrayIndexError
from .compress import SUPPORTED_DTYPES, array_compress_empty, compress_parts, stored_dtype
from .decompress import make_engine
from .mpi import global_bytes, local_input
from .utils import keep_indices_of, log, slice_bounds, threads_for

_DTYPES = SUPPORTED_DTYPES


class FlacArray:
    """A compressed array.

    The last (fastest varying) axis is the compressed axis: every 1-D slice along it
    is one FLAC "stream", and the leading axes index the streams.  int32 and int64
    data are compressed losslessly (1 and 2 FLAC channels).  float32 and float64 data
    are first quantized per stream: a mid-range offset (snapped to the quanta) is
    subtracted and the rest divided by the quanta and rounded to int32 / int64; give
    exactly one of ``quanta`` (one integer step; scalar or one per stream) or
    ``precision`` (significant digits relative to each stream's standard deviation)
    to :meth:`from_array`.  NaN, infinity and values that would overflow the integer
    type are refused with an error naming the stream, unless ``keep_nonfinite=True``
    keeps NaN and infinity (bit for bit).  bool, int8, int16, uint8, uint16, uint32,
    uint64 and float16 data are carried by those four types and come back in their
    own dtype; axes of length 0 are allowed.

    Build one with :meth:`from_array`, :meth:`read_hdf5` or :meth:`read_zarr`;
    ``FlacArray(other)`` makes an independent copy.  Decompress with
    :meth:`to_array` or numpy-style indexing ``fa[...]`` (only the needed streams and
    FLAC frames are decoded).  With an MPI communicator the leading axis is
    distributed over the ranks and each instance holds its rank's rows.

    Args:
        other (FlacArray):  The array to copy.
    """

    def __init__(
        self,
        other,
        shape=None,
        global_shape=None,
        compressed=None,
        dtype=None,
        stream_starts=None,
        stream_nbytes=None,
        stream_offsets=None,
        stream_gains=None,
        mpi_comm=None,
        mpi_dist=None,
    ):
        self._engine_cache = None
        if other is not None:
            self._empty = other._empty
            self._shape = copy.deepcopy(other._shape)
            self._global_shape = copy.deepcopy(other._global_shape)
            self._compressed = copy.deepcopy(other._compressed)
            self._dtype = np.dtype(other._dtype)
            self._stream_starts = copy.deepcopy(other._stream_starts)
            self._stream_nbytes = copy.deepcopy(other._stream_nbytes)
            self._stream_offsets = copy.deepcopy(other._stream_offsets)
            self._stream_gains = copy.deepcopy(other._stream_gains)
            self._mpi_dist = copy.deepcopy(other._mpi_dist)
            self._mpi_comm = other._mpi_comm
            self._format_version = other._format_version
            self._nonfinite = copy.deepcopy(other._nonfinite)
        else:
            # A rank without rows of a distributed array; without MPI an array with
            # an axis of length 0 is an ordinary (format 2) array.
            self._empty = shape is None or (shape[0] == 0 and mpi_comm is not None)
            if self._empty and mpi_comm is None:
                raise FlacArrayError("Local data is empty, and MPI is not being used")
            self._shape = None if shape is None else tuple(int(x) for x in shape)
            self._global_shape = tuple(int(x) for x in global_shape)
            self._compressed = compressed
            self._dtype = np.dtype(dtype)
            self._stream_starts = stream_starts
            self._stream_nbytes = stream_nbytes
            self._stream_offsets = stream_offsets
            self._stream_gains = stream_gains
            self._mpi_comm = mpi_comm
            self._mpi_dist = mpi_dist
            self._format_version = 1
            self._nonfinite = None
        self._init_params()

    def _init_params(self):
        if self._dtype.name not in _DTYPES:
            raise FlacArrayError(f"Unsupported dtype '{self._dtype}'")
        if self._empty:
            self._flatten_single = False
            self._local_shape = (0,) + tuple(self._global_shape[1:])
            self._local_nbytes = 0
            if self._shape is None:
                self._shape = self._local_shape
        elif len(self._shape) == 1:
            self._flatten_single = True
            self._local_shape = (1, self._shape[0])
            self._local_nbytes = int(self._compressed.nbytes)
        else:
            self._flatten_single = False
            self._local_shape = tuple(self._shape)
            self._local_nbytes = int(self._compressed.nbytes)
        (
            self._global_nbytes,
            self._global_proc_nbytes,
            self._global_stream_starts,
        ) = global_bytes(self._local_nbytes, self._stream_starts, self._mpi_comm)
        self._leading_shape = self._local_shape[:-1]
        self._global_leading_shape = tuple(self._global_shape[:-1])
        self._stream_size = self._global_shape[-1]
        self._typestr = self._dtype.name
        self._stored_dtype = stored_dtype(self._dtype)
        self._is_int64 = self._stored_dtype.itemsize == 8

    def _engine(self):
        if self._engine_cache is None:
            self._engine_cache = make_engine(
                self._compressed,
                self._stream_size,
                self._stream_starts,
                self._stream_nbytes,
                self._stream_offsets,
                self._stream_gains,
                self._dtype,
                self._leading_shape,
                one_d=self._flatten_single,
                version=self._format_version,
                nonfinite=self._nonfinite,
            )
        return self._engine_cache

    # Shapes

    @property
    def shape(self):
        """The shape of the local, uncompressed array (1-D data stays 1-D)."""
        return self._shape

    @property
    def global_shape(self):
        """The global shape over the MPI communicator (1-D data is ``(1, N)``)."""
        return self._global_shape

    @property
    def leading_shape(self):
        """The local shape of the leading (stream) axes; ``(1,)`` for 1-D data."""
        return self._leading_shape

    @property
    def global_leading_shape(self):
        """The global shape of the leading axes."""
        return self._global_leading_shape

    @property
    def stream_size(self):
        """Samples per stream (the last axis)."""
        return self._stream_size

    # Compressed data

    @property
    def nbytes(self):
        """Compressed bytes held on this rank."""
        return self._local_nbytes

    @property
    def global_nbytes(self):
        """Compressed bytes over all ranks."""
        return self._global_nbytes

    @property
    def global_process_nbytes(self):
        """Compressed bytes of every rank (a list)."""
        return self._global_proc_nbytes

    @property
    def nstreams(self):
        """Number of local streams (product of ``leading_shape``)."""
        return int(np.prod(self._leading_shape)) if len(self._leading_shape) > 0 else 1

    @property
    def global_nstreams(self):
        """Number of streams over all ranks (product of ``global_leading_shape``)."""
        return int(np.prod(self._global_leading_shape))

    @property
    def compressed(self):
        """The local streams' FLAC bytes, concatenated (uint8 array)."""
        return self._compressed

    @property
    def stream_starts(self):
        """Byte offset of every local stream in :attr:`compressed`."""
        return self._stream_starts

    @property
    def stream_nbytes(self):
        """Byte length of every local stream."""
        return self._stream_nbytes

    @property
    def global_stream_starts(self):
        """Byte offset of every local stream in the ranks' concatenated bytes."""
        return self._global_stream_starts

    @property
    def global_stream_nbytes(self):
        """Byte length of every local stream (the same in the global bytes)."""
        return self._stream_nbytes

    @property
    def stream_offsets(self):
        """Per-stream offsets of float data (None for integers)."""
        return self._stream_offsets

    @property
    def stream_gains(self):
        """Per-stream gains (1 / quanta) of float data (None for integers)."""
        return self._stream_gains

    @property
    def mpi_comm(self):
        """The MPI communicator over which the array is distributed, or None."""
        return self._mpi_comm

    @property
    def mpi_dist(self):
        """The ``(first, last)`` leading-axis rows of every rank."""
        return self._mpi_dist

    @property
    def dtype(self):
        """The dtype of the uncompressed array."""
        return self._dtype

    @property
    def typestr(self):
        """The dtype's name: ``"int32"``, ``"int64"``, ``"float32"``, ``"float64"``,
        or a type they carry (``"uint16"``, ``"float16"``, ``"bool"``, ...)."""
        return self._typestr

    @property
    def format_version(self):
        """The format version the array is stored in: 1 (what flacarray 0.4.1
        reads), or 2 when it holds kept NaN/inf, uint64 values >= 2**63 or an axis of
        length 0 (flacarray 0.4.1 refuses it)."""
        return self._format_version

    @property
    def nonfinite(self):
        """The kept NaN/inf of this rank's streams as stored: None, or ``(flags,
        runs)`` (uint8 flags with the leading shape: 0 none, 1 some, 2 all; the runs'
        bytes as described in ``docs/format.md``)."""
        return self._nonfinite

    # Indexing

    def _index_items(self, raw_key):
        key = raw_key if isinstance(raw_key, tuple) else (raw_key,)
        items = []
        for k in key:
            if k is None or k is Ellipsis:
                items.append(k)
            elif isinstance(k, slice):
                conv = [None if v is None else operator.index(v) for v in (k.start, k.stop, k.step)]
                items.append(tuple(conv))
            elif isinstance(k, (bool, np.bool_)):
                raise FlacArrayIndexError("boolean indices are not supported")
            else:
                try:
                    items.append(operator.index(k))
                except TypeError:
                    raise FlacArrayIndexError(
                        "only integers, slices (`:`), ellipsis (`...`) and None are valid "
                        f"indices, not {type(k).__name__}"
                    ) from None
        return items

    def __getitem__(self, raw_key):
        """Decompress a selection with numpy basic-indexing semantics (integers,
        negative indices, slices with any step, ``...`` and ``None``).  Integer-only
        keys return a numpy scalar.  Only this rank's data is addressed."""
        if self._empty:
            return np.zeros(self._shape, dtype=self._dtype)[raw_key]
        items = self._index_items(raw_key)
        out = self._engine().get(items)
        if out.ndim == 0:
            return out[()]
        return out

    def __delitem__(self, key):
        raise FlacArrayError("Cannot delete individual streams")

    def __setitem__(self, key, value):
        raise FlacArrayError("Cannot modify individual byte streams")

    def __repr__(self):
        mpistr = ""
        if self._mpi_comm is not None:
            rank = self._mpi_comm.rank
            first, last = self._mpi_dist[rank]
            mpistr = f" | Rank {rank:04d} {first}-{last - 1} |"
        return f"<FlacArray{mpistr} {self._typestr} shape={self._shape} bytes={self._local_nbytes}>"

    def __eq__(self, other):
        if not isinstance(other, FlacArray):
            return NotImplemented
        if self._shape != other._shape:
            log.debug(f"other shape {other._shape} != {self._shape}")
            return False
        if self._dtype != other._dtype:
            return False
        if self._global_shape != other._global_shape:
            return False
        if not np.array_equal(self._stream_starts, other._stream_starts):
            return False
        if not np.array_equal(self._compressed, other._compressed):
            return False
        for mine, theirs in (
            (self._stream_offsets, other._stream_offsets),
            (self._stream_gains, other._stream_gains),
        ):
            if (mine is None) != (theirs is None):
                return False
            if mine is not None and not np.allclose(mine, theirs):
                return False
        if (self._nonfinite is None) != (other._nonfinite is None):
            return False
        if self._nonfinite is not None and not all(
            np.array_equal(a, b) for a, b in zip(self._nonfinite, other._nonfinite)
        ):
            return False
        return True

    __hash__ = None

    def to_array(
        self,
        keep=None,
        stream_slice=None,
        keep_indices=False,
        use_threads=False,
    ):
        """Decompress this rank's data into a numpy array.

        Args:
            keep (array):  Bool mask with the local leading shape (``(1,)`` for 1-D
                data): only these streams are decoded and returned as a 2-D
                ``(n_kept, n_samples)`` array.
            stream_slice (slice):  Samples of each stream, step 1 (Python slice
                bounds: None is open, negative counts from the end).
            keep_indices (bool):  With ``keep``, also return the kept streams'
                index tuples.
            use_threads (bool):  Decode on all cores (identical values).

        Returns:
            (array): The data, or ``(data, indices)`` with ``keep`` and
            ``keep_indices``.
        """
        first, last = slice_bounds(stream_slice)
        indices = None
        flat_keep = None
        if keep is not None:
            keep = np.asarray(keep)
            if keep.shape != tuple(np.shape(self._stream_starts)):
                raise FlacArrayError(
                    f"The keep array has shape {keep.shape}, not the leading shape "
                    f"{tuple(np.shape(self._stream_starts))}"
                )
            flat_keep = np.ascontiguousarray(keep, dtype=bool).reshape(-1)
            indices = keep_indices_of(keep)
        if self._empty:
            arr = np.zeros(tuple(np.shape(self._stream_starts)) + (self._stream_size,), dtype=self._dtype)
            indices = list()
        else:
            arr = self._engine().decompress(
                keep=flat_keep, first=first, last=last, threads=threads_for(use_threads)
            )
            if self._flatten_single:
                arr = arr.reshape((-1,))
        if keep is not None and keep_indices:
            return (arr, indices)
        return arr

    @classmethod
    def from_array(
        cls, arr, level=5, quanta=None, precision=None, mpi_comm=None, use_threads=False,
        keep_nonfinite=False,
    ):
        """Compress a numpy array.

        Args:
            arr (numpy.ndarray):  The data: int32, int64, float32 or float64, or
                bool, int8, int16, uint8, uint16, uint32, uint64, float16 (read back
                in their own type); any dimension >= 1, axes of length 0 allowed.
                With MPI, this rank's rows (None or zero rows on ranks without data).
            level (int):  FLAC compression level 0-8.
            quanta (float, array):  Float data: the value of one integer step, scalar
                or an array with the leading shape (one per stream).
            precision (int, array):  Float data: significant digits to keep, scalar
                or per stream.
            mpi_comm (MPI.Comm):  Communicator over which axis 0 is distributed.
            use_threads (bool):  Compress on all cores (identical bytes).
            keep_nonfinite (bool):  Float data: keep NaN and +-inf, restored bit for
                bit (stored in format 2).  Without it they raise an error naming
                the stream.

        Returns:
            (FlacArray): The compressed array.
        """
        arr, empty, props = local_input(arr, mpi_comm)
        global_shape = props["shape"]
        dtype = props["dtype"]
        version = 1
        nonfinite = None
        if empty:
            arr_shape = (0,) + tuple(global_shape[1:])
            parts = array_compress_empty(global_shape, dtype, quanta, precision)
        else:
            arr_shape = arr.shape
            p = compress_parts(
                arr, level=level, quanta=quanta, precision=precision,
                use_threads=use_threads, keep_nonfinite=keep_nonfinite,
            )
            parts = (p["compressed"], p["starts"], p["nbytes"], p["offsets"], p["gains"])
            version = p["version"]
            nonfinite = p["nonfinite"]
        compressed, starts, nbytes, offsets, gains = parts
        fa = cls(
            None,
            shape=arr_shape,
            global_shape=global_shape,
            compressed=compressed,
            dtype=dtype,
            stream_starts=starts,
            stream_nbytes=nbytes,
            stream_offsets=offsets,
            stream_gains=gains,
            mpi_comm=mpi_comm,
            mpi_dist=props["dist"],
        )
        fa._format_version = version
        fa._nonfinite = nonfinite
        return fa

    def _write(self, backend, grp, parallel):
        n_channels = 2 if self._is_int64 else 1
        _readwrite.write_compressed(
            backend, grp, self._leading_shape, self._global_leading_shape,
            self._stream_size, self._stream_starts, self._stream_nbytes,
            self._stream_offsets, self._stream_gains, self._compressed, n_channels,
            self._mpi_comm, self._mpi_dist, parallel,
            dtype=self._dtype, format_version=self._format_version,
            nonfinite=self._nonfinite,
        )

    @classmethod
    def _read(cls, backend, grp, keep, mpi_comm, mpi_dist, no_flatten, parallel):
        meta, part, dist = _io.read_distributed(
            backend, grp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist, parallel=parallel
        )
        if part["shape"] is None:
            shape = None
        else:
            local_shape = tuple(part["shape"]) + (meta.stream_size,)
            if len(local_shape) == 2 and local_shape[0] == 1 and not no_flatten:
                shape = (local_shape[1],)
            else:
                shape = local_shape
        fa = cls.__new__(cls)
        FlacArray.__init__(
            fa,
            None,
            shape=shape,
            global_shape=meta.global_shape,
            compressed=part["compressed"],
            dtype=meta.logical,
            stream_starts=part["starts"],
            stream_nbytes=part["nbytes"],
            stream_offsets=part["offsets"],
            stream_gains=part["gains"],
            mpi_comm=mpi_comm,
            mpi_dist=dist,
        )
        fa._format_version = meta.version
        fa._nonfinite = part.get("nonfinite")
        return fa

    def write_hdf5(self, hgrp):
        """Write into an h5py Group (with MPI and serial h5py: the group on rank 0,
        None elsewhere; with an ``mpio`` file: the group on every rank)."""
        from . import hdf5

        hdf5._need_h5py()
        parallel = not hdf5.hdf5_use_serial(hgrp, self._mpi_comm)
        self._write(hdf5._B, hgrp, parallel)

    @classmethod
    def read_hdf5(cls, hgrp, keep=None, mpi_comm=None, mpi_dist=None, no_flatten=False):
        """Read from an h5py Group.

        Args:
            hgrp (h5py.Group):  The group.
            keep (array):  Bool mask over the global leading shape: only these streams
                are read, and the array holds them as ``(n_kept, stream_size)``.
            mpi_comm (MPI.Comm):  Communicator over which to distribute axis 0.
            mpi_dist (list):  ``(first, last)`` rows per rank.
            no_flatten (bool):  Keep a single stream 2-D.
        """
        from . import hdf5

        hdf5._need_h5py()
        parallel = not hdf5.hdf5_use_serial(hgrp, mpi_comm)
        return cls._read(hdf5._B, hgrp, keep, mpi_comm, mpi_dist, no_flatten, parallel)

    def write_zarr(self, zgrp):
        """Write into a zarr Group (with MPI: the group on rank 0, None elsewhere)."""
        from . import zarr as fzarr

        fzarr._need_zarr()
        self._write(fzarr._B, zgrp, False)

    @classmethod
    def read_zarr(cls, zgrp, keep=None, mpi_comm=None, mpi_dist=None, no_flatten=False):
        """Read from a zarr Group (arguments as :meth:`read_hdf5`)."""
        from . import zarr as fzarr

        fzarr._need_zarr()
        return cls._read(fzarr._B, zgrp, keep, mpi_comm, mpi_dist, no_flatten, False)


__all__ = ["FlacArray"]
