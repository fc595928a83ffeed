#!/usr/bin/env python3
"""Issue 3's target ratios, per run and as medians, from bench-peers CSV files.

usage: scripts/bench-medians.py RUN [RUN ...]
A RUN is one bench-peers.sh run: a CSV path, or several paths joined with '+' when the run's
placements were written to separate files (e.g. peers-final1-pinned.csv+peers-final1-shared.csv).
Each ratio compares servers measured in the same run; prints a Markdown table.
"""
import csv
import statistics
import sys


def load(run):
    rows = {}
    for path in run.split("+"):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                rows[(r["placement"], r["scenario"], r["server"])] = r
    return rows


def value(run, placement, scenario, server, key):
    r = run.get((placement, scenario, server))
    if r is None or not r[key]:
        raise KeyError(f"{placement} {scenario} {server} {key}")
    return float(r[key])


def cpu(run, server):
    return value(run, "pinned", "ka64", server, "cpu_us_per_req")


def rps(run, server, scenario, placement="pinned"):
    return value(run, placement, scenario, server, "req_per_s")


# (target, ratio of one run, limit, lower is better)
TARGETS = [
    ("ka64 pinned: CPU/req ≤ 0.85 × fasthttp", lambda r: cpu(r, "shockwave") / cpu(r, "fasthttp"), 0.85, True),
    (
        "ka64 pinned: CPU/req ≤ 1.0 × best Rust peer",
        lambda r: cpu(r, "shockwave") / min(cpu(r, s) for s in ("hyper", "actix", "may_minihttp")),
        1.0,
        True,
    ),
    ("ka64 pinned: CPU/req ≤ 1.1 × floor", lambda r: cpu(r, "shockwave") / cpu(r, "floor"), 1.1, True),
    ("ka64 pinned: req/s ≥ 1.05 × fasthttp", lambda r: rps(r, "shockwave", "ka64") / rps(r, "fasthttp", "ka64"), 1.05, False),
    ("pipe16 pinned: req/s ≥ 1.25 × fasthttp", lambda r: rps(r, "shockwave", "pipe16") / rps(r, "fasthttp", "pipe16"), 1.25, False),
    ("pipe16 pinned: req/s ≥ 1.0 × may_minihttp", lambda r: rps(r, "shockwave", "pipe16") / rps(r, "may_minihttp", "pipe16"), 1.0, False),
    ("close64 pinned: req/s ≥ 1.1 × fasthttp", lambda r: rps(r, "shockwave", "close64") / rps(r, "fasthttp", "close64"), 1.1, False),
    (
        "ka256 shared: req/s ≥ 1.2 × fasthttp",
        lambda r: rps(r, "shockwave", "ka256", "shared") / rps(r, "fasthttp", "ka256", "shared"),
        1.2,
        False,
    ),
    (
        "ka64 pinned: p99 ≤ fasthttp's",
        lambda r: value(r, "pinned", "ka64", "shockwave", "p99_us") / value(r, "pinned", "ka64", "fasthttp", "p99_us"),
        1.0,
        True,
    ),
]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = [load(a) for a in sys.argv[1:]]
    print(f"| target | median of {len(runs)} runs (each run) | |")
    print("|---|---|---|")
    for name, ratio, limit, low in TARGETS:
        try:
            vals = [ratio(r) for r in runs]
        except KeyError as e:
            print(f"| {name} | missing {e} | |")
            continue
        med = statistics.median(vals)
        met = med <= limit if low else med >= limit
        each = ", ".join(f"{v:.2f}" for v in vals)
        print(f"| {name} | {med:.3f} ({each}) | {'met' if met else '**not met**'} |")


if __name__ == "__main__":
    main()
