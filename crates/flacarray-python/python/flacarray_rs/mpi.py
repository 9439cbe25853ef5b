"""MPI helpers (mpi4py).  Only the leading axis (axis 0) of an array is distributed:
``mpi_dist`` is a list of ``(first, last_exclusive)`` row ranges, one per rank.

``use_mpi`` is False when mpi4py cannot be imported or ``MPI_DISABLE`` is set; then
``MPI`` is None.
"""

import os

import numpy as np

from ._errors import FlacArrayError
from .utils import log

if "MPI_DISABLE" in os.environ:
    use_mpi = False
    MPI = None
else:
    try:
        import mpi4py

        # Open MPI 4 and MPI_THREAD_MULTIPLE do not mix; the engine's threads never
        # call MPI, so "serialized" is enough.
        mpi4py.rc.thread_level = "serialized"
        import mpi4py.MPI as MPI

        use_mpi = True
    except Exception:
        log.debug("mpi4py not importable- MPI operations disabled")
        use_mpi = False
        MPI = None


def distribute_and_verify(mpi_comm, n_elem, mpi_dist=None):
    """Check a given ``mpi_dist`` or compute the default one.

    A given distribution must have one contiguous range per rank covering
    ``[0, n_elem)`` (without a communicator: exactly ``[(0, n_elem)]``).  The default
    splits the rows as ``numpy.array_split`` does and refuses to leave a rank empty.
    Raises :class:`FlacArrayError` (a ``RuntimeError``) when the check fails.
    """
    if mpi_dist is not None:
        dist = [(int(a), int(b)) for a, b in mpi_dist]
        if mpi_comm is None:
            if len(dist) != 1 or dist[0][0] != 0 or dist[0][1] != n_elem:
                raise FlacArrayError(
                    "mpi_comm is None and mpi_dist does not contain single range "
                    "of all elements"
                )
            return mpi_dist
        if mpi_comm.size != len(dist):
            raise FlacArrayError(
                f"If specified, mpi_dist (len={len(dist)}) should have same "
                f"length as comm size ({mpi_comm.size})"
            )
        if dist[0][0] != 0 or dist[-1][1] != n_elem:
            raise FlacArrayError(
                f"If specified, mpi_dist ({dist[0][0]} ... {dist[-1][1]}) should span "
                f"the full range of elements ({n_elem})"
            )
        for proc in range(1, len(dist)):
            if dist[proc][0] != dist[proc - 1][1]:
                raise FlacArrayError(
                    "mpi_dist must have contiguous ranges of first, last (exclusive)"
                )
        for a, b in dist:
            if b < a:
                raise FlacArrayError("mpi_dist ranges must not be reversed")
        return mpi_dist
    if mpi_comm is None:
        return [(0, n_elem)]
    nproc = mpi_comm.size
    if n_elem < nproc:
        raise FlacArrayError(f"Cannot distribute {n_elem} streams among {nproc} processes.")
    base, extra = divmod(n_elem, nproc)
    dist = list()
    first = 0
    for proc in range(nproc):
        n = base + (1 if proc < extra else 0)
        dist.append((first, first + n))
        first += n
    return dist


def global_array_properties(local_shape, local_dtype, mpi_comm):
    """Global shape, dtype and row distribution from every rank's local array.

    ``local_shape`` None (or a leading 0) means the rank holds no rows; a 1-D local
    array counts as one row.  Trailing dimensions and dtypes must agree across ranks.

    Returns:
        (dict): ``{"shape": global shape, "dtype": dtype, "dist": mpi_dist}``.
    """
    if mpi_comm is None:
        if len(local_shape) == 1:
            return {"shape": (1, local_shape[0]), "dtype": np.dtype(local_dtype), "dist": [(0, 1)]}
        return {
            "shape": tuple(local_shape),
            "dtype": np.dtype(local_dtype),
            "dist": [(0, local_shape[0])],
        }
    shapes = mpi_comm.allgather(None if local_shape is None else tuple(local_shape))
    dtypes = mpi_comm.allgather(None if local_dtype is None else np.dtype(local_dtype).str)
    global_dtype = None
    for proc, dt in enumerate(dtypes):
        if dt is None:
            continue
        if global_dtype is None:
            global_dtype = dt
        elif dt != global_dtype:
            raise FlacArrayError(f"Process {proc} has dtype '{np.dtype(dt)}' instead of '{np.dtype(global_dtype)}'")
    rows = 0
    trailing = None
    dist = list()
    for shp in shapes:
        if shp is None or shp[0] == 0:
            if shp is not None and len(shp) > 1:
                tr = shp[1:]
                if trailing is not None and tr != trailing:
                    raise FlacArrayError("Inconsistent array dimensions across processes")
            dist.append((rows, rows))
            continue
        if len(shp) == 1:
            n, tr = 1, tuple(shp)
        else:
            n, tr = shp[0], tuple(shp[1:])
        if trailing is None:
            trailing = tr
        elif tr != trailing:
            raise FlacArrayError("Inconsistent array dimensions across processes")
        dist.append((rows, rows + n))
        rows += n
    if trailing is None or global_dtype is None:
        raise FlacArrayError("No process holds any data")
    return {"shape": (rows,) + trailing, "dtype": np.dtype(global_dtype), "dist": dist}



def local_input(arr, mpi_comm):
    """This rank's input array and the global properties of all ranks' inputs.

    ``arr`` None (or with 0 rows) is allowed only under MPI: the rank holds no rows.

    Returns:
        (tuple): ``(arr, empty, props)`` with ``arr`` as a numpy array (None when
        empty) and ``props`` from :func:`global_array_properties`.
    """
    if mpi_comm is None:
        # Without MPI an array with an axis of length 0 is compressed as it is.
        if arr is None:
            raise FlacArrayError("Local array is None, and MPI is not being used")
        arr = np.asarray(arr)
        if arr.ndim == 0:
            raise IndexError("Cannot compress a 0-dimensional array")
        return arr, False, global_array_properties(arr.shape, arr.dtype, None)
    empty = arr is None or np.shape(arr)[0] == 0
    if not empty:
        arr = np.asarray(arr)
    props = global_array_properties(
        None if empty else arr.shape, None if empty else arr.dtype, mpi_comm=mpi_comm
    )
    return arr, empty, props

def global_bytes(local_nbytes, stream_starts, mpi_comm):
    """Total compressed bytes over the ranks, the bytes of each rank, and this rank's
    stream starts in the rank-ordered concatenation of every rank's bytes.

    Returns:
        (tuple): ``(global_nbytes, [bytes per rank], global_starts)``.
    """
    if mpi_comm is None or mpi_comm.size == 1:
        return (local_nbytes, [local_nbytes], stream_starts)
    all_nbytes = mpi_comm.allgather(int(local_nbytes))
    offset = int(sum(all_nbytes[: mpi_comm.rank]))
    return (int(sum(all_nbytes)), all_nbytes, stream_starts + offset)


__all__ = [
    "use_mpi",
    "MPI",
    "distribute_and_verify",
    "global_array_properties",
    "global_bytes",
]
