#!/usr/bin/env python3
"""Fold the rounds of benches/compare.sh's loads into one figure per server and key.

    rounds.py RESULTS_TSV

The loads phase records each round's figures as `server<TAB>load.key@ROUND<TAB>value`.
This appends, for every such key without the `@ROUND`:

  load.key        the median over the rounds (errors and other counts: the sum, so an
                  error in one round is never hidden by the median)
  load.key.min    the smallest value
  load.key.max    the largest value
  load.key.runs   every round's value in round order, comma-separated

The per-round lines stay in the file. Standard library only.
"""

import statistics
import sys

# Counts, summed over the rounds rather than taken as a median.
SUMMED = {"errors", "socket_errors", "non2xx", "failed", "errored", "timeout", "requests",
          "complete", "reruns"}


def show(v):
    if v is None:
        return "n/a"
    if v == int(v):
        return str(int(v))
    return f"{v:.4f}".rstrip("0")


def main(path):
    runs = {}
    order = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            server, key, value = line.split("\t", 2)
            if "@" not in key:
                continue
            base, _, rnd = key.rpartition("@")
            if (server, base) not in runs:
                runs[(server, base)] = []
                order.append((server, base))
            runs[(server, base)].append((int(rnd), value))
    out = []
    for server, base in order:
        vals = []
        for _, v in sorted(runs[(server, base)]):
            try:
                vals.append(float(v))
            except ValueError:
                vals.append(None)
        got = [v for v in vals if v is not None]
        shown = ",".join(show(v) for v in vals)
        out.append((server, f"{base}.runs", shown))
        if not got:
            continue
        leaf = base.rsplit(".", 1)[-1]
        agg = sum(got) if leaf in SUMMED else statistics.median(got)
        out.append((server, base, show(float(agg))))
        out.append((server, f"{base}.min", show(min(got))))
        out.append((server, f"{base}.max", show(max(got))))
        out.append((server, f"{base}.rounds", str(len(got))))
    with open(path, "a") as f:
        for server, key, value in out:
            f.write(f"{server}\t{key}\t{value}\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
