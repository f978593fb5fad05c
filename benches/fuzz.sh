#!/usr/bin/env bash
# Long fuzzing runs of every cargo-fuzz target (fuzz/README.md), then a summary in
# benches/results/fuzz.md: date, toolchain, per-target executions, corpus sizes, CPU
# hours and findings.
#
#   benches/fuzz.sh [SECONDS_PER_TARGET]      (default 600)
#
# Environment:
#   FUZZ_TARGETS="http_head http_chunked ..."  the targets (default: all five)
#   FUZZ_PARALLEL=N        targets run at once, one libFuzzer process each (default 1)
#   FUZZ_WORK=DIR          scratch corpora, logs and artifacts (default target/fuzz-long)
#   FUZZ_UPDATE_CORPUS=1   replace fuzz/corpus/<target> by the committed corpus plus the
#                          inputs of the run that add edge coverage (libFuzzer
#                          -set_cover_merge=1 on edges only, to keep corpora small)
#   FUZZ_OUT=FILE          where the summary goes (default benches/results/fuzz.md)
#   FUZZ_SUMMARY_ONLY=1    run nothing: write the summary of what FUZZ_WORK holds
#
# The committed corpora are only read (each run starts from a copy). A finding stops that
# target's libFuzzer process; it is restarted for the rest of its time (at most 5
# findings per target), and every crash input is listed in the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-600}
parallel=${FUZZ_PARALLEL:-1}
targets=${FUZZ_TARGETS:-"http_head http_chunked http_connection http_differential config_parse"}
work=${FUZZ_WORK:-$root/target/fuzz-long}
out=${FUZZ_OUT:-$root/benches/results/fuzz.md}
mkdir -p "$work"
work=$(cd "$work" && pwd)
summary_only=${FUZZ_SUMMARY_ONLY:-0}

if [ "$summary_only" != 1 ] && ! rustup toolchain list | grep -q '^nightly'; then
    echo "benches/fuzz.sh: a nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if [ "$summary_only" != 1 ]; then
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
    (cd fuzz && cargo +nightly fuzz build -s none)
fi

count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }

# One target for `secs` seconds: restarts after a finding, sums the executions.
run_target() {
    local t=$1 dir=$work/$1
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/logs"
    cp fuzz/corpus/"$t"/* "$dir/corpus/"
    local seeds start now left n=0 execs=0 findings=0
    seeds=$(count "$dir/corpus")
    start=$(date +%s)
    left=$secs
    while [ "$left" -gt 0 ] && [ "$findings" -lt 5 ]; do
        n=$((n + 1))
        local log=$dir/logs/run-$n.log
        if (cd fuzz && cargo +nightly fuzz run -s none "$t" "$dir/corpus" -- \
            -max_total_time="$left" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
            -artifact_prefix="$dir/artifacts/") >"$log" 2>&1; then
            :
        else
            findings=$((findings + 1))
        fi
        local e
        e=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
        if [ -z "$e" ]; then
            # A crash skips the final stats: take the last status line's count.
            e=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
        fi
        execs=$((execs + ${e:-0}))
        now=$(date +%s)
        left=$((secs - (now - start)))
    done
    local took=$(( $(date +%s) - start ))
    local grown
    grown=$(count "$dir/corpus")
    # The seeds plus the run's inputs that add coverage.
    rm -rf "$dir/merged"
    mkdir -p "$dir/merged"
    cp fuzz/corpus/"$t"/* "$dir/merged/"
    (cd fuzz && cargo +nightly fuzz run -s none "$t" "$dir/merged" "$dir/corpus" -- \
        -set_cover_merge=1 -use_counters=0 -use_cmp=0 -use_value_profile=0 -timeout=20 -rss_limit_mb=2048) >"$dir/logs/merge.log" 2>&1 || true
    local merged
    merged=$(count "$dir/merged")
    echo "$t $took $execs $seeds $grown $merged $findings $n" >"$dir/summary"
}

# Run the targets, `parallel` at a time.
running=0
[ "$summary_only" = 1 ] && targets_to_run="" || targets_to_run=$targets
for t in $targets_to_run; do
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ] && [ "$summary_only" != 1 ]; then
    for t in $targets; do
        if [ -d "$work/$t/merged" ] && [ "$(count "$work/$t/merged")" -gt 0 ]; then
            rm -rf fuzz/corpus/"$t"
            cp -r "$work/$t/merged" fuzz/corpus/"$t"
        fi
    done
fi

# The summary.
commit=${FUZZ_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
{
    echo "# Fuzzing runs"
    echo
    echo "Written by \`benches/fuzz.sh $secs\` (see \`fuzz/README.md\`): $secs s per target."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- toolchain: $(rustc +nightly -V), $(cargo fuzz --version)"
    echo "- machine: $(nproc) cores ($(uname -m), Linux $(uname -r)), shared with other builds;" \
        "$parallel target(s) at a time, one libFuzzer process each (\`-s none\`: no sanitizer;" \
        "the code under test is safe Rust, debug assertions on)"
    echo
    echo "| target | seconds | executions | exec/s | corpus: start → after run → merged | findings |"
    echo "|---|---:|---:|---:|---|---:|"
    total=0
    total_execs=0
    for t in $targets; do
        [ -f "$work/$t/summary" ] || continue
        read -r name took execs seeds grown merged findings runs <"$work/$t/summary"
        rate=$(( took > 0 ? execs / took : 0 ))
        echo "| \`$name\` | $took | $execs | $rate | $seeds → $grown → $merged | $findings |"
        total=$((total + took))
        total_execs=$((total_execs + execs))
    done
    echo
    echo "Total: $total_execs executions in $total s of one core each:" \
        "$(awk "BEGIN { printf \"%.2f\", $total / 3600 }") CPU-hours."
    echo
    echo "## Findings"
    echo
    found=0
    for t in $targets; do
        for log in "$work/$t"/logs/run-*.log; do
            [ -f "$log" ] || continue
            a=$(grep -o 'Test unit written to .*' "$log" | head -1 | sed 's/Test unit written to //' || true)
            [ -n "$a" ] || continue
            found=1
            msg=$(grep -m1 -A1 "panicked at" "$log" | tail -1 | cut -c1-300 || true)
            echo "- \`$t\`: \`$(basename "$a")\` ($(wc -c <"$a") bytes): $msg"
        done
    done
    if [ "$found" = 0 ]; then
        echo "None in these runs: no panic, no violated assertion, no timeout. The targets" \
            "tolerate the known issues listed in \`fuzz/artifacts-found/README.md\` (set" \
            "\`MPM_FUZZ_STRICT=1\` to fail on them)."
    fi
} >"$out"
cat "$out"
