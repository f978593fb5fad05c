#!/usr/bin/env bash
# Refresh the reference outcomes of the HTTP/1.1 framing corpus (tests/conformance/cases):
# what Apache 2.4 and nginx do with each case's bytes, stored on its apache:/nginx: lines.
#
# Installs apache2 and nginx (Debian packages) if they are missing, starts each on its own
# free 127.0.0.1 port with a throwaway config in a temporary directory (Apache: event MPM,
# a document root whose index.html is "Hello, world!\n" — it answers POST with 405, which
# the corpus just records; nginx: 2 workers, `return 200 "Hello, world!\n"`), runs the
# corpus against both through the ignored test `refresh_reference_outcomes` (the same
# case parser and client as the test against our server), which rewrites the case files
# and prints the differential summary; then stops both servers by pid.
#
# Usage: benches/conformance.sh        then review `git diff tests/conformance/cases`
# Env:   MPM_CONFORMANCE_SILENCE_MS    how long a quiet connection is waited on (2000)
# Exits non-zero if a server cannot be installed or started, or any case cannot be run.
set -euo pipefail
cd "$(dirname "$0")/.."

APACHE=/usr/sbin/apache2
NGINX=/usr/sbin/nginx
APACHE_MODULES=/usr/lib/apache2/modules

need=()
[ -x "$APACHE" ] || need+=(apache2)
[ -x "$NGINX" ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/mpm-conformance.XXXXXX)
# Apache's children run as www-data when we are root: they must reach the document root.
chmod 755 "$work"
apache_pid=""
nginx_pid=""

# Stop what this script started, by pid, and remove the scratch directory.
cleanup() {
    local status=$?
    for pid in $apache_pid $nginx_pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for pid in $apache_pid $nginx_pid; do
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "pid $pid did not stop on SIGTERM; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# A loopback port nothing answers on right now.
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# Wait until `name` (pid $2) answers on port $3; on failure show its log ($4).
wait_listening() {
    local name=$1 pid=$2 port=$3 log=$4
    for _ in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited during start-up; its log:" >&2
            cat "$log" >&2 || true
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name is not listening on $port after 10 s; its log:" >&2
    cat "$log" >&2 || true
    return 1
}

apache_port=$(free_port)
mkdir -p "$work/apache/htdocs"
printf 'Hello, world!\n' >"$work/apache/htdocs/index.html"
user_lines=""
if [ "$(id -u)" = 0 ]; then
    user_lines=$'User www-data\nGroup www-data'
fi
# Fixed capacity (4 children of 25 threads from the start): no child is started or stopped
# during the run, since stopping a spare child closes its kept-alive connections, which
# made the `keep` outcomes flap between runs.
cat >"$work/apache/httpd.conf" <<EOF
ServerRoot "$work/apache"
DefaultRuntimeDir "$work/apache"
PidFile "$work/apache/httpd.pid"
ErrorLog "$work/apache/error.log"
LogLevel warn
ServerName localhost
Listen 127.0.0.1:$apache_port
LoadModule mpm_event_module $APACHE_MODULES/mod_mpm_event.so
StartServers 4
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100
MinSpareThreads 25
MaxSpareThreads 100
LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
LoadModule dir_module $APACHE_MODULES/mod_dir.so
$user_lines
DocumentRoot "$work/apache/htdocs"
DirectoryIndex index.html
<Directory "$work/apache/htdocs">
    Require all granted
</Directory>
EOF
chmod -R a+rX "$work/apache"
"$APACHE" -f "$work/apache/httpd.conf" -DFOREGROUND &
apache_pid=$!
wait_listening apache "$apache_pid" "$apache_port" "$work/apache/error.log"

nginx_port=$(free_port)
while [ "$nginx_port" = "$apache_port" ]; do nginx_port=$(free_port); done
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/client_body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location / { return 200 "Hello, world!\n"; }
    }
}
EOF
"$NGINX" -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
wait_listening nginx "$nginx_pid" "$nginx_port" "$work/nginx/error.log"

echo "$("$APACHE" -v | head -1) on 127.0.0.1:$apache_port (pid $apache_pid)" >&2
echo "$("$NGINX" -v 2>&1) on 127.0.0.1:$nginx_port (pid $nginx_pid)" >&2

MPM_CONFORMANCE_REFRESH="apache=127.0.0.1:$apache_port,nginx=127.0.0.1:$nginx_port" \
    cargo test --quiet --test conformance -- --ignored --exact refresh_reference_outcomes \
    --nocapture
