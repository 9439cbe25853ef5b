#!/usr/bin/env bash
# Builds the Python package flacarray_rs (crates/flacarray-python) with maturin,
# installs the wheel into a venv (.venv-py) next to flacarray 0.4.1, h5py, zarr-python
# and (when an MPI compiler is present) mpi4py, and runs:
#   * the pytest suite crates/flacarray-python/tests (API against 0.4.1, files both
#     ways, fixtures, hostile files, threads, the extension's linkage, the element
#     types beyond 0.4.1's against the Rust writers and reader of the example
#     write_rust_groups, built here too);
#   * tests/zarr2_check.py in a second venv (.venv-py-zarr2) with zarr-python 2;
#   * under mpirun with 1, 2 and 3 ranks: tests/mpi/mpi_checks.py and 0.4.1's own
#     unittest modules run against flacarray_rs (skipped without mpirun/mpi4py).
# Exits non-zero on any failure; prints pytest's closing line and the MPI results.
#
# Environment: PYTHON (interpreter for the venv, default python3), CARGO_TARGET_DIR
# (default target/), PY_TESTS_PROFILE=release|dev (default release).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv-py"
py="$venv/bin/python"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"

if [ ! -x "$py" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
pip_install() { "$py" -m pip install --quiet --disable-pip-version-check "$@"; }
if ! "$py" -c "import maturin, pytest, numpy, h5py, zarr, flacarray" >/dev/null 2>&1; then
    pip_install "maturin>=1.16,<1.17" pytest numpy h5py "zarr==3.1.6" "flacarray==0.4.1"
fi
have_mpi=0
if command -v mpirun >/dev/null 2>&1 && command -v mpicc >/dev/null 2>&1; then
    if "$py" -c "import mpi4py" >/dev/null 2>&1 || pip_install mpi4py; then
        have_mpi=1
    fi
fi

echo "python-tests: building the wheel (maturin, ${PY_TESTS_PROFILE:-release})"
start=$(date +%s)
profile_flag=(--release)
[ "${PY_TESTS_PROFILE:-release}" = dev ] && profile_flag=()
rm -rf "$target/wheels-py"
"$venv/bin/maturin" build "${profile_flag[@]}" --quiet -i "$py" \
    -m crates/flacarray-python/Cargo.toml --out "$target/wheels-py"
echo "python-tests: wheel built in $(( $(date +%s) - start )) s"
pip_install --force-reinstall --no-deps "$target"/wheels-py/flacarray_rs-*.whl
# The Rust writers and reader that tests/test_dtypes.py compares with (an example of
# the crate: the extension itself links no libhdf5). Dev profile: it handles small
# arrays, and shares its dependencies with the workspace's test builds.
cargo build --quiet -p flacarray-python --example write_rust_groups
export FLACARRAY_RS_GROUPS="$target/debug/examples/write_rust_groups"

status=0
log=$(mktemp)
(cd "$target" && "$py" -m pytest -q -p no:cacheprovider "$root/crates/flacarray-python/tests") \
    >"$log" 2>&1 || status=1
tail -n 40 "$log" | grep -v '^$' | tail -n 25 >&2 || true
pytest_line=$(grep -E '(passed|failed|error)' "$log" | tail -n 1)
rm -f "$log"

mpi_lines=()
if [ "$have_mpi" = 1 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    for n in 1 2 3; do
        for script in mpi_checks.py run_upstream.py; do
            out=$(cd "$target" && timeout 600 mpirun -n "$n" --oversubscribe "$py" \
                "$root/crates/flacarray-python/tests/mpi/$script" </dev/null 2>&1) || {
                status=1
                echo "$out" | tail -n 30 >&2
                mpi_lines+=("mpirun -n $n $script: FAILED")
                continue
            }
            mpi_lines+=("$(echo "$out" | grep -E '^(mpi checks passed|upstream suite)' | tail -n 1)")
        done
    done
    # Parallel HDF5 (files opened with the mpio driver on every rank) needs h5py built
    # against an MPI HDF5; PY_TESTS_MPIO=1 builds one into .venv-py-mpio (a few minutes,
    # needs libhdf5-openmpi-dev), later runs reuse it.
    venvm="$root/.venv-py-mpio"
    if [ "${PY_TESTS_MPIO:-0}" = 1 ] && [ ! -x "$venvm/bin/python" ]; then
        "${PYTHON:-python3}" -m venv "$venvm"
        # Without build isolation, h5py builds against the venv's mpi4py instead of
        # compiling a second copy of mpi4py.
        "$venvm/bin/python" -m pip install --quiet --disable-pip-version-check numpy mpi4py \
            "zarr==3.1.6" "flacarray==0.4.1" "Cython>=3.0.2,<4" pkgconfig "setuptools>=77" wheel
        CC=mpicc HDF5_MPI=ON HDF5_INCLUDEDIR=/usr/include/hdf5/openmpi \
            HDF5_LIBDIR=/usr/lib/x86_64-linux-gnu/hdf5/openmpi \
            "$venvm/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-build-isolation --no-binary=h5py h5py || status=1
    fi
    if [ -x "$venvm/bin/python" ] && "$venvm/bin/python" -c \
        "import h5py, sys; sys.exit(0 if h5py.get_config().mpi else 1)" >/dev/null 2>&1; then
        "$venvm/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall \
            --no-deps "$target"/wheels-py/flacarray_rs-*.whl
        for n in 1 2 3; do
            out=$(cd "$target" && timeout 600 mpirun -n "$n" --oversubscribe "$venvm/bin/python" \
                "$root/crates/flacarray-python/tests/mpi/mpio_checks.py" </dev/null 2>&1) || {
                status=1
                echo "$out" | tail -n 30 >&2
                mpi_lines+=("mpirun -n $n mpio_checks.py: FAILED")
                continue
            }
            mpi_lines+=("$(echo "$out" | grep -E '^mpio checks passed' | tail -n 1)")
        done
    else
        mpi_lines+=("parallel HDF5 (mpio) checks skipped (set PY_TESTS_MPIO=1 to build h5py with MPI)")
    fi
else
    mpi_lines+=("MPI tests skipped (no mpirun/mpicc or mpi4py)")
fi

# zarr-python 2 (v2 stores as zarr-python 2 writes them) in a second venv.
venv2="$root/.venv-py-zarr2"
[ -x "$venv2/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv2"
if ! "$venv2/bin/python" -c "import zarr, flacarray, numpy" >/dev/null 2>&1; then
    "$venv2/bin/python" -m pip install --quiet --disable-pip-version-check numpy "zarr==2.18.7" "flacarray==0.4.1"
fi
"$venv2/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    "$target"/wheels-py/flacarray_rs-*.whl
zarr2_line=$(cd "$target" && "$venv2/bin/python" "$root/crates/flacarray-python/tests/zarr2_check.py" 2>&1 | tail -n 1) || {
    status=1
    zarr2_line="zarr-python 2 check FAILED: $zarr2_line"
}
echo "python-tests: $zarr2_line"

for l in "${mpi_lines[@]}"; do echo "python-tests: $l"; done
echo "python-tests: pytest: $pytest_line"
exit $status
