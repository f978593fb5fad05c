#!/usr/bin/env bash
# TLS and HTTP/2 side by side on 127.0.0.1, with one certificate made here: this project's
# example server (event), Apache httpd 2.4 event with mod_ssl and mod_http2, and nginx
# (2 workers, ssl + http2). Writes benches/results/tls.md.
#
#   benches/tls.sh [--secs N] [--conns N] [--no-build] [--keep]
#
#   --secs N     seconds per openssl s_time run (default 5)
#   --conns N    h2load clients (default 50)
#   --requests N h2load requests per load (default 50000; HTTP/2 twice that)
#   --no-build   use the existing target/release/examples/httpd
#   --keep       keep the temporary directory (configs, logs, raw output)
#
# Loads: new TLS connections per second, full handshakes (openssl s_time -new) and
# resumed ones (-reuse); HTTP/1.1 over TLS keep-alive (h2load --h1) and HTTP/2 with 10
# streams per connection (h2load -m 10), requests per second. Needs apache2, nginx,
# openssl and h2load (nghttp2-client); missing ones are installed with apt-get. Everything
# started here is stopped by pid on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$HERE/results/tls.md
SECS=5
CONNS=50
REQS=50000
BUILD=1
KEEP=0
while (($#)); do
    case $1 in
    --secs) SECS=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --requests) REQS=$2; shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[tls.sh] %s\n' "$*" >&2; }

need=()
command -v apache2 >/dev/null || [[ -x /usr/sbin/apache2 ]] || need+=(apache2)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v h2load >/dev/null || need+=(nghttp2-client)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    apt-get install -y "${need[@]}" >/dev/null
fi
APACHE=/usr/sbin/apache2
NGINX=/usr/sbin/nginx
APACHE_MODS=/usr/lib/apache2/modules

WORK=$(mktemp -d /tmp/mpm-tls.XXXXXX)
chmod 755 "$WORK"
STARTED=()
cleanup() {
    for pid in "${STARTED[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    ((KEEP)) || rm -rf "$WORK"
}
trap cleanup EXIT

RUN_USER="" RUN_GROUP=""
if [[ $(id -u) == 0 ]]; then RUN_USER=www-data RUN_GROUP=www-data; fi

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    log "port $1 never opened"
    return 1
}

log "certificate (ECDSA P-256, self-signed, for localhost)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
chmod 644 "$WORK/key.pem" "$WORK/cert.pem"

if ((BUILD)); then
    log "building the example (release, all features)"
    (cd "$ROOT" && cargo build --release --quiet --example httpd --all-features)
fi

declare -A PORTS
start_mpm() {
    local dir=$WORK/mpm port
    mkdir -p "$dir"
    port=$(freeport)
    cat >"$dir/httpd.conf" <<EOF
Listen 127.0.0.1:$port https
PidFile $dir/httpd.pid
ErrorLog $dir/error.log
SSLCertificateFile $WORK/cert.pem
SSLCertificateKeyFile $WORK/key.pem
Protocols h2 http/1.1
StartServers 2
ThreadsPerChild 25
MaxRequestWorkers 50
MaxKeepAliveRequests 0
${RUN_USER:+User $RUN_USER}
${RUN_GROUP:+Group $RUN_GROUP}
EOF
    setsid "$ROOT/target/release/examples/httpd" -f "$dir/httpd.conf" --mpm event \
        --handler async >"$dir/stdout.log" 2>&1 </dev/null &
    STARTED+=($!)
    PORTS[mpm-event]=$port
    wait_port "$port"
}

start_apache() {
    local dir=$WORK/apache port
    mkdir -p "$dir/htdocs" "$dir/run"
    chmod 755 "$dir" "$dir/htdocs"
    printf 'Hello, world!\n' >"$dir/htdocs/index.html"
    port=$(freeport)
    cat >"$dir/httpd.conf" <<EOF
ServerRoot "$dir"
ServerName localhost
DefaultRuntimeDir "$dir/run"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error.log"
LogLevel warn
Listen 127.0.0.1:$port
LoadModule mpm_event_module $APACHE_MODS/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
LoadModule dir_module $APACHE_MODS/mod_dir.so
LoadModule socache_shmcb_module $APACHE_MODS/mod_socache_shmcb.so
LoadModule ssl_module $APACHE_MODS/mod_ssl.so
LoadModule http2_module $APACHE_MODS/mod_http2.so
${RUN_USER:+User $RUN_USER}
${RUN_GROUP:+Group $RUN_GROUP}
DocumentRoot "$dir/htdocs"
DirectoryIndex index.html
<Directory "$dir/htdocs">
    Require all granted
</Directory>
SSLEngine on
SSLCertificateFile $WORK/cert.pem
SSLCertificateKeyFile $WORK/key.pem
SSLSessionCache shmcb:$dir/run/ssl_scache(512000)
Protocols h2 http/1.1
StartServers 2
ThreadsPerChild 25
MaxRequestWorkers 50
MaxKeepAliveRequests 0
EOF
    "$APACHE" -f "$dir/httpd.conf" -t >"$dir/configtest.log" 2>&1 || {
        cat "$dir/configtest.log" >&2
        return 1
    }
    setsid "$APACHE" -f "$dir/httpd.conf" -DFOREGROUND >"$dir/stdout.log" 2>&1 </dev/null &
    STARTED+=($!)
    PORTS[apache-event]=$port
    wait_port "$port"
}

start_nginx() {
    local dir=$WORK/nginx port
    mkdir -p "$dir/tmp" "$dir/logs"
    chmod 755 "$dir"
    port=$(freeport)
    cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes 2;
${RUN_USER:+user $RUN_USER $RUN_GROUP;}
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    ssl_session_cache shared:SSL:1m;
    server {
        # The `listen … http2` form: nginx before 1.25.1 knows no `http2 on`.
        listen 127.0.0.1:$port ssl http2;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        location / { default_type text/plain; return 200 "Hello, world!\n"; }
    }
}
EOF
    setsid "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 </dev/null &
    STARTED+=($!)
    PORTS[nginx]=$port
    wait_port "$port"
}

start_mpm
start_apache
start_nginx

# connections per second from s_time's "N connections in T real seconds" lines.
s_time() {
    local port=$1 mode=$2
    timeout $((SECS + 20)) openssl s_time -connect "127.0.0.1:$port" "$mode" -time "$SECS" \
        2>/dev/null | awk '/connections in .* real seconds/ { printf "%.0f", $1 / $4; exit }'
}
# requests per second from h2load's "finished in …, N req/s" line.
h2load_rps() {
    timeout 120 h2load "$@" 2>/dev/null | awk '/^finished in/ { gsub(",", "", $4); printf "%.0f", $4; exit }'
}

SERVERS=(mpm-event apache-event nginx)
declare -A FULL RESUMED H1 H2
for s in "${SERVERS[@]}"; do
    p=${PORTS[$s]}
    log "$s: s_time -new"
    FULL[$s]=$(s_time "$p" -new || true)
    log "$s: s_time -reuse"
    RESUMED[$s]=$(s_time "$p" -reuse || true)
    log "$s: h2load --h1"
    H1[$s]=$(h2load_rps --h1 -n "$REQS" -c "$CONNS" "https://localhost:$p/" || true)
    log "$s: h2load -m 10"
    H2[$s]=$(h2load_rps -n $((REQS * 2)) -c "$CONNS" -m 10 "https://localhost:$p/" || true)
done

mkdir -p "$(dirname "$OUT")"
{
    echo "# TLS and HTTP/2 on 127.0.0.1 ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
    echo
    echo "One ECDSA P-256 certificate for all; 14-byte response; each server 2 processes."
    echo "\`benches/tls.sh --secs $SECS --conns $CONNS --requests $REQS\`. Single run: noisy on a shared machine."
    echo
    echo "| server | new TLS conn/s (full) | resumed conn/s | HTTP/1.1 over TLS req/s | HTTP/2 -m 10 req/s |"
    echo "|---|---|---|---|---|"
    for s in "${SERVERS[@]}"; do
        echo "| $s | ${FULL[$s]:-–} | ${RESUMED[$s]:-–} | ${H1[$s]:-–} | ${H2[$s]:-–} |"
    done
} >"$OUT"
cat "$OUT"
