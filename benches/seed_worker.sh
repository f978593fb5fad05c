#!/usr/bin/env bash
# The seed configuration exactly as a user runs it (tests/conf/seed-httpd-mpm.conf, worker):
# Apache 2.4 starts 50 children of 100 threads (StartServers 100 is capped at
# MaxRequestWorkers / ThreadsPerChild = 50), then, with 5000 idle threads against
# MaxSpareThreads 3000, retires one child per second down to 30. This script starts our
# httpd with that file, samples the child count and thread totals once a second, and
# prints the trajectory and whether it matches. Bounded: ~40 s; stops what it starts.
#
#   benches/seed_worker.sh            (builds the release example if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example httpd --all-features
bin=target/release/examples/httpd
dir=$(mktemp -d)
master=""
cleanup() {
    if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
        kill -TERM "$master" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$master" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
{
    echo "Listen 127.0.0.1:0"
    echo "PidFile $dir/httpd.pid"
    cat tests/conf/seed-httpd-mpm.conf
} > "$dir/httpd.conf"
ulimit -n 65536 2>/dev/null || true
"$bin" -f "$dir/httpd.conf" --mpm worker 2> "$dir/error_log" &
master=$!
children() { pgrep -P "$master" | wc -l; }
threads() {
    local n=0
    for c in $(pgrep -P "$master"); do
        n=$((n + $(ls "/proc/$c/task" 2>/dev/null | wc -l)))
    done
    echo "$n"
}
echo "t(s) children threads"
peak=0
seen_30=""
for t in $(seq 0 35); do
    c=$(children)
    [ "$c" -gt "$peak" ] && peak=$c
    printf '%4d %8d %7d\n' "$t" "$c" "$(threads)"
    if [ "$c" -eq 30 ] && [ -z "$seen_30" ]; then seen_30=$t; fi
    if [ -n "$seen_30" ] && [ "$t" -ge $((seen_30 + 3)) ]; then break; fi
    sleep 1
done
final=$(children)
echo "peak children: $peak (Apache: 50); final: $final (Apache: 30); reached 30 at t=${seen_30:-never}s"
if [ "$peak" -eq 50 ] && [ "$final" -eq 30 ]; then
    echo "MATCH: 50 children of 100 threads, trimmed one per second to 30"
else
    echo "MISMATCH"; tail -20 "$dir/error_log"; exit 1
fi
