#!/usr/bin/env bash
# Creates `.venv-interop` at the repository root with the reference Python package
# (flacarray 0.4.1, h5py, numpy) for the Python interop tests. Idempotent: does nothing
# when the venv already imports flacarray and h5py. Needs python3 with the venv module
# and access to PyPI. Set FLACARRAY_PYTHON to use another interpreter in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-interop
PY="$VENV/bin/python"

if [ -x "$PY" ] && "$PY" -c "import flacarray, h5py, numpy" >/dev/null 2>&1; then
    echo "python-venv: $VENV ready ($("$PY" -c 'import flacarray; print("flacarray", flacarray.__version__)' 2>/dev/null || echo flacarray))"
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "python-venv: python3 not found; the Python interop tests will be skipped" >&2
    exit 0
fi

if ! python3 -m venv "$VENV"; then
    echo "python-venv: 'python3 -m venv' failed (install python3-venv); the Python interop tests will be skipped" >&2
    rm -rf "$VENV"
    exit 0
fi

if ! "$PY" -m pip install --quiet --disable-pip-version-check "flacarray==0.4.1" h5py numpy; then
    echo "python-venv: pip install failed; the Python interop tests will be skipped" >&2
    exit 0
fi

"$PY" -c 'import flacarray, h5py, numpy; print("python-venv: ready: flacarray", flacarray.__version__, "h5py", h5py.__version__, "numpy", numpy.__version__)'
