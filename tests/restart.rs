//! Restarts without downtime, with the real `examples/hello` process: the exec hand-over on
//! SIGUSR2, systemd socket activation (with systemd's own `systemd-socket-activate` when it
//! is installed), `sd_notify` readiness, and the drain on SIGTERM. Connections opened all
//! through a hand-over are all answered.

mod common;

use common::*;
use std::net::SocketAddr;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `cmd` started; its stdout's lines (a process it hands over to writes to the same pipe).
fn spawn(mut cmd: Command) -> (KillOnDrop, Receiver<String>) {
    spawn_lines(&mut cmd)
}

fn hello() -> Command {
    let mut cmd = Command::new(example("hello"));
    cmd.env("ADDR", "127.0.0.1:0").env("SHOCKWAVE_POLLERS", "2").env("SHOCKWAVE_WORKERS", "4");
    cmd
}

/// The address and pid in a `serving … on http://ADDR/ (pid N)` line.
fn serving(lines: &Receiver<String>) -> (SocketAddr, i32) {
    let line = lines.recv_timeout(Duration::from_secs(30)).expect("the example prints its address");
    let pid = line[line.find("(pid ").expect(&line) + 5..line.len() - 1].parse().unwrap();
    (address_in(&line), pid)
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: plain kill(2) on a process this test started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {pid}");
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists. (A zombie still does: reaped
    // children are gone, and the grandchild is reaped by whoever adopts it.)
    unsafe { libc::kill(pid, 0) == 0 }
}

/// A process that is not our child: killed by pid when the test ends, however it ends.
struct KillPid(i32);

impl Drop for KillPid {
    fn drop(&mut self) {
        // SAFETY: plain kill(2).
        unsafe { libc::kill(self.0, libc::SIGKILL) };
    }
}

/// Opens a new connection per request, as fast as it can, until `stop` (or a minute):
/// (answered, failures); `answered` counts along.
fn load(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
) -> std::thread::JoinHandle<(u64, Vec<String>)> {
    std::thread::spawn(move || {
        let (mut ok, mut failed) = (0, Vec::new());
        let deadline = Instant::now() + Duration::from_secs(60);
        while !stop.load(SeqCst) && Instant::now() < deadline {
            let answer = std::net::TcpStream::connect(addr).and_then(|mut s| {
                use std::io::{Read, Write};
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                let mut a = String::new();
                s.read_to_string(&mut a)?;
                Ok(a)
            });
            match answer {
                Ok(a) if a.starts_with("HTTP/1.1 200 OK\r\n") && a.ends_with("Hello, World!") => {
                    ok += 1;
                    answered.fetch_add(1, SeqCst);
                }
                Ok(a) => failed.push(format!("unexpected answer {a:?}")),
                Err(e) => failed.push(e.to_string()),
            }
        }
        (ok, failed)
    })
}

#[test]
fn sigusr2_hands_the_socket_to_a_new_process_and_no_connection_fails() {
    let (manager, path) = manager("handover");
    let mut cmd = hello();
    cmd.env("NOTIFY_SOCKET", &path);
    let (mut old, lines) = spawn(cmd);
    let (addr, old_pid) = serving(&lines);
    assert_eq!(next(&manager), "READY=1");
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..2).map(|_| load(addr, stop.clone(), answered.clone())).collect();
    signal(old_pid, libc::SIGUSR2);
    let (new_addr, new_pid) = serving(&lines);
    let _new = KillPid(new_pid);
    handed_over(&manager, new_pid);
    assert_eq!(new_addr, addr, "the same socket");
    assert_ne!(new_pid, old_pid);
    let status = old.exit_within(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "the old process drains and exits 0: {status:?}");
    // the new process serves alone now, and hands over again
    let so_far = answered.load(SeqCst);
    wait_until(|| answered.load(SeqCst) >= so_far + 100);
    signal(new_pid, libc::SIGUSR2);
    let (_, third) = serving(&lines);
    let _third = KillPid(third);
    handed_over(&manager, third);
    wait_until(|| !alive(new_pid) || is_zombie(new_pid));
    stop.store(true, SeqCst);
    let mut total = 0;
    for c in clients {
        let (ok, failed) = c.join().unwrap();
        assert!(
            failed.is_empty(),
            "{} failed of {}: {:?}",
            failed.len(),
            ok + failed.len() as u64,
            &failed[..failed.len().min(5)]
        );
        total += ok;
    }
    assert!(total > 0);
    // the old processes said nothing after naming their successor: a STOPPING=1 from one of
    // them would have made systemd stop the service; the last one's comes now
    signal(third, libc::SIGTERM);
    assert_eq!(next(&manager), "STOPPING=1");
    wait_until(|| !alive(third) || is_zombie(third));
}

/// A hand-over as systemd sees it: the new process says it is ready and names itself, and
/// the old one names it as the main process.
fn handed_over(manager: &UnixDatagram, pid: i32) {
    assert_eq!(next(manager), format!("READY=1\nMAINPID={pid}"));
    assert_eq!(next(manager), format!("MAINPID={pid}"));
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
}

/// A socket standing for systemd's notification socket, and its path.
fn manager(name: &str) -> (UnixDatagram, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("shockwave-{name}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let manager = UnixDatagram::bind(&path).unwrap();
    manager.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    (manager, path)
}

/// The next notification, as text.
fn next(manager: &UnixDatagram) -> String {
    let mut buf = [0u8; 256];
    let n = manager.recv(&mut buf).expect("a notification within 30 s");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn hello_tells_the_service_manager_it_is_ready_and_stopping() {
    let (manager, path) = manager("notify");
    let mut cmd = hello();
    cmd.env("NOTIFY_SOCKET", &path);
    let (mut child, lines) = spawn(cmd);
    let (_, pid) = serving(&lines);
    assert_eq!(next(&manager), "READY=1");
    signal(pid, libc::SIGTERM);
    assert_eq!(next(&manager), "STOPPING=1");
    assert_eq!(child.exit_within(Duration::from_secs(30)).code(), Some(0));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn systemd_socket_activate_passes_the_socket_hello_serves() {
    let tool = "systemd-socket-activate";
    if !have(tool, "--version") {
        eprintln!("skipped: systemd-socket-activate is not installed (Debian package systemd)");
        return;
    }
    // a free port, for the tool to bind
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(tool);
    let (manager, path) = manager("activate");
    cmd.args(["-l", &format!("127.0.0.1:{port}"), "-E", "ADDR=127.0.0.1:1"]);
    // (the tool passes on only the variables it is told to)
    cmd.arg("-E").arg(format!("NOTIFY_SOCKET={}", path.display()));
    cmd.arg(example("hello"));
    cmd.stderr(Stdio::null());
    let (mut child, lines) = spawn(cmd);
    // the tool binds, then starts hello at the first connection; it would fail to bind ADDR
    // (port 1), so an answer means the passed socket is served
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut stream = None;
    wait_until(|| {
        stream = std::net::TcpStream::connect(addr).ok();
        stream.is_some()
    });
    let mut c = Client::from_stream(stream.unwrap());
    c.send(&get("/"));
    assert_eq!(c.read_response().text(), "Hello, World!");
    let (served, pid) = serving(&lines);
    assert_eq!(served, addr);
    assert_eq!(next(&manager), "READY=1");
    signal(pid, libc::SIGTERM);
    assert_eq!(child.exit_within(Duration::from_secs(30)).code(), Some(0));
}

/// The systemd units in `examples/deploy/` as systemd reads them (`systemd-analyze verify`,
/// which warns about unknown keys, bad values and commands that are not executable): with the
/// example's real path as the program, for instance 8081.
#[test]
fn the_shipped_systemd_units_verify() {
    let tool = "systemd-analyze";
    if !have(tool, "--version") {
        eprintln!("skipped: systemd-analyze is not installed (Debian package systemd)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("shockwave-units-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hello = example("hello");
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deploy");
    let mut units = Vec::new();
    for kind in ["socket", "service"] {
        let text = std::fs::read_to_string(deploy.join(format!("shockwave@.{kind}"))).unwrap();
        assert!(kind == "socket" || text.contains("/usr/local/bin/shockwave-hello"));
        let text = text.replace("/usr/local/bin/shockwave-hello", hello.to_str().unwrap());
        let unit = dir.join(format!("shockwave@8081.{kind}"));
        std::fs::write(&unit, text).unwrap();
        units.push(unit);
    }
    let out = Command::new(tool).args(["verify", "--man=no"]).args(&units).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}

/// SIGTERM while requests are in flight on `examples/hello`: the pipelined requests already
/// sent are all answered (the last with `Connection: close`), a kept-alive idle connection is
/// closed with a FIN, and the process exits 0.
#[test]
fn sigterm_answers_the_pipelined_requests_in_flight_closes_idle_ones_and_exits_0() {
    let (manager, path) = manager("sigterm");
    let mut cmd = hello();
    cmd.env("NOTIFY_SOCKET", &path).env("SHOCKWAVE_SLEEP_MS", "300");
    let (mut child, lines) = spawn(cmd);
    let (addr, pid) = serving(&lines);
    assert_eq!(next(&manager), "READY=1");
    let mut idle = Client::connect(addr);
    idle.send(&get("/"));
    assert_eq!(idle.read_response().text(), "Hello, World!");
    let mut busy = Client::connect(addr);
    busy.send(&[get("/sleep/1"), get("/sleep/2"), get("/3")].concat());
    // (whether the server has read them yet or not when the signal lands, they are answered:
    // read, they are in flight; unread, the connection has not sent its first request and
    // gets a moment to)
    signal(pid, libc::SIGTERM);
    assert_eq!(next(&manager), "STOPPING=1");
    for i in 0..3 {
        let r = busy.read_response();
        assert_eq!((r.status, r.text().as_str()), (200, "Hello, World!"));
        assert_eq!(r.header("connection"), if i == 2 { Some("close") } else { None }, "response {i}");
    }
    assert!(busy.closed_within(Duration::from_secs(10)));
    assert!(idle.closed_within(Duration::from_secs(10)), "the idle connection is closed");
    assert_eq!(child.exit_within(Duration::from_secs(30)).code(), Some(0));
    let _ = std::fs::remove_file(&path);
}

/// A SIGTERM to a process draining after a hand-over (`systemctl stop` signals every process of
/// the unit) is its first signal: the request in flight is still answered and it exits 0; only a
/// second signal would end it at once.
#[test]
fn sigterm_during_a_hand_over_drain_still_lets_the_request_in_flight_finish() {
    let (manager, path) = manager("drainterm");
    let mut cmd = hello();
    cmd.env("NOTIFY_SOCKET", &path).env("SHOCKWAVE_SLEEP_MS", "1500");
    let (mut old, lines) = spawn(cmd);
    let (addr, old_pid) = serving(&lines);
    assert_eq!(next(&manager), "READY=1");
    let mut slow = Client::connect(addr);
    slow.send(&get("/sleep"));
    signal(old_pid, libc::SIGUSR2);
    let (_, new_pid) = serving(&lines);
    let _new = KillPid(new_pid);
    handed_over(&manager, new_pid);
    signal(old_pid, libc::SIGTERM);
    let r = slow.read_response_within(false, Duration::from_secs(10)).expect("the request in flight is answered");
    assert_eq!((r.status, r.text().as_str()), (200, "Hello, World!"));
    assert_eq!(old.exit_within(Duration::from_secs(30)).code(), Some(0));
    signal(new_pid, libc::SIGTERM);
    let _ = std::fs::remove_file(&path);
}
