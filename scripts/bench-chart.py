#!/usr/bin/env python3
"""Turn the raw CSV of scripts/bench-peers.sh into the final CSV (with ratios),
a Markdown table and an SVG chart.

Standard library only (the SVG is written by hand), so it never needs network.

usage:
  bench-chart.py RAW_CSV --csv OUT.csv --md OUT_TABLE.md --svg OUT.svg [--title T]

RAW_CSV columns (written by bench-peers.sh):
  placement,scenario,server,connections,wrk_threads,duration_s,requests,
  req_per_s,p99_us,non2xx,err_connect,err_read,err_write,err_timeout,
  cpu_ticks,cpu_us_per_req,peak_rss_kb,status
"""

import argparse
import csv
import math
import sys
from html import escape

SCENARIO_LABEL = {
    "ka64": "keep-alive, 64 conns",
    "ka256": "keep-alive, 256 conns",
    "pipe16": "pipelined x16, 64 conns",
    "close64": "Connection: close, 64 conns",
}
PLACEMENT_LABEL = {
    "pinned": "pinned: server on CPU 0 (1 thread), wrk -t1 on CPU 1",
    "shared": "shared: no pinning, server 2 threads, wrk -t2",
}
PALETTE = {
    "shockwave": "#d9480f",
    "fasthttp": "#1c7ed6",
    "hyper": "#7048e8",
    "actix": "#2b8a3e",
    "may_minihttp": "#0ca678",
    "tiny_http": "#c2255c",
    "astra": "#f59f00",
    "floor": "#868e96",
}
EXTRA_COLORS = ["#66a80f", "#5c940d", "#ae3ec9", "#495057", "#1098ad"]


def fnum(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def load(path):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in ("req_per_s", "p99_us", "cpu_us_per_req", "peak_rss_kb", "requests",
                  "wrk_cpu_pct", "other_cpu_pct"):
            r[k + "_f"] = fnum(r.get(k))
    return rows


def ordered(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def add_ratios(rows):
    by_key = {(r["placement"], r["scenario"], r["server"]): r for r in rows}
    for r in rows:
        for ref in ("floor", "fasthttp"):
            b = by_key.get((r["placement"], r["scenario"], ref))
            rps, cpu = r["req_per_s_f"], r["cpu_us_per_req_f"]
            brps = b["req_per_s_f"] if b else None
            bcpu = b["cpu_us_per_req_f"] if b else None
            r[f"rps_vs_{ref}"] = rps / brps if rps is not None and brps else None
            r[f"cpu_vs_{ref}"] = cpu / bcpu if cpu is not None and bcpu else None


def fmt_int(v):
    return "—" if v is None else f"{v:,.0f}"


def fmt_ratio(v):
    return "—" if v is None else f"{v:.2f}×"


def fmt_us(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v / 1000:.2f} ms"
    return f"{v:.0f} µs"


def fmt_cpu(v):
    if v is None:
        return "—"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def fmt_pct(v):
    return "—" if v is None else f"{v:.0f}%"


NOISY_PCT = 5.0


def fmt_other(v):
    if v is None:
        return "—"
    return f"⚠ {v:.0f}%" if v >= NOISY_PCT else f"{v:.0f}%"


def fmt_rss(kb):
    return "—" if kb is None else f"{kb / 1024:.1f} MiB"


def write_csv(rows, path):
    cols = [
        "placement", "scenario", "server", "connections", "wrk_threads", "duration_s",
        "requests", "req_per_s", "rps_vs_floor", "rps_vs_fasthttp", "p99_us",
        "cpu_us_per_req", "cpu_vs_floor", "cpu_vs_fasthttp", "peak_rss_kb",
        "non2xx", "err_connect", "err_read", "err_write", "err_timeout", "cpu_ticks",
        "wrk_cpu_pct", "other_cpu_pct", "status",
    ]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            out = []
            for c in cols:
                v = r.get(c)
                if c.startswith(("rps_vs_", "cpu_vs_")):
                    v = "" if v is None else f"{v:.4f}"
                out.append("" if v is None else v)
            w.writerow(out)


def markdown(rows):
    lines = []
    for placement in ordered(r["placement"] for r in rows):
        prow = [r for r in rows if r["placement"] == placement]
        lines.append(f"### {PLACEMENT_LABEL.get(placement, placement)}")
        lines.append("")
        lines.append(
            "| scenario | server | req/s | vs floor | vs fasthttp | p99 latency "
            "| CPU µs/req | CPU vs floor | CPU vs fasthttp | peak RSS | non-2xx "
            "| socket errors c/r/w/t | wrk CPU | other load |"
        )
        lines.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for scen in ordered(r["scenario"] for r in prow):
            for r in (x for x in prow if x["scenario"] == scen):
                status = r.get("status", "ok")
                name = r["server"] if status == "ok" else f"{r['server']} ({status})"
                errs = "/".join(r.get(k) or "0" for k in ("err_connect", "err_read", "err_write", "err_timeout"))
                lines.append(
                    f"| {scen} | {name} | {fmt_int(r['req_per_s_f'])} "
                    f"| {fmt_ratio(r['rps_vs_floor'])} | {fmt_ratio(r['rps_vs_fasthttp'])} "
                    f"| {fmt_us(r['p99_us_f'])} | {fmt_cpu(r['cpu_us_per_req_f'])} "
                    f"| {fmt_ratio(r['cpu_vs_floor'])} | {fmt_ratio(r['cpu_vs_fasthttp'])} "
                    f"| {fmt_rss(r['peak_rss_kb_f'])} | {r.get('non2xx') or '0'} | {errs} "
                    f"| {fmt_pct(r['wrk_cpu_pct_f'])} | {fmt_other(r['other_cpu_pct_f'])} |"
                )
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- SVG chart

def nice_log_bounds(values):
    """Log-axis bounds: a decade below the smallest value, and the first
    1/2/5 step above the largest with room for the value labels."""
    pos = [v for v in values if v is not None and v > 0]
    if not pos:
        return 1.0, 10.0
    lo = 10 ** math.floor(math.log10(min(pos)))
    want = max(pos) * 1.6
    k = math.floor(math.log10(want))
    hi = next(m * 10 ** k for m in (1, 2, 5, 10) if m * 10 ** k >= want)
    if hi <= lo:
        hi = lo * 10
    return lo, hi


def short(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    if v >= 1e3:
        return f"{v / 1e3:.0f}k" if v >= 1e4 else f"{v / 1e3:.1f}k"
    if v >= 10:
        return f"{v:.0f}"
    return f"{v:.2f}"


def panel(out, x0, y0, w, h, title, rows, scenarios, servers, colors, key, unit):
    """One grouped-bar panel on a log y axis; returns nothing, appends to out."""
    left, right, top, bottom = 70, 10, 28, 46
    pw, ph = w - left - right, h - top - bottom
    px, py = x0 + left, y0 + top
    vals = [r[key] for r in rows]
    lo, hi = nice_log_bounds(vals)
    llo, lhi = math.log10(lo), math.log10(hi)

    def ymap(v):
        return py + ph - (math.log10(v) - llo) / (lhi - llo) * ph

    out.append(f'<text x="{x0 + 8}" y="{y0 + 18}" class="ptitle">{escape(title)}</text>')
    # grid: decades solid, 2x and 5x dotted
    d = llo
    while d <= lhi + 1e-9:
        base = 10 ** d
        for m in (1, 2, 5):
            v = base * m
            if v > hi * 1.0001:
                break
            y = ymap(v)
            cls = "grid" if m == 1 else "grid2"
            out.append(f'<line x1="{px}" y1="{y:.1f}" x2="{px + pw}" y2="{y:.1f}" class="{cls}"/>')
            out.append(f'<text x="{px - 6}" y="{y + 4:.1f}" class="ytick">{short(v)}</text>')
        d += 1
    out.append(
        f'<text x="{x0 + 14}" y="{py + ph / 2:.1f}" class="ylab" '
        f'transform="rotate(-90 {x0 + 14} {py + ph / 2:.1f})">{escape(unit)} (log)</text>'
    )
    out.append(f'<rect x="{px}" y="{py}" width="{pw}" height="{ph}" class="frame"/>')
    ng = max(len(scenarios), 1)
    gw = pw / ng
    bw = min(34.0, (gw * 0.84) / max(len(servers), 1))
    by_key = {(r["scenario"], r["server"]): r for r in rows}
    for gi, scen in enumerate(scenarios):
        gx = px + gi * gw + (gw - bw * len(servers)) / 2
        out.append(
            f'<text x="{px + gi * gw + gw / 2:.1f}" y="{py + ph + 18}" class="xlab">'
            f'{escape(SCENARIO_LABEL.get(scen, scen))}</text>'
        )
        for si, srv in enumerate(servers):
            r = by_key.get((scen, srv))
            v = r[key] if r else None
            bx = gx + si * bw
            if v is None or v <= 0:
                if r is not None:
                    out.append(f'<text x="{bx + bw / 2:.1f}" y="{py + ph - 4}" class="na">n/a</text>')
                continue
            y = ymap(max(v, lo))
            out.append(
                f'<rect x="{bx + 1:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" height="{py + ph - y:.1f}" '
                f'fill="{colors[srv]}"><title>{escape(srv)} / {escape(scen)}: {v:,.2f} {escape(unit)}</title></rect>'
            )
            mark = ""
            if (r.get("other_cpu_pct_f") or 0) >= NOISY_PCT:
                mark += "*"
            if r.get("status") == "ignores-close":
                mark += "†"
            ly = y - 4
            out.append(
                f'<text x="{bx + bw / 2 + 3:.1f}" y="{ly:.1f}" class="val" '
                f'transform="rotate(-90 {bx + bw / 2 + 3:.1f} {ly:.1f})">{short(v)}{mark}</text>'
            )


def svg(rows, title):
    placements = ordered(r["placement"] for r in rows)
    scenarios = ordered(r["scenario"] for r in rows)
    servers = ordered(r["server"] for r in rows)
    colors = {}
    extra = iter(EXTRA_COLORS * 4)
    for s in servers:
        colors[s] = PALETTE.get(s) or next(extra)
    W = max(980, 140 + len(scenarios) * (len(servers) * 30 + 40))
    PH = 330
    legend_h = 34
    H = 50 + legend_h + len(placements) * 2 * PH + 34
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        "<style>"
        ".title{font-size:17px;font-weight:bold}.ptitle{font-size:13px;font-weight:bold}"
        ".ytick{font-size:10px;text-anchor:end;fill:#444}.ylab{font-size:11px;text-anchor:middle;fill:#444}"
        ".xlab{font-size:11px;text-anchor:middle}.val{font-size:9px;fill:#222}"
        ".na{font-size:9px;text-anchor:middle;fill:#a00}.leg{font-size:12px}"
        ".grid{stroke:#bbb;stroke-width:0.8}.grid2{stroke:#ddd;stroke-width:0.6;stroke-dasharray:2,3}"
        ".frame{fill:none;stroke:#888;stroke-width:0.8}"
        "</style>",
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="12" y="26" class="title">{escape(title)}</text>',
    ]
    lx = 14
    for s in servers:
        out.append(f'<rect x="{lx}" y="44" width="14" height="14" fill="{colors[s]}"/>')
        out.append(f'<text x="{lx + 19}" y="56" class="leg">{escape(s)}</text>')
        lx += 30 + 8 * len(s)
    y = 50 + legend_h
    for pl in placements:
        prow = [r for r in rows if r["placement"] == pl]
        label = PLACEMENT_LABEL.get(pl, pl)
        panel(out, 0, y, W, PH, f"Throughput (req/s) — {label}", prow, scenarios, servers, colors,
              "req_per_s_f", "req/s")
        y += PH
        panel(out, 0, y, W, PH, f"Server CPU per request (µs) — {label}", prow, scenarios, servers,
              colors, "cpu_us_per_req_f", "CPU µs/req")
        y += PH
    out.append(
        f'<text x="12" y="{y + 20}" class="leg">* other processes used ≥ {NOISY_PCT:.0f}% of the host CPU '
        "during that run (disturbed)   † server ignores Connection: close (row measures keep-alive)   "
        "n/a = run failed</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw_csv")
    ap.add_argument("--csv", required=True, help="final CSV with ratio columns")
    ap.add_argument("--md", required=True, help="Markdown table(s)")
    ap.add_argument("--svg", required=True, help="SVG chart")
    ap.add_argument("--title", default="Shockwave vs peers — plaintext Hello, World!")
    a = ap.parse_args()
    rows = load(a.raw_csv)
    if not rows:
        print("bench-chart: no rows in " + a.raw_csv, file=sys.stderr)
        return 1
    add_ratios(rows)
    write_csv(rows, a.csv)
    with open(a.md, "w") as fh:
        fh.write(markdown(rows))
    with open(a.svg, "w") as fh:
        fh.write(svg(rows, a.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
