#!/usr/bin/env python3
"""Memory per held idle keep-alive connection (standard library only).

    idle_conns.py PORT MASTER_PID N

Opens N connections to 127.0.0.1:PORT, sends one keep-alive `GET /` on each and reads
the answer. A connection that answered is "held". Once no new answer has come for a
while (servers with a bounded number of workers hold only that many), it waits a moment,
reads the PSS of the server's whole process tree, and reports

    (PSS while holding - PSS before) / held

Then it sends a second request on every held connection, counts the correct answers,
and closes everything. Output: `key=value` lines.
"""

import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import pss_kb  # noqa: E402

ADDR = ("127.0.0.1", 0)
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
BODY = b"Hello, world!\n"
BATCH = 250  # connections started at once
STALL = 2.5  # seconds without a new answer before we stop waiting for more


class Conn:
    __slots__ = ("sock", "state", "buf")

    def __init__(self, sock):
        self.sock = sock
        self.state = "connecting"
        self.buf = b""


def complete_response(buf):
    """True/False when buf holds a whole answer (ok or not), None when more is needed."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.split(b"\r\n")
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None or len(rest) < length:
        return None
    return b" 200 " in lines[0] + b" " and rest[:length] == BODY


def run_round(sel, conns, deadline, stall):
    """Drive sockets until every conn in `conns` is done, or nothing progresses."""
    pending = sum(1 for c in conns if c.state in ("connecting", "sent"))
    last_progress = time.monotonic()
    while pending and time.monotonic() < deadline and time.monotonic() - last_progress < stall:
        for key, events in sel.select(timeout=0.2):
            c = key.data
            if c.state == "connecting":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    c.state = "failed"
                    sel.unregister(c.sock)
                    pending -= 1
                    continue
                try:
                    c.sock.send(REQUEST)
                except OSError:
                    c.state = "failed"
                    sel.unregister(c.sock)
                    pending -= 1
                    continue
                c.state = "sent"
                sel.modify(c.sock, selectors.EVENT_READ, c)
            elif c.state == "sent":
                try:
                    data = c.sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    c.state = "failed"
                    sel.unregister(c.sock)
                    pending -= 1
                    continue
                c.buf += data
                done = complete_response(c.buf)
                if done is None:
                    continue
                c.state = "ok" if done else "failed"
                c.buf = b""
                sel.unregister(c.sock)
                pending -= 1
                last_progress = time.monotonic()


def main():
    port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    addr = (ADDR[0], port)
    base_kb, base_procs = pss_kb(pid)
    sel = selectors.DefaultSelector()
    conns = []
    t0 = time.monotonic()
    deadline = t0 + 30 + n / 400.0
    # Start connections in batches so a listen backlog is not flooded all at once.
    for start in range(0, n, BATCH):
        for _ in range(min(BATCH, n - start)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            c = Conn(s)
            err = s.connect_ex(addr)
            if err not in (0, 115):  # EINPROGRESS
                c.state = "failed"
            else:
                sel.register(s, selectors.EVENT_WRITE, c)
            conns.append(c)
        run_round(sel, conns, min(deadline, time.monotonic() + 0.3), STALL)
    run_round(sel, conns, deadline, STALL)
    held = [c for c in conns if c.state == "ok"]
    open_secs = time.monotonic() - t0
    time.sleep(1.0)  # let the server finish its bookkeeping for the idle connections
    held_kb, held_procs = pss_kb(pid)

    # Second request on every held connection: are they really still alive?
    for c in conns:
        if c.state in ("connecting", "sent"):
            sel.unregister(c.sock)
    for c in held:
        c.state = "sent"
        try:
            c.sock.send(REQUEST)
            sel.register(c.sock, selectors.EVENT_READ, c)
        except OSError:
            c.state = "failed"
    run_round(sel, held, time.monotonic() + 15 + n / 1000.0, 5.0)
    second_ok = sum(1 for c in held if c.state == "ok")
    for c in conns:
        try:
            c.sock.close()
        except OSError:
            pass
    sel.close()

    per_conn = (held_kb - base_kb) / len(held) if held else None
    print(f"requested={n}")
    print(f"held={len(held)}")
    print(f"open_seconds={open_secs:.1f}")
    print(f"base_pss_kb={base_kb}")
    print(f"base_procs={base_procs}")
    print(f"held_pss_kb={held_kb}")
    print(f"held_procs={held_procs}")
    print(f"kib_per_conn={'' if per_conn is None else f'{per_conn:.2f}'}")
    print(f"second_ok={second_ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
