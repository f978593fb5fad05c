#!/usr/bin/env python3
"""What idle keep-alive connections held by the event MPM cost the clients that are busy.

Starts the real `httpd --mpm=event` (CHILDREN children, KeepAliveTimeout 300), measures
another client's keep-alive load (wrk -t2 -c50 --latency, ROUNDS runs) with no idle
connection held, then while CONNS idle keep-alive connections are held (opened by several
client processes from several loopback source addresses, so more than one address's
ephemeral ports and one process's descriptor limit can be used), then again after they are
released. Reports the medians (p50, p99, requests/s) with and without the held connections
and their ratio, the Pss per held connection (master + children, /proc/PID/smaps_rollup),
and how many held connections answer a second request. Stops everything it started by pid.

    cargo build --release --example httpd --all-features
    python3 benches/idle_load.py --conns 10000 [--children 2] [--rounds 3] [--out FILE]
    python3 benches/idle_load.py --conns 50000 --children 4 --clients 5

A connection costs the server one descriptor: each child's limit is the hard limit this
script runs with (`ulimit -Hn`); spread the connections over enough children.
"""

import argparse
import multiprocessing as mp
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CONF = """Listen 127.0.0.1:0
PidFile {dir}/httpd.pid
StartServers {children}
ServerLimit {children}
ThreadsPerChild 25
ThreadLimit 25
MinSpareThreads 1
MaxSpareThreads {threads}
MaxRequestWorkers {threads}
AsyncRequestWorkerFactor 100000
KeepAliveTimeout 300
MaxKeepAliveRequests 0
Timeout 300
"""

# The process-tree and request helpers are idle_memory.py's (same folder).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle_memory import children_of, pss_kib, request, start_httpd, stop_httpd  # noqa: E402


def holder(addr, source, n, ready, release, result):
    """Open `n` connections from `source`, one request each; hold them until `release`,
    then make a second request on each and report how many answered."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(30)
            s.bind((source, 0))
            s.connect(addr)
            if not request(s):
                break
            conns.append(s)
    except OSError as e:
        print(f"holder {source}: {e} after {len(conns)} connections", file=sys.stderr)
    ready.put(len(conns))
    release.wait()
    ok = 0
    for s in conns:
        try:
            ok += request(s)
        except OSError:
            pass
    result.put(ok)
    for s in conns:
        s.close()


def wrk(addr, secs):
    out = subprocess.run(
        ["wrk", "-t2", "-c50", f"-d{secs}s", "--latency", f"http://{addr[0]}:{addr[1]}/"],
        capture_output=True, text=True, timeout=secs + 60,
    ).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def lat(q):
        m = re.search(rf"^\s*{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {"p50": lat(50), "p99": lat(99), "rps": float(rps.group(1)) if rps else 0.0}


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--httpd", default="target/release/examples/httpd")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--children", type=int, default=2)
    ap.add_argument("--clients", type=int, default=0, help="holder processes (default: one per 10,000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=int, default=5)
    ap.add_argument("--out", help="append the summary (markdown) to this file")
    args = ap.parse_args()
    clients = args.clients or max(1, -(-args.conns // 10000))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    per_child = -(-args.conns // args.children) + 200
    if hard < per_child or hard < -(-args.conns // clients) + 100:
        sys.exit(f"descriptor limit {hard} too low: use more --children / --clients")

    with tempfile.TemporaryDirectory() as d:
        conf = CONF.format(dir=d, children=args.children, threads=25 * args.children)
        proc, addr = start_httpd(args.httpd, d, conf, "event")
        holders = []
        try:
            tree = lambda: [proc.pid] + children_of(proc.pid)
            wrk(addr, 1)  # warm-up
            before = [wrk(addr, args.secs) for _ in range(args.rounds)]
            pss0 = pss_kib(tree())

            ready, result = mp.Queue(), mp.Queue()
            release = mp.Event()
            share = [args.conns // clients + (i < args.conns % clients) for i in range(clients)]
            t = time.time()
            for i, n in enumerate(share):
                p = mp.Process(target=holder, args=(addr, f"127.0.1.{i + 1}", n, ready, release, result))
                p.start()
                holders.append(p)
            held = sum(ready.get(timeout=600) for _ in holders)
            opened = time.time() - t
            time.sleep(2.0)
            pss1 = pss_kib(tree())
            during = [wrk(addr, args.secs) for _ in range(args.rounds)]
            release.set()
            second = sum(result.get(timeout=600) for _ in holders)
            for p in holders:
                p.join(timeout=60)
            time.sleep(1.0)
            after = [wrk(addr, args.secs) for _ in range(args.rounds)]
            quiet = before + after

            per = (pss1 - pss0) * 1024 / max(held, 1)
            q99, d99 = median(quiet, "p99"), median(during, "p99")
            lines = [
                f"### event, {args.conns:,} idle keep-alive connections, {args.children} children "
                f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f})",
                "",
                f"- held: {held:,} of {args.conns:,} (opened in {opened:.1f} s by {clients} client "
                f"processes from 127.0.1.1–{clients}); second request answered on {second:,}",
                f"- Pss {pss0:,} → {pss1:,} KiB: **{per:,.0f} B per held connection**",
                f"- another client, wrk -t2 -c50 -d{args.secs}s, medians of {len(quiet)} runs without "
                f"(before and after) / {len(during)} with the connections held:",
                f"  p99 {q99:.2f} ms → {d99:.2f} ms (**×{d99 / q99:.2f}**), "
                f"p50 {median(quiet, 'p50'):.2f} → {median(during, 'p50'):.2f} ms, "
                f"{median(quiet, 'rps'):,.0f} → {median(during, 'rps'):,.0f} requests/s",
                f"- every run (p99 ms): without {[round(r['p99'], 2) for r in quiet]}, "
                f"with {[round(r['p99'], 2) for r in during]}",
                "",
            ]
            print("\n".join(lines))
            if args.out:
                with open(args.out, "a") as f:
                    f.write("\n".join(lines) + "\n")
            return 0 if held == args.conns and second == held else 1
        finally:
            for p in holders:
                if p.is_alive():
                    p.kill()
            stop_httpd(proc)


if __name__ == "__main__":
    sys.exit(main())
