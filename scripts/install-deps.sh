#!/usr/bin/env bash
# Installs the system packages the workspace needs (Debian/Ubuntu, as root or with sudo).
# Idempotent: does nothing when everything is already installed. Non-interactive.
set -euo pipefail

PACKAGES=(
    cmake        # builds the bundled libFLAC of the libflac-sys test oracle
    flac         # the `flac` command line tool, a decoding oracle in tests
    pkg-config   # finds system libraries for -sys crates
    libhdf5-dev  # HDF5 backend (hdf5-metno finds it through pkg-config)
    # MPI (crates/flacarray-mpi, a workspace member, so every workspace build needs it).
    # Not libhdf5-openmpi-dev: it switches pkg-config's hdf5 to the MPI build for all.
    libopenmpi-dev  # Open MPI headers and libraries (rsmpi's mpi-sys)
    openmpi-bin     # mpicc (probed by mpi-sys) and mpirun (scripts/mpi-tests.sh)
    libclang-dev    # bindgen, which generates mpi-sys's bindings
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all system packages present (${PACKAGES[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
