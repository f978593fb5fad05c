#!/usr/bin/env bash
# Mutation testing with cargo-mutants: does the test suite notice when the code is changed?
# Too slow for every CI run (each mutant is a rebuild and a test run), so it is run from
# here and its last summary is kept in benches/results/mutants.md.
#
#   benches/mutants.sh [FILE...]      default: the engine's framing (chunked.rs, framing.rs,
#                                     head.rs), tested by mpm-core's fast unit tests
#   MUTANTS_TESTS="--lib"             what `cargo test -p mpm-core` runs for each mutant
#
# A "missed" mutant is a change no test noticed: either a gap to close with a test, or an
# equivalent mutant (documented in the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    files=(mpm-core/src/http/lean/chunked.rs mpm-core/src/http/lean/framing.rs
        mpm-core/src/http/lean/head.rs)
fi
args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
started=$(date +%s)
# shellcheck disable=SC2086
cargo mutants --package mpm-core "${args[@]}" --output "$out" --no-shuffle \
    -- ${MUTANTS_TESTS:---lib} >"$out/log" 2>&1 || true
took=$(( $(date +%s) - started ))
mo=$out/mutants.out
{
    echo "# Mutation testing (cargo-mutants)"
    echo
    echo "Written by \`benches/mutants.sh\` on $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD),"
    echo "$(cargo mutants --version), ${took} s; tests: \`cargo test -p mpm-core ${MUTANTS_TESTS:---lib}\`."
    echo
    echo "Files: ${files[*]}"
    echo
    for kind in caught missed timeout unviable; do
        n=$(wc -l <"$mo/$kind.txt" 2>/dev/null || echo 0)
        echo "- $kind: $n"
    done
    echo
    echo "## Missed"
    echo
    echo '```'
    cat "$mo/missed.txt" 2>/dev/null || true
    echo '```'
} >benches/results/mutants.md
cat benches/results/mutants.md
