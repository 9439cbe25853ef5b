"""The compiled extension: abi3, no libhdf5 or MPI linked, GIL released."""

import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

import flacarray_rs
from flacarray_rs import _native


def test_extension_links_neither_hdf5_nor_mpi():
    path = _native.__file__
    assert ".abi3." in path or path.endswith("_native.so") or "abi3" in path
    ldd = shutil.which("ldd")
    if ldd is None:
        pytest.skip("ldd not available")
    out = subprocess.run([ldd, path], capture_output=True, text=True, check=True).stdout
    libs = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert libs, out
    for lib in libs:
        assert "hdf5" not in lib and "mpi" not in lib and "python" not in lib, out


def test_gil_released_during_compression():
    data = np.random.default_rng(0).normal(size=(8, 400_000))
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    start = time.perf_counter()
    flacarray_rs.FlacArray.from_array(data, quanta=1e-6)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # With the GIL held for the whole call the other thread could not tick at all.
    assert len(during) >= 3, (len(during), end - start)
