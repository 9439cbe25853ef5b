"""Shared pytest fixtures: the reference package flacarray 0.4.1 (installed in the same
venv) and the repository's fixture folders."""

import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session")
def ref():
    """The reference package flacarray 0.4.1."""
    return pytest.importorskip("flacarray")


@pytest.fixture()
def h5file(tmp_path):
    h5py = pytest.importorskip("h5py")

    def make(name="data.h5", mode="w"):
        return h5py.File(os.fspath(tmp_path / name), mode)

    return make


def assert_same(a, b):
    """Bit-exact equality with the same dtype and shape (NaN-free data)."""
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape, (a.shape, b.shape)
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    assert np.array_equal(a.view(np.uint8) if a.size else a, b.view(np.uint8) if b.size else b)
