"""Helpers of the Python interop tests of flacarray-hdf5 and flacarray-zarr.

`flacarray_testkit::run_python` writes this module next to each test script, which
imports it as `interop`.
"""
import numpy as np

# Comparisons made by `same` so far; the scripts print it for the Rust side to check.
checks = 0


def same(a, b, what):
    """Exits with a message unless `a` and `b` have the same dtype, shape and bytes."""
    global checks
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        raise SystemExit(f"{what}: dtype/shape {a.dtype}{a.shape} != {b.dtype}{b.shape}")
    if a.tobytes() != b.tobytes():
        bad = int(np.flatnonzero(a.reshape(-1).view(np.uint8) != b.reshape(-1).view(np.uint8))[0])
        raise SystemExit(f"{what}: values differ (first differing byte {bad})")
    checks += 1


def check_group(g, entry, d, read_array, read_flacarray, how):
    """Three reads of the group `g` Rust wrote, against `entry` of its manifest (group,
    npy, shape): `read_array`, `read_flacarray(g).to_array()` (labelled `how`) and
    `read_array` with a keep mask of every other stream."""
    expected = np.load(f"{d}/{entry['npy']}").reshape(entry["shape"])
    group = entry["group"]
    same(read_array(g), expected, f"read_array {group}")
    same(read_flacarray(g).to_array(), expected, f"{how} {group}")
    shape = entry["shape"]
    lead = tuple(shape[:-1]) if len(shape) > 1 else (1,)
    keep = np.zeros(lead, dtype=bool)
    keep.reshape(-1)[::2] = True
    got = read_array(g, keep=keep)
    want = expected.reshape((-1, shape[-1]))[keep.reshape(-1)]
    if want.shape[0] == 1:
        want = want.reshape(-1)
    same(got, want, f"read_array keep {group}")


def python_arrays(rng):
    """The four dtypes Python writes for Rust to read: name -> (array, quantization)."""
    return {
        "i32": (rng.integers(-2**31, 2**31, size=(3, 700)).astype(np.int32), {}),
        "i64": ((np.cumsum(rng.integers(-1000, 1000, size=(2, 3, 400)), axis=-1) + 2**45).astype(np.int64), {}),
        "f32": (rng.normal(size=(4, 900)).astype(np.float32), {"quanta": 1e-4}),
        "f64": (rng.normal(size=(2, 1100)) * 1e3, {"precision": 5}),
    }


def extended_verdicts(d, group, read_array, read_flacarray):
    """Prints, as JSON, a verdict on every entry of `d/manifest.json` (name, npy,
    shape) of the groups Rust wrote beyond 0.4.1's layout, `group(name)` opening one:
    `equal` when `read_array` and `read_flacarray(...).to_array()` both give the
    expected values bit for bit (dtype and shape included), `refused <error>` when
    opening or reading raises, `DIFFERENT ...` otherwise (a group without `npy`,
    format 2, must be refused)."""
    import json

    out = {}
    for e in json.load(open(f"{d}/manifest.json")):
        name = e["name"]
        try:
            g = group(name)
            got = [read_array(g), read_flacarray(g).to_array()]
        except Exception as err:
            out[name] = f"refused {type(err).__name__}: {err}"
            continue
        if e["npy"] is None:
            out[name] = f"DIFFERENT: read a format-2 group as {got[0].dtype}{got[0].shape}"
            continue
        want = np.load(f"{d}/{e['npy']}").reshape(e["shape"])
        ok = all(g.dtype == want.dtype and g.shape == want.shape
                 and np.ascontiguousarray(g).tobytes() == want.tobytes() for g in got)
        out[name] = "equal" if ok else f"DIFFERENT: {got[0].dtype}{got[0].shape} vs {want.dtype}{want.shape}"
    print(json.dumps(out))
