//! Test support: start a server on 127.0.0.1:0, talk to it with raw bytes, parse what comes back.
#![allow(dead_code)]

pub mod certs;

use shockwave::{Builder, Request, Response, Server, ServerHandle};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Starts `handler` on a loopback port with `builder`'s settings.
pub fn start(builder: Builder, handler: impl Fn(&Request, &mut Response) + Send + Sync + 'static) -> ServerHandle {
    builder.bind("127.0.0.1:0").expect("bind").start(handler).expect("start")
}

/// Starts `handler` with the default settings (2 pollers, 4 workers to keep tests light).
pub fn start_default(handler: impl Fn(&Request, &mut Response) + Send + Sync + 'static) -> ServerHandle {
    start(Server::builder().pollers(2).workers(4), handler)
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw client connection.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    pub fn from_stream(stream: TcpStream) -> Client {
        stream.set_nodelay(true).unwrap();
        Client { stream, buf: Vec::new(), closed: false }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends without failing if the server already closed.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Reads more bytes, waiting up to `timeout`. `false` on timeout or EOF.
    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || self.closed {
            return false;
        }
        self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
        let mut tmp = [0u8; 65536];
        match self.stream.read(&mut tmp) {
            Ok(0) => {
                self.closed = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => false,
            Err(_) => {
                self.closed = true;
                false
            }
        }
    }

    /// The next response (interim 1xx included), or `None` if none arrives within `timeout`.
    pub fn read_response_within(&mut self, head_request: bool, timeout: Duration) -> Option<Resp> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((r, used)) = parse_response(&self.buf, head_request, self.closed) {
                self.buf.drain(..used);
                return Some(r);
            }
            if !self.fill(deadline) && (self.closed || Instant::now() >= deadline) {
                return parse_response(&self.buf, head_request, true).map(|(r, used)| {
                    self.buf.drain(..used);
                    r
                });
            }
        }
    }

    pub fn read_response(&mut self) -> Resp {
        self.read_response_within(false, Duration::from_secs(10)).expect("no response")
    }

    /// Whether the server closes the connection within `timeout` (after any pending bytes).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.closed && Instant::now() < deadline {
            self.fill(deadline);
        }
        self.closed
    }

    /// Bytes received and not yet parsed.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

/// Parses one response from the front of `b`: `(response, bytes used)`.
pub fn parse_response(b: &[u8], head_request: bool, eof: bool) -> Option<(Resp, usize)> {
    let end = b.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&b[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(n, v)| (n.to_string(), v.trim().to_string()))).collect();
    let mut r = Resp { status, headers, body: Vec::new() };
    let mut pos = end + 4;
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Some((r, pos));
    }
    if r.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let le = b[pos..].windows(2).position(|w| w == b"\r\n")? + pos;
            let size = usize::from_str_radix(std::str::from_utf8(&b[pos..le]).ok()?.split(';').next()?, 16).ok()?;
            pos = le + 2;
            if size == 0 {
                let te = b[pos - 2..].windows(4).position(|w| w == b"\r\n\r\n")? + pos - 2;
                return Some((r, te + 4));
            }
            if b.len() < pos + size + 2 {
                return None;
            }
            r.body.extend_from_slice(&b[pos..pos + size]);
            pos += size + 2;
        }
    }
    match r.header("content-length") {
        Some(n) => {
            let n: usize = n.parse().ok()?;
            if b.len() < pos + n {
                return None;
            }
            r.body = b[pos..pos + n].to_vec();
            Some((r, pos + n))
        }
        None if eof => {
            r.body = b[pos..].to_vec();
            Some((r, b.len()))
        }
        None => None,
    }
}

/// One request on a fresh connection: the responses (up to `n`) and whether the server closed.
pub fn exchange(addr: SocketAddr, raw: &[u8], n: usize) -> (Vec<Resp>, bool) {
    let mut c = Client::connect(addr);
    let _ = c.try_send(raw);
    let mut out = Vec::new();
    while out.len() < n {
        match c.read_response_within(raw.starts_with(b"HEAD"), Duration::from_secs(5)) {
            Some(r) if (100..200).contains(&r.status) => {}
            Some(r) => out.push(r),
            None => break,
        }
    }
    let closed = c.closed_within(Duration::from_millis(300));
    (out, closed)
}

/// Raises this process's open-file limit to its hard limit.
pub fn raise_fd_limit() -> u64 {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `r` is a valid rlimit for the call to fill and then read.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
    r.rlim_cur
}

/// Peak resident memory of this process (VmHWM), in KiB; `None` where /proc does not say.
pub fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// Builds the Go program `src` (a path in this crate, standard library only) into
/// `target/NAME`, offline (GOPATH mode); `None` (after saying why) when Go is not installed.
pub fn go_build(src: &str, name: &str) -> Option<String> {
    if !std::process::Command::new("go").arg("version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP: go is not installed (scripts/test.sh installs golang-go)");
        return None;
    }
    let dir = env!("CARGO_MANIFEST_DIR");
    let exe = format!("{dir}/target/{name}");
    let built = std::process::Command::new("go")
        .args(["build", "-o", &exe, src])
        .current_dir(dir)
        .env("GO111MODULE", "off")
        .env("GOCACHE", format!("{dir}/target/go-cache"))
        .env("GOFLAGS", "")
        .status()
        .is_ok_and(|s| s.success());
    assert!(built, "cannot build {src}");
    Some(exe)
}

/// `body` in the chunked transfer coding, in chunks of 8000 bytes, with the last chunk.
pub fn chunked(body: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    for part in body.chunks(8000) {
        raw.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        raw.extend_from_slice(part);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    raw
}

/// A GET request for `path`.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

/// Kills a server subprocess even when an assertion fails.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `go run FILE ARGS…` from the crate root, as the Go programs under tests/go/ are run
/// (GOPATH mode, the build cache in target/); `None` (after saying "SKIP") without Go.
pub fn go_run(file: &str, args: &[&str]) -> Option<std::process::Output> {
    if !std::process::Command::new("go").arg("version").output().is_ok_and(|o| o.status.success()) {
        println!("SKIP: go is not installed (scripts/test.sh installs golang-go)");
        return None;
    }
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("go")
        .arg("run")
        .arg(file)
        .args(args)
        .current_dir(dir)
        .env("GO111MODULE", "off")
        .env("GOCACHE", format!("{dir}/target/go-cache"))
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    Some(out)
}

/// The path of example `name`'s binary, built (or brought up to date) first: `cargo test`
/// builds examples as test harnesses, not as the plain programs, so one left from an older
/// tree would otherwise be run.
pub fn example(name: &str) -> std::path::PathBuf {
    example_with(name, &[])
}

/// [`example`] built with cargo `features` (for an example that requires them: the test then
/// runs whatever features its own build has).
pub fn example_with(name: &str, features: &[&str]) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--example", name]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let ok = cmd.current_dir(env!("CARGO_MANIFEST_DIR")).status().is_ok_and(|s| s.success());
    assert!(ok && path.exists(), "cannot build {}", path.display());
    path
}

impl KillOnDrop {
    /// Waits up to `limit` for the process to exit; panics if it does not (and the drop kills it).
    pub fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the process did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Waits up to `limit` for a child process to exit; kills it and panics if it does not.
pub fn wait_exit(child: std::process::Child, limit: Duration) -> std::process::Output {
    let mut child = KillOnDrop(child);
    let status = child.exit_within(limit);
    let mut out = std::process::Output { status, stdout: Vec::new(), stderr: Vec::new() };
    if let Some(mut e) = child.0.stderr.take() {
        let _ = e.read_to_end(&mut out.stderr);
    }
    out
}

/// Waits (up to 10 s, looking every millisecond) until `ready()` holds; panics if it never
/// does. For conditions no event announces, such as a counter in `stats()`.
pub fn wait_until(mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "the condition did not come about within 10 s");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The address in an example's `… on http://ADDR/ …` line.
pub fn address_in(line: &str) -> SocketAddr {
    let rest = &line[line.find("http://").unwrap_or_else(|| panic!("no address in {line:?}")) + 7..];
    rest[..rest.find('/').unwrap_or(rest.len())].trim().parse().unwrap_or_else(|_| panic!("no address in {line:?}"))
}

/// Starts `cmd` with its stdout piped; its lines arrive on the receiver as they are printed
/// (by it, or by a process it starts that inherits the pipe).
pub fn spawn_lines(cmd: &mut std::process::Command) -> (KillOnDrop, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = KillOnDrop(cmd.stdout(std::process::Stdio::piped()).spawn().unwrap());
    let out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, lines)
}

/// nginx's temporary-file directives inside `dir` (its defaults are under the system prefix,
/// which a test's nginx may not write).
pub fn nginx_temp_paths(dir: &std::path::Path) -> String {
    let d = dir.display();
    ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(|t| format!("{t}_temp_path {d}/{t}_temp;")).join(" ")
}

/// nginx run in the foreground with `dir` as its prefix and `dir/nginx.conf`, once it accepts
/// on 127.0.0.1:`port` (within `limit`); `None` when it exited first (the port was taken, or
/// the config is bad: `dir/error.log` says which). One process (`master_process off`): the
/// drop's SIGKILL would leave a master's workers running, holding their ports, after the test.
pub fn run_nginx(bin: &std::path::Path, dir: &std::path::Path, port: u16, limit: Duration) -> Option<KillOnDrop> {
    let child = std::process::Command::new(bin)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off; master_process off;"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        if child.0.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// nginx's main context for a test: one worker, pid and error log in `dir`, and as root a
/// worker running as root (as nobody it could not enter the temp dir).
pub fn nginx_main(dir: &std::path::Path) -> String {
    let d = dir.display();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = if unsafe { libc::geteuid() } == 0 { "user root root;" } else { "" };
    format!("{user}\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 64; }}")
}

/// Whether program `cmd` is installed and runs: `cmd arg` (say `--version`) succeeds.
pub fn have(cmd: &str, arg: &str) -> bool {
    std::process::Command::new(cmd).arg(arg).output().is_ok_and(|o| o.status.success())
}
