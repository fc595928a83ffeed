//! Zero heap allocations per request in steady state, counted by a global allocator.
//!
//! The client here allocates nothing while it measures (fixed buffers, one connection), so every
//! allocation counted in the window belongs to the server's threads.

use shockwave::{Request, Response, Server};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, SeqCst);
        BYTES.fetch_add(l.size() as u64, SeqCst);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` came from `System.alloc` with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, SeqCst);
        BYTES.fetch_add(n as u64, SeqCst);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn hello(_req: &Request, resp: &mut Response) {
    resp.set_content_type("text/plain");
    resp.write_body(b"Hello, World!");
}

const REQ: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n";

/// Sends `n` requests, `depth` per write, and reads every response (each with a 13-byte
/// body); allocation-free. `batch` holds 16 copies of one request.
fn run(c: &mut TcpStream, n: usize, depth: usize, batch: &[u8]) {
    let one = batch.len() / 16;
    let mut buf = [0u8; 65536];
    let mut done = 0;
    while done < n {
        c.write_all(&batch[..one * depth]).unwrap();
        let mut want = depth;
        let mut have = 0usize;
        while want > 0 {
            let k = c.read(&mut buf[have..]).unwrap();
            assert!(k > 0, "server closed");
            have += k;
            // count complete responses: each ends with the 13-byte body after the blank line
            let mut pos = 0;
            while let Some(e) = find(&buf[pos..have], b"\r\n\r\n") {
                let end = pos + e + 4 + 13;
                if end > have {
                    break;
                }
                pos = end;
                want -= 1;
            }
            buf.copy_within(pos..have, 0);
            have -= pos;
        }
        done += depth;
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Warms `server` up, then asserts that 10,000 requests of `req`, one at a time and 16 deep,
/// allocate nothing.
fn assert_no_allocations(server: shockwave::ServerHandle, req: &[u8]) {
    let mut c = TcpStream::connect(server.local_addr()).unwrap();
    c.set_nodelay(true).unwrap();
    let batch: Vec<u8> = req.repeat(16);

    // warm up: pools, vectors and thread-locals reach their working sizes
    run(&mut c, 2000, 1, &batch);
    run(&mut c, 2000, 16, &batch);

    for (depth, what) in [(1, "keep-alive"), (16, "pipelined x16")] {
        let (a0, b0) = (ALLOCS.load(SeqCst), BYTES.load(SeqCst));
        run(&mut c, 10_000, depth, &batch);
        let (a, b) = (ALLOCS.load(SeqCst) - a0, BYTES.load(SeqCst) - b0);
        println!("{what}: {a} allocations, {b} bytes for 10000 requests");
        assert_eq!(a, 0, "{what}: {a} allocations ({b} bytes) in 10,000 requests");
    }
    server.shutdown();
}

/// The counters are process-wide: one test at a time, from server start to shutdown.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn steady_state_requests_allocate_nothing() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::builder().pollers(1).workers(2).bind("127.0.0.1:0").unwrap().start(hello).unwrap();
    assert_no_allocations(server, REQ);
}

/// Through a router of 50 routes, a route with two parameters, a `Result` handler and a JSON
/// answer: still nothing allocated per request.
#[cfg(all(feature = "router", feature = "json"))]
#[test]
fn routed_json_requests_allocate_nothing() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    #[derive(serde::Serialize)]
    struct N {
        n: u32,
    }
    let mut app = shockwave::Router::new();
    for r in ["users", "orders", "items", "carts", "teams", "repos", "files"] {
        for p in ["", "/{id}", "/{id}/history", "/{id}/owner", "/x/{id}", "/y/{id}/z"] {
            app = app.get(&format!("/api/{r}{p}"), |_req, resp| resp.set_status(204));
        }
    }
    let app = app.get("/v2/{kind}/{id}", |req, resp| -> Result<(), shockwave::Error> {
        let n: u32 = req.param("id").unwrap_or("").parse().map_err(|_| shockwave::Error::bad_request("id"))?;
        assert_eq!(req.param("kind"), Some("things"));
        resp.json(&N { n })
    });
    let server = Server::builder().pollers(1).workers(2).bind("127.0.0.1:0").unwrap().start_handler(app).unwrap();
    // {"n":1234567} is 13 bytes, as the counting client expects
    assert_no_allocations(server, b"GET /v2/things/1234567 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
}

/// Shockwave's client on its fast path (`send_into` with a reused request and response)
/// against Shockwave's server: GETs, 1 KB POSTs and chunked responses, with nothing
/// allocated per request on either side once warm.
#[test]
fn client_send_into_allocates_nothing() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::builder()
        .pollers(1)
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|req: &Request, resp: &mut Response| match req.path() {
            "/post" => {
                let n = req.body().map(|b| b.len()).unwrap_or(0);
                resp.write_body(if n == 1024 { "ok" } else { "bad" });
            }
            "/chunked" => {
                use std::io::Write;
                resp.set_content_type("text/plain");
                let _ = resp.write_all(b"Hello, ");
                let _ = resp.flush();
                let _ = resp.write_all(b"World!");
            }
            _ => hello(req, resp),
        })
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = shockwave::Client::builder().max_conns_per_host(1).build();
    let get = shockwave::client::Request::get(&format!("{base}/")).unwrap();
    let post = shockwave::client::Request::post(&format!("{base}/post")).unwrap().body(vec![b'x'; 1024]);
    let chunked = shockwave::client::Request::get(&format!("{base}/chunked")).unwrap();
    let mut resp = shockwave::client::Response::default();
    for (req, want) in [(&get, &b"Hello, World!"[..]), (&post, b"ok"), (&chunked, b"Hello, World!")] {
        for _ in 0..2000 {
            client.send_into(req, &mut resp).unwrap();
        }
        assert_eq!((resp.status(), resp.body()), (200, want));
        let (a0, b0) = (ALLOCS.load(SeqCst), BYTES.load(SeqCst));
        for _ in 0..5000 {
            client.send_into(req, &mut resp).unwrap();
        }
        let (a, b) = (ALLOCS.load(SeqCst) - a0, BYTES.load(SeqCst) - b0);
        println!("client {} {}: {a} allocations, {b} bytes for 5000 requests", req.method(), req.url());
        assert_eq!((resp.status(), resp.body()), (200, want));
        assert_eq!(a, 0, "{} {}: {a} allocations ({b} bytes) in 5,000 requests", req.method(), req.url());
    }
    assert_eq!(client.connections_opened(&base), 1, "one keep-alive connection throughout");
    server.shutdown();
}

/// Feature `compress`: what a compressed response costs in allocations, server side, once
/// warm (the raw client here allocates nothing). gzip reuses its worker's deflater and
/// buffers: nothing per response; brotli (feature `brotli`) builds its encoder per response.
#[cfg(feature = "compress")]
#[test]
fn compressed_responses_allocations() {
    use shockwave::compress::Compress;
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let body =
        BODY.get_or_init(|| (0..2500).flat_map(|i| format!("{{\"id\":{i:05},\"ok\":true}},").into_bytes()).collect());
    let app = shockwave::middleware::wrap(
        |req: &Request, resp: &mut Response| {
            resp.set_content_type("application/json");
            if req.path() == "/stream" {
                let _ = resp.write_all(BODY.get().unwrap());
                let _ = resp.flush();
            } else {
                resp.write_body(BODY.get().unwrap());
            }
        },
        Compress::new(),
    );
    let server = Server::builder().pollers(1).workers(1).bind("127.0.0.1:0").unwrap().start_handler(app).unwrap();
    let mut c = TcpStream::connect(server.local_addr()).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    // one response read whole: its head, then its body by Content-Length or to the last chunk
    let mut one = |c: &mut TcpStream, req: &[u8]| -> usize {
        c.write_all(req).unwrap();
        let mut have = 0;
        loop {
            let k = c.read(&mut buf[have..]).unwrap();
            assert!(k > 0, "server closed");
            have += k;
            let Some(e) = find(&buf[..have], b"\r\n\r\n") else { continue };
            let head = &buf[..e];
            let len = find(head, b"Content-Length: ").map(|i| {
                head[i + 16..].iter().take_while(|b| b.is_ascii_digit()).fold(0, |n, &d| n * 10 + usize::from(d - b'0'))
            });
            let done = match len {
                Some(n) => have >= e + 4 + n,
                None => buf[..have].ends_with(b"\r\n0\r\n\r\n"),
            };
            if done {
                assert!(find(head, b"Content-Encoding: ").is_some());
                return have - e - 4;
            }
        }
    };
    let mut cases = vec![("gzip, buffered", &b"GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n"[..])];
    cases.push(("gzip, streamed", b"GET /stream HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n"));
    if cfg!(feature = "brotli") {
        cases.push(("br, buffered", b"GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br\r\n\r\n"));
    }
    for (what, req) in cases {
        for _ in 0..50 {
            one(&mut c, req);
        }
        let (a0, b0) = (ALLOCS.load(SeqCst), BYTES.load(SeqCst));
        let mut wire = 0;
        for _ in 0..200 {
            wire = one(&mut c, req);
        }
        let (a, b) = (ALLOCS.load(SeqCst) - a0, BYTES.load(SeqCst) - b0);
        println!("{what}: {} allocations, {} bytes per response ({} B body -> {wire} B)", a / 200, b / 200, body.len());
        if what.starts_with("gzip") {
            assert_eq!(a, 0, "{what}: {a} allocations ({b} bytes) in 200 compressed responses");
        }
    }
    server.shutdown();
}
