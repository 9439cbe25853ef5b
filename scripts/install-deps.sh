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
    libopenmpi-dev  # Open MPI headers and libraries (rsmpi's mpi-sys)
    openmpi-bin     # mpicc (probed by mpi-sys) and mpirun (scripts/mpi-tests.sh)
    libclang-dev    # bindgen, which generates mpi-sys's bindings
    # HDF5 built for MPI, for the `mpio` feature (scripts/mpi-tests.sh points pkg-config
    # at it for that build only; see the end of this script).
    libhdf5-openmpi-dev
)

# Installing libhdf5-openmpi-dev makes pkg-config's `hdf5` the MPI build for every
# program (Debian's hdf5.pc alternative prefers it). The workspace links the serial
# library, so the alternative is set back to it whenever this script runs.
keep_serial_hdf5() {
    local serial=/usr/lib/x86_64-linux-gnu/pkgconfig/hdf5-serial.pc
    local multiarch
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
    [ -n "$multiarch" ] && serial=/usr/lib/$multiarch/pkgconfig/hdf5-serial.pc
    if [ -e "$serial" ] && command -v update-alternatives >/dev/null 2>&1 &&
        [ "$(readlink -f /etc/alternatives/hdf5.pc 2>/dev/null)" != "$(readlink -f "$serial")" ]; then
        "${SUDO[@]}" update-alternatives --set hdf5.pc "$serial"
    fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    keep_serial_hdf5
    echo "install-deps: all system packages present (${PACKAGES[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
keep_serial_hdf5
