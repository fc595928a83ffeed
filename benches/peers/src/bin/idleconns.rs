//! idleconns: load tool for the memory benchmark.
//!
//! usage: idleconns N [ADDR] [HOLD_SECS]
//!
//! Opens N keep-alive connections to ADDR (default 127.0.0.1:8080), sends one
//! `GET / HTTP/1.1` on each and reads the full response, then holds them all
//! open and idle. With HOLD_SECS > 0 it holds for that long (or until SIGINT /
//! SIGTERM); without it, until stdin reaches EOF (or a signal).
//! Progress goes to stderr; once every connection has been answered it prints
//! one line `READY <ok> <failed>` to stdout.
//! Raises its own RLIMIT_NOFILE soft limit to the hard limit first.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

fn raise_nofile() -> u64 {
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            eprintln!("idleconns: setrlimit failed: {}", std::io::Error::last_os_error());
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur as u64
    }
}

/// Reads one response (headers + Content-Length body) off `s`.
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(());
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: idleconns N [ADDR] [HOLD_SECS]");
            std::process::exit(2)
        });
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()
        .expect("bad address");
    let hold: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(0);

    let limit = raise_nofile();
    eprintln!("idleconns: RLIMIT_NOFILE soft limit now {limit}");
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }

    let started = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0usize;
    let mut buf = Vec::with_capacity(4096);
    for i in 0..n {
        if SIGNALLED.load(Ordering::SeqCst) {
            break;
        }
        let r = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
            read_response(&mut s, &mut buf)?;
            Ok(s)
        });
        match r {
            Ok(s) => conns.push(s),
            Err(e) => {
                failed += 1;
                if failed <= 5 {
                    eprintln!("idleconns: connection {i} failed: {e}");
                }
            }
        }
        if (i + 1) % 1000 == 0 {
            eprintln!("idleconns: {} / {n} answered ({failed} failed)", conns.len());
        }
    }
    eprintln!(
        "idleconns: {} connections open and answered, {failed} failed, in {:.2}s",
        conns.len(),
        started.elapsed().as_secs_f64()
    );
    println!("READY {} {}", conns.len(), failed);
    let _ = std::io::stdout().flush();

    let stdin_closed = Arc::new(AtomicBool::new(false));
    if hold == 0 {
        let flag = Arc::clone(&stdin_closed);
        std::thread::spawn(move || {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while !matches!(stdin.read(&mut sink), Ok(0) | Err(_)) {}
            flag.store(true, Ordering::SeqCst);
        });
    }
    let deadline = (hold > 0).then(|| Instant::now() + Duration::from_secs(hold));
    loop {
        if SIGNALLED.load(Ordering::SeqCst) || stdin_closed.load(Ordering::SeqCst) {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("idleconns: closing {} connections", conns.len());
    drop(conns);
}
