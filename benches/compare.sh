#!/usr/bin/env bash
# Load comparison: Apache httpd 2.4 (prefork, worker, event), nginx (2 workers), a bare
# hyper server (2 threads) and this project's example server (--mpm prefork, worker,
# event; event also with --handler async), side by side on 127.0.0.1.
#
#   benches/compare.sh [--conns N | --10k] [--rounds N] [--full] [--loads-only]
#                      [--only LIST] [--no-install] [--no-build] [--keep]
#
#   --conns N     idle keep-alive connections to hold per server (default 2000)
#   --10k         same as --conns 10000
#   --rounds N    rounds of the loads; each figure is the median over them (default 3)
#   --full        also the long variants (h2load at 500 connections)
#   --loads-only  skip the memory and idle-connection phase
#   --secs N      seconds per load (default 5; shorter only to try the script out)
#   --event-factor N  AsyncRequestWorkerFactor for both event servers (default 1000)
#   --only LIST   comma-separated subset of: apache-prefork,apache-worker,apache-event,
#                 nginx,hyper,mpm-prefork,mpm-worker,mpm-event,mpm-inline (Apache's matching
#                 MPM is needed for the ratios)
#   --no-install  do not apt-get anything; say what is missing and stop
#   --no-build    use the existing target/release/examples/httpd and bare_hyper
#   --keep        keep the temporary directory (configs, logs, raw wrk/ab/h2load output)
#   --out DIR     write latest.md, latest.svg and latest.tsv there (default benches/results)
#
# Phases: (1) memory: each server on a fresh start, idle PSS and N held idle keep-alive
# connections; (2) loads: the servers of one group run side by side (prefork: Apache and
# mpm; worker: Apache and mpm; event: Apache, mpm, mpm inline, nginx, hyper) and every
# round runs each load on each server of the group in turn (the starting server rotates
# from round to round); (3) graceful restarts under load, each server on a fresh start.
#
# Writes benches/results/latest.md (tables), latest.svg (chart) and latest.tsv (raw
# figures, every round's included), and prints the tables. Every server runs with the
# limits listed under "Equal for all" in the output. Everything started here is stopped
# by pid on exit, and the temporary directory is removed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HELPERS=$HERE/compare
OUT=$HERE/results
CONNS=2000
# AsyncRequestWorkerFactor for both event servers. Apache's default 2 caps a child at
# ThreadsPerChild × 3 connections, so holding thousands of idle connections would measure
# new processes, not connections; the same larger value is given to Apache and to mpm.
EVENT_FACTOR=1000
ONLY=""
INSTALL=1
BUILD=1
KEEP=0
ROUNDS=3
FULL=0
LOADS_ONLY=0
LOAD_SECS=5
ALL_SERVERS=(apache-prefork mpm-prefork apache-worker mpm-worker apache-event mpm-event mpm-inline nginx hyper)
# The loads phase's groups: the servers compared with each other run side by side.
GROUPS_OF_SERVERS=("apache-prefork mpm-prefork" "apache-worker mpm-worker"
    "apache-event mpm-event mpm-inline nginx hyper")

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
while (($#)); do
    case $1 in
        --conns) CONNS=${2:?--conns needs a number}; shift 2 ;;
        --10k) CONNS=10000; shift ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --full) FULL=1; shift ;;
        --loads-only) LOADS_ONLY=1; shift ;;
        --secs) LOAD_SECS=${2:?--secs needs a number}; shift 2 ;;
        --event-factor) EVENT_FACTOR=${2:?--event-factor needs a number}; shift 2 ;;
        --only) ONLY=${2:?--only needs a list}; shift 2 ;;
        --no-install) INSTALL=0; shift ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        --out) OUT=${2:?--out needs a directory}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 ]] || { echo "compare.sh: --conns wants a positive number" >&2; exit 2; }
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || { echo "compare.sh: --rounds wants a positive number" >&2; exit 2; }
[[ $LOAD_SECS =~ ^[0-9]+$ && $LOAD_SECS -ge 1 ]] || { echo "compare.sh: --secs wants a positive number" >&2; exit 2; }

T0=$(date +%s)
log() { printf '[compare %3ds] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }

# ---------------------------------------------------------------- cleanup ----------
WORK=""
POLICY_ADDED=0
STARTED=()          # pids this script started (servers and helpers), stopped on exit
SEEN_FILE=/dev/null # every pid seen in a server's process tree (checked at the end)

alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $st && $st != Z && $st != X ]]
}

# Stop a process and its descendants: TERM the top, wait (bounded), KILL what is left.
stop_tree() {
    local top=$1 pids p i
    alive "$top" || { wait "$top" 2>/dev/null || true; return 0; }
    pids=$(python3 "$HELPERS/procs.py" tree "$top" 2>/dev/null || true)
    [[ -n $pids ]] && echo "$pids" >>"$SEEN_FILE"
    kill -TERM "$top" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$top" || break
        sleep 0.1
    done
    for ((i = 0; i < 30; i++)); do # children may take a moment after the master
        local left=0
        for p in $pids; do alive "$p" && left=1; done
        ((left)) || break
        sleep 0.1
    done
    for p in $pids; do
        if alive "$p"; then
            log "pid $p still alive after TERM; sending KILL"
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    wait "$top" 2>/dev/null || true
}

# Stop a process we started and drop it from STARTED, so that the exit handler never
# signals a later process that happens to get the same pid.
stop_started() {
    local pid=$1 p kept=()
    stop_tree "$pid"
    for p in "${STARTED[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
    STARTED=("${kept[@]}")
}

cleanup() {
    local rc=$? p survivors=""
    set +e
    trap - EXIT INT TERM HUP
    trap '' PIPE
    ((POLICY_ADDED)) && rm -f /usr/sbin/policy-rc.d
    for p in "${STARTED[@]}"; do stop_tree "$p"; done
    if [[ -n $WORK && -d $WORK ]]; then
        # Nothing we started may survive: every pid ever seen in our trees, plus anything
        # whose command line names our temporary directory.
        sleep 0.2
        for p in $(sort -u "$SEEN_FILE" 2>/dev/null) $(pgrep -f "$WORK" 2>/dev/null); do
            [[ $p == "$$" ]] && continue
            if alive "$p"; then
                survivors+=" $p($(cat "/proc/$p/comm" 2>/dev/null))"
                kill -KILL "$p" 2>/dev/null
            fi
        done
        if [[ -n $survivors ]]; then
            log "killed leftover processes:$survivors"
        else
            log "no process left behind (checked $(sort -u "$SEEN_FILE" | wc -l) pids and pgrep -f $WORK)"
        fi
        if ((KEEP)); then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP
trap 'exit 141' PIPE # output cut off (| head): still clean up

# ---------------------------------------------------------------- tools ------------
need_pkgs=()
command -v apache2 >/dev/null || [[ -x /usr/sbin/apache2 ]] || need_pkgs+=(apache2)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx)
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v ab >/dev/null || need_pkgs+=(apache2-utils)
command -v h2load >/dev/null || need_pkgs+=(nghttp2-client)
command -v python3 >/dev/null || need_pkgs+=(python3)
if ((${#need_pkgs[@]})); then
    if ((INSTALL)) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing: ${need_pkgs[*]}"
        apt-get update -qq
        # Debian's packages start their services on install; a policy-rc.d that says
        # "no" (removed again on exit) keeps ports 80 and the CPUs free for the run.
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            POLICY_ADDED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
        if ((POLICY_ADDED)); then rm -f /usr/sbin/policy-rc.d; POLICY_ADDED=0; fi
    else
        echo "compare.sh: missing tools. Install them with:" >&2
        echo "    sudo apt-get install ${need_pkgs[*]}" >&2
        exit 1
    fi
fi
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
APACHE_MODS=/usr/lib/apache2/modules
for m in mpm_prefork mpm_worker mpm_event authz_core mime dir; do
    [[ -f $APACHE_MODS/mod_$m.so ]] || { echo "compare.sh: $APACHE_MODS/mod_$m.so not found (Debian's apache2 package provides it)" >&2; exit 1; }
done

selected() {
    [[ -z $ONLY ]] && return 0
    [[ ",$ONLY," == *",$1,"* ]]
}

# ---------------------------------------------------------------- build ------------
BIN=$ROOT/target/release/examples/httpd
OURS_OK=1
if selected mpm-prefork || selected mpm-worker || selected mpm-event || selected mpm-inline; then
    if ((BUILD)); then
        log "building: cargo build --release --example httpd --all-features"
        if ! (cd "$ROOT" && cargo build --release --example httpd --all-features) >&2; then
            log "ERROR: the build failed (output above); mpm's servers are left out of this run"
            OURS_OK=0
        fi
    fi
    if ((OURS_OK)) && [[ ! -x $BIN ]]; then
        log "ERROR: $BIN does not exist; mpm's servers are left out of this run"
        OURS_OK=0
    fi
fi
HYPER_BIN=$ROOT/target/release/examples/bare_hyper
HYPER_OK=1
if selected hyper; then
    if ((BUILD)); then
        log "building: cargo build --release -p mpm-extras --example bare_hyper"
        if ! (cd "$ROOT" && cargo build --release -p mpm-extras --example bare_hyper) >&2; then
            log "ERROR: the build failed (output above); the bare hyper server is left out of this run"
            HYPER_OK=0
        fi
    fi
    if ((HYPER_OK)) && [[ ! -x $HYPER_BIN ]]; then
        log "ERROR: $HYPER_BIN does not exist; the bare hyper server is left out of this run"
        HYPER_OK=0
    fi
fi

# ---------------------------------------------------------------- setup ------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if ((NOFILE < CONNS + 1100)); then
    echo "compare.sh: open-file limit $NOFILE is too low for --conns $CONNS (need $((CONNS + 1100)); raise the hard limit, e.g. ulimit -Hn)" >&2
    exit 1
fi
WORK=$(mktemp -d /tmp/mpm-compare.XXXXXX)
chmod 755 "$WORK"
SEEN_FILE=$WORK/seen-pids
: >"$SEEN_FILE"
RESULTS=$WORK/results.tsv
META=$WORK/meta.tsv
: >"$RESULTS"
: >"$META"
mkdir -p "$OUT"

if [[ $(id -u) == 0 ]]; then RUN_USER=www-data; else RUN_USER=""; fi
if [[ -n $RUN_USER ]] && ! id "$RUN_USER" >/dev/null 2>&1; then RUN_USER=nobody; fi
RUN_GROUP=""
[[ -n $RUN_USER ]] && RUN_GROUP=$(id -gn "$RUN_USER")

KEEPALIVE_TIMEOUT=15
MAX_KA_REQUESTS=100
WRK_CONNS=50
WRK_SECS=$LOAD_SECS
# ab stops at whichever comes first, WRK_SECS or AB_MAX requests (ab keeps a record per
# request, so the cap bounds its memory: about 50 MB).
AB_MAX=1000000
GRACEFUL_SECS=8
GRACEFUL_COUNT=5

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
freeport() { python3 "$HELPERS/procs.py" freeport; }

# Directives every server gets in the same words (Apache and mpm read the same text).
common_directives() {
    cat <<EOF
Timeout 60
KeepAlive On
MaxKeepAliveRequests $MAX_KA_REQUESTS
KeepAliveTimeout $KEEPALIVE_TIMEOUT
EOF
    if [[ -n $RUN_USER ]]; then
        echo "User $RUN_USER"
        echo "Group $RUN_GROUP"
    fi
}

# Debian's stock limits for each MPM (mods-available/mpm_*.conf), identical for Apache
# and mpm.
mpm_directives() {
    case $1 in
        prefork) cat <<'EOF'
StartServers 5
MinSpareServers 5
MaxSpareServers 10
ServerLimit 256
MaxRequestWorkers 150
MaxConnectionsPerChild 0
EOF
        ;;
        worker|event) cat <<'EOF'
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ServerLimit 16
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0
EOF
        [[ $1 == event ]] && echo "AsyncRequestWorkerFactor $EVENT_FACTOR"
        ;;
    esac
}

# Each start_* sets PID (the master), PORT, ERRLOG, RELOAD_SIGNAL. Servers start in a
# session of their own (setsid, which execs in place: $! is the server): Apache's prefork
# signals its whole process group on a graceful restart, and that must not be us.
start_apache() {
    local mpm=$1 dir=$WORK/apache-$1
    mkdir -p "$dir/htdocs" "$dir/run"
    chmod 755 "$dir" "$dir/htdocs"
    printf 'Hello, world!\n' >"$dir/htdocs/index.html"
    chmod 644 "$dir/htdocs/index.html"
    PORT=$(freeport)
    ERRLOG=$dir/error.log
    RELOAD_SIGNAL=USR1
    cat >"$dir/httpd.conf" <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1
DefaultRuntimeDir "$dir/run"
PidFile "$dir/httpd.pid"
ErrorLog "$ERRLOG"
LogLevel warn
Listen 127.0.0.1:$PORT
LoadModule mpm_${mpm}_module $APACHE_MODS/mod_mpm_${mpm}.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
LoadModule mime_module $APACHE_MODS/mod_mime.so
LoadModule dir_module $APACHE_MODS/mod_dir.so
TypesConfig /etc/mime.types
DocumentRoot "$dir/htdocs"
DirectoryIndex index.html
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory "$dir/htdocs">
    Require all granted
</Directory>
$(common_directives)
$(mpm_directives "$mpm")
EOF
    if ! "$APACHE" -f "$dir/httpd.conf" -t >"$dir/configtest.log" 2>&1; then
        log "ERROR: Apache rejects its generated configuration:"
        cat "$dir/configtest.log" >&2
        return 1
    fi
    setsid "$APACHE" -f "$dir/httpd.conf" -DFOREGROUND >"$dir/stdout.log" 2>&1 </dev/null &
    PID=$!
    STARTED+=("$PID")
}

start_nginx() {
    local dir=$WORK/nginx
    mkdir -p "$dir/tmp" "$dir/logs"
    chmod 755 "$dir"
    PORT=$(freeport)
    ERRLOG=$dir/error.log
    RELOAD_SIGNAL=HUP
    local user_line=""
    [[ -n $RUN_USER ]] && user_line="user $RUN_USER $RUN_GROUP;"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
$user_line
pid $dir/nginx.pid;
error_log $ERRLOG warn;
worker_rlimit_nofile $NOFILE;
events {
    worker_connections $((CONNS + 1024));
}
http {
    access_log off;
    keepalive_timeout ${KEEPALIVE_TIMEOUT}s;
    keepalive_requests $MAX_KA_REQUESTS;
    client_header_timeout 60s;
    send_timeout 60s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        location / {
            default_type text/plain;
            return 200 "Hello, world!\n";
        }
    }
}
EOF
    if ! "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$ERRLOG" -t >"$dir/configtest.log" 2>&1; then
        log "ERROR: nginx rejects its generated configuration:"
        cat "$dir/configtest.log" >&2
        return 1
    fi
    setsid "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$ERRLOG" >"$dir/stdout.log" 2>&1 </dev/null &
    PID=$!
    STARTED+=("$PID")
}

start_mpm() {
    # "inline": the event MPM with the example's async handler (no worker-thread hop).
    local mpm=$1 dir=$WORK/mpm-$1 extra=()
    if [[ $mpm == inline ]]; then
        mpm=event
        extra=(--handler async)
    fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    PORT=$(freeport)
    ERRLOG=$dir/error.log
    RELOAD_SIGNAL=USR1
    cat >"$dir/httpd.conf" <<EOF
Listen 127.0.0.1:$PORT
PidFile "$dir/httpd.pid"
$(common_directives)
$(mpm_directives "$mpm")
EOF
    if ! "$BIN" -f "$dir/httpd.conf" --mpm "$mpm" -t >"$dir/configtest.log" 2>&1; then
        log "ERROR: httpd rejects its generated configuration:"
        cat "$dir/configtest.log" >&2
        return 1
    fi
    setsid "$BIN" -f "$dir/httpd.conf" --mpm "$mpm" "${extra[@]}" >"$dir/stdout.log" 2>"$ERRLOG" </dev/null &
    PID=$!
    STARTED+=("$PID")
}

start_hyper() {
    local dir=$WORK/hyper
    mkdir -p "$dir"
    chmod 755 "$dir"
    PORT=$(freeport)
    ERRLOG=$dir/error.log
    RELOAD_SIGNAL=""
    setsid "$HYPER_BIN" "127.0.0.1:$PORT" >"$dir/stdout.log" 2>"$ERRLOG" </dev/null &
    PID=$!
    STARTED+=("$PID")
}

# $! must be the server itself (what we signal and measure): setsid execs in place unless
# its caller leads a process group, which background jobs of a script never do.
check_pid() { # expected-executable
    local exe
    exe=$(readlink "/proc/$PID/exe" 2>/dev/null || true)
    if [[ $exe != "$1" ]]; then
        log "ERROR: pid $PID is ${exe:-gone}, not $1"
        return 1
    fi
}

server_failed() {
    local name=$1
    log "ERROR: $name did not start; its logs:"
    for f in "$ERRLOG" "$(dirname "$ERRLOG")/stdout.log"; do
        if [[ -s $f ]]; then echo "--- $f" >&2; tail -n 40 "$f" >&2; fi
    done
    FAILED+=("$name")
}

parse_into() { # name label parser file [key-suffix]
    local line
    if ! python3 "$HELPERS/procs.py" "$3" "$4" >"$4.kv" 2>"$4.err"; then
        log "cannot read $3 output for $1 $2:"
        cat "$4" "$4.err" >&2
        return 0
    fi
    while IFS= read -r line; do record "$1" "$2.${line%%=*}${5:-}" "${line#*=}"; done <"$4.kv"
}

# Start one server and make sure it answers GET / correctly; sets PID, PORT and ERRLOG.
launch() {
    local name=$1 kind=${1%%-*} mpm=${1#*-} line exe
    case $kind in
        apache) start_apache "$mpm" || { FAILED+=("$name"); return 1; } ;;
        nginx) start_nginx || { FAILED+=("$name"); return 1; } ;;
        hyper) start_hyper || { FAILED+=("$name"); return 1; } ;;
        mpm) start_mpm "$mpm" || { FAILED+=("$name"); return 1; } ;;
    esac
    if ! python3 "$HELPERS/procs.py" wait "$PORT" "$PID" 15; then
        server_failed "$name"
        stop_started "$PID"
        return 1
    fi
    if ! python3 "$HELPERS/procs.py" check "$PORT" >"$WORK/$name.check" 2>&1; then
        cat "$WORK/$name.check" >&2
        server_failed "$name"
        stop_started "$PID"
        return 1
    fi
    while IFS= read -r line; do record "$name" "${line%%=*}" "${line#*=}"; done <"$WORK/$name.check"
    case $kind in apache) exe=$APACHE ;; nginx) exe=$NGINX ;; hyper) exe=$HYPER_BIN ;; mpm) exe=$BIN ;; esac
    if ! check_pid "$(readlink -f "$exe")"; then
        server_failed "$name"
        stop_started "$PID"
        return 1
    fi
}

check_errlog() { # name errlog
    if grep -qiE '\b(emerg|alert|crit)\b|panic' "$2" 2>/dev/null; then
        log "$1's error log has serious entries:"
        grep -iE '\b(emerg|alert|crit)\b|panic' "$2" | tail -n 10 >&2
    fi
}

# Phase 1: idle memory and held idle connections, on a fresh start of its own.
bench_memory() {
    local name=$1 line
    log "== $name: memory"
    record "$name" loadavg "$(cut -d' ' -f1 /proc/loadavg)"
    launch "$name" || return 0

    # Idle memory, after the start-up children have settled.
    python3 "$HELPERS/procs.py" settle "$PID" 6
    local pss procs
    pss=$(python3 "$HELPERS/procs.py" pss "$PID")
    procs=$(sed -n 's/^procs=//p' <<<"$pss")
    pss=$(sed -n 's/^pss_kb=//p' <<<"$pss")
    record "$name" idle.pss_kb "$pss"
    record "$name" idle.pss_mib "$(awk -v k="$pss" 'BEGIN{printf "%.2f", k/1024}')"
    record "$name" idle.procs "$procs"
    log "idle: PSS $pss kB in $procs processes"

    # Memory per held idle keep-alive connection.
    log "holding $CONNS idle keep-alive connections"
    if timeout $((90 + CONNS / 100)) python3 "$HELPERS/idle_conns.py" "$PORT" "$PID" "$CONNS" >"$WORK/$name.conns" 2>&1; then
        while IFS= read -r line; do
            [[ $line == *=* ]] && record "$name" "conns.${line%%=*}" "${line#*=}"
        done <"$WORK/$name.conns"
        log "$(tr '\n' ' ' <"$WORK/$name.conns")"
    else
        log "the idle-connection test failed for $name:"
        cat "$WORK/$name.conns" >&2
    fi
    stop_started "$PID"
    check_errlog "$name" "$ERRLOG"
}

# The loads, in the order each round runs them. *_busy: the same load while a busy loop
# (another process) keeps one CPU busy.
LOADS=(ka10 ka50 close ab h2c100)
((FULL)) && LOADS+=(h2c500)
LOADS+=(ka50_busy close_busy)

# One load on one server for one round; figures recorded as load.key@round.
declare -A GPID GPORT GERRLOG
H2_RETRIES=0
run_load() { # name load round
    local name=$1 load=$2 r=$3 busy="" parser=wrk
    local out=$WORK/loads/$1.$2.r$3 url="http://127.0.0.1:${GPORT[$1]}/"
    record "$name" "$load.loadavg@$r" "$(cut -d' ' -f1 /proc/loadavg)"
    if [[ $load == *_busy ]]; then
        sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
        busy=$!
        STARTED+=("$busy")
    fi
    case $load in
        ka10) timeout $((WRK_SECS + 30)) wrk -t1 -c10 -d"${WRK_SECS}s" --timeout 5s --latency "$url" >"$out" 2>&1 ;;
        ka50 | ka50_busy) timeout $((WRK_SECS + 30)) wrk -t1 -c50 -d"${WRK_SECS}s" --timeout 5s --latency "$url" >"$out" 2>&1 ;;
        close | close_busy) timeout $((WRK_SECS + 30)) wrk -t1 -c50 -d"${WRK_SECS}s" --timeout 5s --latency \
            -H "Connection: close" "$url" >"$out" 2>&1 ;;
        ab) parser=ab
            timeout $((WRK_SECS + 60)) ab -r -s 10 -t "$WRK_SECS" -n "$AB_MAX" -c 50 "$url" >"$out" 2>&1 ;;
        h2c100 | h2c500) parser=h2load
            h2load_run "${load#h2c}" "$url" "$out" "$name" "$r" ;;
    esac || log "$load exited with an error ($name, round $r)"
    [[ -n $busy ]] && stop_started "$busy"
    parse_into "$name" "$load" "$parser" "$out" "@$r"
    [[ $parser == h2load ]] && record "$name" "$load.reruns@$r" "$H2_RETRIES"
    alive "${GPID[$name]}" || log "ERROR: $name (pid ${GPID[$name]}) is gone after $load"
}

# h2load runs by request count, not by time: h2load 1.52's timing mode (-D) now and then
# never exits after "Stopped all clients" (in our tries: against nginx, and at 500
# connections against hyper, with or without warm-up), and its count mode did not. The
# count is the load's seconds × the same server's latest h2load rate (this load in the
# previous round, else h2load -c100 in this round, else wrk keep-alive -c50 in this
# round), at least 20 requests per connection, so each run lasts about as long as the
# others;
# requests/s is h2load's count ÷ its own elapsed time. A run that still hangs is cut off
# and run again, up to twice; the cut-off runs are counted (row "h2load runs cut off
# after hanging").
h2load_run() { # conns url out name round
    local try n rate
    rate=$(awk -F'\t' -v s="$4" -v k1="h2c$1.rps@$(($5 - 1))" -v k2="h2c100.rps@$5" -v k3="ka50.rps@$5" '
        $1 == s && $2 == k1 { v1 = $3 } $1 == s && $2 == k2 { v2 = $3 } $1 == s && $2 == k3 { v3 = $3 }
        END { print (v1 > 0 ? v1 : (v2 > 0 ? v2 : v3 + 0)) }' "$RESULTS")
    n=$(awk -v r="$rate" -v t="$WRK_SECS" -v c="$1" 'BEGIN { n = int(r * t); if (n < 20 * c) n = 20 * c; if (r == 0) n = 10000 * t; print n }')
    for ((try = 0; try < 3; try++)); do
        if timeout -k 2 $((3 * WRK_SECS + 10)) h2load --h1 -t1 -c"$1" -n "$n" -T 5 "$2" >"$3" 2>&1 &&
            grep -q '^finished in' "$3"; then
            H2_RETRIES=$try
            return 0
        fi
        log "h2load did not finish (try $((try + 1)) of 3)"
    done
    H2_RETRIES=$try
    return 1
}

# Phase 2: the servers of one group side by side; every round runs each load on each
# of them in turn, the first server rotating from round to round.
bench_group() {
    local group=("$@") up=() name r load i n
    log "== loads: ${group[*]}"
    for name in "${group[@]}"; do
        launch "$name" || continue
        GPID[$name]=$PID
        GPORT[$name]=$PORT
        GERRLOG[$name]=$ERRLOG
        up+=("$name")
    done
    ((${#up[@]})) || return 0
    for name in "${up[@]}"; do python3 "$HELPERS/procs.py" settle "${GPID[$name]}" 6; done
    n=${#up[@]}
    for ((r = 1; r <= ROUNDS; r++)); do
        for load in "${LOADS[@]}"; do
            log "round $r/$ROUNDS: $load"
            for ((i = 0; i < n; i++)); do
                name=${up[$(((i + r - 1) % n))]}
                run_load "$name" "$load" "$r"
                sleep 0.5
            done
        done
    done
    for name in "${up[@]}"; do
        stop_started "${GPID[$name]}"
        check_errlog "$name" "${GERRLOG[$name]}"
    done
}

# Phase 3: wrk keep-alive during graceful restarts, on a fresh start of its own.
bench_graceful() {
    local name=$1 sigpid
    [[ $name == hyper ]] && return 0 # no graceful restart to ask of it
    log "== $name: graceful restarts"
    launch "$name" || return 0
    python3 "$HELPERS/procs.py" settle "$PID" 6
    log "wrk keep-alive for ${GRACEFUL_SECS}s with $GRACEFUL_COUNT graceful restarts (SIG$RELOAD_SIGNAL)"
    (
        for ((i = 0; i < GRACEFUL_COUNT; i++)); do
            sleep 1
            kill -"$RELOAD_SIGNAL" "$PID" 2>/dev/null || exit 0
        done
    ) &
    sigpid=$!
    STARTED+=("$sigpid")
    timeout $((GRACEFUL_SECS + 30)) wrk -t1 -c"$WRK_CONNS" -d"${GRACEFUL_SECS}s" --timeout 5s --latency \
        "http://127.0.0.1:$PORT/" >"$WORK/$name.graceful.wrk" 2>&1 || log "wrk exited with an error ($name graceful)"
    stop_started "$sigpid"
    parse_into "$name" graceful wrk "$WORK/$name.graceful.wrk"
    if alive "$PID" && python3 "$HELPERS/procs.py" check "$PORT" >/dev/null 2>&1; then
        record "$name" graceful.survived yes
    else
        log "ERROR: $name no longer answers after the graceful restarts"
        record "$name" graceful.survived no
        if [[ -s $ERRLOG ]]; then tail -n 20 "$ERRLOG" >&2; fi
    fi
    stop_started "$PID"
    check_errlog "$name" "$ERRLOG"
}

# ---------------------------------------------------------------- run --------------
FAILED=()
SERVERS=()
for s in "${ALL_SERVERS[@]}"; do
    selected "$s" || continue
    if [[ $s == mpm-* ]] && ((!OURS_OK)); then
        FAILED+=("$s")
        continue
    fi
    if [[ $s == hyper ]] && ((!HYPER_OK)); then
        FAILED+=("$s")
        continue
    fi
    SERVERS+=("$s")
done
mkdir -p "$WORK/loads"
is_running() { local s; for s in "${SERVERS[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }
log "servers: ${SERVERS[*]}; idle connections per server: $CONNS; loads: ${LOADS[*]} (${WRK_SECS} s each), $ROUNDS round(s)"
log "expected: about $(( (${#SERVERS[@]} * ROUNDS * ${#LOADS[@]} * (WRK_SECS + 2) + ${#SERVERS[@]} * (GRACEFUL_SECS + 10) + (LOADS_ONLY ? 0 : ${#SERVERS[@]} * (20 + CONNS / 250))) / 60 )) min"
if ((!LOADS_ONLY)); then
    for s in "${SERVERS[@]}"; do bench_memory "$s"; done
fi
for g in "${GROUPS_OF_SERVERS[@]}"; do
    members=()
    for s in $g; do is_running "$s" && members+=("$s"); done
    ((${#members[@]})) && bench_group "${members[@]}"
done
python3 "$HELPERS/rounds.py" "$RESULTS"
for s in "${SERVERS[@]}"; do bench_graceful "$s"; done
# ---------------------------------------------------------------- report -----------
ELAPSED=$(($(date +%s) - T0))
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
CMD="benches/compare.sh"
((CONNS != 2000)) && CMD+=" --conns $CONNS"
((ROUNDS != 3)) && CMD+=" --rounds $ROUNDS"
((FULL)) && CMD+=" --full"
((LOADS_ONLY)) && CMD+=" --loads-only"
((LOAD_SECS != 5)) && CMD+=" --secs $LOAD_SECS"
[[ -n $ONLY ]] && CMD+=" --only $ONLY"
meta "command" "$CMD"
meta "date" "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta "machine" "$(nproc) CPUs (${cpu:-unknown}), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr), $( . /etc/os-release && echo "$PRETTY_NAME")"
meta "software" "$("$APACHE" -v | sed -n 's/^Server version: //p'), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n1 | awk '{print "wrk " $2}'), ab $(ab -V | sed -n 's/.*Version \([^ ]*\).*/\1/p' | head -n1), $(h2load --version 2>&1 | head -n1 | sed 's/^h2load nghttp2\//h2load /'), mpm $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?') ($( [[ -x $BIN ]] && "$BIN" -V 2>/dev/null | sed -n 's/^Server version: //p'))"
meta "loads" "each ${WRK_SECS} s: wrk -t1 -c10 and -c50 --latency (keep-alive); wrk -t1 -c50 -H 'Connection: close'; ab -r -t ${WRK_SECS} -c50 (no keep-alive, at most $AB_MAX requests); h2load --h1 -t1 -c100$( ((FULL)) && echo " and -c500") -n N (keep-alive; N = ${WRK_SECS} s × the same server's latest h2load rate (previous round; in the first round its h2load -c100 or wrk keep-alive -c50 rate), so that each run lasts about ${WRK_SECS} s: h2load's timing mode -D sometimes never exits; h2load's requests/s counts succeeded requests only; h2load prints no percentiles, so its rows give mean and max); wrk keep-alive -c50 and Connection: close -c50 again while \`sh -c 'while :; do :; done'\` (started before and killed after each run, by pid) keeps one CPU busy. Every client runs one thread (-t1): client and servers share the machine's $(nproc) CPUs, and one client thread leaves the servers the same share whichever server it is; a second thread would take the CPU the servers need. Separately: wrk -t1 -c$WRK_CONNS -d${GRACEFUL_SECS}s with SIGUSR1 (Apache, mpm) or SIGHUP (nginx) to the master once a second, $GRACEFUL_COUNT times (once per server; not the bare hyper server)."
meta "rounds" "$ROUNDS round(s) of the loads; in a round the servers of a group (prefork: Apache, mpm; worker: Apache, mpm; event: Apache, mpm, mpm inline, nginx, hyper), all started together, each take every load in turn, the first server rotating from round to round, 0.5 s apart. Each figure is the median over the rounds (errors: the sum); latest.tsv has every round's value (key.runs) and min/max"
meta "equal for all" "Listen 127.0.0.1 only; GET / answered 200 with the 14 bytes \"Hello, world!\\n\"; KeepAlive On, KeepAliveTimeout ${KEEPALIVE_TIMEOUT} s (raised from Apache's 5 s so that the held connections outlive the measurement; nginx keepalive_timeout ${KEEPALIVE_TIMEOUT}s), MaxKeepAliveRequests $MAX_KA_REQUESTS (nginx keepalive_requests $MAX_KA_REQUESTS), Timeout 60; no access log; error log at warn (Apache, nginx) / notice (mpm); children run as ${RUN_USER:-the invoking user}; open-file limit $NOFILE"
meta "equal per MPM (Apache and mpm get the same directive text)" "prefork: StartServers 5, MinSpareServers 5, MaxSpareServers 10, ServerLimit 256, MaxRequestWorkers 150; worker and event: StartServers 2, MinSpareThreads 25, MaxSpareThreads 75, ServerLimit 16, ThreadLimit 64, ThreadsPerChild 25, MaxRequestWorkers 150; event: AsyncRequestWorkerFactor $EVENT_FACTOR (Debian's 2 would cap a child at 75 connections); MaxConnectionsPerChild 0 (otherwise Debian's stock mpm_*.conf values)"
meta "nginx" "worker_processes 2, worker_connections $((CONNS + 1024)) (sized for the idle-connection test; nginx allocates its connection table up front, so its idle PSS grows with it), worker_rlimit_nofile $NOFILE, return 200 from memory"
meta "bare hyper" "extras/examples/bare_hyper.rs: hyper 1 HTTP/1.1 on tokio's multi-thread runtime with 2 worker threads, a task per connection, keep-alive on with no limit on requests per connection and no idle timeout (hyper has neither), runs as the invoking user; answers 200 text/plain with the same 14 bytes from memory. The in-process reference: what hyper alone does on this machine"
meta "differences" "Apache serves the body from a 14-byte index.html in its DocumentRoot (mod_dir maps / to it, mod_mime types it; modules loaded: the MPM, authz_core, mime, dir); nginx, hyper and mpm answer from memory. Response sizes differ by their headers (row 'response size'), hence bytes/s beside requests/s (wrk's Transfer/sec, h2load's total traffic ÷ its duration, ab's Total transferred ÷ its time)."
meta "fresh starts" "each server is started three times: once for idle memory and the idle connections$( ((LOADS_ONLY)) && echo " (skipped in this run: --loads-only)"), once with its group for all rounds of the loads, once more for the graceful restarts"
((LOADS_ONLY)) || meta "idle memory" "sum of Pss: in /proc/PID/smaps_rollup over the master and all its descendants, once the process set has been unchanged for 1.5 s after start"
((LOADS_ONLY)) || meta "idle connections" "$CONNS connections opened (in batches of 250), one keep-alive GET / on each; 'held' = answered. Waiting stops when no new answer came for 2.5 s (servers with a bounded number of workers hold only that many; the rest wait in the listen queue). PSS per connection = (tree PSS 1 s later - idle PSS) / held; kernel socket memory is not in PSS. Then a second GET on every held connection."
meta "machine load" "1-minute load average $(cut -d' ' -f1-3 /proc/loadavg) at the end of the run (each load's 'load average' row gives the median of the 1-minute load average just before that server's runs; the busy loop and the load tools themselves count in it; other work on the machine skews the figures)"
meta "run time" "${ELAPSED} s for the whole script, build included"
((${#FAILED[@]})) && meta "left out" "${FAILED[*]} (did not build or start; see the run's log)"

cp "$RESULTS" "$OUT/latest.tsv"
python3 "$HELPERS/report.py" "$RESULTS" "$META" "$OUT/latest.md" "$OUT/latest.svg"
cat "$OUT/latest.md"
log "wrote $OUT/latest.md, $OUT/latest.svg and $OUT/latest.tsv in ${ELAPSED} s"
if ((${#FAILED[@]})); then
    log "incomplete: ${FAILED[*]} could not be measured"
    exit 1
fi
