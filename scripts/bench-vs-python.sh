#!/usr/bin/env bash
# Side-by-side benchmark of this workspace against Python flacarray 0.4.1 (see
# docs/benchmarks.md for what it measures and the figures of a run).
#
#   bash scripts/bench-vs-python.sh [--quick] [--skip-codec] [--threads 1,2] [--out FILE.md]
#
# 1. builds the release `flacarray` binary and the codec comparison examples;
# 2. makes the venv .venv-bench with flacarray 0.4.1, h5py and numpy from PyPI;
# 3. builds the inputs under bench-data/ (gitignored; about 260 MB, 33 MB with
#    --quick): synthetic float32 timestreams and three real recordings (ECG,
#    seismograms, speech) taken from files shipped inside a scipy and an obspy wheel
#    (PyPI) and the Debian package alsa-utils (scripts/bench/prepare_data.py);
# 4. runs file-to-file, in-memory, sample-range and peak-memory measurements with 1
#    and 2 threads at level 5, and the codec table against libFLAC 1.5.0, and prints
#    markdown tables (also written to bench-data/results[-quick].md).
#
# Full run: about 6 minutes on 2 cores once built; --quick (1/8 of the rows, one run each, no
# level 0/8 codec rows): under a minute once built and downloaded. Needs python3 with
# venv, network access to PyPI and Debian (first run only; the files are kept in
# bench-data/downloads), and apt-get or an installed alsa-utils for the speech.
# Honours CARGO_TARGET_DIR. Not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=""
extra=()
for a in "$@"; do
    case "$a" in
        --quick) quick="--quick" ;;
        *) extra+=("$a") ;;
    esac
done

target="${CARGO_TARGET_DIR:-$PWD/target}"
echo "bench: building (release)" >&2
cargo build --release --quiet -p flacarray-cli
cargo build --release --quiet -p flacarray-flac --example compare --example compare_npy

venv=.venv-bench
py="$venv/bin/python"
if ! { [ -x "$py" ] && "$py" -c "import flacarray, h5py, numpy" >/dev/null 2>&1; }; then
    echo "bench: creating $venv (flacarray 0.4.1, h5py, numpy)" >&2
    [ -x "$py" ] || python3 -m venv "$venv"
    "$py" -m pip install --quiet --disable-pip-version-check "flacarray==0.4.1" h5py numpy
fi

mkdir -p bench-data
echo "bench: preparing inputs in bench-data/" >&2
"$py" scripts/bench/prepare_data.py bench-data $quick >/dev/null

exec "$py" scripts/bench/run.py --data bench-data --bin "$target/release/flacarray" \
    --examples "$target/release/examples" $quick ${extra[@]+"${extra[@]}"}
