#!/usr/bin/env bash
# Bounded fuzzing for CI.
#
# Always: the stable replay of the whole-array reader target (seeds plus random
# mutations, FUZZ_SECS seconds, default 45) and the decoder's regression inputs, in the
# test profile (opt-level 2 with overflow checks and debug assertions: the build that
# `cargo test --workspace` already made; `--workspace` keeps cargo's feature
# unification the same, so nothing is compiled again).
# When cargo-fuzz is installed: each cargo-fuzz target for FUZZ_SECS seconds too
# (RUSTC_BOOTSTRAP lets the stable compiler take cargo-fuzz's -Z flags; see
# fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${FUZZ_SECS:-45}"

echo "== fuzz_replay (stable, ${secs} s)"
FUZZ_SECS="$secs" FUZZ_ITERS="${FUZZ_ITERS:-100000000}" \
    cargo test --workspace --test fuzz_replay -- --nocapture
cargo test --workspace --test hostile fuzz_regressions

if cargo fuzz --version >/dev/null 2>&1; then
    for target in decode read_store; do
        echo "== cargo fuzz run ${target} (${secs} s)"
        mkdir -p "fuzz/corpus/${target}"
        if [ "$target" = decode ]; then
            cp fuzz/regressions/*.bin "fuzz/corpus/${target}/"
        fi
        RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer none -a "$target" \
            "fuzz/corpus/${target}" -- -max_total_time="$secs" -max_len=8192 \
            -rss_limit_mb=4096
    done
else
    echo "cargo-fuzz not installed: only the stable replay ran"
fi
