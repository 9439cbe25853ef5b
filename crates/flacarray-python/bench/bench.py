"""Wall-clock comparison of flacarray_rs with flacarray 0.4.1 (same venv):
from_array / to_array in memory and hdf5.write_array / read_array through h5py,
one thread and all threads.  Prints the best of N runs of each.

    python bench.py [--shape 64,100000] [--repeat 3]
"""

import argparse
import os
import tempfile
import time

import h5py
import numpy as np

import flacarray
import flacarray.hdf5
import flacarray_rs
import flacarray_rs.hdf5


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="64,100000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    shape = tuple(int(x) for x in args.shape.split(","))
    rng = np.random.default_rng(0)
    data = {
        "float64 q=1e-6": (np.cumsum(rng.normal(size=shape), axis=-1), {"quanta": 1e-6}),
        "int32": (np.cumsum(rng.integers(-200, 200, size=shape), axis=-1).astype(np.int32), {}),
    }
    tmp = tempfile.mkdtemp()
    print(f"shape {shape}, best of {args.repeat}, cores {os.cpu_count()}")
    print(f"{'case':<16} {'operation':<22} {'0.4.1 s':>9} {'rs 1t s':>9} {'rs all s':>9}")
    for name, (arr, kw) in data.items():
        ref_fa = flacarray.FlacArray.from_array(arr, **kw)
        rs_fa = flacarray_rs.FlacArray.from_array(arr, **kw)
        rows = [
            ("from_array",
             lambda: flacarray.FlacArray.from_array(arr, **kw),
             lambda t: flacarray_rs.FlacArray.from_array(arr, use_threads=t, **kw)),
            ("to_array",
             lambda: ref_fa.to_array(),
             lambda t: rs_fa.to_array(use_threads=t)),
        ]
        path_ref = os.path.join(tmp, "ref.h5")
        path_rs = os.path.join(tmp, "rs.h5")

        def w_ref():
            with h5py.File(path_ref, "w") as f:
                flacarray.hdf5.write_array(arr, f, **kw)

        def w_rs(t):
            with h5py.File(path_rs, "w") as f:
                flacarray_rs.hdf5.write_array(arr, f, use_threads=t, **kw)

        def r_ref():
            with h5py.File(path_ref, "r") as f:
                flacarray.hdf5.read_array(f)

        def r_rs(t):
            with h5py.File(path_rs, "r") as f:
                flacarray_rs.hdf5.read_array(f, use_threads=t)

        rows += [("hdf5.write_array", w_ref, w_rs), ("hdf5.read_array", r_ref, r_rs)]
        for op, fref, frs in rows:
            a = best(fref, args.repeat)
            b = best(lambda: frs(False), args.repeat)
            c = best(lambda: frs(True), args.repeat)
            print(f"{name:<16} {op:<22} {a:9.3f} {b:9.3f} {c:9.3f}")
        print(f"{name:<16} compressed bytes: 0.4.1 {ref_fa.nbytes}, rs {rs_fa.nbytes}")


if __name__ == "__main__":
    main()
