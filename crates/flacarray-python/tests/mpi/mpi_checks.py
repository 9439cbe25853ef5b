"""MPI checks, run under ``mpirun -n 1|2|3`` by scripts/python-tests.sh.

Every rank builds the same global data; each holds rows by a distribution that
leaves rank 1 empty when there are 3 ranks.  Writes through flacarray_rs (HDF5 with
the group on rank 0 only, and Zarr) are read back by flacarray 0.4.1 and by
flacarray_rs with default and custom ``mpi_dist``, global keep masks, and the
per-rank read path (every rank holding the file open read-only), and compared with
0.4.1 run on the same communicator.  Exits non-zero on the first failure.
"""

import os
import sys
import tempfile
import traceback

import numpy as np
from mpi4py import MPI

import flacarray
import flacarray.hdf5
import flacarray.zarr
import flacarray_rs as F
import flacarray_rs.hdf5 as fh5
import flacarray_rs.zarr as fz
import h5py

comm = MPI.COMM_WORLD
rank, size = comm.rank, comm.size
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(f"rank {rank}: {what}")
    checks += 1


def same(a, b, what):
    a = np.asarray(a)
    b = np.asarray(b)
    check(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b),
          f"{what}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}")


def row_split(n_rows):
    """Rows per rank: rank 1 empty with 3 ranks, else as even as possible."""
    if size == 3:
        counts = [n_rows - n_rows // 2, 0, n_rows // 2]
    else:
        counts = [n_rows // size + (1 if r < n_rows % size else 0) for r in range(size)]
    first = sum(counts[:rank])
    return first, first + counts[rank]


def main(tmp):
    rng = np.random.default_rng(42)
    n_rows = 5
    global_data = {
        "int32": np.cumsum(rng.integers(-100, 100, size=(n_rows, 3, 700)), axis=-1).astype(np.int32),
        "float64": rng.normal(size=(n_rows, 3, 700)) * 5.0,
    }
    for name, gdata in global_data.items():
        kw = {"quanta": 1e-4} if name.startswith("float") else {}
        r0, r1 = row_split(n_rows)
        local = gdata[r0:r1] if r1 > r0 else None
        # FlacArray.from_array over the communicator.
        fa = F.FlacArray.from_array(local, mpi_comm=comm, **kw)
        check(fa.global_shape == gdata.shape, "global_shape")
        check([tuple(x) for x in fa.mpi_dist] == [tuple(row_split_of(p, n_rows)) for p in range(size)], f"mpi_dist {fa.mpi_dist}")
        totals = comm.allgather(fa.nbytes)
        check(fa.global_nbytes == sum(totals), "global_nbytes")
        if r1 > r0:
            same(fa.global_stream_starts, fa.stream_starts + sum(totals[:rank]), "global starts")
            same(fa.to_array(), flacarray.FlacArray.from_array(local, **kw).to_array(), "local to_array")
        check(f"Rank {rank:04d}" in repr(fa), "repr")
        serial_full[name] = flacarray.FlacArray.from_array(gdata, **kw).to_array()
        # Writes: HDF5 with the group on rank 0 only; Zarr through rank 0.
        h5path = os.path.join(tmp, f"{name}.h5")
        zpath = os.path.join(tmp, f"{name}.zarr")
        hf = h5py.File(h5path, "w") if rank == 0 else None
        if rank == 0:
            hf.attrs["units"] = "K"
        fh5.write_array(local, hf, mpi_comm=comm, **kw)
        zg = F.zarr.ZarrGroup(zpath, "w", comm=comm)
        fz.write_array(local, zg.handle, mpi_comm=comm, **kw)
        zg.close()
        fa2 = F.FlacArray.from_array(local, mpi_comm=comm, **kw)
        if rank == 0:
            g2 = hf.create_group("fa")
            hf.close()
        comm.barrier()
        if rank == 0:
            serial_expect = flacarray.FlacArray.from_array(gdata, **kw).to_array()
            with h5py.File(h5path, "r") as f:
                same(flacarray.hdf5.read_array(f), serial_expect, f"{name} hdf5 read by 0.4.1")
                same(fh5.read_array(f), serial_expect, f"{name} hdf5 read by us")
                check(f.attrs["units"] == "K", "foreign attribute kept")
            import zarr
            z = zarr.open_group(zpath, mode="r")
            same(flacarray.zarr.read_array(z), serial_expect, f"{name} zarr read by 0.4.1")
        # FlacArray.write_hdf5 over the communicator.
        hf = h5py.File(h5path, "a") if rank == 0 else None
        fa2.write_hdf5(hf["fa"] if rank == 0 else None)
        if rank == 0:
            hf.close()
        comm.barrier()
        # Distributed reads, compared with 0.4.1 on the same communicator.
        keep = np.zeros(gdata.shape[:-1], dtype=bool)
        keep[0, 1] = keep[1, 0] = keep[1, 2] = keep[n_rows - 1, 2] = True
        dists = [None, [row_split_of(p, n_rows) for p in range(size)]]
        for dist in dists:
            if dist is None and n_rows < size:
                continue
            hf = h5py.File(h5path, "r") if rank == 0 else None
            for grp_name in ("/", "fa"):
                g = None if hf is None else (hf if grp_name == "/" else hf[grp_name])
                for kk in (None, keep):
                    ours = fh5.read_array(g, keep=kk, mpi_comm=comm, mpi_dist=dist,
                                          keep_indices=True, stream_slice=slice(10, 500))
                    r0, r1 = (dist or default_dist(n_rows))[rank]
                    same(ours[0], expect(serial_full[name], r0, r1, kk, slice(10, 500)),
                         f"{name} read_array dist={dist} keep={kk is not None}")
                    # 0.4.1 itself fails (MPI_ERR_TRUNCATE) when a rank with rows keeps
                    # no stream; compare with it only when every such rank keeps one.
                    safe = kk is None or all(
                        kk[a:b].any() for a, b in (dist or default_dist(n_rows)) if b > a)
                    if safe:
                        theirs = flacarray.hdf5.read_array(
                            g, keep=kk, mpi_comm=comm, mpi_dist=dist, keep_indices=True,
                            stream_slice=slice(10, 500))
                        same(ours[0], theirs[0], f"{name} read_array vs 0.4.1 dist={dist}")
                        check(ours[1] == theirs[1], f"keep indices {ours[1]} {theirs[1]}")
                    if not safe:
                        continue
                    a = F.FlacArray.read_hdf5(g, keep=kk, mpi_comm=comm, mpi_dist=dist)
                    b = flacarray.FlacArray.read_hdf5(g, keep=kk, mpi_comm=comm, mpi_dist=dist)
                    check(a.shape == b.shape and a.global_shape == b.global_shape, f"read_hdf5 shapes {a.shape} {b.shape}")
                    check(a.mpi_dist == b.mpi_dist or [tuple(x) for x in a.mpi_dist] == [tuple(x) for x in b.mpi_dist], "read_hdf5 dist")
                    same(a.to_array(), b.to_array(), "read_hdf5 to_array")
            if hf is not None:
                hf.close()
            zg = F.zarr.ZarrGroup(zpath, "r", comm=comm)
            ours = fz.read_array(zg.handle, keep=keep, mpi_comm=comm, mpi_dist=dist)
            r0, r1 = (dist or default_dist(n_rows))[rank]
            same(ours, expect(serial_full[name], r0, r1, keep, None), f"{name} zarr read dist={dist}")
            ours = fz.read_array(zg.handle, mpi_comm=comm, mpi_dist=dist)
            theirs = flacarray.zarr.read_array(zg.handle, mpi_comm=comm, mpi_dist=dist)
            same(ours, theirs, f"{name} zarr read_array vs 0.4.1 dist={dist}")
            zg.close()
            # Every rank holds the file open read-only: each reads its own rows.
            with h5py.File(h5path, "r") as f:
                ours = fh5.read_array(f, keep=keep, mpi_comm=comm, mpi_dist=dist)
                r0, r1 = (dist or default_dist(n_rows))[rank]
                want = gdata[r0:r1][keep[r0:r1]] if r1 > r0 else None
                serial = flacarray.FlacArray.from_array(gdata, **kw).to_array(keep=keep)
                if want is not None:
                    rows = [i for i, (a, _) in enumerate(np.argwhere(keep)) if r0 <= a < r1]
                    same(ours, serial[rows] if len(rows) != 1 else serial[rows[0]], "per-rank read")
        # A bad mpi_dist is refused on every rank.
        try:
            fh5.read_array(h5py.File(h5path, "r") if rank == 0 else None, mpi_comm=comm,
                           mpi_dist=[(0, 1)] * (size + 1))
            check(False, "bad mpi_dist accepted")
        except RuntimeError:
            check(True, "")


serial_full = {}


def extension_checks(tmp):
    """Issue 15 over the communicator (rank 1 empty with 3 ranks): uint16 data
    (format 1 + flacarray_dtype) and float32 with kept NaN/inf in some ranks' rows
    only (format 2), written through rank 0 to HDF5 and Zarr, read back whole on rank 0
    and distributed; 0.4.1 reads the first widened and refuses the second."""
    import zarr

    rng = np.random.default_rng(7)
    n_rows = 5
    u16 = rng.integers(0, 65536, size=(n_rows, 2, 300)).astype(np.uint16)
    f32 = rng.normal(size=(n_rows, 2, 300)).astype(np.float32)
    f32[n_rows - 1, 1, 10:20] = np.nan
    f32[n_rows - 1, 0, -1] = -np.inf
    for name, gdata, kw in (
        ("u16", u16, {}),
        ("nan", f32, {"quanta": 1e-3, "keep_nonfinite": True}),
    ):
        r0, r1 = row_split(n_rows)
        local = gdata[r0:r1] if r1 > r0 else None
        h5path = os.path.join(tmp, f"ext_{name}.h5")
        zpath = os.path.join(tmp, f"ext_{name}.zarr")
        hf = h5py.File(h5path, "w") if rank == 0 else None
        fh5.write_array(local, hf, mpi_comm=comm, **kw)
        fa = F.FlacArray.from_array(local, mpi_comm=comm, **kw)
        if rank == 0:
            g = hf.create_group("fa")
        fa.write_hdf5(g if rank == 0 else None)
        if rank == 0:
            hf.close()
        zg = F.zarr.ZarrGroup(zpath, "w", comm=comm)
        fz.write_array(local, zg.handle, mpi_comm=comm, **kw)
        zg.close()
        comm.barrier()
        serial = F.FlacArray.from_array(gdata, **kw).to_array()
        if rank == 0:
            with h5py.File(h5path, "r") as f:
                for grp in (f, f["fa"]):
                    got = fh5.read_array(grp)
                    check(got.dtype == gdata.dtype, f"{name} dtype {got.dtype}")
                    same(got.view(np.uint8), serial.view(np.uint8), f"{name} hdf5 whole read")
                    try:
                        theirs = flacarray.hdf5.read_array(grp)
                        check(name == "u16", f"{name}: 0.4.1 read a format-2 group")
                        same(theirs, gdata.astype(np.int32), f"{name} read by 0.4.1")
                    except Exception as e:  # noqa: BLE001
                        check(name == "nan" and "load_v2" in str(e), f"{name}: 0.4.1 raised {e}")
            z = zarr.open_group(zpath, mode="r")
            same(fz.read_array(z).view(np.uint8), serial.view(np.uint8), f"{name} zarr whole read")
        # Distributed reads: every rank gets its rows.
        hf = h5py.File(h5path, "r") if rank == 0 else None
        dist = [row_split_of(p, n_rows) for p in range(size)]
        mine = fh5.read_array(hf, mpi_comm=comm, mpi_dist=dist)
        want = expect(serial, r0, r1, None, None)
        same(np.ascontiguousarray(mine).view(np.uint8), np.ascontiguousarray(want).view(np.uint8),
             f"{name} distributed read")
        back = F.FlacArray.read_hdf5(hf, mpi_comm=comm, mpi_dist=dist)
        if r1 > r0:
            same(back.to_array().view(np.uint8), want.view(np.uint8), f"{name} distributed FlacArray")
        if rank == 0:
            hf.close()
        comm.barrier()


def expect(full, r0, r1, keep, sl):
    """What a rank holding rows r0:r1 must get (0.4.1's shape rules)."""
    if r1 <= r0:
        return np.zeros((0,) + full.shape[1:], dtype=full.dtype)
    if keep is None:
        return full[r0:r1] if sl is None else full[r0:r1][..., sl]
    sel = full[r0:r1][keep[r0:r1]]
    if sel.shape[0] == 0:
        return np.zeros((0, full.shape[-1]), dtype=full.dtype)
    sel = sel if sl is None else sel[..., sl]
    return sel.reshape(-1) if sel.shape[0] == 1 else sel


def row_split_of(p, n_rows):
    global rank
    saved = rank
    rank = p
    try:
        return row_split(n_rows)
    finally:
        rank = saved


def default_dist(n_rows):
    return F.mpi.distribute_and_verify(comm, n_rows)


if __name__ == "__main__":
    tmp = tempfile.mkdtemp() if rank == 0 else None
    tmp = comm.bcast(tmp, root=0)
    try:
        main(tmp)
        extension_checks(tmp)
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        comm.Abort(1)
    total = comm.reduce(checks, op=MPI.SUM, root=0)
    if rank == 0:
        print(f"mpi checks passed: {total} checks on {size} ranks", flush=True)
