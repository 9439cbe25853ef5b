#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, all tests, docs, and the fuzz crate build.
# Usage: scripts/test.sh   (from anywhere; needs the Rust toolchain)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/python-venv.sh   # .venv-interop for the Python interop tests (skipped if it fails)

step() {
    echo
    echo "==> $*"
    local t0=$SECONDS
    "$@"
    echo "<== $* ... done in $((SECONDS - t0)) s"
}

step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets -- -D warnings
step cargo test --workspace
RUSTDOCFLAGS=-Dwarnings step cargo doc --workspace --no-deps
step cargo build --manifest-path fuzz/Cargo.toml

echo
echo "scripts/test.sh: all checks passed in ${SECONDS} s"
