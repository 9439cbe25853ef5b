#!/usr/bin/env bash
# The main job: install what is needed, build in release mode, run the demo (realistic
# timestreams compressed into an HDF5 file and back, with ratio, speed and max error).
# Extra arguments go to `flacarray demo` (see `flacarray demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo run --release -p flacarray-cli -- demo "$@"
