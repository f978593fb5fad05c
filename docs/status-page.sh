#!/usr/bin/env bash
# Screenshot of the HTML status page in headless Chromium (Debian package `chromium`):
# starts the httpd example under worker (or $1), holds 20 keep-alive connections that were
# each answered once, takes docs/status-page.png, and stops everything it started by pid.
# The page's structure is checked on every test run by tests/status_page.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
mpm="${1:-worker}"
command -v chromium >/dev/null || { echo "chromium is required (apt-get install chromium)" >&2; exit 1; }
cargo build --quiet --release --example httpd --all-features
dir="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
printf 'Listen 127.0.0.1:0\nPidFile %s/httpd.pid\nStartServers 2\nServerLimit 4\nThreadLimit 16\nThreadsPerChild 16\nMaxRequestWorkers 64\n' "$dir" >"$dir/httpd.conf"
target/release/examples/httpd -f "$dir/httpd.conf" --mpm "$mpm" 2>"$dir/log" &
pids+=("$!")
addr=""
for _ in $(seq 100); do
    addr="$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$dir/log" | head -1)"
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { cat "$dir/log" >&2; exit 1; }
host="${addr%:*}"
port="${addr##*:}"
# 20 keep-alive connections, each answered once and then held open.
for i in $(seq 20); do
    exec {fd}<>"/dev/tcp/$host/$port"
    printf 'GET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$addr" >&"$fd"
    head -c 120 <&"$fd" >/dev/null
done
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --user-data-dir="$dir/profile" --hide-scrollbars \
    --window-size=1100,1500 --screenshot=docs/status-page.png \
    "http://$addr/server-status" 2>/dev/null
echo "docs/status-page.png: $mpm, $addr"
