//! Micro-benchmarks: request-head parsing against httparse, response encoding, buffer free
//! lists, routing against matchit alone. Run: `cargo bench --features internals --bench micro`. Allocations per iteration come from divan's
//! AllocProfiler (like Go's -benchmem).

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use shockwave::internals::{Encoder, Fixture, HeadParser, Pool};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// httparse's standard browser request ("kitty"): 9 header fields.
const KITTY: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n\r\n";

/// httparse's short request.
const SHORT: &[u8] = b"GET / HTTP/1.0\r\nHost: example.com\r\nCookie: session=60; user_id=1\r\n\r\n";

fn forty() -> Vec<u8> {
    let mut s = String::from("GET /api/v1/items?page=2&sort=desc HTTP/1.1\r\nHost: api.example.com\r\n");
    for i in 0..39 {
        s += &format!("X-Header-{i:02}: value-{i}-{}\r\n", "abcdefghij".repeat(i % 4 + 1));
    }
    s += "\r\n";
    s.into_bytes()
}

fn sample(name: &str) -> Vec<u8> {
    match name {
        "kitty" => KITTY.to_vec(),
        "short" => SHORT.to_vec(),
        _ => forty(),
    }
}

const SAMPLES: &[&str] = &["kitty", "short", "forty"];

#[divan::bench(args = SAMPLES)]
fn parse_shockwave(b: Bencher, name: &str) {
    let req = sample(name);
    let mut p = HeadParser::default();
    assert_eq!(p.parse(&req), Ok(Some(req.len())));
    b.counter(BytesCount::of_slice(&req)).bench_local(|| p.parse(black_box(&req)));
}

#[divan::bench(args = SAMPLES)]
fn parse_httparse(b: Bencher, name: &str) {
    let req = sample(name);
    b.counter(BytesCount::of_slice(&req)).bench_local(|| {
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut r = httparse::Request::new(&mut headers);
        let n = r.parse(black_box(&req)).unwrap();
        assert!(n.is_complete());
        n.unwrap()
    });
}

/// A typical API response head (nginx-style, 8 fields).
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 12:00:00 GMT\r\n\
Content-Type: application/json; charset=utf-8\r\nContent-Length: 1234\r\nConnection: keep-alive\r\n\
Cache-Control: no-cache, private\r\nX-Request-Id: 5f1c0a9e-8d2b-4c3e-9f47-0e6b2a1d7c55\r\n\
Vary: Accept-Encoding\r\n\r\n";

#[divan::bench]
fn parse_response_shockwave(b: Bencher) {
    let mut p = shockwave::internals::ResponseParser::default();
    assert_eq!(p.parse(RESPONSE), Ok(Some(RESPONSE.len())));
    b.counter(BytesCount::of_slice(RESPONSE)).bench_local(|| p.parse(black_box(RESPONSE)));
}

#[divan::bench]
fn parse_response_httparse(b: Bencher) {
    b.counter(BytesCount::of_slice(RESPONSE)).bench_local(|| {
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut r = httparse::Response::new(&mut headers);
        let n = r.parse(black_box(RESPONSE)).unwrap();
        assert!(n.is_complete());
        n.unwrap()
    });
}

/// The client's request head: request line, Host, User-Agent and three set headers.
#[divan::bench]
fn encode_request(b: Bencher) {
    let headers = [("Accept", "application/json"), ("Authorization", "Bearer abcdef0123456789"), ("X-Trace", "1")];
    let mut e =
        shockwave::internals::RequestEncoder::new("http://api.example.com:8080/v1/users/42?fields=name", &headers);
    let n = e.encode();
    b.counter(BytesCount::new(n)).bench_local(|| e.encode());
}

#[divan::bench]
fn encode_hello(b: Bencher) {
    let mut e = Encoder::default();
    let n = e.hello();
    b.counter(BytesCount::new(n)).bench_local(|| e.hello());
}

const SIZES: &[usize] = &[512, 1024, 4096, 16384, 65536];

#[divan::bench(args = SIZES, threads = [1, 2])]
fn pool_acquire_release(b: Bencher, size: usize) {
    static POOL: std::sync::OnceLock<Pool> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(Pool::default);
    b.bench(|| pool.cycle(black_box(size)));
}

#[path = "../examples/support/bench.rs"]
mod bench;
use bench::routes;

/// Paths looked up: a static route, one parameter, two parameters, a catch-all.
const LOOKUPS: &[&str] = &["/admin/teams", "/api/repos/12345", "/v2/files/77/tags/rust", "/static/css/site.css"];

/// matchit alone: the radix-tree lookup and reading each parameter, nothing else.
#[divan::bench(args = LOOKUPS)]
fn route_matchit(b: Bencher, path: &str) {
    let mut tree = matchit::Router::new();
    for (i, r) in routes().iter().enumerate() {
        tree.insert(r.as_str(), i).unwrap();
    }
    b.bench_local(|| {
        let m = tree.at(black_box(path)).unwrap();
        let mut n = *m.value;
        for (k, v) in m.params.iter() {
            n += k.len() + v.len();
        }
        black_box(n)
    });
}

/// shockwave's Router answering through its handler (lookup, method, parameters kept in the
/// request, a handler that reads one), on a worker's reused request and response.
#[divan::bench(args = LOOKUPS)]
fn route_router(b: Bencher, path: &str) {
    let mut app = shockwave::Router::new();
    for r in routes() {
        app = app.get(&r, |req, resp| {
            black_box(req.params().next());
            resp.set_status(200);
        });
    }
    let mut f = Fixture::new(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    b.bench_local(|| black_box(f.run(&app)));
}

/// The same request answered by the same handler without a router: the baseline the router's
/// share is measured against.
#[divan::bench(args = LOOKUPS)]
fn route_none(b: Bencher, path: &str) {
    let h = |req: &shockwave::Request, resp: &mut shockwave::Response| {
        black_box(req.params().next());
        resp.set_status(200);
    };
    let mut f = Fixture::new(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    b.bench_local(|| black_box(f.run(&h)));
}
