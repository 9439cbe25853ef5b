"""Measures this workspace's `flacarray` against Python flacarray 0.4.1 and prints
markdown tables; run by scripts/bench-vs-python.sh (see docs/benchmarks.md).

Every measurement runs in a child process, so that its peak memory (getrusage's
ru_maxrss of that child) and the bytes it reads (the rchar of /proc/self/io, which
includes reaped children) are its own. Times:

* ours, file to file: wall time of the `flacarray` process minus the median wall time
  of `flacarray --version` (process start and exit);
* Python, file to file: `time.perf_counter()` inside the child around np.load +
  h5py.File + flacarray.hdf5.write_array, or h5py.File + read_array + np.save
  (interpreter start and imports excluded);
* in memory: `flacarray bench --json` (best of --repeat) against the best of
  FlacArray.from_array / to_array in a Python child, two processes of each.

The runs of the two tools alternate (ours, 0.4.1, ours, ...), so that a slow stretch
of a shared host lands on both rather than on all the runs of one.

0.4.1 gets use_threads=False and OMP_NUM_THREADS=1 for one thread, use_threads=True
and OMP_NUM_THREADS=2 for two; ours gets --threads.
"""

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PY_COMPRESS = r"""
import sys, time, json, numpy as np, h5py, flacarray.hdf5
inp, out, quanta, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
q = None if quanta == "none" else float(quanta)
t, c = time.perf_counter(), time.process_time()
a = np.load(inp)
with h5py.File(out, "w") as f:
    flacarray.hdf5.write_array(a, f, level=5, quanta=q, use_threads=threads > 1)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c}))
"""

PY_DECOMPRESS = r"""
import sys, time, json, numpy as np, h5py, flacarray.hdf5
inp, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
t, c = time.perf_counter(), time.process_time()
with h5py.File(inp, "r") as f:
    a = flacarray.hdf5.read_array(f, use_threads=threads > 1)
np.save(out, a)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c}))
"""

PY_MEMORY = r"""
import sys, time, json, numpy as np
from flacarray import FlacArray
inp, quanta, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
q = None if quanta == "none" else float(quanta)
a = np.load(inp)
enc, dec, cenc, cdec = [], [], [], []
for _ in range(repeat):
    t, c = time.perf_counter(), time.process_time()
    fa = FlacArray.from_array(a, level=5, quanta=q, use_threads=threads > 1)
    enc.append(time.perf_counter() - t)
    cenc.append(time.process_time() - c)
for _ in range(repeat):
    t, c = time.perf_counter(), time.process_time()
    b = fa.to_array(use_threads=threads > 1)
    dec.append(time.perf_counter() - t)
    cdec.append(time.process_time() - c)
assert b.shape == a.shape
print(json.dumps({"compress": min(enc), "decompress": min(dec), "compress_cpu": min(cenc),
                  "decompress_cpu": min(cdec), "nbytes": int(fa.nbytes),
                  "input_bytes": int(a.nbytes)}))
"""

# name, quanta (float data) or None
DATASETS = [
    ("timestreams", 1e-4),
    ("ecg", None),
    ("seismic", None),
    ("speech", None),
    ("seismic-f64", 1e-9),
]


def proc_io():
    with open("/proc/self/io") as f:
        return {k: int(v) for k, v in (line.split(": ") for line in f)}


# A child forked from this (large) interpreter inherits its peak RSS across exec
# (Linux keeps the larger of the two), so peak memory is taken from GNU time, whose
# own child starts small.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run(cmd, env=None):
    """Runs CMD; returns wall seconds, peak RSS (bytes, 0 if unknown), bytes read
    (rchar), stdout."""
    # Every run starts with no dirty page cache: otherwise the writeback of earlier
    # runs' outputs (hundreds of MB written within seconds) lands in whichever later
    # run happens to be under way, and a run that truncates or removes a file still
    # being written back waits for it. Outside the timed region, for both tools.
    os.sync()
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        full = [GNU_TIME, "-f", "%U %S %M", "-o", rss.name] + cmd if GNU_TIME else cmd
        io0 = proc_io()
        t = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, _ = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        io1 = proc_io()
        maxrss, cpu = 0, float("nan")
        if GNU_TIME:
            last = rss.read().strip().splitlines()
            f = last[-1].split() if last else []
            if len(f) == 3:
                cpu = float(f[0]) + float(f[1])
                maxrss = int(f[2]) * 1024
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        if p.returncode != 0:
            raise SystemExit(f"bench: {' '.join(map(str, cmd))} failed:\n{err}")
        out.seek(0)
        text = out.read().decode()
    return {
        "wall": wall,
        "maxrss": maxrss,
        "cpu": cpu,
        "rchar": io1["rchar"] - io0["rchar"],
        "stdout": text,
    }


def median_of(rs):
    """The run of median wall time (with the median CPU time of all as cpu_median)."""
    rs = sorted(rs, key=lambda r: r["wall"])
    m = dict(rs[len(rs) // 2])
    m["cpu_median"] = statistics.median(r["cpu"] for r in rs)
    return m


def median_run(cmd, runs, env=None):
    """Median wall time (and the other figures of that run) of RUNS runs."""
    return median_of([run(cmd, env) for _ in range(runs)])


def alternate(runs, ours, theirs, env=None, before=None):
    """Runs OURS and THEIRS (with ENV) RUNS times each, one after the other, so that a
    slow stretch of a shared host lands on both tools rather than on the five runs of
    one; BEFORE (if given) is called with the output path's owner ("ours", "theirs")
    before every run. Returns the two lists of runs."""
    a, b = [], []
    for _ in range(runs):
        if before:
            before("ours")
        a.append(run(ours))
        if before:
            before("theirs")
        b.append(run(theirs, env))
    return a, b


def best_of_bench(reports):
    """Per figure, the best of several `flacarray bench --json` reports (speeds in
    MB/s: the largest; the byte counts are equal)."""
    best = dict(reports[0])
    for rep in reports[1:]:
        for k, v in rep.items():
            if k.endswith("_mb_s") and isinstance(v, (int, float)):
                best[k] = max(best.get(k) or 0, v)
    return best


def best_of_py(reports):
    """Per figure, the best of several PY_MEMORY reports (times: the smallest)."""
    best = dict(reports[0])
    for rep in reports[1:]:
        for k in ("compress", "decompress", "compress_cpu", "decompress_cpu"):
            best[k] = min(best[k], rep[k])
    return best


def py_env(threads):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def mb(nbytes, seconds):
    return nbytes / 1e6 / seconds if seconds > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-codec", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    import numpy as np

    suffix = "-quick" if a.quick else ""
    runs = 1 if a.quick else 5
    repeat = 1 if a.quick else 3
    rounds = 1 if a.quick else 2
    thread_list = [int(t) for t in a.threads.split(",")]
    py = sys.executable
    work = tempfile.mkdtemp(prefix="flacarray-bench-", dir=a.data)
    lines = []

    def emit(s=""):
        print(s, flush=True)
        lines.append(s)

    # Versions and machine.
    import flacarray
    import h5py

    ours_version = run([a.bin, "--version"])["stdout"].strip()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    cpu = "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    emit(f"# flacarray-rs vs flacarray 0.4.1{' (--quick)' if a.quick else ''}")
    emit()
    emit(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    emit(f"- machine: {cpu}, {os.cpu_count()} CPUs, {platform.platform()}")
    emit(f"- ours: {ours_version} (commit {commit}); reference: flacarray "
         f"{flacarray.__version__}, numpy {np.__version__}, h5py {h5py.__version__} "
         f"(HDF5 {h5py.version.hdf5_version}), Python {platform.python_version()}")
    emit(f"- level 5; file to file: median of {runs} runs; in memory: best of {repeat} calls in "
         f"each of {rounds} processes; the two tools' runs alternate")
    emit()

    triv = [run([a.bin, "--version"]) for _ in range(9 if not a.quick else 3)]
    start = statistics.median(x["wall"] for x in triv)
    start_cpu = statistics.median(x["cpu"] for x in triv)
    emit(f"Process start and exit of `flacarray --version`: {start * 1e3:.1f} ms "
         "(subtracted from our file-to-file times).")
    emit()

    results = {}
    for name, quanta in DATASETS:
        src = os.path.join(a.data, f"{name}{suffix}.npy")
        arr = np.load(src, mmap_mode="r")
        raw = int(arr.nbytes)
        qarg = ["--quanta", repr(quanta)] if quanta else []
        qs = repr(quanta) if quanta else "none"
        for t in thread_list:
            r = {"shape": arr.shape, "dtype": str(arr.dtype), "raw": raw}
            h5o = os.path.join(work, f"{name}-ours.h5")
            h5p = os.path.join(work, f"{name}-py.h5")
            npo = os.path.join(work, f"{name}-ours.npy")
            npp = os.path.join(work, f"{name}-py.npy")
            # File to file, the two tools alternating. Our compress gets a new file
            # every run (0.4.1's h5py "w" truncates its own in place); both decodes
            # replace the previous run's output.
            def drop_ours_h5(who):
                if who == "ours" and os.path.exists(h5o):
                    os.remove(h5o)

            samples, pc = alternate(
                runs,
                [a.bin, "compress", src, h5o, "--threads", str(t), "--quiet"] + qarg,
                [py, "-c", PY_COMPRESS, src, h5p, qs, str(t)], py_env(t), drop_ours_h5)
            samples.sort(key=lambda x: x["wall"])
            c = samples[len(samples) // 2]
            ds, pd = alternate(
                runs,
                [a.bin, "decompress", h5o, npo, "--threads", str(t), "--quiet", "--force"],
                [py, "-c", PY_DECOMPRESS, h5p, npp, str(t)], py_env(t))
            d = median_of(ds)
            r["ours_c"] = c["wall"] - start
            r["ours_d"] = d["wall"] - start
            r["ours_c_cpu"] = statistics.median(x["cpu"] for x in samples) - start_cpu
            r["ours_d_cpu"] = d["cpu_median"] - start_cpu
            r["ours_c_rss"], r["ours_d_rss"] = c["maxrss"], d["maxrss"]
            r["ours_d_rchar"] = d["rchar"]
            r["ours_h5"] = os.path.getsize(h5o)
            r["py_c"] = statistics.median(json.loads(x["stdout"])["seconds"] for x in pc)
            r["py_d"] = statistics.median(json.loads(x["stdout"])["seconds"] for x in pd)
            r["py_c_cpu"] = statistics.median(json.loads(x["stdout"])["cpu"] for x in pc)
            r["py_d_cpu"] = statistics.median(json.loads(x["stdout"])["cpu"] for x in pd)
            r["py_c_rss"] = max(x["maxrss"] for x in pc)
            r["py_d_rss"] = max(x["maxrss"] for x in pd)
            r["py_h5"] = os.path.getsize(h5p)
            r["npy_out"] = os.path.getsize(npo)
            # Both decode each other's file to the same values.
            got = np.load(npo, mmap_mode="r")
            ref = np.load(npp, mmap_mode="r")
            if got.shape != ref.shape or not np.array_equal(got, ref):
                raise SystemExit(f"bench: {name}: our decoded array differs from 0.4.1's")
            # Both writing a new output file every run (what a pipeline does), one
            # thread: the runs above replace the previous run's output, which 0.4.1
            # does in place (h5py "w" and np.save truncate the file) and we through a
            # new file renamed over it.
            if t == 1:
                def fresh(ours_out, theirs_out):
                    def remove(who):
                        out = ours_out if who == "ours" else theirs_out
                        if os.path.exists(out):
                            os.remove(out)
                    return remove

                rs, ps = alternate(
                    runs, [a.bin, "decompress", h5o, npo, "--threads", "1", "--quiet"],
                    [py, "-c", PY_DECOMPRESS, h5p, npp, "1"], py_env(1), fresh(npo, npp))
                r["new_ours_d"] = statistics.median(x["wall"] for x in rs) - start
                r["new_py_d"] = statistics.median(json.loads(x["stdout"])["seconds"] for x in ps)
                rs, ps = alternate(
                    runs, [a.bin, "compress", src, h5o, "--threads", "1", "--quiet"] + qarg,
                    [py, "-c", PY_COMPRESS, src, h5p, qs, "1"], py_env(1), fresh(h5o, h5p))
                r["new_ours_c"] = statistics.median(x["wall"] for x in rs) - start
                r["new_py_c"] = statistics.median(json.loads(x["stdout"])["seconds"] for x in ps)
            # Ours, one sample range of 1% in the middle of every stream (one thread).
            if t == 1:
                n = arr.shape[-1]
                lo = n // 2
                hi = lo + max(1, n // 100)
                rng = median_run([a.bin, "decompress", h5o, npo, "--threads", "1", "--quiet", "--force",
                                  "--samples", f"{lo}:{hi}"], runs)
                triv = run([a.bin, "--version"])
                r["range_s"] = rng["wall"] - start
                r["range_rchar"] = rng["rchar"] - triv["rchar"]
                r["full_rchar"] = d["rchar"] - triv["rchar"]
                r["range_rss"] = rng["maxrss"]
                # The same from Zarr stores of ours (v3: `compressed` sharded; v2: not).
                for fmt in ("3", "2"):
                    zo = os.path.join(work, f"{name}-ours-v{fmt}.zarr")
                    shutil.rmtree(zo, ignore_errors=True)
                    run([a.bin, "compress", src, zo, "--zarr-format", fmt, "--quiet"] + qarg)
                    base = [a.bin, "decompress", zo, npo, "--threads", "1", "--quiet", "--force"]
                    zf = median_run(base, runs)
                    zr = median_run(base + ["--samples", f"{lo}:{hi}"], runs)
                    r[f"z{fmt}_full"] = zf["rchar"] - triv["rchar"]
                    r[f"z{fmt}_range"] = zr["rchar"] - triv["rchar"]
                    shutil.rmtree(zo, ignore_errors=True)
            # In memory: best of `repeat` inside each process, and of `rounds` processes
            # of each tool, alternating.
            oms, pms = alternate(
                rounds, [a.bin, "bench", src, "--threads", str(t), "--repeat", str(repeat),
                         "--json", "--quiet"] + qarg,
                [py, "-c", PY_MEMORY, src, qs, str(t), str(repeat)], py_env(t))
            om = best_of_bench([json.loads(x["stdout"]) for x in oms])
            pm = best_of_py([json.loads(x["stdout"]) for x in pms])
            r["mem_ours_c"] = om["compress_mb_s"]
            r["mem_ours_d"] = om["decompress_mb_s"]
            r["mem_ours_d_vec"] = om.get("decompress_vec_mb_s") or float("nan")
            r["mem_ours_bytes"] = om["compressed_bytes"]
            r["mem_py_c"] = mb(raw, pm["compress"])
            r["mem_py_d"] = mb(raw, pm["decompress"])
            r["mem_py_bytes"] = pm["nbytes"]
            r["mem_ours_c_cpu"] = om.get("compress_cpu_mb_s") or float("nan")
            r["mem_ours_d_cpu"] = om.get("decompress_cpu_mb_s") or float("nan")
            r["mem_py_c_cpu"] = mb(raw, pm["compress_cpu"])
            r["mem_py_d_cpu"] = mb(raw, pm["decompress_cpu"])
            results[(name, t)] = r
            for f in (npo, npp):
                os.remove(f)
            print(f"bench: {name}, {t} thread(s) done", file=sys.stderr, flush=True)

    def label(name):
        r = results[(name, thread_list[0])]
        return f"{name} {r['dtype']} {tuple(r['shape'])}"

    for t in thread_list:
        emit(f"## File to file, {t} thread{'s' if t > 1 else ''} (MB/s of the .npy array)")
        emit()
        emit("| data | encode ours | encode 0.4.1 | ratio | decode ours | decode 0.4.1 | ratio "
             "| .h5 bytes ours | .h5 bytes 0.4.1 | size ratio |")
        emit("|---|---|---|---|---|---|---|---|---|---|")
        ce, cd, cs = [], [], []
        for name, _ in DATASETS:
            r = results[(name, t)]
            oc, pc = mb(r["raw"], r["ours_c"]), mb(r["raw"], r["py_c"])
            od, pd = mb(r["raw"], r["ours_d"]), mb(r["raw"], r["py_d"])
            ce.append(oc / pc)
            cd.append(od / pd)
            cs.append(r["ours_h5"] / r["py_h5"])
            emit(f"| {label(name)} | {oc:.0f} | {pc:.0f} | {oc / pc:.2f}x | {od:.0f} | {pd:.0f} "
                 f"| {od / pd:.2f}x | {r['ours_h5']} | {r['py_h5']} | {cs[-1]:.4f} |")
        emit(f"| geometric mean | | | {geomean(ce):.2f}x | | | {geomean(cd):.2f}x | | | "
             f"{geomean(cs):.4f} |")
        emit()
    if 1 in thread_list:
        emit("## File to file, 1 thread, a new output file every run (MB/s of the .npy array)")
        emit()
        emit("| data | encode ours | encode 0.4.1 | ratio | decode ours | decode 0.4.1 | ratio |")
        emit("|---|---|---|---|---|---|---|")
        ce, cd = [], []
        for name, _ in DATASETS:
            r = results[(name, 1)]
            oc, pc = mb(r["raw"], r["new_ours_c"]), mb(r["raw"], r["new_py_c"])
            od, pd = mb(r["raw"], r["new_ours_d"]), mb(r["raw"], r["new_py_d"])
            ce.append(oc / pc)
            cd.append(od / pd)
            emit(f"| {label(name)} | {oc:.0f} | {pc:.0f} | {oc / pc:.2f}x | {od:.0f} | {pd:.0f} "
                 f"| {od / pd:.2f}x |")
        emit(f"| geometric mean | | | {geomean(ce):.2f}x | | | {geomean(cd):.2f}x |")
        emit()
        emit("(The tables above replace the previous run's output: 0.4.1 truncates it in "
             "place, we write a new file and rename it over the old one.)")
        emit()
    for t in thread_list:
        emit(f"## In memory, {t} thread{'s' if t > 1 else ''} (MB/s)")
        emit()
        emit("| data | encode ours | encode 0.4.1 | ratio | decode ours | decode 0.4.1 | ratio "
             "| decode ours, new Vec | compressed bytes ours | 0.4.1 | size ratio |")
        emit("|---|---|---|---|---|---|---|---|---|---|---|")
        ce, cd, cs = [], [], []
        for name, _ in DATASETS:
            r = results[(name, t)]
            ce.append(r["mem_ours_c"] / r["mem_py_c"])
            cd.append(r["mem_ours_d"] / r["mem_py_d"])
            cs.append(r["mem_ours_bytes"] / r["mem_py_bytes"])
            emit(f"| {label(name)} | {r['mem_ours_c']:.0f} | {r['mem_py_c']:.0f} | {ce[-1]:.2f}x "
                 f"| {r['mem_ours_d']:.0f} | {r['mem_py_d']:.0f} | {cd[-1]:.2f}x "
                 f"| {r['mem_ours_d_vec']:.0f} "
                 f"| {r['mem_ours_bytes']} | {r['mem_py_bytes']} | {cs[-1]:.4f} |")
        emit(f"| geometric mean | | | {geomean(ce):.2f}x | | | {geomean(cd):.2f}x | | | | "
             f"{geomean(cs):.4f} |")
        emit()
        emit("(Decode ours: into a new array on transparent huge pages, as numpy allocates "
             "0.4.1's output (`madvise` on arrays of 4 MiB and more); \"new Vec\": "
             "`FlacArray::decompress` into memory from the system allocator, 4 KiB pages.)")
        emit()
    if 1 in thread_list:
        emit("## One thread, per CPU-second (MB/s; the steadier figure on a shared machine)")
        emit()
        emit("CPU time of the process (user + system): ours file to file from GNU time less "
             "that of `flacarray --version`, in memory from `flacarray bench`; 0.4.1 from "
             "`time.process_time()` around the same steps as the wall times.")
        emit()
        emit("| data | file encode ours / 0.4.1 | ratio | file decode ours / 0.4.1 | ratio "
             "| memory encode ours / 0.4.1 | ratio | memory decode ours / 0.4.1 | ratio |")
        emit("|---|---|---|---|---|---|---|---|---|")
        cols = [[], [], [], []]
        for name, _ in DATASETS:
            r = results[(name, 1)]
            pairs = [
                (mb(r["raw"], r["ours_c_cpu"]), mb(r["raw"], r["py_c_cpu"])),
                (mb(r["raw"], r["ours_d_cpu"]), mb(r["raw"], r["py_d_cpu"])),
                (r["mem_ours_c_cpu"], r["mem_py_c_cpu"]),
                (r["mem_ours_d_cpu"], r["mem_py_d_cpu"]),
            ]
            cells = []
            for i, (o, p) in enumerate(pairs):
                cols[i].append(o / p)
                cells.append(f"{o:.0f} / {p:.0f} | {o / p:.2f}x")
            emit(f"| {label(name)} | " + " | ".join(cells) + " |")
        emit("| geometric mean | " + " | ".join(f"| {geomean(c):.2f}x" for c in cols) + " |")
        emit()
    if len(thread_list) > 1:
        t1, t2 = thread_list[0], thread_list[-1]
        emit(f"## Thread scaling, ours ({t2} threads / {t1})")
        emit()
        emit("| data | compress file | decompress file | compress memory | decompress memory |")
        emit("|---|---|---|---|---|")
        for name, _ in DATASETS:
            r1, r2 = results[(name, t1)], results[(name, t2)]
            emit(f"| {name} | {r1['ours_c'] / r2['ours_c']:.2f}x | "
                 f"{r1['ours_d'] / r2['ours_d']:.2f}x | {r2['mem_ours_c'] / r1['mem_ours_c']:.2f}x "
                 f"| {r2['mem_ours_d'] / r1['mem_ours_d']:.2f}x |")
        emit()
    mib = 1 << 20
    emit("## Peak memory, one thread (max RSS of the process, MiB)")
    emit()
    emit("| data | input + output | compress ours | excess | decompress ours | excess "
         "| compress 0.4.1 | decompress 0.4.1 |")
    emit("|---|---|---|---|---|---|---|---|")
    for name, _ in DATASETS:
        r = results[(name, thread_list[0])]
        io = (r["raw"] + r["ours_h5"]) / mib
        emit(f"| {name} | {io:.1f} | {r['ours_c_rss'] / mib:.1f} | "
             f"{r['ours_c_rss'] / mib - io:+.1f} | {r['ours_d_rss'] / mib:.1f} | "
             f"{r['ours_d_rss'] / mib - io:+.1f} | {r['py_c_rss'] / mib:.1f} | "
             f"{r['py_d_rss'] / mib:.1f} |")
    emit()
    emit("(GNU time's maximum resident set size of the process; 0.4.1's figures include the "
         "Python interpreter with numpy, h5py and flacarray imported.)")
    emit()
    if 1 in thread_list:
        emit("## A 1% sample range of every stream (`decompress --samples`, one thread)")
        emit()
        emit("| data | bytes read, range | bytes read, full | read ratio | time range (s) "
             "| time full (s) | time ratio | Zarr v3 range / full | ratio | Zarr v2 range / full "
             "| ratio |")
        emit("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, _ in DATASETS:
            r = results[(name, 1)]
            emit(f"| {name} | {r['range_rchar']} | {r['full_rchar']} | "
                 f"{r['range_rchar'] / max(1, r['full_rchar']):.3f} | {r['range_s']:.3f} | "
                 f"{r['ours_d']:.3f} | {r['range_s'] / r['ours_d']:.3f} | "
                 f"{r['z3_range']} / {r['z3_full']} | {r['z3_range'] / max(1, r['z3_full']):.3f} | "
                 f"{r['z2_range']} / {r['z2_full']} | {r['z2_range'] / max(1, r['z2_full']):.3f} |")
        emit()
        emit("(Bytes read: the rchar of /proc/PID/io, all read()/pread() calls of the process "
             "less those of `flacarray --version`; the full decode's time includes writing "
             "the .npy.)")
        emit()

    # One long stream: parallelism inside a stream (in memory).
    src = os.path.join(a.data, f"long{suffix}.npy")
    if os.path.exists(src):
        n = int(np.load(src, mmap_mode="r").shape[0])
        emit(f"## One stream of {n} int32 samples (speech), in memory")
        emit()
        emit("| threads | encode ours (wall / per CPU-s) | decode ours (wall / per CPU-s) "
             "| encode 0.4.1 | decode 0.4.1 |")
        emit("|---|---|---|---|---|")
        for t in thread_list:
            om = json.loads(run([a.bin, "bench", src, "--threads", str(t), "--repeat",
                                 str(repeat), "--json", "--quiet"])["stdout"])
            pm = json.loads(run([py, "-c", PY_MEMORY, src, "none", str(t), str(repeat)],
                                py_env(t))["stdout"])
            raw = 4 * n
            emit(f"| {t} | {om['compress_mb_s']:.0f} / {om.get('compress_cpu_mb_s') or 0:.0f} "
                 f"| {om['decompress_mb_s']:.0f} / {om.get('decompress_cpu_mb_s') or 0:.0f} "
                 f"| {mb(raw, pm['compress']):.0f} | {mb(raw, pm['decompress']):.0f} |")
        emit()
        emit("(MB/s. With 2 threads the per-CPU-second figure stays that of one thread when "
             "the work is spread; the wall figure doubles only if both cores are free.)")
        emit()

    if not a.skip_codec:
        emit("## FLAC codec against libFLAC, one thread")
        emit()
        ex = a.examples
        n = "200000" if a.quick else "1000000"
        levels = "5" if a.quick else "0,5,8"
        out = run([os.path.join(ex, "compare"), n, levels])["stdout"].strip()
        emit("Synthetic signals (`compare` example):")
        emit()
        emit(out)
        emit()
        files = [os.path.join(a.data, f"{x}{suffix}.npy") for x in ("ecg", "seismic", "speech")]
        files.append(os.path.join(a.data, f"timestreams-int32{suffix}.npy"))
        cmd = [os.path.join(ex, "compare_npy"), "--levels", levels,
               "--samples", "400000" if a.quick else "2000000",
               "--runs", "3" if a.quick else "5"] + files
        emit("Recordings (`compare_npy` example; one mono stream per row):")
        emit()
        emit(run(cmd)["stdout"].strip())
        emit()

    out = a.out or os.path.join(a.data, f"results{suffix}.md")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for f in os.listdir(work):
        os.remove(os.path.join(work, f))
    os.rmdir(work)
    print(f"bench: tables written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
