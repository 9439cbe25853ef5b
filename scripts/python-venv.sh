#!/usr/bin/env bash
# Creates the Python environments of the interop tests at the repository root:
#
# * `.venv-interop`: the reference package flacarray 0.4.1 with h5py, zarr-python 3 and
#   numpy (HDF5 and Zarr v3/v2 interop tests);
# * `.venv-interop-zarr2`: flacarray 0.4.1 with zarr-python 2 and numpy (the Zarr v2
#   store as zarr-python 2 reads it).
#
# Idempotent: a venv that already imports its packages is left alone. Needs python3
# with the venv module and access to PyPI. Set FLACARRAY_PYTHON / FLACARRAY_PYTHON_ZARR2
# to use other interpreters in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1; then
    echo "python-venv: python3 not found; the Python interop tests will be skipped" >&2
    exit 0
fi

# make_venv DIR IMPORTS PACKAGES...: creates DIR (if needed) and installs PACKAGES
# unless `import IMPORTS` already works there.
make_venv() {
    local venv="$1" imports="$2"
    shift 2
    local py="$venv/bin/python"
    if [ -x "$py" ] && "$py" -c "import $imports" >/dev/null 2>&1; then
        echo "python-venv: $venv ready ($("$py" -c 'import flacarray; print("flacarray", flacarray.__version__)' 2>/dev/null || echo flacarray))"
        return 0
    fi
    if [ ! -x "$py" ] && ! python3 -m venv "$venv"; then
        echo "python-venv: 'python3 -m venv $venv' failed (install python3-venv); the tests that need it will be skipped" >&2
        rm -rf "$venv"
        return 0
    fi
    if ! "$py" -m pip install --quiet --disable-pip-version-check "$@"; then
        echo "python-venv: pip install into $venv failed; the tests that need it will be skipped" >&2
        return 0
    fi
    "$py" -c "import $imports, flacarray, numpy; print('python-venv: $venv ready: flacarray', flacarray.__version__, 'numpy', numpy.__version__)"
}

# zarr versions pinned to those the reference fixtures and the interop tests were
# checked with (a later zarr may choose other chunk shapes).
make_venv .venv-interop "flacarray, h5py, zarr, numpy" "flacarray==0.4.1" h5py "zarr==3.1.6" numpy
make_venv .venv-interop-zarr2 "flacarray, zarr, numpy" "flacarray==0.4.1" "zarr==2.18.7" numpy
