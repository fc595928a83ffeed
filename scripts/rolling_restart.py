#!/usr/bin/env python3
"""Rolling restarts under load, through real nginx and HAProxy: the proof that no request
fails while Shockwave instances are restarted (driven by scripts/rolling-restart.sh).

For each balancer and each restart mechanism, two examples/echo instances sit behind the
balancer; client threads send GETs and POSTs with bodies (checking every echoed body, and that
the handler saw the client's own address) while each instance is restarted in turn, twice:

  activation  a supervisor holds the listening socket, as systemd does for a socket unit, and
              restarts like `systemctl restart`: SIGTERM (the old one drains and exits), then
              the new one is started on the same socket (LISTEN_FDS); connections that arrive
              meanwhile wait in its queue
  exec        SIGUSR2: the instance starts its own binary again with the socket (an exec
              hand-over), waits until it is ready, then drains
  reuseport   a new instance binds the same port with SO_REUSEPORT (SHOCKWAVE_REUSE_PORT=1),
              which steers new connections to itself; then the old one gets SIGTERM and drains

The balancers run the configurations examples/deploy/ ships (with other ports; HAProxy with
its retries off and nginx with any upstream error in its log counted as a failure, so a
request an instance dropped cannot be hidden by a resend), and the
instances its settings: a drain delay of 5 s (longer than nginx's upstream keepalive_timeout of
4 s and HAProxy's health check's 300 ms), /healthz answering 503 from the start of a drain, and
PROXY protocol v2 from HAProxy (the handlers must see the client's address, 127.0.0.1, where
HAProxy connects from 127.0.0.2). Readiness comes from the instances' sd_notify messages
(NOTIFY_SOCKET), the sender's pid from the kernel as systemd gets it; an old process that says
STOPPING=1 after handing over fails the run (systemd would stop the service). This script is a
child subreaper, so instances started by a hand-over are reaped here. After each restart it
waits a second, as an operator waits for the health check to pass, before the next.

Prints one line per balancer and mechanism; exits 1 if any request failed or was not 2xx.
"""

import argparse
import ctypes
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

DRAIN_DELAY_MS = 5000  # as examples/deploy/shockwave@.service sets it
RESTARTS_PER_INSTANCE = 2
SETTLE = 1.0  # seconds after a restart before the next, for the health check to pass again


def log(*a):
    print("rolling-restart:", *a, flush=True)


class Manager:
    """The notification socket the instances report to, standing for systemd's: like systemd
    it learns who sent each message from the kernel (SCM_CREDENTIALS), not from the message."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.ready = {}  # pid -> time
        self.stopping = set()  # pids that sent STOPPING=1
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            msg, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            pid = None
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", data[:12])[0]
            fields = dict(l.split("=", 1) for l in msg.decode(errors="replace").split("\n") if "=" in l)
            with self.cond:
                if fields.get("READY") == "1":
                    self.ready[pid] = time.monotonic()
                if fields.get("STOPPING") == "1":
                    self.stopping.add(pid)
                self.cond.notify_all()

    def wait_ready(self, known, timeout=30):
        """The pid of an instance that became ready and is not in `known`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                new = [p for p in self.ready if p not in known]
                if new:
                    return new[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("no instance became ready within %ss" % timeout)
                self.cond.wait(left)


def reap_orphans():
    """Become a child subreaper: an instance started by a hand-over (a child of the old one)
    is adopted by this process when the old one exits, so it can be waited for."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def exited(pid):
    """Whether `pid` has exited (reaping it if it is ours)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return True
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_exit(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while not exited(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise RuntimeError("pid %d did not exit within %ss of SIGTERM" % (pid, timeout))
        time.sleep(0.02)


class Instance:
    """One examples/echo service on a port, restarted by one mechanism."""

    def __init__(self, args, manager, mechanism, port, env, logf):
        self.args, self.manager, self.mechanism, self.port = args, manager, mechanism, port
        self.env, self.logf = env, logf
        self.pid = None
        self.sock = None
        if mechanism == "activation":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", port))
            self.sock.listen(4096)
        self.start()

    def spawn(self, extra):
        env = dict(self.env, **extra)
        if self.mechanism == "activation":
            fd = self.sock.fileno()
            # the shell's pid is the program's once it execs: LISTEN_PID names it
            cmd = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" 3<&%d %d<&-' % (fd, fd), self.args.echo]
            return subprocess.Popen(cmd, env=env, pass_fds=(fd,), stdout=self.logf, stderr=self.logf)
        return subprocess.Popen([self.args.echo], env=env, stdout=self.logf, stderr=self.logf)

    def start(self):
        extra = {"ADDR": "127.0.0.1:%d" % self.port}
        if self.mechanism == "reuseport":
            extra["SHOCKWAVE_REUSE_PORT"] = "1"
        known = set(self.manager.ready)
        self.spawn(extra)
        self.pid = self.manager.wait_ready(known)

    def restart(self):
        old = self.pid
        if self.mechanism == "activation":
            os.kill(old, signal.SIGTERM)
            wait_exit(old)
            self.start()
        elif self.mechanism == "exec":
            known = set(self.manager.ready)
            os.kill(old, signal.SIGUSR2)
            self.pid = self.manager.wait_ready(known)
            wait_exit(old)
            # systemd follows MAINPID to the new process: a STOPPING=1 from the old one would
            # have stopped the service
            if old in self.manager.stopping:
                raise RuntimeError("pid %d sent STOPPING=1 after handing over" % old)
        else:  # reuseport
            self.start()
            os.kill(old, signal.SIGTERM)
            wait_exit(old)

    def stop(self):
        if self.pid and not exited(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            wait_exit(self.pid)
        if self.sock:
            self.sock.close()


class Load:
    """Client threads with kept-alive connections to the balancer, until stopped."""

    def __init__(self, port, threads, expect_remote):
        self.port, self.expect_remote = port, expect_remote
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"GET": 0, "POST": 0}
        self.failures = []
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]
        for t in self.threads:
            t.start()

    def fail(self, what):
        with self.lock:
            self.failures.append(what)

    def run(self, i):
        rnd = random.Random(i)
        conn = None
        n = 0
        deadline = time.monotonic() + 600
        while not self.stop.is_set() and time.monotonic() < deadline:
            n += 1
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            post = n % 2 == 0
            body = bytes(rnd.getrandbits(8) for _ in range(rnd.choice((0, 10, 1000, 20000)))) if post else None
            method = "POST" if post else "GET"
            target = "/%s/%d/%d" % (method.lower(), i, n)
            try:
                conn.request(method, target, body=body, headers={"Content-Type": "application/octet-stream"})
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.fail("%s %s: %s: %s" % (method, target, type(e).__name__, e))
                conn.close()
                conn = None
                continue
            if resp.status != 200:
                self.fail("%s %s: status %d: %r" % (method, target, resp.status, data[:200]))
            else:
                try:
                    echoed = json.loads(data)
                    if echoed["target"] != target or echoed["body"].encode("latin-1") != (body or b""):
                        self.fail("%s %s: echoed the wrong request" % (method, target))
                    elif self.expect_remote and not echoed.get("remote", "").startswith(self.expect_remote):
                        self.fail("%s %s: the handler saw remote %r" % (method, target, echoed.get("remote")))
                except (ValueError, KeyError) as e:
                    self.fail("%s %s: not the echo: %s %r" % (method, target, e, data[:200]))
            with self.lock:
                self.counts[method] += 1
            if resp.will_close:
                conn.close()
                conn = None

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()


DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "deploy")


def shipped(name, listen, ports):
    """examples/deploy/NAME with its ports (8080 in front, 8081 and 8082 behind) replaced."""
    text = open(os.path.join(DEPLOY, name)).read()
    for old, new in (("127.0.0.1:8080", listen), ("127.0.0.1:8081", ports[0]), ("127.0.0.1:8082", ports[1])):
        if old not in text:
            raise RuntimeError("examples/deploy/%s no longer has %s" % (name, old))
        text = text.replace(old, "127.0.0.1:%d" % new)
    return text


def nginx_conf(d, listen, ports, error_log):
    """A whole nginx.conf around the shipped snippet (which goes inside `http`)."""
    user = "user root %s;" % subprocess.check_output(["id", "-gn"], text=True).strip() if os.getuid() == 0 else ""
    snippet = shipped("nginx.conf", listen, ports)
    return f"""{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {error_log} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body_temp;
    proxy_temp_path {d}/proxy_temp;
    fastcgi_temp_path {d}/fastcgi_temp;
    uwsgi_temp_path {d}/uwsgi_temp;
    scgi_temp_path {d}/scgi_temp;
{snippet}
}}
"""


def haproxy_cfg(listen, ports):
    """The shipped haproxy.cfg, with two changes for the proof: its connections to the
    instances come from 127.0.0.2, so a handler that sees 127.0.0.1 got the client's address
    from the PROXY header; and its retries are off, so a request an instance drops (a reset,
    a close before the answer) fails here instead of being resent to the other one."""
    cfg = shipped("haproxy.cfg", listen, ports)
    for old, new in (
        ("    default-server check", "    default-server source 127.0.0.2 check"),
        ("    retries 3\n", "    retries 0\n"),
        ("    option redispatch\n", ""),
        ("    retry-on conn-failure empty-response response-timeout\n", ""),
    ):
        if old not in cfg:
            raise RuntimeError("examples/deploy/haproxy.cfg no longer has %r" % old.strip())
        cfg = cfg.replace(old, new, 1)
    return cfg


def port_free(p):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_port(p, proc, name):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (name, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", p), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d" % (name, p))


def run_one(args, d, manager, balancer, mechanism, base):
    listen, ports = base, [base + 1, base + 2]
    for p in [listen] + ports:
        if not port_free(p):
            raise RuntimeError("port %d is in use; set ROLLING_BASE_PORT" % p)
    proxy_protocol = balancer == "haproxy"  # as examples/deploy/haproxy.cfg speaks it
    env = dict(os.environ, NOTIFY_SOCKET=manager.path, SHOCKWAVE_DRAIN_DELAY_MS=str(DRAIN_DELAY_MS),
               SHOCKWAVE_HEALTH_PATH="/healthz", SHOCKWAVE_POLLERS="2", SHOCKWAVE_WORKERS="8")
    if proxy_protocol:
        env["SHOCKWAVE_PROXY_PROTOCOL"] = "1"
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "SHOCKWAVE_REUSE_PORT"):
        env.pop(k, None)
    logf = open(os.path.join(d, "%s-%s-instances.log" % (balancer, mechanism)), "w")
    instances = [Instance(args, manager, mechanism, p, env, logf) for p in ports]
    blog = open(os.path.join(d, "%s-%s.log" % (balancer, mechanism)), "w")
    if balancer == "nginx":
        conf = os.path.join(d, "nginx-%s.conf" % mechanism)
        nginx_errors = os.path.join(d, "nginx-%s-error.log" % mechanism)
        open(conf, "w").write(nginx_conf(d, listen, ports, nginx_errors))
        lb = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"], stdout=blog, stderr=blog)
    else:
        conf = os.path.join(d, "haproxy-%s.cfg" % mechanism)
        open(conf, "w").write(haproxy_cfg(listen, ports))
        lb = subprocess.Popen(["haproxy", "-f", conf], stdout=blog, stderr=blog)
    restarts = 0
    try:
        wait_port(listen, lb, balancer)
        load = Load(listen, args.threads, "127.0.0.1:" if proxy_protocol else None)
        plan = [inst for _ in range(RESTARTS_PER_INSTANCE) for inst in instances]
        gap = args.duration / (len(plan) + 1)
        start = time.monotonic()
        for k, inst in enumerate(plan):
            while time.monotonic() < start + gap * (k + 1):
                time.sleep(0.05)
            inst.restart()
            restarts += 1
            # as an operator does: the balancer sees the instance healthy again (HAProxy checks
            # every 300 ms) before the next one is taken out
            time.sleep(SETTLE)
        while time.monotonic() < start + args.duration:
            time.sleep(0.05)
        load.finish()
    finally:
        if "load" in locals() and not load.stop.is_set():
            load.finish()
        lb.terminate()
        lb.wait()
        for inst in instances:
            inst.stop()
    if balancer == "nginx":
        # nginx resends a GET that failed on one instance to the other (proxy_next_upstream):
        # the client never sees it, but the error log does, and it counts as a failure here
        for line in open(nginx_errors, errors="replace"):
            if "[error]" in line or "[crit]" in line:
                load.failures.append("nginx: " + line.strip())
    n = load.counts["GET"] + load.counts["POST"]
    line = "%-8s %-10s %6d requests (%d GET, %d POST), %d restarts, %d failed" % (
        balancer, mechanism, n, load.counts["GET"], load.counts["POST"], restarts, len(load.failures))
    log(line)
    for f in load.failures[:10]:
        log("   ", f)
    return line, not load.failures and n > 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--echo", required=True, help="the examples/echo binary")
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--balancers", default="nginx,haproxy")
    ap.add_argument("--mechanisms", default="activation,exec,reuseport")
    ap.add_argument("--base-port", type=int, default=int(os.environ.get("ROLLING_BASE_PORT", "18560")),
                    help="three ports from it for each balancer and mechanism")
    ap.add_argument("--summary", help="append the result lines to this file")
    args = ap.parse_args()
    reap_orphans()
    d = tempfile.mkdtemp(prefix="shockwave-rolling-")
    manager = Manager(os.path.join(d, "notify.sock"))
    ok, lines = True, []
    runs = [(b, m) for b in args.balancers.split(",") for m in args.mechanisms.split(",")]
    for k, (balancer, mechanism) in enumerate(runs):
        try:
            # ports of their own: nothing of the last run's can answer on them
            line, good = run_one(args, d, manager, balancer, mechanism, args.base_port + 3 * k)
        except RuntimeError as e:
            line, good = "%-8s %-10s ERROR: %s" % (balancer, mechanism, e), False
            log(line)
        lines.append(line)
        ok &= good
    if args.summary:
        with open(args.summary, "a") as f:
            f.write("\n".join(lines) + "\n")
    log("PASS: 0 failed requests" if ok else "FAIL (logs in %s)" % d)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
