"""Exception types for bad input (the same built-in types as flacarray 0.4.1, or a
class deriving from both ValueError and RuntimeError), the bugs fixed, and hostile
files: errors, never a crashed interpreter."""

import numpy as np
import pytest

import flacarray_rs as F
from flacarray_rs import compress as fcomp
from flacarray_rs import decompress as fdec
from flacarray_rs import hdf5 as fh5
from flacarray_rs import utils as futils

h5py = pytest.importorskip("h5py")


def test_bad_input_types(ref):
    f64 = np.ones((2, 10))
    cases = [
        (lambda m: m.FlacArray.from_array(f64), RuntimeError),
        (lambda m: m.FlacArray.from_array(f64, quanta=1e-3, precision=3), RuntimeError),
        (lambda m: m.FlacArray.from_array(np.ones((2, 10), dtype=np.complex64)), ValueError),
        (lambda m: m.FlacArray.from_array(None), RuntimeError),
        (lambda m: m.FlacArray.from_array(np.ones((2, 10), np.int32)).to_array(stream_slice=slice(0, 5, 2)), RuntimeError),
        (lambda m: m.FlacArray.from_array(np.ones((2, 10), np.int32)).to_array(keep=np.ones(3, bool)), RuntimeError),
        (lambda m: m.decompress.array_decompress(np.ones(5, np.uint8), 10, np.zeros(2, np.int64), np.ones(2, np.int64), stream_offsets=np.zeros(2, np.float32)), RuntimeError),
        (lambda m: m.utils.float_to_int(np.ones((2, 3), np.int32), quanta=1.0), ValueError),
        (lambda m: m.utils.int_to_float(np.ones((2, 3), np.float32), 0.0, 1.0), ValueError),
        (lambda m: m.utils.ensure_one_element(np.ones(2), np.float64), ValueError),
        (lambda m: m.FlacArray.from_array(np.ones((2, 10), np.int32))[0, 0, 0, 0], (ValueError, IndexError)),
    ]
    for i, (call, exc) in enumerate(cases):
        with pytest.raises(exc):
            call(F)
        with pytest.raises(exc):
            call(ref)
    # What 0.4.1 refuses and this package stores (issue 15; tests/test_dtypes.py).
    for call, exc in [
        (lambda m: m.FlacArray.from_array(np.zeros((0, 4), dtype=np.int32)), RuntimeError),
        (lambda m: m.compress.array_compress(np.zeros((0, 4), dtype=np.int32)), ValueError),
        (lambda m: m.FlacArray.from_array(np.ones((2, 10), dtype=np.int16)), ValueError),
        (lambda m: m.FlacArray.from_array(np.ones((2, 10), dtype=np.uint8)), ValueError),
    ]:
        with pytest.raises(exc):
            call(ref)
        assert call(F) is not None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_refused_naming_stream(bad, dtype):
    data = np.ones((2, 3, 50), dtype=dtype)
    data[1, 2, 17] = bad
    with pytest.raises(ValueError, match=r"stream \(1, 2\)") as ei:
        F.FlacArray.from_array(data, quanta=1e-3)
    assert isinstance(ei.value, RuntimeError)
    with pytest.raises(ValueError, match=r"stream \(1, 2\)"):
        futils.float_to_int(data, precision=3)


def test_overflow_refused():
    data = np.array([[0.0, 1e12]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"stream \(0,\).*smallest quanta"):
        fcomp.array_compress(data, quanta=1e-3)


def test_constant_stream_with_precision_is_exact():
    data = np.full((2, 100), 3.3)
    out = F.FlacArray.from_array(data, precision=4).to_array()
    assert np.array_equal(out, data)


def test_index_errors():
    fa = F.FlacArray.from_array(np.arange(60, dtype=np.int32).reshape(2, 3, 10))
    with pytest.raises(IndexError):
        fa[2]
    with pytest.raises(IndexError):
        fa[0, 0, 10]
    with pytest.raises(IndexError):
        fa[[0, 1]]
    with pytest.raises(ValueError):
        fa[::0]
    with pytest.raises(IndexError):
        fa.to_array(stream_slice=slice(0, 11))


def _write(path, data):
    f = h5py.File(path, "w")
    fh5.write_array(data, f)
    return f


def test_hostile_hdf5_files(tmp_path):
    data = np.cumsum(np.ones((3, 5000), dtype=np.int32), axis=1)
    # Truncated compressed bytes.
    f = _write(tmp_path / "t.h5", data)
    comp = f["compressed"][:]
    del f["compressed"]
    f.create_dataset("compressed", data=comp[: len(comp) // 2])
    with pytest.raises(RuntimeError, match="outside"):
        fh5.read_array(f)
    f.close()
    # Corrupted stream bytes (CRC).
    f = _write(tmp_path / "c.h5", data)
    comp = f["compressed"][:]
    comp[len(comp) // 3] ^= 0x5A
    f["compressed"][:] = comp
    with pytest.raises(RuntimeError, match="stream"):
        fh5.read_array(f)
    f.close()
    # Negative start, stream_size mismatch, missing attributes, bad version.
    f = _write(tmp_path / "n.h5", data)
    f["stream_starts"][0] = -5
    with pytest.raises(ValueError):
        fh5.read_array(f)
    f.close()
    f = _write(tmp_path / "s.h5", data)
    f["stream_starts"].attrs["stream_size"] = 6000
    with pytest.raises(RuntimeError):
        fh5.read_array(f)
    f.close()
    f = _write(tmp_path / "v.h5", data)
    f.attrs["flacarray_format_version"] = "7"
    with pytest.raises(RuntimeError, match="version 7"):
        fh5.read_array(f)
    del f.attrs["flacarray_format_version"]
    with pytest.raises(RuntimeError, match="does not contain a FlacArray"):
        fh5.read_array(f)
    f.close()
    f = _write(tmp_path / "ch.h5", data)
    f.attrs["flac_channels"] = "3"
    with pytest.raises(RuntimeError, match="flac_channels"):
        fh5.read_array(f)
    f.attrs["flac_channels"] = "x"
    with pytest.raises(ValueError):
        fh5.read_array(f)
    f.close()
    f = _write(tmp_path / "d.h5", data)
    del f["stream_bytes"]
    with pytest.raises(RuntimeError, match="stream_bytes"):
        fh5.read_array(f)
    f.close()


def test_garbage_bytes_lowlevel():
    rng = np.random.default_rng(0)
    for _ in range(20):
        junk = rng.integers(0, 256, size=300, dtype=np.uint8)
        junk[:4] = np.frombuffer(b"fLaC", dtype=np.uint8)
        with pytest.raises(RuntimeError):
            fdec.array_decompress(junk, 100, np.array([0]), np.array([300]))
    with pytest.raises(RuntimeError):
        fdec.array_decompress(np.ones(10, np.uint8), 5, np.array([0, 8]), np.array([8, 8]))
