#!/usr/bin/env bash
# Mutation testing with cargo-mutants: does the test suite notice when the code is changed?
# Too slow for every CI run (each mutant is a rebuild and a test run), so it is run from
# here, one area at a time, and each area's last summary is kept in
# benches/results/mutants.md (between its `<!-- area:NAME -->` markers; the rest of the
# file, the notes on equivalent mutants, is left as it is).
#
#   benches/mutants.sh AREA...   areas (what is mutated / which tests judge it):
#     engine       chunked.rs, framing.rs, head.rs          / mpm-core's unit tests
#     engine-io    incoming.rs, exchange.rs, outgoing.rs    / unit tests, http_lean,
#                                                             http_close (feature http2)
#     limits       limits.rs, rules/                        / unit tests, limits_clamping,
#                                                             config_errors, config_files,
#                                                             config_serde_builder
#     spares       master/spares.rs, spare_decision.rs,     / each crate's unit tests
#                  policy.rs (core and the three strategies)
#     restarts     master/generations.rs, master/stop.rs    / the root package's real-binary
#                                                             lifecycle, escalation, control,
#                                                             cli (benches/mutants_binary.py)
#     scoreboard   scoreboard.rs                            / unit tests, scoreboard_api
#   MUTANTS_JOBS=1       parallel builds (the default suits a shared 2-core machine)
#   MUTANTS_TIMEOUT=90   seconds a mutant's test run may take before it counts as a timeout
#
# Never --in-place: cargo-mutants works in a copy of the tree, so the checkout is untouched.
# A "missed" mutant is a change no test noticed: either a gap to close with a test, or an
# equivalent mutant (listed with its reason in the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each job builds in its own copy of the tree, into that copy's target/. A CARGO_TARGET_DIR
# would be shared: parallel jobs could test each other's mutants, and the directory is left
# holding the last mutant's build, which cargo then takes as fresh for the checkout (its
# dep-info paths are relative to the workspace, the checkout's files older).
unset CARGO_TARGET_DIR
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
[ $# -gt 0 ] || set -- engine engine-io limits spares restarts scoreboard
results=benches/results/mutants.md
lean=mpm-core/src/http/lean

for area in "$@"; do
    case $area in
    engine)
        pkgs=(mpm-core)
        files=("$lean/chunked.rs" "$lean/framing.rs" "$lean/head.rs")
        tests=(--lib) ;;
    engine-io)
        pkgs=(mpm-core)
        files=("$lean/incoming.rs" "$lean/exchange.rs" "$lean/outgoing.rs")
        # http2: RequestBody's HTTP/2 arm is compiled (and so mutated) only with it.
        tests=(--lib --test=http_lean --test=http_close --features=http2) ;;
    limits)
        pkgs=(mpm-core)
        files=(mpm-core/src/limits.rs 'mpm-core/src/rules/*.rs')
        tests=(--lib --test=limits_clamping --test=config_errors --test=config_files
            --test=config_serde_builder) ;;
    spares)
        pkgs=(mpm-core mpm-prefork mpm-worker mpm-event)
        files=(mpm-core/src/master/spares.rs mpm-core/src/master/spare_decision.rs
            mpm-core/src/policy.rs mpm-prefork/src/policy.rs
            mpm-worker/src/policy.rs mpm-event/src/policy.rs)
        tests=(--lib) ;;
    restarts)
        # Restarts and stops live in the running master: only the real-binary suites of
        # the root package (a server process, real signals) reach them, which
        # cargo-mutants does not run for a file of mpm-core, so benches/mutants_binary.py
        # applies its mutants and runs them (a build and the suites each: ~1.5 min).
        pkgs=(mpm-core)
        files=(mpm-core/src/master/generations.rs mpm-core/src/master/stop.rs)
        suites=(lifecycle escalation control cli)
        tests=("${suites[@]/#/--test=}") ;;
    scoreboard)
        pkgs=(mpm-core)
        files=(mpm-core/src/scoreboard.rs)
        tests=(--lib --test=scoreboard_api) ;;
    *) echo "unknown area $area" >&2; exit 2 ;;
    esac
    args=()
    for p in "${pkgs[@]}"; do args+=(--package "$p"); done
    for f in "${files[@]}"; do args+=(--file "$f"); done
    # As cargo arguments, not test arguments: the build of each mutant then compiles only
    # these test targets (with `-- --lib`, cargo-mutants builds every test target of the
    # package and runs one: several times slower).
    for t in "${tests[@]}"; do args+=("--cargo-arg=$t"); done
    out=$(mktemp -d)
    started=$(date +%s)
    if [[ $area == restarts ]]; then
        binary=()
        for f in "${files[@]}"; do binary+=(--file "$f"); done
        for t in "${suites[@]}"; do binary+=(--test "$t"); done
        python3 benches/mutants_binary.py "$out/mutants.out" "${binary[@]}" \
            --timeout "${MUTANTS_TIMEOUT:-300}" >"$out/log" 2>&1 || true
    else
        cargo mutants "${args[@]}" --jobs "${MUTANTS_JOBS:-1}" --timeout "${MUTANTS_TIMEOUT:-90}" \
            --output "$out" >"$out/log" 2>&1 || true
    fi
    took=$(( $(date +%s) - started ))
    mo=$out/mutants.out
    count() { if [ -f "$mo/$1.txt" ]; then wc -l <"$mo/$1.txt"; else echo 0; fi; }
    section=$(mktemp)
    {
        echo "<!-- area:$area -->"
        echo "### $area"
        echo
        echo "\`benches/mutants.sh $area\` on $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD)" \
            "($(cargo mutants --version), ${MUTANTS_JOBS:-1} job, $((took / 60)) min $((took % 60)) s)."
        echo "Files: ${files[*]}. Tests: \`cargo test ${tests[*]}\`."
        echo
        echo "caught $(count caught), missed $(count missed), timeout $(count timeout)," \
            "unviable $(count unviable)."
        echo
        echo "Missed:"
        echo
        echo '```'
        cat "$mo/missed.txt" 2>/dev/null || true
        echo '```'
        echo "<!-- /area:$area -->"
    } >"$section"
    touch "$results"
    if grep -q "^<!-- area:$area -->$" "$results"; then
        # Replace the area's block in place.
        awk -v area="$area" -v section="$section" '
            $0 == "<!-- area:" area " -->" { while ((getline l < section) > 0) print l; skip = 1; next }
            $0 == "<!-- /area:" area " -->" { skip = 0; next }
            !skip' "$results" >"$results.new"
        mv "$results.new" "$results"
    else
        { echo; cat "$section"; } >>"$results"
    fi
    cat "$section"
    rm -rf "$out" "$section"
done
