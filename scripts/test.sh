#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, all tests, docs, and the fuzz crate build.
# Usage: scripts/test.sh   (from anywhere; needs the Rust toolchain)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/python-venv.sh   # .venv-interop: flacarray 0.4.1 for the Python interop tests
# Here the interop tests must run: a missing reference package fails them instead of
# skipping them (a developer running one test file by hand may still skip).
export FLACARRAY_REQUIRE_PYTHON=1

step() {
    echo
    echo "==> $*"
    local t0=$SECONDS
    "$@"
    echo "<== $* ... done in $((SECONDS - t0)) s"
}

step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets -- -D warnings
# Again with the `mpi` features of the facade and the CLI (off by default). Not
# --all-features: `mpio` needs an HDF5 built for MPI (scripts/mpi-tests.sh builds it).
step cargo clippy --workspace --all-targets --features flacarray/mpi,flacarray-cli/mpi -- -D warnings
step cargo test --workspace
# The codec again with its run-time CPU dispatch off (portable copies of the SIMD-compiled
# kernels only), so the scalar path is tested on every machine whatever its CPU.
FLACARRAY_FORCE_SCALAR=1 step cargo test -p flacarray-flac
step bash scripts/fuzz-ci.sh      # bounded fuzzing: whole-array readers and decoder regressions
step bash scripts/python-tests.sh # flacarray_rs wheel: pytest against flacarray 0.4.1, MPI checks
step bash scripts/mpi-tests.sh   # MPI examples and the CLI under mpirun, 1 to 3 ranks
RUSTDOCFLAGS=-Dwarnings step cargo doc --workspace --no-deps --features flacarray/mpi,flacarray-cli/mpi
step cargo build --manifest-path fuzz/Cargo.toml

echo
echo "scripts/test.sh: all checks passed in ${SECONDS} s"
