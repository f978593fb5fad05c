#!/usr/bin/env python3
"""Process, port and output helpers for benches/compare.sh (standard library only).

Subcommands (results go to stdout as `key=value` lines unless said otherwise):

  freeport                      a free TCP port on 127.0.0.1
  wait PORT PID SECONDS         poll 127.0.0.1:PORT until it accepts; fail if PID exits
                                or the deadline passes
  check PORT                    GET / once; fail unless 200 with body "Hello, world!\\n";
                                prints the response size
  tree PID                      PID and all its descendants, one per line
  settle PID SECONDS            wait until the tree's process set is unchanged for 1.5 s
  pss PID                       sum of Pss: over the tree (kB) and the process count
  wrk FILE                      parse wrk --latency output (requests/s, bytes/s, p50, p99)
  ab FILE                       parse ab output (requests/s, bytes/s, p50, p99)
  h2load FILE                   parse h2load output (requests/s, bytes/s, mean and max;
                                h2load prints no percentiles)
"""

import os
import socket
import sys
import time

LOOPBACK = "127.0.0.1"


def freeport():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((LOOPBACK, 0))
    port = s.getsockname()[1]
    s.close()
    print(port)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


def wait(port, pid, seconds):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        if not alive(pid):
            print(f"process {pid} exited before listening on {LOOPBACK}:{port}", file=sys.stderr)
            return 1
        try:
            with socket.create_connection((LOOPBACK, int(port)), timeout=0.5):
                return 0
        except OSError:
            time.sleep(0.05)
    print(f"nothing listening on {LOOPBACK}:{port} after {seconds} s", file=sys.stderr)
    return 1


def http_get(port, timeout=5.0):
    s = socket.create_connection((LOOPBACK, int(port)), timeout=timeout)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def check(port):
    data = http_get(port)
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    if " 200 " not in status + " " or body != b"Hello, world!\n":
        print(f"unexpected answer to GET /: {status!r}, body {body[:80]!r}", file=sys.stderr)
        return 1
    print(f"response_bytes={len(data)}")
    print(f"header_bytes={len(head) + 4}")
    return 0


def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree_pids(pid):
    pid = int(pid)
    if not alive(pid):
        return []
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return sorted(out)


def tree(pid):
    for p in tree_pids(pid):
        print(p)


def pss_kb(pid):
    total, count = 0, 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        count += 1
                        break
        except OSError:
            pass  # exited meanwhile
    return total, count


def pss(pid):
    total, count = pss_kb(pid)
    print(f"pss_kb={total}")
    print(f"procs={count}")


def settle(pid, seconds):
    deadline = time.monotonic() + float(seconds)
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = tree_pids(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 1.5:
            break
        time.sleep(0.1)
    # A last pause so that freshly started children finish initialising.
    time.sleep(0.5)


def to_ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def to_bytes(text):
    """wrk's sizes: 1.23MB (binary multiples, as wrk prints them)."""
    for unit, factor in (("KB", 1024.0), ("MB", 1024.0 ** 2), ("GB", 1024.0 ** 3),
                         ("TB", 1024.0 ** 4), ("B", 1.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor)
    return round(float(text))


def parse_wrk(path):
    out = {"rps": None, "bytes_per_s": None, "p50_ms": None, "p99_ms": None, "requests": 0,
           "socket_errors": 0, "non2xx": 0}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "Requests/sec:":
                out["rps"] = float(w[1])
            elif w[0] == "Transfer/sec:":
                out["bytes_per_s"] = to_bytes(w[1])
            elif w[0] == "50%":
                out["p50_ms"] = to_ms(w[1])
            elif w[0] == "99%":
                out["p99_ms"] = to_ms(w[1])
            elif len(w) > 2 and w[1] == "requests" and w[2] == "in":
                out["requests"] = int(w[0])
            elif line.strip().startswith("Socket errors:"):
                # Socket errors: connect 0, read 0, write 0, timeout 0
                nums = [int(x.strip(",")) for x in w[2:] if x.strip(",").isdigit()]
                out["socket_errors"] = sum(nums)
            elif line.strip().startswith("Non-2xx or 3xx responses:"):
                out["non2xx"] = int(w[-1])
    if out["rps"] is None:
        print(f"cannot parse wrk output {path}", file=sys.stderr)
        return 1
    out["errors"] = out["socket_errors"] + out["non2xx"]
    for k, v in out.items():
        print(f"{k}={v}")
    return 0


def parse_ab(path):
    out = {"rps": None, "bytes_per_s": None, "p50_ms": None, "p99_ms": None, "complete": 0,
           "failed": 0, "non2xx": 0}
    total_bytes, secs = None, None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if line.startswith("Requests per second:"):
                out["rps"] = float(w[3])
            elif line.startswith("Total transferred:"):
                total_bytes = int(w[2])
            elif line.startswith("Time taken for tests:"):
                secs = float(w[4])
            elif line.startswith("Complete requests:"):
                out["complete"] = int(w[2])
            elif line.startswith("Failed requests:"):
                out["failed"] = int(w[2])
            elif line.startswith("Non-2xx responses:"):
                out["non2xx"] = int(w[2])
            elif w[0] == "50%":
                out["p50_ms"] = float(w[1])
            elif w[0] == "99%":
                out["p99_ms"] = float(w[1])
    if out["rps"] is None:
        print(f"cannot parse ab output {path}", file=sys.stderr)
        return 1
    if total_bytes is not None and secs:
        out["bytes_per_s"] = round(total_bytes / secs)
    out["errors"] = out["failed"] + out["non2xx"]
    for k, v in out.items():
        print(f"{k}={v}")
    return 0


def parse_h2load(path):
    """h2load's summary:
    finished in 5.00s, 41234.60 req/s, 5.11MB/s
    requests: 206173 total, ... 206173 succeeded, 0 failed, 0 errored, 0 timeout
    status codes: 206173 2xx, 0 3xx, 0 4xx, 0 5xx
    traffic: 25.56MB (26803490) total, ...
    time for request:   45us   12.10ms   2.38ms   1.02ms   70.12%
    """
    out = {"rps": None, "bytes_per_s": None, "mean_ms": None, "max_ms": None, "requests": 0,
           "failed": 0, "errored": 0, "timeout": 0, "non2xx": 0}
    secs, total_bytes = None, None
    with open(path) as f:
        for line in f:
            w = line.replace(",", " ").split()
            if not w:
                continue
            if w[0] == "finished" and len(w) > 4 and w[1] == "in":
                secs = to_ms(w[2]) / 1000.0
                out["rps"] = float(w[3])
            elif w[0] == "requests:":
                nums = {w[i + 1]: int(w[i]) for i in range(1, len(w) - 1) if w[i].isdigit()}
                out["requests"] = nums.get("succeeded", 0)
                for k in ("failed", "errored", "timeout"):
                    out[k] = nums.get(k, 0)
            elif w[0] == "status" and len(w) > 2 and w[1] == "codes:":
                nums = {w[i + 1]: int(w[i]) for i in range(2, len(w) - 1) if w[i].isdigit()}
                out["non2xx"] = sum(v for k, v in nums.items() if k != "2xx")
            elif w[0] == "traffic:" and len(w) > 2 and w[2].startswith("("):
                total_bytes = int(w[2].strip("()"))
            elif line.startswith("time for request:") and len(w) >= 7:
                out["max_ms"] = to_ms(w[4])
                out["mean_ms"] = to_ms(w[5])
    if out["rps"] is None:
        print(f"cannot parse h2load output {path}", file=sys.stderr)
        return 1
    if total_bytes is not None and secs:
        out["bytes_per_s"] = round(total_bytes / secs)
    out["errors"] = out["failed"] + out["errored"] + out["timeout"] + out["non2xx"]
    for k, v in out.items():
        print(f"{k}={v}")
    return 0


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    table = {
        "freeport": freeport, "wait": wait, "check": check, "tree": tree,
        "settle": settle, "pss": pss, "wrk": parse_wrk, "ab": parse_ab,
        "h2load": parse_h2load,
    }
    if cmd not in table:
        print(__doc__, file=sys.stderr)
        return 2
    return table[cmd](*args) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
