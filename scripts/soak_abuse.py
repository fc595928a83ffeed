#!/usr/bin/env python3
"""Side load for scripts/soak.sh: malformed requests, slow clients and abrupt disconnects
against 127.0.0.1:PORT until DURATION seconds pass. Prints one JSON line of counters.
Every abuse must end in the expected way (a 4xx, a 408 or a close); anything else counts as
'unexpected'."""
import json, random, socket, struct, sys, threading, time

PORT, DURATION = int(sys.argv[1]), float(sys.argv[2])
END = time.time() + DURATION
C = {"malformed": 0, "slow": 0, "rst_mid_body": 0, "rst_mid_response": 0, "good": 0, "unexpected": 0}
LOCK = threading.Lock()
BAD = [
    b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\nHost: a\n\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64) + b"\r\n\r\n",
]

def bump(k):
    with LOCK:
        C[k] += 1

def conn(timeout=15):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    return s

def read_status(s):
    try:
        d = s.recv(4096)
    except (socket.timeout, ConnectionError):
        return None
    return int(d[9:12]) if d.startswith(b"HTTP/1.1 ") else None

def repeat(attempt, on_error, pause):
    """A thread body: run `attempt` (which counts its own outcome) until END; a socket error
    counts as `on_error`."""
    def loop():
        while time.time() < END:
            try:
                attempt()
            except OSError:
                bump(on_error)
            time.sleep(pause)
    return loop

def malformed():
    s = conn()
    s.sendall(random.choice(BAD))
    st = read_status(s)
    bump("malformed" if st is None or 400 <= st < 600 else "unexpected")
    s.close()

def slow():
    s = conn(timeout=30)
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
    st = read_status(s)  # the header timeout answers 408
    bump("slow" if st in (None, 408) else "unexpected")
    s.close()

def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

def rst_mid_body():
    s = conn()
    s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n" + b"x" * random.randint(1, 150000))
    rst(s)
    bump("rst_mid_body")

def rst_mid_response():
    s = conn()
    body = b"y" * 1_000_000
    s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    s.recv(1000)
    rst(s)
    bump("rst_mid_response")

def good():
    s = conn()
    for _ in range(20):
        s.sendall(b"POST /check HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        d = b""
        while b'"body": "hello"' not in d:
            chunk = s.recv(65536)
            if not chunk:
                break
            d += chunk
        bump("good" if b'"body": "hello"' in d else "unexpected")
    s.close()

bodies = [
    repeat(malformed, "malformed", 0.01),
    repeat(malformed, "malformed", 0.01),
    repeat(slow, "slow", 0),
    repeat(slow, "slow", 0),
    repeat(rst_mid_body, "rst_mid_body", 0.02),
    repeat(rst_mid_response, "rst_mid_response", 0.02),
    repeat(good, "unexpected", 0.05),
]
threads = [threading.Thread(target=f) for f in bodies]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(C))
