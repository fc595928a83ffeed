//! End-to-end benchmarks of a server in this process over loopback, in the style of fasthttp's
//! BenchmarkServerGet1ReqPerConn and BenchmarkServerGet10KReqPerConn: a ~250-byte GET with Host,
//! User-Agent, Referer and Cookie, answered by the hello handler. ns/op and allocations per op
//! include the (allocation-free) client. Run: `cargo bench --bench server`.

use divan::Bencher;
use shockwave::{Request, Response, Server, ServerHandle};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const REQ: &[u8] = b"GET /foo/bar/baz?aaa=bbb HTTP/1.1\r\n\
Host: google.com\r\n\
User-Agent: aaa.bbb.ccc.ddd/1.2.3 (ccc; Linux x86_64)\r\n\
Referer: http://google.com/aaa/bbb/ccc/ddd/eee/fff/ggg.html\r\n\
Cookie: foo=bar; baz=qux; session=0123456789abcdef0123456789abcdef\r\n\r\n";

fn server() -> SocketAddr {
    static S: OnceLock<ServerHandle> = OnceLock::new();
    S.get_or_init(|| {
        Server::builder()
            .pollers(1)
            .workers(2)
            .bind("127.0.0.1:0")
            .unwrap()
            .start(|_req: &Request, resp: &mut Response| {
                resp.set_content_type("text/plain");
                resp.write_body(b"Hello, World!");
            })
            .unwrap()
    })
    .local_addr()
}

/// Reads one hello response (head + 13-byte body) with a fixed buffer.
fn read_one(c: &mut TcpStream, buf: &mut [u8; 1024]) {
    let mut have = 0;
    loop {
        let n = c.read(&mut buf[have..]).unwrap();
        assert!(n > 0);
        have += n;
        if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            if have >= p + 4 + 13 {
                return;
            }
        }
    }
}

#[divan::bench]
fn get_1_req_per_conn(b: Bencher) {
    let addr = server();
    let mut buf = [0u8; 1024];
    b.bench_local(|| {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(REQ).unwrap();
        read_one(&mut c, &mut buf);
    });
}

#[divan::bench]
fn get_10k_req_per_conn(b: Bencher) {
    let addr = server();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_nodelay(true).unwrap();
    let mut buf = [0u8; 1024];
    b.bench_local(|| {
        c.write_all(REQ).unwrap();
        read_one(&mut c, &mut buf);
    });
}
