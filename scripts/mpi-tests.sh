#!/usr/bin/env bash
# Runs the MPI tests of crates/flacarray-mpi: its test examples under mpirun with 1, 2
# and 3 ranks (MPI can be initialised once per process, so they are not `cargo test`
# tests), then, when .venv-interop holds Python flacarray, checks in Python that 0.4.1
# reads a file written by 3 ranks. Fails on any non-zero exit.
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
    mpi "$n" "$examples/mpi_tests"
done

python=.venv-interop/bin/python
if [ -x "$python" ] && "$python" -c "import flacarray, h5py" 2>/dev/null; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "==> Python flacarray reads a file written by 3 ranks"
    mpi 3 "$examples/mpi_interop" "$tmp"
    "$python" - "$tmp" <<'PY'
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
print(f"mpi-tests: Python flacarray {flacarray.__version__} reads the 3-rank file")
PY
else
    echo "mpi-tests: .venv-interop has no flacarray; Python check skipped"
fi
echo "mpi-tests: all passed"
