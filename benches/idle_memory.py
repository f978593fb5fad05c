#!/usr/bin/env python3
"""Memory per idle keep-alive connection of the real `httpd` example (whole process tree).

Starts `httpd --mpm=MPM` on 127.0.0.1 (port 0, read from its log) with 2 children x 10
worker threads and an AsyncRequestWorkerFactor large enough to hold every connection,
opens N connections that each make one request, then compares the Pss of the master and
its children (from /proc/PID/smaps_rollup) before and after. Every held connection must
then answer a second request. Stops what it started (by pid).

    cargo build --release --example httpd --all-features
    python3 benches/idle_memory.py [--httpd target/release/examples/httpd] [--conns 10000]

The in-process comparison of the two connection paths (serve_lean vs serve_http1) is the
ignored test `idle_memory_report` in mpm-core/tests/http_lean.rs.
"""

import argparse
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

CONF = """Listen 127.0.0.1:0
PidFile {dir}/httpd.pid
StartServers 2
ServerLimit 4
ThreadsPerChild 10
ThreadLimit 10
MinSpareThreads 1
MaxSpareThreads 40
MaxRequestWorkers 20
AsyncRequestWorkerFactor 1000
KeepAliveTimeout 300
MaxKeepAliveRequests 0
Timeout 300
"""

REQUEST = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def children_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry))
    return out


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def request(sock):
    sock.sendall(REQUEST)
    buf = b""
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            m = re.search(rb"(?i)content-length:\s*(\d+)", buf[:head_end])
            need = head_end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) >= need:
                return buf.startswith(b"HTTP/1.1 200")
        chunk = sock.recv(4096)
        if not chunk:
            return False
        buf += chunk


def start_httpd(httpd, d, conf_text, mpm):
    """Write `conf_text` to D/httpd.conf, start `httpd --mpm=MPM` with its log in D (the
    children inherit this process's descriptor limit) and wait until it listens; returns
    the process and its address. Exits with the log when it does not start."""
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    log_path = os.path.join(d, "error_log")
    proc = subprocess.Popen(
        [httpd, "-f", conf, f"--mpm={mpm}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),
    )
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
        with open(log_path) as f:
            m = re.search(r"listening on (127\.0\.0\.1):(\d+)", f.read())
        if m:
            return proc, (m.group(1), int(m.group(2)))
    stop_httpd(proc)
    sys.exit("httpd did not start:\n" + open(log_path).read())


def stop_httpd(proc):
    """SIGTERM the master and wait for it (SIGKILL after 20 s)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--httpd", default="target/release/examples/httpd")
    ap.add_argument("--mpm", default="event")
    ap.add_argument("--conns", type=int, default=10000)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.conns + 200:
        sys.exit(f"fd limit {hard} too low for {args.conns} connections")

    with tempfile.TemporaryDirectory() as d:
        proc, addr = start_httpd(args.httpd, d, CONF.format(dir=d), args.mpm)
        try:
            time.sleep(1.0)
            tree = lambda: [proc.pid] + children_of(proc.pid)
            # Warm up: a few connections, then let them go.
            warm = [socket.create_connection(addr, timeout=10) for _ in range(50)]
            assert all(request(s) for s in warm)
            for s in warm:
                s.close()
            time.sleep(1.0)
            before = pss_kib(tree())
            conns = []
            t = time.time()
            for i in range(args.conns):
                s = socket.create_connection(addr, timeout=10)
                if not request(s):
                    sys.exit(f"request {i} failed")
                conns.append(s)
            opened = time.time() - t
            time.sleep(2.0)
            after = pss_kib(tree())
            ok = sum(1 for s in conns if request(s))
            per = (after - before) * 1024 / args.conns
            print(
                f"{args.mpm}: {args.conns} idle keep-alive connections, process tree Pss "
                f"{before} -> {after} KiB: {per:.0f} B per connection; "
                f"second request answered on {ok}/{args.conns}; opened in {opened:.1f} s"
            )
            for s in conns:
                s.close()
            return 0 if ok == args.conns else 1
        finally:
            stop_httpd(proc)


if __name__ == "__main__":
    sys.exit(main())
