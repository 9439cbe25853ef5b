"""flacarray 0.4.1-style usage against flacarray_rs, compared with the real
flacarray 0.4.1 installed in the same venv (decoded values, shapes, dtypes, return
types; compressed bytes may differ since the FLAC encoders differ)."""

import numpy as np
import pytest

import flacarray_rs as F
from flacarray_rs import compress as fcomp
from flacarray_rs import decompress as fdec
from flacarray_rs import utils as futils

from conftest import assert_same

SHAPES = [(1000,), (3, 1000), (2, 3, 600)]


def _data(dtype, shape, seed=5):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "i":
        info = np.iinfo(dtype)
        span = min(info.max, 2**40)
        base = rng.integers(-span, span, size=shape[:-1] + (1,), dtype=np.int64)
        walk = np.cumsum(rng.integers(-50, 50, size=shape, dtype=np.int64), axis=-1)
        return np.clip(base + walk, info.min, info.max).astype(dtype)
    dc = rng.uniform(-10, 10, size=shape[:-1] + (1,))
    return (dc + rng.normal(size=shape)).astype(dtype)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_from_array_to_array_matches_reference(ref, dtype, shape):
    data = _data(dtype, shape)
    kw = {} if dtype.startswith("int") else {"quanta": 1e-3}
    ours = F.FlacArray.from_array(data, **kw)
    theirs = ref.FlacArray.from_array(data, **kw)
    assert ours.shape == theirs.shape
    assert ours.global_shape == theirs.global_shape
    assert ours.leading_shape == theirs.leading_shape
    assert ours.global_leading_shape == theirs.global_leading_shape
    assert ours.stream_size == theirs.stream_size
    assert ours.dtype == theirs.dtype and ours.typestr == theirs.typestr
    assert np.shape(ours.stream_starts) == np.shape(theirs.stream_starts)
    assert ours.stream_starts.dtype == theirs.stream_starts.dtype
    assert ours.compressed.dtype == theirs.compressed.dtype == np.uint8
    assert ours.nbytes == ours.compressed.nbytes
    if dtype.startswith("float"):
        assert_same(ours.stream_offsets, theirs.stream_offsets)
        assert_same(ours.stream_gains, theirs.stream_gains)
    else:
        assert ours.stream_offsets is None and ours.stream_gains is None
    out = ours.to_array()
    assert_same(out, theirs.to_array())
    if dtype.startswith("int"):
        assert_same(out, data)
    assert type(repr(ours)) is str and repr(ours).startswith("<FlacArray ")
    assert repr(ours).replace(f"bytes={ours.nbytes}", "") == repr(theirs).replace(
        f"bytes={theirs.nbytes}", "")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("precision", [2, 5])
def test_precision_matches_reference(ref, dtype, precision):
    data = _data(dtype, (3, 2000), seed=9)
    ours = F.FlacArray.from_array(data, precision=precision)
    theirs = ref.FlacArray.from_array(data, precision=precision)
    assert_same(ours.stream_offsets, theirs.stream_offsets)
    assert_same(ours.stream_gains, theirs.stream_gains)
    assert_same(ours.to_array(), theirs.to_array())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_per_stream_quanta(ref, dtype):
    # 0.4.1's array_compress crashes on a quanta array; each stream must equal the
    # reference compressing that stream alone with its scalar quanta.
    data = _data(dtype, (3, 1500), seed=11)
    quanta = np.array([1e-2, 1e-3, 1e-4])
    ours = F.FlacArray.from_array(data, quanta=quanta)
    out = ours.to_array()
    for i in range(3):
        theirs = ref.FlacArray.from_array(data[i], quanta=float(quanta[i]))
        assert_same(out[i], theirs.to_array())
    with pytest.raises(AttributeError):
        ref.FlacArray.from_array(data, quanta=quanta)


def test_per_stream_precision_matches_reference_float_to_int(ref):
    data = _data("float64", (2, 3, 800), seed=2)
    prec = np.array([[3, 4, 5], [2, 3, 4]])
    ours = F.FlacArray.from_array(data, precision=prec)
    i, o, g = ref.utils.float_to_int(data, precision=prec)
    assert_same(ours.stream_offsets, o)
    assert_same(ours.stream_gains, g)
    assert_same(ours.to_array(), ref.utils.int_to_float(i, o, g))


@pytest.mark.parametrize("level", range(9))
def test_levels_roundtrip(ref, level):
    data = _data("int64", (2, 5000), seed=level)
    ours = F.FlacArray.from_array(data, level=level)
    assert_same(ours.to_array(), data)
    # The reference decodes our bytes to the same values.
    back = ref.decompress.array_decompress(
        ours.compressed, ours.stream_size, ours.stream_starts, ours.stream_nbytes,
        is_int64=True)
    assert_same(back, data)


KEEP_CASES = [
    (np.array([[True, False, True], [False, True, False]]), None),
    (np.array([[True, False, True], [False, True, False]]), slice(100, 250)),
    (np.array([[False, False, False], [False, True, False]]), slice(0, 5)),
    (None, slice(10, 20)),
    (None, slice(590, 600)),
]


@pytest.mark.parametrize("dtype", ["int32", "float64"])
@pytest.mark.parametrize("keep,ss", KEEP_CASES)
def test_keep_slice_indices_match_reference(ref, dtype, keep, ss):
    data = _data(dtype, (2, 3, 600), seed=3)
    kw = {} if dtype.startswith("int") else {"quanta": 1e-4}
    ours = F.FlacArray.from_array(data, **kw)
    theirs = ref.FlacArray.from_array(data, **kw)
    a = ours.to_array(keep=keep, stream_slice=ss, keep_indices=True)
    b = theirs.to_array(keep=keep, stream_slice=ss, keep_indices=True)
    if keep is None:
        assert_same(a, b)
    else:
        assert_same(a[0], b[0])
        assert a[1] == b[1]
        assert all(type(v) is int for t in a[1] for v in t)


def test_1d_keep_and_slice(ref):
    data = _data("int32", (700,))
    ours = F.FlacArray.from_array(data)
    theirs = ref.FlacArray.from_array(data)
    for keep in (np.array([True]), np.array([False])):
        assert_same(ours.to_array(keep=keep), theirs.to_array(keep=keep))
    assert_same(ours.to_array(stream_slice=slice(5, 50)), theirs.to_array(stream_slice=slice(5, 50)))


def test_open_ended_stream_slice_is_honoured(ref):
    data = _data("int32", (2, 300))
    ours = F.FlacArray.from_array(data)
    assert_same(ours.to_array(stream_slice=slice(-20, None)), data[:, -20:])
    assert_same(ours.to_array(stream_slice=slice(None, 7)), data[:, :7])
    assert_same(ours.to_array(stream_slice=slice(250, None)), data[:, 250:])
    # The reference ignores these slices and returns whole streams.
    assert ref.FlacArray.from_array(data).to_array(stream_slice=slice(-20, None)).shape == (2, 300)


GET_KEYS_AGREE = [
    np.s_[1], np.s_[1, 0:2], np.s_[1, 0:2, 5:10], np.s_[:, 1], np.s_[0, :, 100:105],
    np.s_[:, :, 3], np.s_[0:1, 2, 7:9], np.s_[:, 1:3, -10:],
]
GET_KEYS_NUMPY = [
    np.s_[0, 0, 19], np.s_[-1], np.s_[-1, -1, -1], np.s_[1, ::-1, 0:2], np.s_[..., 5],
    np.s_[:, None, 0, ::7], np.s_[1, 2, ::-3], np.s_[-2:, ..., 550:],
]


@pytest.mark.parametrize("key", GET_KEYS_AGREE)
def test_getitem_matches_reference(ref, key):
    data = _data("int64", (2, 3, 600))
    assert_same(F.FlacArray.from_array(data)[key], ref.FlacArray.from_array(data)[key])


@pytest.mark.parametrize("key", GET_KEYS_NUMPY)
@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_getitem_follows_numpy(key, dtype):
    data = _data(dtype, (2, 3, 600))
    kw = {} if dtype.startswith("int") else {"quanta": 1e-3}
    fa = F.FlacArray.from_array(data, **kw)
    full = fa.to_array()
    got = fa[key]
    want = full[key]
    assert np.shape(got) == np.shape(want)
    assert np.array_equal(got, want)
    if np.ndim(want) == 0:
        assert np.isscalar(got) and got == want


def test_getitem_1d(ref):
    data = _data("int32", (500,))
    ours = F.FlacArray.from_array(data)
    theirs = ref.FlacArray.from_array(data)
    for key in (np.s_[3:40], np.s_[:], (np.s_[100:120],)):
        assert_same(ours[key], theirs[key])
    assert ours[7] == data[7]
    assert ours[-1] == data[-1]
    assert_same(ours[::-5], data[::-5])
    with pytest.raises(IndexError):
        ours[500]


def test_properties(ref):
    data = _data("float32", (2, 3, 400))
    ours = F.FlacArray.from_array(data, quanta=1e-3)
    theirs = ref.FlacArray.from_array(data, quanta=1e-3)
    for name in ("shape", "global_shape", "leading_shape", "global_leading_shape",
                 "stream_size", "mpi_comm", "mpi_dist", "dtype", "typestr"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.global_nbytes == ours.nbytes
    assert_same(ours.global_stream_starts, ours.stream_starts)
    # Properties that raise AttributeError in 0.4.1 work here.
    assert ours.nstreams == 6 and ours.global_nstreams == 6
    assert ours.global_process_nbytes == [ours.nbytes]
    assert_same(ours.global_stream_nbytes, ours.stream_nbytes)
    for name in ("nstreams", "global_nstreams", "global_process_nbytes"):
        with pytest.raises(AttributeError):
            getattr(theirs, name)


def test_equality_and_copy():
    data = _data("float64", (3, 700))
    a = F.FlacArray.from_array(data, quanta=1e-5)
    b = F.FlacArray.from_array(data, quanta=1e-5)
    c = F.FlacArray(a)
    assert a == b and a == c
    assert c.compressed is not a.compressed
    assert a != F.FlacArray.from_array(data, quanta=1e-4)
    assert a != F.FlacArray.from_array(data[:2], quanta=1e-5)
    with pytest.raises(RuntimeError):
        a[0] = 1
    with pytest.raises(RuntimeError):
        del a[0]


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("shape", [(900,), (2, 3, 900)])
def test_array_compress_decompress_match_reference(ref, dtype, shape):
    data = _data(dtype, shape, seed=21)
    kw = {} if dtype.startswith("int") else {"quanta": 1e-3}
    ours = fcomp.array_compress(data, level=5, **kw)
    theirs = ref.compress.array_compress(data, level=5, **kw)
    assert len(ours) == len(theirs) == 5
    for o, t in zip(ours[1:], theirs[1:]):
        if t is None:
            assert o is None
        else:
            assert o.shape == t.shape and o.dtype == t.dtype
    assert_same(ours[3], theirs[3]) if ours[3] is not None else None
    is64 = dtype in ("int64", "float64")
    for comp, src in ((ours, "ours"), (theirs, "theirs")):
        c, s, n, o, g = comp
        a = fdec.array_decompress(c, shape[-1], s, n, stream_offsets=o, stream_gains=g, is_int64=is64)
        b = ref.decompress.array_decompress(c, shape[-1], s, n, stream_offsets=o, stream_gains=g, is_int64=is64)
        assert_same(a, b)
        a = fdec.array_decompress(c, shape[-1], s, n, stream_offsets=o, stream_gains=g,
                                  is_int64=is64, no_flatten=True, first_stream_sample=10,
                                  last_stream_sample=60)
        b = ref.decompress.array_decompress(c, shape[-1], s, n, stream_offsets=o, stream_gains=g,
                                            is_int64=is64, no_flatten=True, first_stream_sample=10,
                                            last_stream_sample=60)
        assert_same(a, b)
        if len(shape) > 1:
            keep = np.zeros(shape[:-1], dtype=bool)
            keep[1, 0] = keep[0, 2] = True
            a = fdec.array_decompress_slice(c, shape[-1], s, n, stream_offsets=o, stream_gains=g,
                                            keep=keep, is_int64=is64)
            b = ref.decompress.array_decompress_slice(c, shape[-1], s, n, stream_offsets=o,
                                                      stream_gains=g, keep=keep, is_int64=is64)
            assert_same(a[0], b[0])
            assert a[1] == b[1]


def test_array_decompress_empty_and_scalar(ref):
    starts = np.zeros((0, 3), dtype=np.int64)
    a = fdec.array_decompress(np.zeros(0, np.uint8), 50, starts, starts.copy())
    b = ref.decompress.array_decompress(np.zeros(0, np.uint8), 50, starts, starts.copy())
    assert_same(a, b)
    data = _data("int32", (300,))
    c, s, n, _, _ = fcomp.array_compress(data)
    # A scalar start and byte count: one stream.
    assert_same(fdec.array_decompress(c, 300, int(s[0]), int(n[0])), data)
    assert_same(fdec.array_decompress(c, 300, s, n, no_flatten=True), data[None, :])


def test_compress_empty_matches_reference(ref):
    for q in (None, 1e-3):
        a = fcomp.array_compress_empty((5, 3, 100), np.float32, q, None)
        b = ref.compress.array_compress_empty((5, 3, 100), np.float32, q, None)
        for x, y in zip(a, b):
            if y is None:
                assert x is None
            else:
                assert_same(x, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_to_int_int_to_float_match_reference(ref, dtype):
    data = _data(dtype, (3, 1000), seed=8)
    for kw in ({"quanta": 1e-3}, {"precision": 4}, {"quanta": np.array([1e-2, 1e-3, 1e-4])}):
        a = futils.float_to_int(data, **kw)
        b = ref.utils.float_to_int(data, **kw)
        for x, y in zip(a, b):
            assert_same(x, y)
        assert_same(futils.int_to_float(*a), ref.utils.int_to_float(*b))
    one = data[0]
    a = futils.float_to_int(one, quanta=1e-3)
    b = ref.utils.float_to_int(one, quanta=1e-3)
    for x, y in zip(a, b):
        assert_same(x, y)


def test_keep_select_and_helpers(ref):
    starts = np.arange(6, dtype=np.int64).reshape(2, 3) * 10
    nbytes = np.full((2, 3), 10, dtype=np.int64)
    keep = np.array([[True, False, True], [False, False, True]])
    a = futils.keep_select(keep, starts, nbytes)
    b = ref.utils.keep_select(keep, starts, nbytes)
    assert_same(a[0], b[0]) and assert_same(a[1], b[1])
    assert a[2] == b[2]
    off = np.arange(6.0).reshape(2, 3)
    assert_same(futils.select_keep_indices(off, a[2]), ref.utils.select_keep_indices(off, b[2]))
    assert_same(futils.ensure_one_element(3, np.int64), ref.utils.ensure_one_element(3, np.int64))
    for nch in (1, 2):
        for o in (None, off):
            assert futils.compressed_dtype(nch, o, o) == ref.utils.compressed_dtype(nch, o, o)


def test_threads_give_identical_results():
    data = _data("float64", (16, 20000), seed=4)
    one = F.FlacArray.from_array(data, quanta=1e-6, use_threads=False)
    many = F.FlacArray.from_array(data, quanta=1e-6, use_threads=True)
    assert one == many
    assert_same(one.compressed, many.compressed)
    assert_same(one.to_array(use_threads=True), one.to_array(use_threads=False))
    keep = np.zeros(16, dtype=bool)
    keep[::3] = True
    assert_same(one.to_array(keep=keep, use_threads=True), one.to_array(keep=keep))


def test_demo_data_matches_reference(ref):
    import flacarray.demo  # noqa: F401 - 0.4.1 does not import it itself

    for kw in ({}, {"dtype": np.float32}, {"dc_sigma": None}, {"sigma": None, "dtype": np.int32}):
        a, da = F.demo.create_fake_data((3, 200), **kw)
        b, db = ref.demo.create_fake_data((3, 200), **kw)
        assert_same(a, b)
        assert da == db
    a, _ = F.demo.create_fake_data((500,))
    b, _ = ref.demo.create_fake_data((500,))
    assert_same(a, b)


def test_module_layout():
    import importlib

    for name in ("array", "compress", "decompress", "demo", "mpi", "utils", "hdf5",
                 "hdf5_utils", "zarr"):
        importlib.import_module(f"flacarray_rs.{name}")
    from flacarray_rs.hdf5 import read_array, write_array  # noqa: F401
    from flacarray_rs.zarr import ZarrGroup, have_zarr  # noqa: F401
    from flacarray_rs.hdf5_utils import H5File, have_hdf5  # noqa: F401
    from flacarray_rs.mpi import MPI, use_mpi  # noqa: F401
    assert F.array.FlacArray is F.FlacArray


def test_float_to_int_without_quanta_spreads_the_range(ref):
    """With neither quanta nor precision, 0.4.1 spreads each stream's range over the
    integers (float32); ours uses the same gains, keeps constant streams, and for
    float64 (garbage in 0.4.1) stays within half a step."""
    rng = np.random.default_rng(11)
    scale = np.array([[1.0], [10.0], [0.01]])
    dc = np.array([[5.0], [-100.0], [0.0]])
    d32 = (rng.normal(size=(3, 1000)) * scale + dc).astype(np.float32)
    i, o, g = futils.float_to_int(d32)
    ri, ro, rg = ref.utils.float_to_int(d32)
    assert i.dtype == np.int32 and g.shape == (3,)
    np.testing.assert_allclose(g, rg, rtol=1e-6)
    # The integers use the range: the extreme of every stream is near 2**31 / 1.01.
    assert np.all(np.abs(i).max(axis=-1) > 2**31 / 1.02)
    back = futils.int_to_float(i, o, g)
    bound = 0.5 / g + 4 * np.finfo(np.float32).eps * np.abs(d32).max(axis=-1)
    assert np.all(np.abs(back - d32).max(axis=-1) <= bound)

    d64 = rng.normal(size=(2, 500)) * 3.0 + 1e3
    i, o, g = futils.float_to_int(d64)
    assert i.dtype == np.int64
    back = futils.int_to_float(i, o, g)
    assert np.all(np.abs(back - d64).max(axis=-1) <= 0.5 / g + 1e-12 * 1e3)

    const = np.full((2, 50), 3.3, dtype=np.float32)
    i, o, g = futils.float_to_int(const)
    np.testing.assert_allclose(futils.int_to_float(i, o, g), const, rtol=1e-6)
    one = d32[1]
    i, o, g = futils.float_to_int(one)
    assert g.shape == (1,)
    assert np.abs(futils.int_to_float(i, o, g) - one).max() <= 0.5 / g[0] + 1e-4
