//! Resource limits and abuse: slowloris, slow bodies, clients that never read, connection caps,
//! overload, file-descriptor exhaustion. Properties are checked as orderings ("answered before
//! the attackers were cut off"), not as speeds; latencies are printed for the record.

mod common;

use common::*;
use shockwave::{Request, Response, Server};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn hello(_req: &Request, resp: &mut Response) {
    resp.write_body(b"Hello, World!");
}

#[test]
fn slowloris_connections_do_not_starve_a_normal_client_and_get_408() {
    raise_fd_limit();
    let timeout = Duration::from_secs(3);
    let s = start(Server::builder().pollers(2).workers(4).read_header_timeout(timeout), hello);
    let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut slow: Vec<TcpStream> = (0..2000).map(|_| TcpStream::connect(s.local_addr()).unwrap()).collect();
    // trickle one byte per connection per second, from another thread
    let trickler = {
        let mut conns: Vec<TcpStream> = slow.iter().map(|c| c.try_clone().unwrap()).collect();
        std::thread::spawn(move || {
            for &b in head.iter().take(8) {
                let t = Instant::now();
                for c in &mut conns {
                    let _ = c.write_all(&[b]);
                }
                std::thread::sleep(Duration::from_secs(1).saturating_sub(t.elapsed()));
            }
        })
    };
    let mut normal = Client::connect(s.local_addr());
    let mut lat = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        normal.send(&get("/"));
        assert_eq!(normal.read_response().status, 200);
        lat.push(t.elapsed());
    }
    let timeouts_when_done = s.stats().timeouts;
    lat.sort();
    println!(
        "normal client with 2000 trickling connections: p50 {:?}, p99 {:?}, max {:?}",
        lat[100], lat[198], lat[199]
    );
    assert_eq!(timeouts_when_done, 0, "the normal client was served before any trickler timed out");
    // every trickling connection is answered 408 and closed once the header timeout passes
    let mut got_408 = 0;
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut line = String::new();
        let mut r = BufReader::new(&*c);
        if r.read_line(&mut line).is_ok() && line.starts_with("HTTP/1.1 408") {
            got_408 += 1;
        }
    }
    trickler.join().unwrap();
    assert_eq!(got_408, 2000);
    assert!(s.stats().timeouts >= 2000);
    s.shutdown();
}

#[test]
fn a_slow_body_times_out_with_408() {
    let s = start(Server::builder().pollers(1).workers(2).body_timeout(Duration::from_millis(500)), hello);
    let mut c = Client::connect(s.local_addr());
    c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    for _ in 0..5 {
        if !c.try_send(b"x") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert!(c.closed_within(Duration::from_secs(3)));
    s.shutdown();
}

#[test]
fn a_client_that_never_reads_is_cut_off_and_its_buffers_returned() {
    let s = start(
        Server::builder().pollers(1).workers(2).write_timeout(Duration::from_millis(500)),
        |_req: &Request, resp: &mut Response| {
            resp.write_body(vec![b'x'; 16 << 20]);
        },
    );
    let c = TcpStream::connect(s.local_addr()).unwrap();
    (&c).write_all(&get("/")).unwrap();
    // never read: the server's writes stall, then the write timeout closes the connection
    let t = Instant::now();
    while s.stats().connections_open > 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.stats().connections_open, 0);
    // the server is fine afterwards
    let (rs, _) = exchange(s.local_addr(), b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 1);
    assert_eq!(rs[0].body.len(), 16 << 20);
    drop(c);
    s.shutdown();
}

#[test]
fn max_connections_leaves_the_rest_in_the_backlog() {
    let s = start(Server::builder().pollers(1).workers(2).max_connections(10), hello);
    let mut first: Vec<Client> = (0..10).map(|_| Client::connect(s.local_addr())).collect();
    for c in &mut first {
        c.send(&get("/"));
        assert_eq!(c.read_response().status, 200);
    }
    let mut waiting: Vec<Client> = (0..10).map(|_| Client::connect(s.local_addr())).collect();
    for c in &mut waiting {
        c.send(&get("/"));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.stats().connections_open, 10);
    assert!(waiting[0].read_response_within(false, Duration::from_millis(200)).is_none(), "not accepted yet");
    drop(first);
    for c in &mut waiting {
        assert_eq!(c.read_response().status, 200);
    }
    assert!(s.stats().connections_open <= 10);
    s.shutdown();
}

#[test]
fn max_connections_per_ip_closes_the_excess_at_once() {
    let s = start(Server::builder().pollers(1).workers(2).max_connections_per_ip(5), hello);
    let mut ok: Vec<Client> = (0..5).map(|_| Client::connect(s.local_addr())).collect();
    for c in &mut ok {
        c.send(&get("/"));
        assert_eq!(c.read_response().status, 200);
    }
    let mut extra = Client::connect(s.local_addr());
    let _ = extra.try_send(&get("/"));
    assert!(extra.closed_within(Duration::from_secs(2)));
    drop(ok);
    wait_until(|| s.stats().connections_open == 0);
    let (rs, _) = exchange(s.local_addr(), &get("/"), 1);
    assert_eq!(rs[0].status, 200, "slots free again once connections close");
    s.shutdown();
}

#[test]
fn overload_answers_503_at_once_and_recovers() {
    raise_fd_limit();
    let s = start(Server::builder().pollers(2).workers(4).queue_capacity(16), |req: &Request, resp: &mut Response| {
        if req.path() == "/sleep" {
            std::thread::sleep(Duration::from_secs(1));
        }
        resp.write_body(b"ok");
    });
    let addr = s.local_addr();
    let t0 = Instant::now();
    let results: Vec<(u16, Duration)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..1000)
            .map(|_| {
                sc.spawn(move || {
                    let mut c = Client::connect(addr);
                    c.send(&get("/sleep"));
                    let r = c.read_response_within(false, Duration::from_secs(30)).map_or(0, |r| r.status);
                    (r, t0.elapsed())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: Vec<Duration> = results.iter().filter(|r| r.0 == 200).map(|r| r.1).collect();
    let busy: Vec<Duration> = results.iter().filter(|r| r.0 == 503).map(|r| r.1).collect();
    println!("overload: {} × 200, {} × 503, last 503 after {:?}", ok.len(), busy.len(), busy.iter().max());
    assert_eq!(ok.len() + busy.len(), 1000, "every client got 200 or 503");
    assert!(ok.len() <= 4 + 16 + 4 * 2, "at most the workers and the queue were served: {}", ok.len());
    let first_ok = *ok.iter().min().unwrap();
    assert!(busy.iter().all(|&t| t < first_ok), "every 503 came before the first sleeping handler finished");
    assert_eq!(s.stats().connections_open, 0);
    // recovered: normal service again
    let (rs, _) = exchange(addr, &get("/"), 1);
    assert_eq!(rs[0].status, 200);
    s.shutdown();
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn running_out_of_file_descriptors_backs_off_and_recovers() {
    raise_fd_limit();
    let hello = example("hello");
    let child = std::process::Command::new("prlimit")
        .args(["--nofile=32:32", "--"])
        .arg(&hello)
        .arg("127.0.0.1:0")
        .env("SHOCKWAVE_POLLERS", "1")
        .env("SHOCKWAVE_WORKERS", "2")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs the server with a low fd limit");
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let addr = address_in(&line);
    let mut cs: Vec<Client> = (0..60).map(|_| Client::connect(addr)).collect();
    for c in &mut cs {
        c.send(&get("/"));
    }
    std::thread::sleep(Duration::from_millis(500));
    // out of descriptors with connections waiting: the poller must not spin on accept
    let t0 = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(child.id()) - t0;
    println!("server CPU while out of fds: {ticks} ticks in 2 s");
    assert!(ticks < 50, "accept loop spins: {ticks} ticks of CPU in 2 s");
    // answer whoever got in, free their fds, and the rest are served
    let (mut answered, mut pending) = (Vec::new(), Vec::new());
    for mut c in cs {
        match c.read_response_within(false, Duration::from_millis(100)) {
            Some(r) => {
                assert_eq!(r.status, 200);
                answered.push(c);
            }
            None => pending.push(c),
        }
    }
    println!("{} served, {} waiting for a descriptor", answered.len(), pending.len());
    assert!(!answered.is_empty() && !pending.is_empty());
    drop(answered); // frees the server's descriptors
    for mut c in pending {
        assert_eq!(c.read_response_within(false, Duration::from_secs(20)).map(|r| r.status), Some(200));
        // each one served and gone frees a descriptor for the next
    }
}
