"""Runs flacarray 0.4.1's own unittest modules (loaded at test time from the
installed reference package, not copied) against flacarray_rs: their relative imports
(``from ..array import FlacArray``) are resolved inside flacarray_rs."""

import importlib
import importlib.util
import os
import sys
import unittest

import pytest

MODULES = ["array", "utils", "hdf5", "zarr"]


@pytest.fixture(scope="module")
def upstream_pkg(ref):
    tests_dir = os.path.join(os.path.dirname(ref.__file__), "tests")
    name = "flacarray_rs._upstream_tests"
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(tests_dir, "__init__.py"), submodule_search_locations=[tests_dir]
    )
    sys.modules[name] = importlib.util.module_from_spec(spec)
    yield name
    for key in [k for k in sys.modules if k.startswith(name)]:
        del sys.modules[key]


@pytest.mark.parametrize("module", MODULES)
def test_upstream_module(upstream_pkg, module):
    mod = importlib.import_module(f"{upstream_pkg}.{module}")
    assert mod.FlacArray.__module__.startswith("flacarray_rs") if hasattr(mod, "FlacArray") else True
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    assert suite.countTestCases() > 0
    result = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(suite)
    problems = [str(t) + "\n" + tb for t, tb in result.failures + result.errors]
    assert result.wasSuccessful(), "\n".join(problems)
