"""Beyond flacarray 0.4.1's four types (issue 15): bool, int8, int16, uint8, uint16,
uint32, uint64 and float16 read back in their own dtype; NaN and +-inf kept bit for
bit with ``keep_nonfinite=True`` (refused, naming the stream, without it); arrays with
an axis of length 0.  In memory, in HDF5 and in Zarr v3 and v2 stores; the stored
form is the Rust writers' (format 1 + ``flacarray_dtype``, or format "2"), groups
written by the Rust writers read equal, the Rust reader reads ours equal, and
flacarray 0.4.1 reads each new group either with the same (widened) values or
raises.  Hostile extension metadata raises CorruptDataError."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import flacarray_rs as F
from flacarray_rs import compress as fcomp
from flacarray_rs import hdf5 as fh5
from flacarray_rs import zarr as fz
from flacarray_rs._errors import CorruptDataError

h5py = pytest.importorskip("h5py")
zarr = pytest.importorskip("zarr")

INT_TYPES = ["bool", "int8", "int16", "uint8", "uint16", "uint32", "uint64", "int32", "int64"]
FLOAT_TYPES = ["float16", "float32", "float64"]
QUANTA = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-7}
BITS = {"float16": np.uint16, "float32": np.uint32, "float64": np.uint64}


def _int_data(dtype, pattern, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        lo, hi = 0, 1
    else:
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
    if pattern == "min":
        a = np.full(shape, lo)
    elif pattern == "max":
        a = np.full(shape, hi)
    elif pattern == "equal":
        a = np.full(shape, (lo + hi) // 3)
    elif pattern == "extremes":
        a = np.where(rng.integers(0, 2, size=shape) == 1, hi, lo)
    else:
        a = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.dtype(dtype) if dtype != "bool" else np.int64)
    if dtype == "uint64":
        return np.asarray(a, dtype=object).astype(np.uint64) if a.dtype == object else a.astype(np.uint64)
    return a.astype(dtype)


def _float_data(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=shape) * 3 + 1).astype(dtype)


def _same(a, b):
    """Same dtype, shape and bits."""
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size:
        assert np.array_equal(
            np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
        )


def _close_float(got, want, q):
    """Same dtype and shape; non-finite samples identical bit for bit, finite ones
    within half a quantum (plus the rounding of the float type)."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    fin = np.isfinite(want)
    bits = BITS[want.dtype.name]
    assert np.array_equal(got.view(bits)[~fin], want.view(bits)[~fin])
    assert np.all(np.isfinite(got[fin]))
    tol = q / 2 + 2 * np.abs(want[fin].astype(np.float64)) * np.finfo(want.dtype).eps
    assert np.all(np.abs(got[fin].astype(np.float64) - want[fin].astype(np.float64)) <= tol + 1e-12)


# In memory


@pytest.mark.parametrize("pattern", ["min", "max", "equal", "extremes", "random"])
@pytest.mark.parametrize("dtype", INT_TYPES)
def test_integer_types_round_trip_in_memory(dtype, pattern):
    for shape in [(3, 2, 300), (1000,), (1, 5)]:
        data = _int_data(dtype, pattern, shape)
        fa = F.FlacArray.from_array(data)
        assert fa.dtype == np.dtype(dtype) and fa.typestr == dtype
        _same(fa.to_array(), data)
        big = dtype == "uint64" and bool(np.any(data >= np.uint64(2**63)))
        assert fa.format_version == (2 if big else 1)
        lead = data.shape[:-1] if data.ndim > 1 else (1,)
        keep = np.zeros(lead, dtype=bool)
        keep.flat[-1] = True
        sub = fa.to_array(keep=keep, stream_slice=slice(1, -1))
        _same(sub, data.reshape((-1, data.shape[-1]))[-1:, 1:-1].reshape(sub.shape))
        _same(fa[..., 2:4], data[..., 2:4])
        assert np.asarray(fa[(0,) * data.ndim]).dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", FLOAT_TYPES)
def test_float_types_round_trip_in_memory(dtype):
    data = _float_data(dtype, (4, 700))
    q = QUANTA[dtype]
    fa = F.FlacArray.from_array(data, quanta=q)
    assert fa.dtype == np.dtype(dtype) and fa.format_version == 1
    _close_float(fa.to_array(), data, q)
    _close_float(fa[1:3, 5:9], data[1:3, 5:9], q)
    for value in (0.0, -1.5, float(np.finfo(dtype).max) / 4):
        const = np.full((2, 50), value, dtype=dtype)
        _close_float(F.FlacArray.from_array(const, precision=3).to_array(), const, 0.0)


def _nonfinite_patterns(dtype, n=400):
    nan = np.array(np.nan, dtype=dtype)
    bits = BITS[dtype]
    # A NaN with another payload and a negative one: kept bit for bit.
    odd = np.array({"float16": 0x7C01, "float32": 0x7F800001, "float64": 0x7FF0000000000001}[dtype], dtype=bits).view(dtype)
    neg = -nan
    pats = {}
    base = _float_data(dtype, (n,), seed=3)
    pats["none"] = base.copy()
    one = base.copy()
    one[n // 3] = nan
    pats["one"] = one
    pats["all"] = np.full(n, nan, dtype=dtype)
    allinf = np.full(n, np.inf, dtype=dtype)
    allinf[::7] = -np.inf
    pats["all_mixed"] = allinf
    edges = base.copy()
    edges[:17] = nan
    edges[-23:] = np.inf
    pats["runs_at_ends"] = edges
    alt = base.copy()
    alt[::2] = np.where(np.arange(n // 2) % 3 == 0, -np.inf, nan)[: alt[::2].size]
    pats["alternating"] = alt
    payload = base.copy()
    payload[5:9] = odd
    payload[100] = neg
    payload[101] = np.inf
    payload[102] = odd
    pats["payloads"] = payload
    return pats


@pytest.mark.parametrize("dtype", FLOAT_TYPES)
def test_nonfinite_kept_bit_for_bit(dtype):
    q = QUANTA[dtype]
    pats = _nonfinite_patterns(dtype)
    data = np.stack(list(pats.values())).reshape(len(pats), 1, -1)
    fa = F.FlacArray.from_array(data, quanta=q, keep_nonfinite=True)
    assert fa.format_version == 2 and fa.nonfinite is not None
    flags = fa.nonfinite[0].reshape(-1)
    want_flags = [0 if np.all(np.isfinite(p)) else (2 if not np.any(np.isfinite(p)) else 1) for p in pats.values()]
    assert flags.tolist() == want_flags
    _close_float(fa.to_array(), data, q)
    # Kept streams, sample slices and indexing restore them too.
    keep = np.zeros(data.shape[:-1], dtype=bool)
    keep[[1, 4, 6], 0] = True
    _close_float(fa.to_array(keep=keep, stream_slice=slice(3, -5)), data[keep][:, 3:-5], q)
    _close_float(fa[4, 0, -30:], data[4, 0, -30:], q)
    _close_float(fa[:, :, 1::3], data[:, :, 1::3], q)
    # No non-finite sample: plain format 1 even with the option.
    plain = F.FlacArray.from_array(pats["none"], quanta=q, keep_nonfinite=True)
    assert plain.format_version == 1 and plain.nonfinite is None
    assert plain == F.FlacArray.from_array(pats["none"], quanta=q)


@pytest.mark.parametrize("dtype", FLOAT_TYPES)
def test_nonfinite_refused_without_the_option(dtype):
    data = _float_data(dtype, (2, 3, 60))
    data[1, 2, 40] = np.inf
    with pytest.raises(ValueError, match=r"stream \(1, 2\)"):
        F.FlacArray.from_array(data, quanta=QUANTA[dtype])
    with pytest.raises(ValueError, match=r"stream \(1, 2\)"):
        fcomp.array_compress(data, quanta=QUANTA[dtype])
    # array_compress's tuple cannot carry them: refused rather than dropped.
    with pytest.raises(ValueError, match="keep_nonfinite"):
        fcomp.array_compress(data, quanta=QUANTA[dtype], keep_nonfinite=True)


EMPTY_SHAPES = [(0,), (0, 5), (5, 0), (0, 0), (2, 0, 3), (2, 3, 0), (0, 3, 4)]


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint16", "bool", "float32", "float64", "float16"])
def test_empty_shapes_in_memory(dtype):
    kw = {"quanta": 0.1} if dtype.startswith("float") else {}
    for shape in EMPTY_SHAPES:
        data = np.zeros(shape, dtype=dtype)
        fa = F.FlacArray.from_array(data, **kw)
        assert fa.format_version == 2 and fa.nbytes == 0 and fa.shape == shape
        _same(fa.to_array(), data)
        _same(fa[...], data)
        comp, starts, nbytes, offsets, gains = fcomp.array_compress(data, **kw)
        assert comp.size == 0 and starts.shape == (shape[:-1] if len(shape) > 1 else (1,))


# Files


def _groups(tmp_path):
    yield "hdf5", h5py.File(tmp_path / "a.h5", "w"), fh5
    yield "zarr3", zarr.open_group(str(tmp_path / "a3.zarr"), mode="w", zarr_format=3), fz
    yield "zarr2", zarr.open_group(str(tmp_path / "a2.zarr"), mode="w", zarr_format=2), fz


def _file_cases():
    rng = np.random.default_rng(7)
    cases = []
    for dt in INT_TYPES:
        cases.append((f"{dt}_random", _int_data(dt, "random", (3, 400), seed=1), {}))
        cases.append((f"{dt}_extremes", _int_data(dt, "extremes", (2, 2, 300), seed=2), {}))
    small = np.arange(600, dtype=np.uint64).reshape(2, 300)
    cases.append(("uint64_small", small, {}))
    for dt in FLOAT_TYPES:
        cases.append((f"{dt}_plain", _float_data(dt, (3, 500)), {"quanta": QUANTA[dt]}))
        pats = _nonfinite_patterns(dt, 300)
        cases.append(
            (f"{dt}_nonfinite", np.stack(list(pats.values())), {"quanta": QUANTA[dt], "keep_nonfinite": True})
        )
    cases.append(("float32_1d_nan", np.where(rng.random(900) < 0.01, np.nan, 1.0).astype(np.float32), {"quanta": 1e-3, "keep_nonfinite": True}))
    for shape in EMPTY_SHAPES:
        cases.append((f"int16_empty_{'x'.join(map(str, shape))}", np.zeros(shape, np.int16), {}))
        cases.append((f"float64_empty_{'x'.join(map(str, shape))}", np.zeros(shape), {"quanta": 0.5}))
    return cases


FILE_CASES = _file_cases()


def _check_read(got, data, kw):
    if data.dtype.kind == "f":
        _close_float(got, data, kw.get("quanta", 0.0))
    else:
        _same(got, data)


def _expected_format(data, kw):
    if data.size == 0 or (kw.get("keep_nonfinite") and not np.all(np.isfinite(data))):
        return 2
    if data.dtype == np.uint64 and np.any(data >= np.uint64(2**63)):
        return 2
    return 1


@pytest.mark.parametrize("name,data,kw", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_files_round_trip_and_stored_form(tmp_path, ref, name, data, kw):
    version = _expected_format(data, kw)
    for kind, root, mod in _groups(tmp_path):
        g1 = root.create_group("by_write_array")
        mod.write_array(data, g1, **kw)
        fa = F.FlacArray.from_array(data, **kw)
        g2 = root.create_group("by_flacarray")
        if kind == "hdf5":
            fa.write_hdf5(g2)
        else:
            fa.write_zarr(g2)
        for g in (g1, g2):
            attrs = g.attrs
            assert str(attrs["flacarray_format_version"]) == str(version)
            stored = fcomp.stored_dtype(data.dtype)
            if stored != data.dtype:
                assert str(attrs["flacarray_dtype"]) == data.dtype.name
            else:
                assert "flacarray_dtype" not in attrs
            assert str(attrs["flacarray_rs_checksums"]).startswith(f"v1 dtype={stored.name} ")
            has_nf = kw.get("keep_nonfinite", False) and not np.all(np.isfinite(data))
            assert ("stream_nonfinite" in g) == has_nf and ("nonfinite_runs" in g) == has_nf
            # Both readers, whole and partial.
            _check_read(mod.read_array(g), data, kw)
            back = F.FlacArray.read_hdf5(g) if kind == "hdf5" else F.FlacArray.read_zarr(g)
            assert back.dtype == data.dtype and back.format_version == version
            _check_read(back.to_array(), data, kw)
            if data.size and data.ndim > 1:
                lead = data.shape[:-1]
                keep = np.zeros(lead, dtype=bool)
                keep.flat[::2] = True
                ss = slice(1, data.shape[-1] - 1)
                want = data[keep][:, ss]
                # A single kept stream comes back 1-d, as in 0.4.1.
                got = mod.read_array(g, keep=keep, stream_slice=ss)
                _check_read(got.reshape(want.shape), want, kw)
                fk = (F.FlacArray.read_hdf5 if kind == "hdf5" else F.FlacArray.read_zarr)(g, keep=keep)
                _check_read(fk.to_array(stream_slice=ss).reshape(want.shape), want, kw)
            # flacarray 0.4.1: the same (widened) values, or an error; never others.
            rmod = ref.hdf5 if kind == "hdf5" else ref.zarr
            try:
                theirs = rmod.read_array(g)
            except Exception:  # noqa: BLE001 - refusing is the allowed outcome
                assert version == 2 or data.size == 0
                continue
            assert version == 1, f"0.4.1 read a format-{version} group"
            assert theirs.dtype == stored
            if data.dtype.kind == "f":
                assert np.array_equal(theirs.astype(data.dtype), _read_ours(mod, g))
            elif data.dtype == np.uint64:
                _same(theirs.view(np.uint64), data)
            else:
                _same(theirs.astype(data.dtype), data)
                assert np.array_equal(theirs, data.astype(stored))


def _read_ours(mod, g):
    return mod.read_array(g)


# Groups written by the Rust writers, and ours read by the Rust reader


def _rust_tool():
    """The example binary write_rust_groups: ``$FLACARRAY_RS_GROUPS`` (set by
    scripts/python-tests.sh, then it must exist), else found in the target dir."""
    path = os.environ.get("FLACARRAY_RS_GROUPS")
    if path and not os.path.exists(path):
        pytest.fail(f"FLACARRAY_RS_GROUPS={path} does not exist")
    if not path:
        root = pathlib.Path(__file__).resolve().parents[3]
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
        for prof in ("release", "debug"):
            p = target / prof / "examples" / "write_rust_groups"
            if p.exists():
                path = str(p)
                break
    if not path or not os.path.exists(path):
        pytest.skip("the Rust groups tool is not built (cargo build -p flacarray-python --example write_rust_groups)")
    return path


def _logical(stored_values, dtype):
    if dtype == "uint64":
        return stored_values.view(np.uint64)
    if dtype == "float16":
        return stored_values.astype(np.float16)
    return stored_values.astype(dtype)


def test_groups_written_by_rust_read_equal(tmp_path, ref):
    tool = _rust_tool()
    subprocess.run([tool, "write", str(tmp_path)], check=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest) >= 10
    with h5py.File(tmp_path / "ext.h5", "r") as f:
        stores = [
            ("hdf5", f, fh5),
            ("zarr3", zarr.open_group(str(tmp_path / "ext3.zarr"), mode="r"), fz),
            ("zarr2", zarr.open_group(str(tmp_path / "ext2.zarr"), mode="r"), fz),
        ]
        for kind, root, mod in stores:
            for e in manifest:
                g = root[e["name"]]
                stored = np.load(tmp_path / e["npy"]).reshape(e["shape"])
                want = _logical(stored, e["dtype"])
                got = mod.read_array(g)
                _same(got, want)
                fa = F.FlacArray.read_hdf5(g) if kind == "hdf5" else F.FlacArray.read_zarr(g)
                assert fa.format_version == e["format"] and fa.dtype == np.dtype(e["dtype"])
                _same(fa.to_array(), want)
                if want.ndim > 1 and want.size:
                    keep = np.zeros(want.shape[:-1], dtype=bool)
                    keep.flat[-1] = True
                    _same(mod.read_array(g, keep=keep, stream_slice=slice(2, 9)),
                          want.reshape(-1, want.shape[-1])[-1:, 2:9].reshape(-1))
                # 0.4.1 reads format 1 with the stored values and refuses format 2.
                rmod = ref.hdf5 if kind == "hdf5" else ref.zarr
                if e["format"] == 2:
                    with pytest.raises(Exception):
                        rmod.read_array(g)
                else:
                    _same(rmod.read_array(g), stored)


@pytest.mark.parametrize("kind", ["hdf5", "zarr3", "zarr2"])
def test_our_groups_read_equal_by_rust(tmp_path, kind):
    tool = _rust_tool()
    path = tmp_path / ("a.h5" if kind == "hdf5" else f"a{kind[-1]}.zarr")
    if kind == "hdf5":
        root = h5py.File(path, "w")
    else:
        root = zarr.open_group(str(path), mode="w", zarr_format=int(kind[-1]))
    names = []
    for name, data, kw in FILE_CASES:
        g = root.create_group(name)
        fh5.write_array(data, g, **kw) if kind == "hdf5" else fz.write_array(data, g, **kw)
        names.append((name, data, kw))
    if kind == "hdf5":
        root.close()
    for name, data, kw in names:
        out = tmp_path / f"{name}.npy"
        res = subprocess.run([tool, "read", str(path), name, str(out)], capture_output=True, text=True)
        assert res.returncode == 0, (name, res.stderr)
        info = json.loads(res.stdout)
        assert info["dtype"] == data.dtype.name and info["format"] == _expected_format(data, kw), (name, info)
        shape = data.shape if data.ndim > 1 else (1,) + data.shape
        got = _logical(np.load(out).reshape(shape), data.dtype.name).reshape(data.shape)
        _check_read(got, data, kw)


# Hostile extension metadata


def _nan_group(tmp_path, kind):
    data = np.ones((3, 200), dtype=np.float32)
    data[0, 5:9] = np.nan
    data[2, -1] = -np.inf
    if kind == "hdf5":
        g = h5py.File(tmp_path / "h.h5", "w").create_group("g")
        fh5.write_array(data, g, quanta=1e-3, keep_nonfinite=True)
        return g, fh5
    g = zarr.open_group(str(tmp_path / f"h{kind}.zarr"), mode="w", zarr_format=int(kind[-1]))
    fz.write_array(data, g, quanta=1e-3, keep_nonfinite=True)
    return g, fz


def _replace(g, kind, name, values):
    del g[name]
    values = np.asarray(values)
    if kind == "hdf5":
        g.create_dataset(name, data=values)
    elif hasattr(g, "create_array"):
        a = g.create_array(name, shape=values.shape, dtype=values.dtype)
        if values.size:
            a[...] = values
    else:
        g.create_dataset(name, data=values)


HOSTILE_RUNS = {
    # LEB128 varints. Stream 0: 1 run, gap 5, length 4, NaN; stream 2: 1 run, gap 199
    # (0xC7 0x01), length 1, -inf.
    "valid": [1, 5, 4, 0, 1, 0xC7, 0x01, 1, 2],
    "run_beyond_stream": [1, 5, 4, 0, 1, 0xC7, 0x01, 2, 2],
    "unknown_kind": [1, 5, 4, 7, 1, 0xC7, 0x01, 1, 2],
    "truncated": [1, 5, 4, 0, 1, 0xC7, 0x01],
    "trailing_bytes": [1, 5, 4, 0, 1, 0xC7, 0x01, 1, 2, 0],
    "zero_length": [1, 5, 0, 0, 1, 0xC7, 0x01, 1, 2],
    "too_many_runs": [200, 5, 4, 0, 1, 0xC7, 0x01, 1, 2],
    # kind 3 with the finite float32 pattern 0x3f800000 (1.0).
    "finite_pattern": [1, 5, 4, 3, 0x80, 0x80, 0x80, 0xFC, 0x03, 1, 0xC7, 0x01, 1, 2],
    "huge_varint": [1] + [0xFF] * 12 + [0x01, 4, 0, 1, 0xC7, 0x01, 1, 2],
    "empty": [],
}


@pytest.mark.parametrize("case", list(HOSTILE_RUNS))
@pytest.mark.parametrize("kind", ["hdf5", "zarr3", "zarr2"])
def test_hostile_nonfinite_runs(tmp_path, kind, case):
    g, mod = _nan_group(tmp_path, kind)
    _replace(g, kind, "nonfinite_runs", np.array(HOSTILE_RUNS[case], dtype=np.uint8))
    if case == "valid":
        got = mod.read_array(g)
        assert np.isnan(got[0, 5:9]).all() and got[2, -1] == -np.inf
        return
    with pytest.raises(CorruptDataError):
        mod.read_array(g)
    with pytest.raises(CorruptDataError):
        (F.FlacArray.read_hdf5 if kind == "hdf5" else F.FlacArray.read_zarr)(g).to_array()


@pytest.mark.parametrize("kind", ["hdf5", "zarr3"])
def test_hostile_flags_and_dtype_attribute(tmp_path, kind):
    g, mod = _nan_group(tmp_path, kind)
    for flags in ([3, 0, 1], [1, 1, 1], [2, 0, 1], [0, 0, 1]):
        _replace(g, kind, "stream_nonfinite", np.array(flags, dtype=np.uint8))
        with pytest.raises(CorruptDataError):
            mod.read_array(g)
    _replace(g, kind, "stream_nonfinite", np.array([1, 0], dtype=np.uint8))
    with pytest.raises(CorruptDataError):
        mod.read_array(g)
    _replace(g, kind, "stream_nonfinite", np.array([1, 0, 1], dtype=np.uint8))
    assert np.isnan(mod.read_array(g)[0, 6])
    del g["nonfinite_runs"]
    with pytest.raises(CorruptDataError):
        mod.read_array(g)
    # The recorded type: unknown names, a type the stored one does not carry, values
    # outside the type's range.
    g2 = (h5py.File(tmp_path / "d.h5", "w") if kind == "hdf5"
          else zarr.open_group(str(tmp_path / "d.zarr"), mode="w")).create_group("u")
    mod.write_array(np.array([[0, 300, 7]], dtype=np.uint16), g2)
    assert mod.read_array(g2).dtype == np.uint16
    for bad in ("complex64", "uint32", "float16"):
        g2.attrs["flacarray_dtype"] = bad
        with pytest.raises(CorruptDataError):
            mod.read_array(g2)
    g2.attrs["flacarray_dtype"] = "uint8"
    with pytest.raises(CorruptDataError, match="300"):
        mod.read_array(g2)
    # flacarray 0.4.1 rewriting the software version makes the record stale: the
    # attribute no longer applies and the stored int32 values are read.
    g2.attrs["flacarray_software_version"] = "0.4.1"
    got = mod.read_array(g2)
    assert got.dtype == np.int32 and got.tolist() == [0, 300, 7]


def test_stream_size_zero_refused_in_format_1(tmp_path):
    g = h5py.File(tmp_path / "z.h5", "w").create_group("g")
    fh5.write_array(np.zeros((4, 0), dtype=np.int32), g)
    assert fh5.read_array(g).shape == (4, 0)
    g.attrs["flacarray_format_version"] = "1"
    with pytest.raises(CorruptDataError):
        fh5.read_array(g)


def test_properties_of_new_groups(tmp_path):
    with h5py.File(tmp_path / "p.h5", "w") as f:
        fh5.write_array(np.arange(20, dtype=np.uint16).reshape(2, 10), f.create_group("u"))
        nan = np.ones((2, 30))
        nan[1, 3] = np.nan
        fh5.write_array(nan, f.create_group("n"), quanta=0.1, keep_nonfinite=True)
        fh5.write_array(np.zeros((3, 0), np.float16), f.create_group("e"), quanta=0.1)
        p = fh5.array_properties(f["u"])
        assert (p["format_version"], p["dtype"], p["stored_dtype"], p["nonfinite"]) == (
            1, np.dtype(np.uint16), np.dtype(np.int32), False)
        p = fh5.array_properties(f["n"])
        assert (p["format_version"], p["dtype"], p["nonfinite"], p["flac_channels"]) == (
            2, np.dtype(np.float64), True, 2)
        p = fh5.array_properties(f["e"])
        assert (p["format_version"], p["dtype"], p["shape"], p["compressed_nbytes"]) == (
            2, np.dtype(np.float16), (3, 0), 0)
