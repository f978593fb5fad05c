#!/usr/bin/env bash
# CI's fuzzing step (called by .ci/run after the tests): build the cargo-fuzz targets,
# replay every committed corpus and every saved finding (fuzz/artifacts-found/), then a
# fixed-seed run of each target. Any panic, violated assertion or timeout fails the step,
# and the input that caused it is printed (hex) so it can be saved as a reproducer.
#
# With CI=true a missing nightly toolchain is an error (cargo-fuzz is installed when
# missing; failing that is an error too); without it, the step says loudly that it is
# skipped. FUZZ_RUNS_SCALE=N multiplies the fixed-seed runs (default 1).
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")"
started=$(date +%s)

unavailable() {
    if [ "${CI:-}" = true ]; then
        echo "fuzz: $1: failing (CI=true)" >&2
        exit 1
    fi
    echo "fuzz: SKIPPED: $1 (under CI=true this fails the run)" >&2
    exit 0
}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    unavailable "no nightly toolchain (rustup toolchain install nightly)"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || unavailable "cargo-fuzz could not be installed"
fi

# No sanitizer: the code under test is safe Rust; debug assertions stay on.
cargo +nightly fuzz build -s none

# Fixed-seed executions per target: about 10-25 s each on a free core (capped at 30 s).
declare -A runs=(
    [http_head]=70000
    [http_chunked]=100000
    [http_connection]=100000
    [http_differential]=120000
    [config_parse]=30000
)
scale=${FUZZ_RUNS_SCALE:-1}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Print the input a failed run saved, then fail.
finding() {
    local t=$1 log=$2
    tail -40 "$log" >&2
    local a
    a=$(grep -o 'Test unit written to .*' "$log" | head -1 | sed 's/Test unit written to //' || true)
    if [ -n "$a" ] && [ -f "$a" ]; then
        echo "fuzz: $t: finding ($(wc -c <"$a") bytes), hex:" >&2
        od -An -tx1 -v "$a" | tr -d ' \n' >&2
        echo >&2
    fi
    echo "fuzz: $t FAILED (replay: cd fuzz && cargo +nightly fuzz run -s none $t <file>)" >&2
    exit 1
}

for t in http_head http_chunked http_connection http_differential config_parse; do
    mkdir -p "$scratch/$t/corpus" "$scratch/$t/artifacts"
    log=$scratch/$t/log
    t0=$(date +%s)
    # 1. The committed corpus, as it is.
    if ! cargo +nightly fuzz run -s none "$t" "corpus/$t" -- -runs=0 -timeout=20 \
        -artifact_prefix="$scratch/$t/artifacts/" >"$log" 2>&1; then
        finding "$t" "$log"
    fi
    inputs=$(grep -oE 'INFO: +[0-9]+ files found' "$log" | grep -o '[0-9]*' | head -1 || echo "?")
    # 2. Saved findings (each must pass: fixed, or tolerated as a known issue).
    found=(artifacts-found/*."$t")
    if [ ${#found[@]} -gt 0 ]; then
        if ! cargo +nightly fuzz run -s none "$t" "${found[@]}" -- -timeout=20 \
            -artifact_prefix="$scratch/$t/artifacts/" >"$log" 2>&1; then
            finding "$t" "$log"
        fi
    fi
    # 3. A fixed-seed run from the committed corpus (new inputs go to scratch).
    n=$((runs[$t] * scale))
    if ! cargo +nightly fuzz run -s none "$t" "$scratch/$t/corpus" "corpus/$t" -- \
        -seed=1 -runs="$n" -max_total_time=30 -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$scratch/$t/artifacts/" >"$log" 2>&1; then
        finding "$t" "$log"
    fi
    done_runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t: $inputs corpus inputs replayed, ${#found[@]} saved finding(s) checked," \
        "$done_runs fixed-seed executions, $(($(date +%s) - t0)) s"
done
echo "fuzz: all targets passed in $(($(date +%s) - started)) s"
