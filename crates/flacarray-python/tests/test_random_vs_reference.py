"""Randomized comparisons with flacarray 0.4.1 over shapes, dtypes, keep masks and
sample ranges where 0.4.1's behaviour is correct (closed, non-negative slices):
values, shapes, dtypes and kept indices must be identical."""

import numpy as np
import pytest

import flacarray_rs as F
from flacarray_rs import hdf5 as fh5

from conftest import assert_same

h5py = pytest.importorskip("h5py")


@pytest.mark.parametrize("seed", range(12))
def test_random_reads_match_reference(ref, tmp_path, seed):
    rng = np.random.default_rng(1000 + seed)
    dtype = ["int32", "int64", "float32", "float64"][seed % 4]
    ndim = 1 + seed % 3
    lead = tuple(int(x) for x in rng.integers(1, 5, size=ndim - 1))
    n = int(rng.integers(1, 9000))
    shape = lead + (n,)
    if dtype.startswith("int"):
        info = np.iinfo(dtype)
        data = rng.integers(info.min // 2, info.max // 2, size=shape, dtype=np.int64)
        data = (data // int(rng.integers(1, 2**20))).astype(dtype)
        kw = {}
    else:
        data = (rng.normal(size=shape) * 10 ** rng.uniform(-3, 3)).astype(dtype)
        kw = {"quanta": float(10 ** rng.uniform(-5, -1))} if seed % 2 else {"precision": int(rng.integers(1, 7))}
    level = int(rng.integers(0, 9))
    ours = F.FlacArray.from_array(data, level=level, **kw)
    theirs = ref.FlacArray.from_array(data, level=level, **kw)
    assert_same(ours.to_array(), theirs.to_array())
    for _ in range(4):
        first = int(rng.integers(0, n))
        last = int(rng.integers(first + 1, n + 1))
        ss = slice(first, last)
        klead = np.shape(ours.stream_starts)
        keep = rng.random(klead) < 0.5
        if not keep.any():
            keep.flat[0] = True
        a = ours.to_array(keep=keep, stream_slice=ss, keep_indices=True)
        b = theirs.to_array(keep=keep, stream_slice=ss, keep_indices=True)
        assert_same(a[0], b[0])
        assert a[1] == b[1]
        assert_same(ours.to_array(stream_slice=ss), theirs.to_array(stream_slice=ss))
    path = tmp_path / "r.h5"
    with h5py.File(path, "w") as f:
        fh5.write_array(data, f, level=level, **kw)
    with h5py.File(path, "r") as f:
        glead = f["stream_starts"].shape
        keep = rng.random(glead) < 0.6
        keep.flat[-1] = True
        ss = slice(int(n // 3), n)
        a = fh5.read_array(f, keep=keep, stream_slice=ss, keep_indices=True)
        b = ref.hdf5.read_array(f, keep=keep, stream_slice=ss, keep_indices=True)
        assert_same(a[0], b[0])
        assert a[1] == b[1]
        assert_same(fh5.read_array(f, no_flatten=True), ref.hdf5.read_array(f, no_flatten=True))
