"""Parallel HDF5 checks (h5py built with MPI, file opened with the ``mpio`` driver on
every rank), run under ``mpirun -n 1|2|3`` when such an h5py is installed.

flacarray_rs writes with every rank holding the group (rank 1 empty with 3 ranks);
flacarray 0.4.1 reads the file serially and in parallel; flacarray_rs reads in
parallel (with a global keep mask) its own file and one 0.4.1 wrote through rank 0.  Exits non-zero on failure.
"""

import os
import sys
import tempfile
import traceback

import h5py
import numpy as np
from mpi4py import MPI

import flacarray
import flacarray.hdf5
import flacarray_rs as F
import flacarray_rs.hdf5 as fh5
from flacarray_rs.hdf5_utils import H5File, have_hdf5_parallel

comm = MPI.COMM_WORLD
rank, size = comm.rank, comm.size
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(f"rank {rank}: {what}")
    checks += 1


def rows(n_rows, p):
    counts = [n_rows - n_rows // 2, 0, n_rows // 2] if size == 3 else \
        [n_rows // size + (1 if r < n_rows % size else 0) for r in range(size)]
    first = sum(counts[:p])
    return first, first + counts[p]


def main(tmp):
    check(h5py.get_config().mpi and have_hdf5_parallel(), "h5py has no MPI driver")
    rng = np.random.default_rng(3)
    n_rows = 5
    gdata = rng.normal(size=(n_rows, 2, 900))
    kw = {"quanta": 1e-5}
    r0, r1 = rows(n_rows, rank)
    local = gdata[r0:r1] if r1 > r0 else None
    serial = flacarray.FlacArray.from_array(gdata, **kw).to_array()
    path = os.path.join(tmp, "p.h5")
    with H5File(path, "w", comm=comm) as hf:
        check(hf.handle is not None, "mpio handle on every rank")
        hf.handle.attrs["units"] = "K"
        fh5.write_array(local, hf.handle, mpi_comm=comm, **kw)
        g = hf.handle.create_group("fa")
        F.FlacArray.from_array(local, mpi_comm=comm, **kw).write_hdf5(g)
    if rank == 0:
        with h5py.File(path, "r") as f:
            for grp in (f, f["fa"]):
                check(np.array_equal(flacarray.hdf5.read_array(grp), serial), "0.4.1 serial read")
            check(f.attrs["units"] == "K", "foreign attribute kept")
    comm.barrier()
    keep = np.zeros((n_rows, 2), dtype=bool)
    keep[0, 1] = keep[2, 0] = keep[4, 1] = keep[4, 0] = True
    dist = [rows(n_rows, p) for p in range(size)]
    with H5File(path, "r", comm=comm) as hf:
        ours = fh5.read_array(hf.handle, mpi_comm=comm, mpi_dist=dist)
        want = serial[r0:r1] if r1 > r0 else np.zeros((0, 2, 900))
        check(np.array_equal(ours, want) and ours.shape == want.shape, "parallel read")
        theirs = flacarray.hdf5.read_array(hf.handle, mpi_comm=comm, mpi_dist=dist)
        check(np.array_equal(ours, theirs), "parallel read vs 0.4.1")
        ours = fh5.read_array(hf.handle["fa"], keep=keep, mpi_comm=comm, mpi_dist=dist)
        if r1 > r0:
            sel = serial[r0:r1][keep[r0:r1]]
            if sel.shape[0] == 1:
                sel = sel.reshape(-1)
            if sel.shape[0] == 0:
                sel = np.zeros((0, 900))
        else:
            # A rank without rows gets (0,) + the global shape's trailing axes, as 0.4.1.
            sel = np.zeros((0, 2, 900))
        check(ours.shape == sel.shape and np.array_equal(ours, sel), "parallel keep read")
    # 0.4.1's own parallel write fails (its buffer-size check calls .itemsize on the
    # numpy scalar type), so it writes through rank 0 here.
    path2 = os.path.join(tmp, "q.h5")
    with H5File(path2, "w", comm=comm, force_serial=True) as hf:
        flacarray.hdf5.write_array(local, hf.handle, mpi_comm=comm, **kw)
    with H5File(path2, "r", comm=comm) as hf:
        ours = F.FlacArray.read_hdf5(hf.handle, mpi_comm=comm, mpi_dist=dist)
        want = serial[r0:r1] if r1 > r0 else np.zeros((0, 2, 900))
        check(np.array_equal(ours.to_array(), want), "read 0.4.1's parallel file")


if __name__ == "__main__":
    tmp = comm.bcast(tempfile.mkdtemp() if rank == 0 else None, root=0)
    try:
        main(tmp)
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        comm.Abort(1)
    total = comm.reduce(checks, op=MPI.SUM, root=0)
    if rank == 0:
        print(f"mpio checks passed: {total} checks on {size} ranks", flush=True)
