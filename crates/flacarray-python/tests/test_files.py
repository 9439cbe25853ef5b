"""HDF5 and Zarr (v3 and v2 stores) files: written by flacarray_rs and read by
flacarray 0.4.1, and the other way round, with equal values; foreign attributes kept;
keep-mask reads coalesced; the properties helper."""

import numpy as np
import pytest

import flacarray_rs as F
from flacarray_rs import _io
from flacarray_rs import hdf5 as fh5
from flacarray_rs import zarr as fz

from conftest import assert_same

h5py = pytest.importorskip("h5py")
zarr = pytest.importorskip("zarr")

CASES = [
    ("int32", (4, 1000), {}),
    ("int64", (2, 3, 700), {}),
    ("float32", (5, 900), {"quanta": 1e-3}),
    ("float64", (2, 2, 800), {"precision": 6}),
    ("float64", (1200,), {"quanta": 1e-7}),
    ("int32", (1, 600), {}),
]


def _data(dtype, shape, seed=1):
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        return np.cumsum(rng.integers(-1000, 1000, size=shape), axis=-1).astype(dtype)
    return (rng.normal(size=shape) * 3 + 1.5).astype(dtype)


def _zarr_group(path, fmt):
    return zarr.open_group(str(path), mode="w", zarr_format=fmt)


def _stores(tmp_path):
    yield "hdf5", h5py.File(tmp_path / "a.h5", "w"), fh5
    yield "zarr3", _zarr_group(tmp_path / "a3.zarr", 3), fz
    yield "zarr2", _zarr_group(tmp_path / "a2.zarr", 2), fz


@pytest.mark.parametrize("dtype,shape,kw", CASES)
def test_write_ours_read_reference(ref, tmp_path, dtype, shape, kw):
    data = _data(dtype, shape)
    for kind, grp, mod in _stores(tmp_path):
        sub = grp.create_group("flac")
        sub.attrs["units"] = "K"
        sub.attrs["detector_shape"] = "(2,)"
        mod.write_array(data, sub, quanta=kw.get("quanta"), precision=kw.get("precision"))
        rmod = ref.hdf5 if kind == "hdf5" else ref.zarr
        theirs = rmod.read_array(sub)
        ours = mod.read_array(sub)
        assert_same(ours, theirs)
        expected = ref.FlacArray.from_array(data, **kw).to_array()
        assert_same(ours.reshape(expected.shape), expected)
        assert sub.attrs["units"] == "K" and sub.attrs["detector_shape"] == "(2,)"
        assert str(sub.attrs["flacarray_format_version"]) == "1"
        # Keep masks and slices through the reference reader too.
        lead = np.shape(ours)[:-1] if np.ndim(ours) > 1 else (1,)
        keep = np.zeros(lead, dtype=bool)
        keep.flat[-1] = True
        a = mod.read_array(sub, keep=keep, stream_slice=slice(3, 40), keep_indices=True)
        b = rmod.read_array(sub, keep=keep, stream_slice=slice(3, 40), keep_indices=True)
        assert_same(a[0], b[0])
        assert a[1] == b[1]
        fa = F.FlacArray.read_hdf5(sub) if kind == "hdf5" else F.FlacArray.read_zarr(sub)
        ra = ref.FlacArray.read_hdf5(sub) if kind == "hdf5" else ref.FlacArray.read_zarr(sub)
        assert fa.shape == ra.shape and fa.global_shape == ra.global_shape
        assert_same(fa.to_array(), ra.to_array())
        if kind == "hdf5":
            grp.close()


@pytest.mark.parametrize("dtype,shape,kw", CASES)
def test_write_reference_read_ours(ref, tmp_path, dtype, shape, kw):
    data = _data(dtype, shape, seed=7)
    for kind, grp, mod in _stores(tmp_path):
        rmod = ref.hdf5 if kind == "hdf5" else ref.zarr
        rmod.write_array(data, grp, **kw)
        assert_same(mod.read_array(grp), rmod.read_array(grp))
        assert_same(mod.read_array(grp, no_flatten=True), rmod.read_array(grp, no_flatten=True))
        fa = F.FlacArray.read_hdf5(grp) if kind == "hdf5" else F.FlacArray.read_zarr(grp)
        ra = ref.FlacArray.read_hdf5(grp) if kind == "hdf5" else ref.FlacArray.read_zarr(grp)
        assert fa == F.FlacArray(fa)
        assert_same(fa.compressed, ra.compressed)
        assert_same(fa.stream_starts, ra.stream_starts)
        assert fa.shape == ra.shape
        assert_same(fa.to_array(), ra.to_array())
        info = F.info(grp)
        assert info["dtype"] == np.dtype(dtype)
        assert info["shape"] == ra.global_shape
        assert info["flac_channels"] == (2 if dtype.endswith("64") else 1)
        assert info["has_offsets"] == dtype.startswith("float")
        assert info["compressed_nbytes"] == ra.global_nbytes
        if kind == "hdf5":
            grp.close()


def test_flacarray_write_methods(ref, tmp_path):
    data = _data("float32", (3, 4, 500))
    fa = F.FlacArray.from_array(data, quanta=1e-3)
    with h5py.File(tmp_path / "m.h5", "w") as f:
        fa.write_hdf5(f)
        assert_same(ref.hdf5.read_array(f), fa.to_array())
        back = F.FlacArray.read_hdf5(f)
        assert back == fa
    z = _zarr_group(tmp_path / "m.zarr", 3)
    fa.write_zarr(z)
    assert_same(ref.zarr.read_array(z), fa.to_array())
    assert F.FlacArray.read_zarr(z) == fa


def test_read_with_keep_builds_kept_array(ref, tmp_path):
    data = _data("int64", (3, 4, 300))
    with h5py.File(tmp_path / "k.h5", "w") as f:
        fh5.write_array(data, f)
        keep = np.zeros((3, 4), dtype=bool)
        keep[0, 1] = keep[2, 3] = True
        a = F.FlacArray.read_hdf5(f, keep=keep)
        b = ref.FlacArray.read_hdf5(f, keep=keep)
        assert a.shape == b.shape == (2, 300)
        assert_same(a.to_array(), b.to_array())
        one = np.zeros((3, 4), dtype=bool)
        one[1, 1] = True
        a = F.FlacArray.read_hdf5(f, keep=one)
        b = ref.FlacArray.read_hdf5(f, keep=one)
        assert a.shape == b.shape == (300,)
        assert_same(a.to_array(), data[1, 1])
        # 0.4.1 refuses an empty selection; arrays with an axis of length 0 are
        # ordinary arrays here (issue 15).
        with pytest.raises(RuntimeError):
            ref.FlacArray.read_hdf5(f, keep=np.zeros((3, 4), dtype=bool))
        none = F.FlacArray.read_hdf5(f, keep=np.zeros((3, 4), dtype=bool))
        assert none.shape == (0, 300) and none.to_array().shape == (0, 300)
        assert none.to_array().dtype == np.int64
        empty = fh5.read_array(f, keep=np.zeros((3, 4), dtype=bool))
        assert empty.shape == (0, 300)


class _CountingBackend:
    """Wraps the h5py backend and counts reads of the compressed dataset."""

    kind = "h5py"

    def __init__(self):
        self.byte_reads = 0
        self._b = fh5._B

    def __getattr__(self, name):
        return getattr(self._b, name)

    def read(self, ds, slc):
        if ds.name.endswith("/compressed"):
            self.byte_reads += 1
        return self._b.read(ds, slc)


def test_keep_reads_coalesce_adjacent_streams(tmp_path):
    data = _data("int32", (10, 400))
    with h5py.File(tmp_path / "c.h5", "w") as f:
        fh5.write_array(data, f)
        keep = np.array([1, 1, 1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)
        b = _CountingBackend()
        meta, part, _ = _io.read_distributed(b, f, keep=keep)
        assert b.byte_reads == 3  # runs 0-2, 4-5, 8
        assert part["reads"] == 3
        assert part["indices"] == [(0,), (1,), (2,), (4,), (5,), (8,)]
        b = _CountingBackend()
        _io.read_distributed(b, f)
        assert b.byte_reads == 1
        assert_same(fh5.read_array(f, keep=keep), data[keep])


def test_array_properties_helper(ref, tmp_path):
    with h5py.File(tmp_path / "p.h5", "w") as f:
        g = f.create_group("x")
        g.attrs["units"] = "V"
        ref.hdf5.write_array(_data("float64", (6, 50)), g, quanta=1e-3)
        p = fh5.array_properties(g)
        assert p["format_version"] == 1 and p["software_version"] == "0.4.1"
        assert p["shape"] == (6, 50) and p["leading_shape"] == (6,) and p["stream_size"] == 50
        assert p["n_streams"] == 6 and p["dtype"] == np.float64 and p["flac_channels"] == 2
        assert p["has_offsets"] is True
        assert F.info(g) == p
        with pytest.raises(RuntimeError, match="does not contain a FlacArray"):
            fh5.array_properties(f)


def test_software_version_attribute(tmp_path):
    with h5py.File(tmp_path / "v.h5", "w") as f:
        fh5.write_array(_data("int32", (2, 10)), f)
        v = f.attrs["flacarray_software_version"]
        assert isinstance(v, str) and v.startswith("flacarray-rs ")
        # Variable-length UTF-8 strings, as 0.4.1's reader requires.
        assert h5py.check_string_dtype(f.attrs.get_id("flacarray_format_version").dtype).length is None
