//! The PROXY protocol as real load balancers send it: HAProxy (`send-proxy`, and
//! `send-proxy-v2` with the unique-id and CRC32C TLVs and PROXY-header health checks) and
//! nginx's stream module (`proxy_protocol on`), each started on a free 127.0.0.1 port with a
//! generated config in a temp dir, in front of an in-process server with
//! `proxy_protocol(true)`. The handler must see the original client (127.0.0.1 and the
//! client socket's own port) as `remote_addr`, and the proxy's connection as `peer_addr`, for
//! every request of a kept-alive connection; with feature `tls`, also behind HAProxy
//! re-encrypting to a TLS listener (`send-proxy-v2 ssl`: the header before the handshake).
//! A missing binary or module: "SKIP: …".

mod common;

use common::{start, Client, KillOnDrop};
use shockwave::{Request, Response, Server, ServerHandle};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on a proxy's start.
const T: Duration = Duration::from_secs(10);

/// `remote peer unique-id crc32c-length`.
fn who(req: &Request, resp: &mut Response) {
    let p = req.proxy().expect("a PROXY listener");
    let id = p.unique_id().map_or("-".into(), |v| String::from_utf8_lossy(v).into_owned());
    let crc = p.tlv(0x03).map_or(0, |v| v.len());
    resp.write_body(format!("{} {} v{} {id} {crc}", req.remote_addr(), req.peer_addr(), p.version()));
}

fn server() -> ServerHandle {
    start(Server::builder().pollers(1).workers(2).proxy_protocol(true), who)
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shockwave-proxy-peers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A proxy process and its temp dir, both gone when dropped.
struct Proxy {
    _child: KillOnDrop,
    dir: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd` and waits until every port in `ports` accepts connections (a port taken
/// between choosing and binding it makes the process exit: `None`, tried again by the caller).
fn run(mut cmd: Command, ports: &[u16], dir: &Path) -> Option<Proxy> {
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + T;
    while Instant::now() < deadline {
        if ports.iter().all(|&p| TcpStream::connect(("127.0.0.1", p)).is_ok()) {
            return Some(Proxy { _child: child, dir: dir.to_path_buf() });
        }
        if child.0.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// HAProxy with `cfg(ports)` as its configuration, for `n` free ports chosen here (three
/// tries: a port taken between choosing and binding makes it exit); panics if it never starts.
fn haproxy(dir: &Path, n: usize, cfg: impl Fn(&[u16]) -> String) -> (Proxy, Vec<u16>) {
    for _ in 0..3 {
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        std::fs::write(dir.join("haproxy.cfg"), cfg(&ports)).unwrap();
        let mut cmd = Command::new("/usr/sbin/haproxy");
        cmd.arg("-db").arg("-f").arg(dir.join("haproxy.cfg"));
        if let Some(proxy) = run(cmd, &ports, dir) {
            return (proxy, ports);
        }
    }
    panic!("haproxy did not start")
}

/// Two kept-alive requests through the proxy on `port`: each answer, and the client's own
/// address (what the proxy must report as the source).
fn through(port: u16) -> (SocketAddr, Vec<String>) {
    let mut c = Client::connect(SocketAddr::from(([127, 0, 0, 1], port)));
    let me = c.stream.local_addr().unwrap();
    let answers = (0..2)
        .map(|_| {
            c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            let r = c.read_response();
            assert_eq!(r.status, 200, "{}", r.text());
            r.text()
        })
        .collect();
    (me, answers)
}

/// Asserts an answer names `me` as the client and a different connection from 127.0.0.1
/// as the peer; returns the rest (`vN id crc`).
fn check(me: SocketAddr, answer: &str) -> String {
    let mut w = answer.splitn(3, ' ');
    let (remote, peer, rest) = (w.next().unwrap(), w.next().unwrap(), w.next().unwrap_or(""));
    assert_eq!(remote, me.to_string(), "the client as the proxy saw it: {answer}");
    let peer: SocketAddr = peer.parse().unwrap();
    assert!(peer.ip().is_loopback() && peer.port() != me.port(), "the proxy's own connection: {answer}");
    rest.to_string()
}

/// HAProxy's version, installed first if missing (as scripts/proxies.sh installs it).
fn haproxy_version() -> Option<(u32, u32)> {
    if !Path::new("/usr/sbin/haproxy").exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-deps.sh");
        let path = format!("{}:/usr/sbin:/sbin", std::env::var("PATH").unwrap_or_default());
        let _ = Command::new(script).arg("haproxy").env("PATH", path).stdout(Stdio::null()).status();
    }
    let out = Command::new("/usr/sbin/haproxy").arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = text.split_whitespace().nth(2)?; // "HAProxy version 2.6.12-1 …"
    let mut n = v.split(|c: char| !c.is_ascii_digit()).map(|s| s.parse().unwrap_or(0));
    Some((n.next()?, n.next()?))
}

#[test]
fn haproxy_send_proxy_v1_and_v2_report_the_client() {
    let Some(version) = haproxy_version() else {
        println!("SKIP: /usr/sbin/haproxy not installed and scripts/install-deps.sh haproxy could not install it");
        return;
    };
    // `proxy-v2-options unique-id,crc32c` exists since 2.0 (1.9 had no unique-id TLV)
    let tlvs = version >= (2, 0);
    let h = server();
    let up = h.local_addr().port();
    let dir = temp_dir("haproxy");
    let opts = if tlvs { " proxy-v2-options unique-id,crc32c" } else { "" };
    let (_proxy, ports) = haproxy(&dir, 2, |p| {
        let (v1, v2) = (p[0], p[1]);
        format!(
            "global\n    maxconn 64\n\
             defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend v1\n    bind 127.0.0.1:{v1}\n    default_backend v1\n\
             backend v1\n    server s 127.0.0.1:{up} send-proxy\n\
             frontend v2\n    bind 127.0.0.1:{v2}\n    unique-id-format conn-%ci-%cp\n    default_backend v2\n\
             backend v2\n    server s 127.0.0.1:{up} send-proxy-v2{opts} check check-send-proxy inter 200ms\n"
        )
    });
    let (v1, v2) = (ports[0], ports[1]);

    let (me, answers) = through(v1);
    for a in &answers {
        assert_eq!(check(me, a), "v1 - 0");
    }
    let (me, answers) = through(v2);
    for a in &answers {
        let want = if tlvs { format!("v2 conn-{}-{} 4", me.ip(), me.port()) } else { "v2 - 0".into() };
        assert_eq!(check(me, a), want);
    }
    // HAProxy's health checks send a header (LOCAL) and close: never counted as bad
    common::wait_until(|| h.stats().connections_accepted >= 6);
    assert_eq!(h.stats().rejected_invalid, 0, "a header from HAProxy was refused");
    h.shutdown();
}

/// The stream module: built in, or Debian's `libnginx-mod-stream` (installed here if missing
/// and we are root, as scripts/install-deps.sh installs the other tools).
fn nginx_stream_module() -> Option<Option<PathBuf>> {
    let nginx = Path::new("/usr/sbin/nginx");
    if !nginx.exists() {
        return None;
    }
    let v = Command::new(nginx).arg("-V").output().ok()?;
    let built = String::from_utf8_lossy(&v.stderr).into_owned();
    if built.contains("--with-stream ") || built.ends_with("--with-stream\n") {
        return Some(None); // static: no load_module
    }
    let module = PathBuf::from("/usr/lib/nginx/modules/ngx_stream_module.so");
    // SAFETY: geteuid has no preconditions and cannot fail.
    if !module.exists() && unsafe { libc::geteuid() } == 0 {
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "libnginx-mod-stream"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    module.exists().then_some(Some(module))
}

#[test]
fn nginx_stream_proxy_protocol_reports_the_client() {
    let Some(module) = nginx_stream_module() else {
        println!("SKIP: nginx with the stream module is not installed (Debian: nginx-light + libnginx-mod-stream)");
        return;
    };
    let h = server();
    let up = h.local_addr().port();
    let dir = temp_dir("nginx");
    let load = module.map_or(String::new(), |m| format!("load_module {};", m.display()));
    let main = common::nginx_main(&dir);
    let mut proxy = None;
    let mut port = 0;
    for _ in 0..3 {
        port = free_port();
        let cfg = format!(
            "{load}\n{main}\n\
             stream {{ server {{ listen 127.0.0.1:{port}; proxy_pass 127.0.0.1:{up}; proxy_protocol on; }} }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), cfg).unwrap();
        let mut cmd = Command::new("/usr/sbin/nginx");
        cmd.arg("-p").arg(&dir).arg("-e").arg(dir.join("error.log")).arg("-c").arg(dir.join("nginx.conf"));
        // one process (see common::run_nginx): killing it leaves no worker behind
        cmd.args(["-g", "daemon off; master_process off;"]);
        proxy = run(cmd, &[port], &dir);
        if proxy.is_some() {
            break;
        }
    }
    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    let _proxy = proxy.unwrap_or_else(|| panic!("nginx did not start: {log}"));
    let (me, answers) = through(port);
    for a in &answers {
        assert_eq!(check(me, a), "v1 - 0");
    }
    h.shutdown();
}

/// HAProxy re-encrypting to a TLS listener (`ssl verify none` on the server line) with
/// `send-proxy-v2`: the PROXY header arrives in the clear before the TLS handshake, and the
/// handler sees the client's address over TLS.
#[cfg(feature = "tls")]
#[test]
fn haproxy_send_proxy_v2_before_tls_reports_the_client() {
    if haproxy_version().is_none() {
        println!("SKIP: /usr/sbin/haproxy not installed and scripts/install-deps.sh haproxy could not install it");
        return;
    }
    let ca = common::certs::Ca::new();
    let leaf = common::certs::localhost(&ca);
    let tls = shockwave::tls::TlsConfig::from_pem(&leaf.cert_pem, &leaf.key_pem).unwrap();
    let h = Server::builder()
        .pollers(1)
        .workers(2)
        .proxy_protocol(true)
        .bind_tls("127.0.0.1:0", tls)
        .unwrap()
        .start(|req: &Request, resp: &mut Response| {
            let p = req.proxy().expect("a PROXY listener");
            let over = if req.is_tls() { "tls" } else { "plain" };
            resp.write_body(format!("{} {} v{} {over}", req.remote_addr(), req.peer_addr(), p.version()));
        })
        .unwrap();
    let up = h.local_addr().port();
    let dir = temp_dir("haproxy-tls");
    let (_proxy, ports) = haproxy(&dir, 1, |p| {
        format!(
            "global\n    maxconn 64\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend f\n    bind 127.0.0.1:{}\n    default_backend b\n\
             backend b\n    server s 127.0.0.1:{up} send-proxy-v2 ssl verify none sni str(localhost)\n",
            p[0]
        )
    });
    let (me, answers) = through(ports[0]);
    for a in &answers {
        assert_eq!(check(me, a), "v2 tls");
    }
    assert_eq!(h.stats().rejected_invalid, 0, "a header from HAProxy was refused");
    h.shutdown();
}
