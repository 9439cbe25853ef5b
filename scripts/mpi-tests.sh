#!/usr/bin/env bash
# Runs the MPI tests: the test examples of crates/flacarray-mpi under mpirun with 1, 2
# and 3 ranks (MPI can be initialised once per process, so they are not `cargo test`
# tests); then, with the Python venv of scripts/python-venv.sh, checks that flacarray
# 0.4.1 reads a file written by 3 ranks, and runs the `flacarray` command (feature
# `mpi`) under mpirun with 1, 2 and 3 ranks against the same command run serially.
# Fails on any non-zero exit.
# Usage: scripts/mpi-tests.sh   (needs Open MPI: scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi-tests: mpirun not found; run scripts/install-deps.sh" >&2
    exit 1
fi

cargo build -p flacarray-mpi --examples
if command -v python3 >/dev/null 2>&1; then
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
else
    target_dir=${CARGO_TARGET_DIR:-target}
fi
examples="$target_dir/debug/examples"

# Open MPI refuses to run as root without these; --oversubscribe allows more ranks
# than cores (CI has 2).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() {
    local n=$1
    shift
    timeout 300 mpirun --oversubscribe -n "$n" "$@" </dev/null
}

for n in 1 2 3; do
    echo "==> mpi_tests on $n rank(s)"
    out=$(mpi "$n" "$examples/mpi_tests")
    echo "$out"
    grep -q "(HDF5 through rank 0)" <<<"$out"
done

# The same tests with the `mpio` feature: HDF5 built for MPI (Debian's
# libhdf5-openmpi-dev), every rank reading and writing the file through MPI-IO. A
# separate target directory, with pkg-config pointed at the MPI build of HDF5 for
# this build only (the system default stays the serial library).
hdf5_mpi_pc=$(pkg-config --variable=pcfiledir hdf5-openmpi 2>/dev/null || true)/hdf5-openmpi.pc
if [ ! -e "$hdf5_mpi_pc" ]; then
    echo "mpi-tests: hdf5-openmpi.pc not found; run scripts/install-deps.sh" >&2
    exit 1
fi
mpio_target="$target_dir/mpio"
mkdir -p "$mpio_target/pkgconfig"
ln -sf "$hdf5_mpi_pc" "$mpio_target/pkgconfig/hdf5.pc"
PKG_CONFIG_PATH="$mpio_target/pkgconfig" cargo build --target-dir "$mpio_target" \
    -p flacarray-mpi --features mpio --examples
# The code behind the feature is linted here, where it builds.
PKG_CONFIG_PATH="$mpio_target/pkgconfig" cargo clippy --target-dir "$mpio_target" \
    -p flacarray-mpi --features mpio --all-targets -- -D warnings
mpio_examples="$mpio_target/debug/examples"
for n in 1 2 3; do
    echo "==> mpi_tests (mpio) on $n rank(s)"
    out=$(mpi "$n" "$mpio_examples/mpi_tests")
    echo "$out"
    grep -q "(HDF5 through MPI-IO on every rank)" <<<"$out"
done

python=.venv-interop/bin/python
if ! [ -x "$python" ] || ! "$python" -c "import flacarray, h5py, numpy" 2>/dev/null; then
    if [ "${FLACARRAY_REQUIRE_PYTHON:-}" = 1 ]; then
        echo "mpi-tests: .venv-interop has no flacarray/h5py/numpy (scripts/python-venv.sh)" >&2
        exit 1
    fi
    echo "mpi-tests: .venv-interop has no flacarray; Python and CLI checks skipped"
    echo "mpi-tests: all passed"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Python flacarray 0.4.1 reads files written by 3 ranks, through rank 0 and through
# MPI-IO.
check_interop() {
"$python" - "$1" <<'PY'
import sys

import h5py
import numpy as np

import flacarray
from flacarray.hdf5 import read_array

d = sys.argv[1]
with h5py.File(f"{d}/dist.h5", "r") as f:
    for name in ("f32", "i64"):
        want = np.load(f"{d}/{name}.npy")
        got = flacarray.FlacArray.read_hdf5(f[name]).to_array()
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert np.array_equal(got, want), name
        keep = np.zeros(want.shape[:-1], dtype=bool)
        keep[1, 0] = True
        keep[4, 1] = True
        sub = read_array(f[name], keep=keep)
        assert np.array_equal(sub, want[keep]), name
print(f"mpi-tests: Python flacarray {flacarray.__version__} reads the 3-rank file in {d}")
PY
}
for variant in "$examples" "$mpio_examples"; do
    echo "==> Python flacarray reads a file written by 3 ranks ($variant)"
    rm -rf "$tmp/interop"
    mkdir "$tmp/interop"
    mpi 3 "$variant/mpi_interop" "$tmp/interop"
    check_interop "$tmp/interop"
done

# The command line under mpirun: the `flacarray` binary built with the `mpi` feature
# (copied, so that later builds without the feature do not replace it).
echo "==> flacarray compress / decompress / verify under mpirun"
cargo build -p flacarray-cli --features mpi
bin="$tmp/flacarray"
cp "$target_dir/debug/flacarray" "$bin"
cli="$tmp/cli"
mkdir "$cli"
"$python" - "$cli" <<'PY'
import sys

import numpy as np

d = sys.argv[1]
rng = np.random.default_rng(7)
t = np.arange(5000)
f32 = (rng.normal(size=(7, 3, 5000)) + 50 * np.sin(t / 300.0)).astype(np.float32)
np.save(f"{d}/f32.npy", f32)
np.save(f"{d}/i64.npy", rng.integers(-(2**40), 2**40, size=(5, 4000)))
np.save(f"{d}/f64.npy", np.cumsum(rng.normal(size=3000)))          # 1-d: one stream
np.save(f"{d}/i32.npy", rng.integers(-1000, 1000, size=(2, 3000)).astype(np.int32))
keep = np.zeros((7, 3), dtype=bool)
keep[0, 1] = keep[3, 0] = keep[3, 2] = keep[6, 2] = True
np.save(f"{d}/keep.npy", keep)
# Types beyond 0.4.1's (format 1 + recorded dtype, or format 2), kept NaN/inf, an
# empty array, and two rows over three ranks (a rank without rows).
u16 = rng.integers(0, 2**16, size=(5, 3000)).astype(np.uint16)
u16[0] = 0
u16[1] = 2**16 - 1
np.save(f"{d}/u16.npy", u16)
u64 = rng.integers(0, 2**63, size=(4, 2000), dtype=np.uint64)
u64[2] += np.uint64(2**63)
np.save(f"{d}/u64.npy", u64)
np.save(f"{d}/bool.npy", rng.random((3, 1000)) < 0.3)
nan = f32[:4, 0, :].copy()
nan[0, :50] = np.nan
nan[1, -7:] = np.inf
nan[2, ::2] = -np.inf
nan[3] = np.nan
np.save(f"{d}/nan.npy", nan)
np.save(f"{d}/empty.npy", np.zeros((0, 400), dtype=np.float32))
np.save(f"{d}/two.npy", f32[:2, 0, :])
PY
# name, options
cases=("f32 --quanta 1e-3" "i64" "f64 --precision 5" "i32" "u16" "u64" "bool"
    "nan --quanta 1e-3 --keep-nonfinite" "empty --quanta 1e-3" "two --quanta 1e-3")
for case in "${cases[@]}"; do
    read -r name opts <<<"$case"
    # shellcheck disable=SC2086 # opts is a list of options
    "$bin" compress -q "$cli/$name.npy" "$cli/$name.serial.h5" $opts
    "$bin" decompress -q --force "$cli/$name.serial.h5" "$cli/$name.serial.npy"
    "$bin" decompress -q --force "$cli/$name.serial.h5" "$cli/$name.serial.s.npy" --samples 100:-100
    for n in 1 2 3; do
        for ext in h5 zarr; do
            out="$cli/$name.$n.$ext"
            # shellcheck disable=SC2086
            mpi "$n" "$bin" compress -q "$cli/$name.npy" "$out" $opts
            mpi "$n" "$bin" verify "$out" | grep -q "checked by $n MPI ranks"
            mpi "$n" "$bin" decompress -q --force "$out" "$cli/back.npy"
            cmp "$cli/back.npy" "$cli/$name.serial.npy"
            mpi "$n" "$bin" decompress -q --force "$out" "$cli/back.npy" --samples 100:-100
            cmp "$cli/back.npy" "$cli/$name.serial.s.npy"
        done
    done
    echo "mpi-tests: $name: 1, 2 and 3 ranks write, verify and read what one process does"
done
# Keep masks (and a rank without kept streams), with and without a sample range.
"$bin" decompress -q --force "$cli/f32.serial.h5" "$cli/keep.serial.npy" --keep "$cli/keep.npy" --samples=-700:
for n in 2 3; do
    mpi "$n" "$bin" decompress -q --force "$cli/f32.$n.zarr" "$cli/back.npy" --keep "$cli/keep.npy" --samples=-700:
    cmp "$cli/back.npy" "$cli/keep.serial.npy"
done
# --select runs on rank 0.
"$bin" decompress -q --force "$cli/f32.serial.h5" "$cli/sel.serial.npy" --select '::-2, 1, 10:20'
mpi 2 "$bin" decompress -q --force "$cli/f32.2.h5" "$cli/back.npy" --select '::-2, 1, 10:20'
cmp "$cli/back.npy" "$cli/sel.serial.npy"

# The datasets written by N ranks are byte for byte those of one process, and Python
# flacarray 0.4.1 reads them back equal to the serial decode.
"$python" - "$cli" <<'PY'
import sys

import h5py
import numpy as np

import flacarray
from flacarray.hdf5 import read_array

d = sys.argv[1]
for name in ("f32", "i64", "f64", "i32"):
    with h5py.File(f"{d}/{name}.serial.h5", "r") as s:
        want = np.load(f"{d}/{name}.serial.npy")
        for n in (1, 2, 3):
            with h5py.File(f"{d}/{name}.{n}.h5", "r") as m:
                assert sorted(m.keys()) == sorted(s.keys()), (name, n)
                for k in s.keys():
                    a, b = s[k][()], m[k][()]
                    assert a.dtype == b.dtype and a.shape == b.shape, (name, n, k)
                    assert a.tobytes() == b.tobytes(), (name, n, k)
                for k, v in s.attrs.items():
                    assert m.attrs[k] == v, (name, n, k)
                got = read_array(m)
                assert got.dtype == want.dtype and np.array_equal(got, want), (name, n)
print("mpi-tests: N-rank HDF5 datasets equal the serial ones; Python flacarray reads them")
PY

# Errors: every rank fails, rank 0 prints one line naming the file.
set +e
err=$(mpi 3 "$bin" decompress "$cli/missing.h5" "$cli/x.npy" 2>&1 >/dev/null)
status=$?
set -e
if [ "$status" = 0 ] || [ "$(grep -c '^flacarray: error: .*missing.h5' <<<"$err")" != 1 ] || [ -e "$cli/x.npy" ]; then
    echo "mpi-tests: a missing input should fail with one error line, got status $status: $err" >&2
    exit 1
fi
set +e
err=$(mpi 2 "$bin" compress "$cli/i32.npy" "$cli/i32.2.h5" 2>&1 >/dev/null)
status=$?
set -e
if [ "$status" = 0 ] || ! grep -q "already" <<<"$err"; then
    echo "mpi-tests: writing over a FlacArray without --force should fail: $err" >&2
    exit 1
fi
echo "mpi-tests: all passed"
