#!/usr/bin/env python3
"""Client half of scripts/proxies.sh. Each ROUTE is PROXY:UPSTREAM:PORT:PREFIX: a proxy on
127.0.0.1:PORT that passes PREFIX... to examples/UPSTREAM (hello or echo). Over one kept-alive
connection per route (reopened only after a response that closes it), the routes running side
by side, it POSTs every body size with Content-Length and with chunked framing, REPS times,
checks each answer, prints a table and exits 1 if any answer was not the expected one. On the
proxies named by --retry-closed, a request that finds its kept-alive connection closed is retried
once on a new one, and counted (see post); anywhere else that is a failure."""
import argparse
import collections
import concurrent.futures
import http.client
import json
import random
import time

LIMIT = 8 * 1024 * 1024  # the examples' default max_request_body
SIZES = [0, 70_000, 300_000, 2_000_000, 10_000_000]
FRAMINGS = ["length", "chunked"]
CHUNK_SIZES = [1, 4096, 65_536, 1000, 100_000, 17]  # cycled, so chunk boundaries vary
TIMEOUT = 65  # seconds per socket operation: past the proxies' 60 s, so their 504 shows


class Connection(http.client.HTTPConnection):
    """Counts the TCP connections it opens (http.client reopens one after a closing answer)."""

    opened = 0

    def connect(self):
        self.opened += 1
        super().connect()


def chunks(data):
    at, i = 0, 0
    while at < len(data):
        n = CHUNK_SIZES[i % len(CHUNK_SIZES)]
        yield data[at : at + n]
        at, i = at + n, i + 1


def post(conn, path, data, framing, retry_closed):
    """Sends one request and returns (status, response body, whether it was retried).
    With retry_closed, a kept-alive connection that closes before any byte of the answer is
    retried once on a new one, as curl and browsers do (RFC 9112 section 9.3.1). nginx with
    proxy_request_buffering off needs it: when the upstream answers before the whole request body
    has arrived, nginx says keep-alive but then closes the client connection (lingering close),
    so the next request on it is dropped unanswered and unlogged."""
    reused = conn.sock is not None
    try:
        if framing == "length":
            conn.request("POST", path, body=data)
        else:
            headers = {"Transfer-Encoding": "chunked"}
            conn.request("POST", path, body=chunks(data), headers=headers, encode_chunked=True)
        resp = conn.getresponse()
    except (ConnectionResetError, BrokenPipeError):  # RemoteDisconnected is a ConnectionResetError
        if not (reused and retry_closed):
            raise
        conn.close()
        return post(conn, path, data, framing, False)[:2] + (True,)
    return resp.status, resp.read(), False


def problem(upstream, path, data, status, payload):
    """None if this is an expected answer, else what is wrong with it."""
    over = len(data) > LIMIT
    # hello never reads a body, so a chunked one past the limit may still get its 200
    allowed = ({200, 413} if upstream == "hello" else {413}) if over else {200}
    if status not in allowed:
        return f"status {status}"
    if status != 200:
        return None
    if upstream == "hello":
        return None if payload == b"Hello, World!" else f"body {payload[:60]!r}"
    try:
        echo = json.loads(payload)
    except ValueError as e:
        return f"not JSON ({e}): {payload[:60]!r}"
    if echo["target"] != path:
        return f"answer for {echo['target']!r}"
    if echo["body"] != data.decode("latin-1"):
        return f"body differs: {len(echo['body'])} chars back for {len(data)} bytes sent"
    return None


def exchange(conn, upstream, path, size, framing, retry_closed):
    """One request and its check: (outcome, problem or None, whether it was retried)."""
    data = random.Random(path).randbytes(size)  # every byte value, unique per request
    try:
        status, payload, retried = post(conn, path, data, framing, retry_closed)
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return type(e).__name__, f"{type(e).__name__}: {e}", False
    return str(status), problem(upstream, path, data, status, payload), retried


def run_route(route, reps, retry_closed, deadline):
    """Returns [(case, outcome, problem or None, retried)] and the number of connections opened.
    Requests not sent before the deadline count as failures."""
    proxy, upstream, port, prefix = route.split(":")
    conn = Connection("127.0.0.1", int(port), timeout=TIMEOUT)
    results = []
    for rep in range(reps):
        for size in SIZES:
            for framing in FRAMINGS:
                if time.monotonic() < deadline:
                    path = f"{prefix}{framing}/{size}/{rep}"
                    outcome = exchange(conn, upstream, path, size, framing, proxy in retry_closed)
                else:
                    outcome = ("not sent", "not sent: the deadline passed", False)
                results.append(((proxy, upstream, size, framing), *outcome))
    conn.close()
    return results, conn.opened


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--retry-closed", action="append", default=[], metavar="PROXY")
    ap.add_argument("--deadline", type=float, default=45, help="seconds; no request starts later")
    ap.add_argument("routes", nargs="+", metavar="ROUTE")
    args = ap.parse_args()
    deadline = time.monotonic() + args.deadline
    with concurrent.futures.ThreadPoolExecutor(len(args.routes)) as pool:
        runs = list(pool.map(lambda r: run_route(r, args.reps, args.retry_closed, deadline), args.routes))

    outcomes = collections.defaultdict(collections.Counter)
    problems = collections.defaultdict(collections.Counter)
    retries = collections.Counter()
    for results, _ in runs:
        for case, outcome, wrong, retried in results:
            outcomes[case][outcome] += 1
            retries[case] += retried
            if wrong:
                problems[case][wrong] += 1
    print("| proxy | upstream | body (bytes) | framing | answers | retried | result |")
    print("|---|---|--:|---|---|--:|---|")
    for case, seen in outcomes.items():
        proxy, upstream, size, framing = case
        answers = ", ".join(f"{o}×{n}" for o, n in sorted(seen.items()))
        result = "FAIL" if case in problems else "ok"
        print(f"| {proxy} | {upstream} | {size} | {framing} | {answers} | {retries[case]} | {result} |")
    for route, (results, opened) in zip(args.routes, runs):
        proxy, upstream = route.split(":")[:2]
        retried = sum(r[3] for r in results)
        print(f"{proxy} → {upstream}: {len(results)} requests over {opened} client connection(s), {retried} retried")

    total = sum(sum(c.values()) for c in outcomes.values())
    failed = sum(sum(c.values()) for c in problems.values())
    for (proxy, upstream, size, framing), wrongs in problems.items():
        for wrong, n in wrongs.items():
            print(f"FAIL {proxy} → {upstream}, {size} bytes, {framing}: {wrong} (×{n})")
    print(f"proxies: {total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
