"""Zarr with zarr-python 2 (run by scripts/python-tests.sh in a venv holding
zarr 2.18 and flacarray 0.4.1): files written by flacarray_rs are read by 0.4.1 and
the other way round, with keep masks, and through FlacArray.write_zarr/read_zarr."""

import os
import sys
import tempfile

import numpy as np
import zarr

import flacarray
import flacarray.zarr as rz
import flacarray_rs as F
import flacarray_rs.zarr as fz

assert zarr.__version__.startswith("2."), zarr.__version__
d = tempfile.mkdtemp()
rng = np.random.default_rng(0)
checks = 0
for arr, kw in (
    (rng.normal(size=(3, 4, 500)), {"quanta": 1e-4}),
    (rng.normal(size=(700,)).astype(np.float32), {"precision": 4}),
    (np.cumsum(rng.integers(-9, 9, size=(5, 300)), axis=1), {}),
):
    g = zarr.open_group(os.path.join(d, f"ours{checks}.zarr"), mode="w")
    g.attrs["units"] = "K"
    fz.write_array(arr, g, **kw)
    assert np.array_equal(rz.read_array(g), fz.read_array(g))
    assert g.attrs["units"] == "K"
    g2 = zarr.open_group(os.path.join(d, f"ref{checks}.zarr"), mode="w")
    rz.write_array(arr, g2, **kw)
    lead = arr.shape[:-1] if arr.ndim > 1 else (1,)
    keep = np.zeros(lead, dtype=bool)
    keep.flat[0] = keep.flat[-1] = True
    a = rz.read_array(g2, keep=keep, keep_indices=True)
    b = fz.read_array(g2, keep=keep, keep_indices=True)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    fa = F.FlacArray.from_array(arr, **kw)
    sub = g2.create_group("fa")
    fa.write_zarr(sub)
    assert np.array_equal(flacarray.FlacArray.read_zarr(sub).to_array(), fa.to_array())
    assert F.FlacArray.read_zarr(sub) == fa
    checks += 1
# Element types beyond 0.4.1's, kept NaN/inf and empty arrays (issue 15): read back
# bit for bit; 0.4.1 reads format-1 groups widened and refuses format-2 ones.
nan = rng.normal(size=(3, 400)).astype(np.float32)
nan[0, :7] = np.nan
nan[2, 100:150] = -np.inf
for arr, kw, version in (
    (rng.integers(0, 65536, size=(3, 300)).astype(np.uint16), {}, 1),
    (rng.integers(0, 2, size=(2, 300)).astype(bool), {}, 1),
    (np.arange(600, dtype=np.uint64).reshape(2, 300) + np.uint64(2**63), {}, 2),
    (nan, {"quanta": 1e-3, "keep_nonfinite": True}, 2),
    (np.zeros((0, 5), np.int16), {}, 2),
    (np.zeros((4, 0)), {"quanta": 0.1}, 2),
):
    g = zarr.open_group(os.path.join(d, f"ext{checks}.zarr"), mode="w")
    fz.write_array(arr, g, **kw)
    assert str(g.attrs["flacarray_format_version"]) == str(version)
    got = fz.read_array(g)
    assert got.dtype == arr.dtype and got.shape == arr.shape, (got.dtype, got.shape)
    if arr.dtype.kind == "f":
        fin = np.isfinite(arr)
        assert np.array_equal(got.view(np.uint8 if arr.size == 0 else f"u{arr.itemsize}")[~fin],
                              arr.view(np.uint8 if arr.size == 0 else f"u{arr.itemsize}")[~fin])
        assert np.all(np.abs(got[fin] - arr[fin]) <= kw["quanta"] / 2 + 1e-6)
    else:
        assert np.array_equal(got, arr)
    try:
        theirs = rz.read_array(g)
    except Exception:  # noqa: BLE001 - refusing is allowed, reading other values is not
        assert version == 2
    else:
        assert version == 1 and np.array_equal(theirs, arr.astype(theirs.dtype))
    checks += 1
print(f"zarr-python {zarr.__version__}: {checks} cases passed")
sys.exit(0)
