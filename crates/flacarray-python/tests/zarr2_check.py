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
print(f"zarr-python {zarr.__version__}: {checks} cases passed")
sys.exit(0)
