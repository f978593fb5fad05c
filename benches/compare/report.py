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
    ("hyper", "hyper (bare, 2 threads)"),
]
BASELINE = {
    "mpm-prefork": "apache-prefork",
    "mpm-worker": "apache-worker",
    "mpm-event": "apache-event",
    "mpm-inline": "apache-event",
    "nginx": "apache-event",
    "hyper": "apache-event",
}
# A second ratio shown beside the first: issue 13 holds the inline handler to nginx.
SECOND = {"mpm-inline": ("nginx", "nginx")}

# The loads of the loads phase: (key, title, latency figures). "pct": p50/p99 (wrk, ab);
# "mean": h2load, which prints mean and max only.
LOADS = [
    ("ka10", "wrk keep-alive, 10 connections", "pct"),
    ("ka50", "wrk keep-alive, 50 connections", "pct"),
    ("close", "wrk `Connection: close`, 50 connections", "pct"),
    ("ab", "ab, no keep-alive, 50 concurrent", "pct"),
    ("h2c100", "h2load --h1 keep-alive, 100 connections", "mean"),
    ("h2c500", "h2load --h1 keep-alive, 500 connections", "mean"),
    ("ka50_busy", "wrk keep-alive, 50 connections, one CPU kept busy", "pct"),
    ("close_busy", "wrk `Connection: close`, 50 connections, one CPU kept busy", "pct"),
]
KEEPALIVE_LOADS = ["ka10", "ka50", "h2c100", "h2c500", "ka50_busy"]
CLOSE_LOADS = ["close", "ab"]


def load_rows(key, kind):
    """(key, label, decimals, scale) rows of one load."""
    rows = [
        (f"{key}.rps", "requests/s (median)", 0, 1.0),
        (f"{key}.rps.range", "requests/s, lowest–highest round", 0, 1.0),
        (f"{key}.bytes_per_s", "MB/s received (10⁶ bytes, median)", 2, 1e-6),
    ]
    if kind == "pct":
        rows += [(f"{key}.p50_ms", "p50 latency (ms)", 2, 1.0),
                 (f"{key}.p99_ms", "p99 latency (ms)", 2, 1.0)]
    else:
        rows += [(f"{key}.mean_ms", "mean latency (ms)", 2, 1.0),
                 (f"{key}.max_ms", "max latency (ms)", 2, 1.0)]
    rows += [
        (f"{key}.errors", "errors, all rounds (socket, failed, non-2xx)", 0, 1.0),
        (f"{key}.loadavg", "load average (1 min) before its runs (median)", 2, 1.0),
    ]
    if kind == "mean":
        rows.append((f"{key}.reruns", "h2load runs cut off after hanging (all rounds)", 0, 1.0))
    return rows


# (key, label, decimals, scale): the memory phase, the graceful restarts, context.
OTHER_ROWS = [
    ("idle.pss_mib", "idle PSS, whole process tree (MiB)", 1, 1.0),
    ("idle.procs", "processes at idle", 0, 1.0),
    ("conns.held", "idle keep-alive connections held", 0, 1.0),
    ("conns.kib_per_conn", "PSS per held idle keep-alive connection (KiB)", 2, 1.0),
    ("conns.second_ok", "held connections answering a 2nd request", 0, 1.0),
    ("conns.held_procs", "processes while holding them", 0, 1.0),
    ("graceful.rps", "5 graceful restarts: requests/s", 0, 1.0),
    ("graceful.p50_ms", "5 graceful restarts: p50 latency (ms)", 2, 1.0),
    ("graceful.p99_ms", "5 graceful restarts: p99 latency (ms)", 2, 1.0),
    ("graceful.socket_errors", "5 graceful restarts: socket errors", 0, 1.0),
    ("graceful.non2xx", "5 graceful restarts: non-2xx responses", 0, 1.0),
    ("response_bytes", "response size, headers + body (bytes)", 0, 1.0),
    ("loadavg", "load average (1 min) at the start of its memory phase", 2, 1.0),
]


def no_ratio(key):
    """Context rows, not comparisons."""
    return key.endswith((".loadavg", ".range", ".reruns")) or key in ("loadavg", "response_bytes")


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
    if v in (None, "", "None", "n/a"):
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


def ratio_text(v, base):
    if v is None or base is None:
        return None
    if base == 0:
        return "=" if v == 0 else "—"
    return f"×{v / base:.2f}"


def cell(data, s, key, dec, scale):
    if key.endswith(".range"):
        base = key[: -len(".range")]
        lo, hi = num(data, s, base + ".min"), num(data, s, base + ".max")
        if lo is None or hi is None:
            return "n/a"
        return f"{fmt(lo * scale, dec)}–{fmt(hi * scale, dec)}"
    v = num(data, s, key)
    text = fmt(None if v is None else v * scale, dec)
    if no_ratio(key) or v is None:
        return text
    ratios = []
    if s in BASELINE:
        r = ratio_text(v, num(data, BASELINE[s], key))
        if r:
            ratios.append(r)
    if s in SECOND:
        other, name = SECOND[s]
        r = ratio_text(v, num(data, other, key))
        if r:
            ratios.append(f"{r} {name}")
    if ratios:
        text += " (" + "; ".join(ratios) + ")"
    return text


def table(data, present):
    cols = [s for s, _ in SERVERS if s in present]
    head = "| figure | " + " | ".join(label for s, label in SERVERS if s in present) + " |"
    sep = "|---|" + "---:|" * len(cols)
    lines = [head, sep]

    def add(rows):
        for key, label, dec, scale in rows:
            if all(num(data, s, key) is None for s in cols) and not key.endswith(".range"):
                continue
            cells = [cell(data, s, key, dec, scale) for s in cols]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for key, title, kind in LOADS:
        if all(num(data, s, f"{key}.rps") is None for s in cols):
            continue
        rounds = max(int(num(data, s, f"{key}.rps.rounds") or 0) for s in cols)
        lines.append(f"| **{title}** ({rounds} round{'s' if rounds != 1 else ''}) |"
                     + " |" * len(cols))
        add(load_rows(key, kind))
    lines.append("| **memory, graceful restarts, context** |" + " |" * len(cols))
    add(OTHER_ROWS)
    return "\n".join(lines)


def targets(data):
    """The targets of issue 13, checked against this run's figures."""
    out = []

    labels = dict(SERVERS)

    def ceiling(load):
        """The most requests/s any server of this run reached on `load`, and which one:
        a target above it is above what this machine and client gave anyone."""
        best = [(num(data, s, f"{load}.rps"), s) for s in data]
        best = [b for b in best if b[0] is not None]
        return max(best) if best else (None, None)

    def check(name, load, v, base, factor):
        """Met when v >= factor × base."""
        if v is None or base is None:
            out.append(f"| {name} | n/a (not measured in this run) | — | — |")
            return
        r = f" (×{v / base:.2f})" if base else ""
        ok = v >= factor * base
        top, who = ceiling(load)
        reach = f"{factor * base:,.0f}; best here {top:,.0f} ({labels.get(who, who)})"
        out.append(f"| {name} | {v:,.0f} vs {base:,.0f}{r} | {reach} | "
                   f"{'met' if ok else '**NOT met**'} |")

    def check_max(name, v, limit, unit):
        if v is None:
            out.append(f"| {name} | n/a (not measured in this run) | — | — |")
            return
        ok = v <= limit
        out.append(f"| {name} | {v:,.2f} {unit} | — | {'met' if ok else '**NOT met**'} |")

    titles = {k: t for k, t, _ in LOADS}
    present_loads = {k.split(".")[0] for d in data.values() for k in d if k.endswith(".rps")}
    ka_loads = [k for k in KEEPALIVE_LOADS if k in present_loads or k != "h2c500"]
    for kind in ("prefork", "worker", "event"):
        m, a = f"mpm-{kind}", f"apache-{kind}"
        if m not in data:
            continue
        for load in CLOSE_LOADS:
            check(f"{kind}: {titles[load]}: req/s ≥ 1.2× Apache {kind}", load,
                  num(data, m, f"{load}.rps"), num(data, a, f"{load}.rps"), 1.2)
        for load in ka_loads:
            check(f"{kind}: {titles[load]}: req/s ≥ 2× Apache {kind}", load,
                  num(data, m, f"{load}.rps"), num(data, a, f"{load}.rps"), 2.0)
        if kind == "event":
            check_max("event: PSS per idle keep-alive connection ≤ 2 KiB",
                      num(data, m, "conns.kib_per_conn"), 2.0, "KiB")
        e, n2 = num(data, m, "graceful.socket_errors"), num(data, m, "graceful.non2xx")
        errs = None if e is None or n2 is None else e + n2
        check_max(f"{kind}: errors during graceful restarts = 0 (issue 6)", errs, 0.0, "errors")
    if "mpm-inline" in data:
        for load in ka_loads:
            check(f"event inline: {titles[load]}: req/s ≥ 1.2× nginx", load,
                  num(data, "mpm-inline", f"{load}.rps"), num(data, "nginx", f"{load}.rps"), 1.2)
        for load in CLOSE_LOADS:
            check(f"event inline: {titles[load]}: req/s ≥ nginx", load,
                  num(data, "mpm-inline", f"{load}.rps"), num(data, "nginx", f"{load}.rps"), 1.0)
    if not out:
        return ""
    return ("| target (issue 13; medians of this run) | this run: mpm vs reference "
            "| req/s the target needs; the most any server reached on that load here | |\n"
            "|---|---|---|---|\n" + "\n".join(out))


def svg(data, present, caption):
    servers = [(s, label) for s, label in SERVERS if s in present]
    series = [("ka50.rps", "wrk keep-alive -c50", "#3b6ea5"),
              ("h2c100.rps", "h2load --h1 -c100", "#6aa84f"),
              ("close.rps", "wrk Connection: close -c50", "#e08a2c"),
              ("ab.rps", "ab -c50", "#a64d79")]
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
    width, height = max(120 + 130 * len(servers), 900), 440
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
    bar = group * 0.8 / len(series)
    for i, (s, label) in enumerate(servers):
        gx = left + group * i + group * 0.1
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
        lx += 190
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
        "Each load's figures are medians over the rounds of this run (see \"rounds\" below).",
        "In parentheses: the figure divided by the same figure for Apache's matching MPM",
        "in this run (mpm prefork ÷ Apache prefork, worker ÷ worker, event ÷ event;",
        "nginx, hyper and mpm inline ÷ Apache event; mpm inline also ÷ nginx). Above 1 is",
        "better for requests/s, MB/s and held connections, worse for latency, memory and",
        "errors. `(=)`: both zero; `(—)`: the reference is zero. Response sizes differ",
        "(row \"response size\"), hence MB/s beside requests/s.",
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
