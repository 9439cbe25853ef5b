"""Runs flacarray 0.4.1's own unittest modules (array, hdf5, zarr; loaded from the
installed reference package, not copied) against flacarray_rs under mpirun, so their
MPI branches (distributed arrays, ranks without data) exercise flacarray_rs."""

import importlib
import importlib.util
import os
import sys
import unittest

from mpi4py import MPI

import flacarray

tests_dir = os.path.join(os.path.dirname(flacarray.__file__), "tests")
name = "flacarray_rs._upstream_tests"
spec = importlib.util.spec_from_file_location(
    name, os.path.join(tests_dir, "__init__.py"), submodule_search_locations=[tests_dir]
)
sys.modules[name] = importlib.util.module_from_spec(spec)
suite = unittest.TestSuite()
for mod in ("array", "hdf5", "zarr"):
    suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(importlib.import_module(f"{name}.{mod}")))
result = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(suite)
ok = MPI.COMM_WORLD.allreduce(1 if result.wasSuccessful() else 0, op=MPI.MIN)
if not result.wasSuccessful():
    for test, tb in result.failures + result.errors:
        print(f"rank {MPI.COMM_WORLD.rank}: {test}\n{tb}", flush=True)
if MPI.COMM_WORLD.rank == 0:
    print(f"upstream suite on {MPI.COMM_WORLD.size} ranks: {result.testsRun} tests, "
          f"{'all passed' if ok else 'FAILED'}", flush=True)
sys.exit(0 if ok else 1)
