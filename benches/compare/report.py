#!/usr/bin/env python3
"""Turn one run of benches/compare.sh into a markdown table and an SVG chart.

    report.py RESULTS_TSV META_TSV OUT_MD OUT_SVG

RESULTS_TSV: `server<TAB>key<TAB>value` lines written during the run.
META_TSV:    `label<TAB>text` lines (machine, versions, settings), shown in order.
Every figure comes from these files; nothing is typed in here.
"""

import html
import sys

SERVERS = [
    ("apache-prefork", "Apache prefork"),
    ("mpm-prefork", "mpm prefork"),
    ("apache-worker", "Apache worker"),
    ("mpm-worker", "mpm worker"),
    ("apache-event", "Apache event"),
    ("mpm-event", "mpm event"),
    ("mpm-inline", "mpm event, async handler inline"),
    ("nginx", "nginx (2 workers)"),
]
BASELINE = {
    "mpm-prefork": "apache-prefork",
    "mpm-worker": "apache-worker",
    "mpm-event": "apache-event",
    "mpm-inline": "apache-event",
    "nginx": "apache-event",
}

# (key, label, decimals)
ROWS = [
    ("ka.rps", "wrk keep-alive: requests/s", 0),
    ("ka.p50_ms", "wrk keep-alive: p50 latency (ms)", 2),
    ("ka.p99_ms", "wrk keep-alive: p99 latency (ms)", 2),
    ("ka.errors", "wrk keep-alive: errors (socket + non-2xx)", 0),
    ("close.rps", "wrk `Connection: close`: requests/s", 0),
    ("close.p50_ms", "wrk `Connection: close`: p50 latency (ms)", 2),
    ("close.p99_ms", "wrk `Connection: close`: p99 latency (ms)", 2),
    ("close.errors", "wrk `Connection: close`: errors (socket + non-2xx)", 0),
    ("ab.rps", "ab (no keep-alive): requests/s", 0),
    ("ab.p50_ms", "ab (no keep-alive): p50 latency (ms)", 0),
    ("ab.p99_ms", "ab (no keep-alive): p99 latency (ms)", 0),
    ("ab.errors", "ab (no keep-alive): failed + non-2xx", 0),
    ("idle.pss_mib", "idle PSS, whole process tree (MiB)", 1),
    ("idle.procs", "processes at idle", 0),
    ("conns.held", "idle keep-alive connections held", 0),
    ("conns.kib_per_conn", "PSS per held idle keep-alive connection (KiB)", 2),
    ("conns.second_ok", "held connections answering a 2nd request", 0),
    ("conns.held_procs", "processes while holding them", 0),
    ("graceful.rps", "5 graceful restarts: requests/s", 0),
    ("graceful.p50_ms", "5 graceful restarts: p50 latency (ms)", 2),
    ("graceful.p99_ms", "5 graceful restarts: p99 latency (ms)", 2),
    ("graceful.socket_errors", "5 graceful restarts: socket errors", 0),
    ("graceful.non2xx", "5 graceful restarts: non-2xx responses", 0),
    ("response_bytes", "response size, headers + body (bytes)", 0),
    ("loadavg", "load average (1 min) of the machine at this server's start", 2),
]


# Context rows, not comparisons.
NO_RATIO = {"loadavg", "response_bytes"}


def load(path):
    data = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            server, key, value = line.split("\t", 2)
            data.setdefault(server, {})[key] = value
    return data


def num(data, server, key):
    v = data.get(server, {}).get(key)
    if v in (None, "", "None"):
        return None
    try:
        return float(v)
    except ValueError:
        return None


def fmt(v, decimals):
    if v is None:
        return "n/a"
    if decimals == 0:
        return f"{v:,.0f}"
    return f"{v:,.{decimals}f}"


def ratio(v, base):
    if v is None or base is None:
        return ""
    if base == 0:
        return " (=)" if v == 0 else " (—)"
    return f" (×{v / base:.2f})"


def table(data, present):
    head = "| figure | " + " | ".join(label for s, label in SERVERS if s in present) + " |"
    sep = "|---|" + "---:|" * len([s for s, _ in SERVERS if s in present])
    lines = [head, sep]
    for key, label, dec in ROWS:
        cells = []
        for s, _ in SERVERS:
            if s not in present:
                continue
            v = num(data, s, key)
            cell = fmt(v, dec)
            if s in BASELINE and key not in NO_RATIO:
                cell += ratio(v, num(data, BASELINE[s], key))
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(data):
    """The targets of issue #6, checked against this run's figures."""
    out = []

    def check(name, v, base, ok):
        if v is None or base is None:
            out.append(f"| {name} | n/a | |")
            return
        out.append(f"| {name} | {v:,.2f} vs {base:,.2f} | {'met' if ok(v, base) else 'NOT met'} |")

    for kind in ("prefork", "worker", "event"):
        m, a = f"mpm-{kind}", f"apache-{kind}"
        if m not in data:
            continue
        ka, ka_a = num(data, m, "ka.rps"), num(data, a, "ka.rps")
        check(f"{kind}: keep-alive req/s ≥ 2× Apache {kind}", ka, ka_a, lambda v, b: v >= 2 * b)
        cl, cl_a = num(data, m, "close.rps"), num(data, a, "close.rps")
        check(f"{kind}: close req/s ≥ 1.2× Apache {kind}", cl, cl_a, lambda v, b: v >= 1.2 * b)
        p, p_a = num(data, m, "idle.pss_mib"), num(data, a, "idle.pss_mib")
        check(f"{kind}: idle PSS (MiB) ≤ Apache {kind}", p, p_a, lambda v, b: v <= b)
        e = num(data, m, "graceful.socket_errors")
        n2 = num(data, m, "graceful.non2xx")
        errs = None if e is None or n2 is None else e + n2
        check(f"{kind}: errors during graceful restarts = 0", errs, 0.0, lambda v, b: v == 0)
        if kind == "event":
            k = num(data, m, "conns.kib_per_conn")
            check("event: ≤ 2 KiB per idle keep-alive connection", k, 2.0, lambda v, b: v <= b)
            n = num(data, "nginx", "ka.rps")
            ki = num(data, "mpm-inline", "ka.rps")
            check("event, inline async handler: keep-alive req/s ≥ nginx", ki, n, lambda v, b: v >= b)
    if not out:
        return ""
    return "| target (issue #6) | this run | |\n|---|---|---|\n" + "\n".join(out)


def svg(data, present, caption):
    servers = [(s, label) for s, label in SERVERS if s in present]
    series = [("ka.rps", "wrk keep-alive", "#3b6ea5"), ("close.rps", "wrk Connection: close", "#e08a2c")]
    values = [num(data, s, k) or 0.0 for s, _ in servers for k, _, _ in series]
    top = max(values + [1.0])
    # A round axis maximum: 1, 2 or 5 times a power of ten.
    step = 1.0
    while step * 10 <= top:
        step *= 10
    for m in (1, 2, 5, 10):
        if step * m >= top:
            axis_max = step * m
            break
    width, height = 120 + 110 * len(servers), 440
    left, right, top_pad, bottom = 80, 20, 60, 80
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    y = lambda v: top_pad + plot_h * (1 - v / axis_max)  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="16">'
        "Requests per second, 14-byte response, 127.0.0.1 (higher is better)</text>",
        f'<text x="{width / 2}" y="42" text-anchor="middle" font-size="11" fill="#555">'
        f"{html.escape(caption)}</text>",
    ]
    for i in range(5):
        v = axis_max * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
    group = plot_w / len(servers)
    bar = group * 0.32
    for i, (s, label) in enumerate(servers):
        gx = left + group * i + group * 0.5 - bar
        for j, (key, _, colour) in enumerate(series):
            v = num(data, s, key)
            x = gx + j * bar
            if v is None:
                parts.append(f'<text x="{x + bar / 2:.1f}" y="{y(0) - 4:.1f}" text-anchor="middle" '
                             'font-size="10">n/a</text>')
                continue
            parts.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar - 2:.1f}" '
                         f'height="{y(0) - y(v):.1f}" fill="{colour}"/>')
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{y(v) - 4:.1f}" text-anchor="middle" '
                         f'font-size="10">{v:,.0f}</text>')
        parts.append(f'<text x="{left + group * (i + 0.5):.1f}" y="{y(0) + 18:.1f}" '
                     f'text-anchor="middle">{html.escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
                 'stroke="#333"/>')
    lx = left
    for key, name, colour in series:
        parts.append(f'<rect x="{lx}" y="{height - 30}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 16}" y="{height - 20}">{html.escape(name)}</text>')
        lx += 200
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(results, meta, out_md, out_svg):
    data = load(results)
    present = [s for s, _ in SERVERS if s in data]
    meta_lines, meta_map = [], {}
    with open(meta) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                label, _, text = line.partition("\t")
                meta_lines.append(f"- **{label}**: {text}")
                meta_map[label] = text
    caption = "; ".join(meta_map[k] for k in ("command", "date") if k in meta_map)
    if "machine" in meta_map:
        caption += "; " + meta_map["machine"].split(",")[0]
    md = [
        "# Load comparison: mpm vs Apache httpd 2.4 vs nginx",
        "",
        "Made by `benches/compare.sh`; every figure below comes from one run of it.",
        "In parentheses: the figure divided by the same figure for Apache's matching MPM",
        "in this run (mpm prefork ÷ Apache prefork, worker ÷ worker, event ÷ event,",
        "nginx ÷ Apache event). Above 1 is better for requests/s and held connections,",
        "worse for latency, memory and errors. `(=)`: both zero; `(—)`: Apache's is zero.",
        "",
        table(data, present),
        "",
    ]
    t = targets(data)
    if t:
        md += [t, ""]
    md += ["![requests/s](latest.svg)", "", "## Run", ""] + meta_lines + [""]
    with open(out_md, "w") as f:
        f.write("\n".join(md))
    with open(out_svg, "w") as f:
        f.write(svg(data, present, caption))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
