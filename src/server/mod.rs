//! The server runtime: configuration, listeners, pollers, the thread pool, shutdown.
//!
//! ```text
//!  client ──► poller i (mio::Poll, listener i, tiered buffers i), led by whichever pool thread
//!               │ holds its lock: read → parse head (+ body) → frame a pipelined batch
//!               │ queue the connection (a FIFO behind a short lock; full → 503 at once)
//!               ▼
//!             the same thread (or another, when handlers block): handler(&Request, &mut
//!               │ Response) for each request, in order; all responses encoded, one write
//!               └─ output the socket refuses → the poller finishes it on WRITABLE
//! ```
//!
//! There are no dedicated poller threads: see `dispatch.rs` for the leader/followers rules.

pub(crate) mod activation;
pub(crate) mod clock;
pub(crate) mod close;
pub(crate) mod config;
pub(crate) mod conn;
pub(crate) mod dispatch;
pub(crate) mod drain;
pub(crate) mod handover;
pub(crate) mod input;
pub(crate) mod listener;
pub(crate) mod monitor;
pub(crate) mod notify;
pub(crate) mod output;
pub(crate) mod poller;
pub(crate) mod pool;
pub(crate) mod shared;
#[cfg(feature = "signals")]
pub(crate) mod signals;
pub(crate) mod slot;
pub(crate) mod stats;
pub(crate) mod upgrade;
pub(crate) mod worker;

use crate::{Handler, HandlerResult, Request, Response};
use config::Config;
use crossbeam::utils::CachePadded;
use shared::{PollerShared, Shared};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

pub use stats::Stats;

/// Serves `handler` on `addr` with the default configuration until the process ends.
///
/// ```no_run
/// fn main() -> std::io::Result<()> {
///     shockwave::serve("127.0.0.1:8080", |req, resp| {
///         resp.set_content_type("text/plain");
///         resp.write_body(format!("Hello from {}", req.path()).as_bytes());
///     })
/// }
/// ```
///
/// The closure's argument types are inferred (`&Request`, `&mut Response`); a type that
/// implements [`Handler`] is served with [`serve_handler`].
pub fn serve<F, R>(addr: impl ToSocketAddrs, handler: F) -> io::Result<()>
where
    F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
    R: HandlerResult,
{
    serve_handler(addr, handler)
}

/// [`serve`] for a type that implements [`Handler`].
///
/// ```no_run
/// struct Hello;
///
/// impl shockwave::Handler for Hello {
///     fn handle(&self, _req: &shockwave::Request, resp: &mut shockwave::Response) {
///         resp.write_body(b"Hello, World!");
///     }
/// }
///
/// shockwave::serve_handler("127.0.0.1:8080", Hello)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_handler(addr: impl ToSocketAddrs, handler: impl Handler) -> io::Result<()> {
    Server::builder().bind(addr)?.start_handler(handler)?.join();
    Ok(())
}

/// Configures a server. Every option has a default suited to a server facing the internet.
///
/// ```no_run
/// use std::time::Duration;
/// let handle = shockwave::Server::builder()
///     .workers(64)
///     .read_header_timeout(Duration::from_secs(5))
///     .max_request_body(1 << 20)
///     .bind("127.0.0.1:0")?
///     .start(|_req, resp| resp.write_body(b"ok"))?;
/// println!("listening on {}", handle.local_addr());
/// handle.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    cfg: Config,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident : $ty:ty => |$c:ident, $v:ident| $set:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $v: $ty) -> Builder {
                let $c = &mut self.cfg;
                $set;
                self
            }
        )*
    };
}

impl Builder {
    setters! {
        /// Pollers: each a `mio::Poll` with its own listener and buffers, led in turn by pool
        /// threads (there are no dedicated poller threads). Default: one per CPU.
        ///
        /// ```
        /// let server = shockwave::Server::builder().pollers(2).bind("127.0.0.1:0")?; // two listening sockets
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pollers: usize => |c, v| c.pollers = v.max(1);
        /// A fixed pool of `n` worker threads running handlers: sets both
        /// [`min_workers`](Self::min_workers) and [`max_workers`](Self::max_workers).
        ///
        /// ```
        /// let handle = shockwave::Server::builder().workers(4).bind("127.0.0.1:0")?.start(|_req, _resp| {})?;
        /// assert_eq!(handle.stats().workers, 4);
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        workers: usize => |c, v| (c.min_workers, c.max_workers) = (v.max(1), v.max(1));
        /// Worker threads always kept (they run handlers; the pool also keeps one thread per
        /// poller free to lead it). Default: 8 per CPU, at least 8.
        ///
        /// ```
        /// let handle = shockwave::Server::builder()
        ///     .min_workers(2)
        ///     .max_workers(64)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|_req, _resp| {})?;
        /// assert_eq!(handle.stats().workers, 2); // until requests wait for a free worker
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        min_workers: usize => |c, v| {
            c.min_workers = v.max(1);
            c.max_workers = c.max_workers.max(c.min_workers);
        };
        /// Worker threads the pool grows to when requests wait and every worker is busy, as
        /// blocking handlers make them (a database call, a call to another service): the
        /// monitor adds threads within a few milliseconds, and threads beyond the minimum
        /// retire after [`worker_idle_timeout`](Self::worker_idle_timeout) without work. At the
        /// maximum, requests wait in the queue, and past it are answered `503` at once.
        /// Default: 256.
        ///
        /// ```
        /// // handlers that wait on a database: up to 512 threads, for the slow moments
        /// let server = shockwave::Server::builder().max_workers(512).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_workers: usize => |c, v| {
            c.max_workers = v.max(1);
            c.min_workers = c.min_workers.min(c.max_workers);
        };
        /// How long a worker thread beyond the minimum may be idle before it retires.
        /// Default: 60 s.
        ///
        /// ```
        /// use std::time::Duration;
        /// let server = shockwave::Server::builder()
        ///     .max_workers(512)
        ///     .worker_idle_timeout(Duration::from_secs(10)) // give threads back sooner after a burst
        ///     .bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        worker_idle_timeout: Duration => |c, v| c.worker_idle_timeout = v;
        /// Connections that may wait for a free worker; beyond it new requests are answered
        /// `503 Service Unavailable` at once. Default: 1024.
        ///
        /// ```
        /// // answer 503 at once rather than keep many clients waiting behind slow handlers
        /// let server = shockwave::Server::builder().queue_capacity(64).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        queue_capacity: usize => |c, v| c.queue_capacity = v.max(1);
        /// Time allowed for a request head once its first byte has arrived; then `408`.
        /// Default: 10 s.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .read_header_timeout(std::time::Duration::from_millis(200))
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(b"GET / HTTP/1.1\r\n")?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}"); // the head never ended
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        read_header_timeout: Duration => |c, v| c.read_header_timeout = v;
        /// Time allowed for a buffered body (up to 64 KiB) once its head has arrived, and the
        /// longest wait for each read of a larger, streamed body; then `408`. Default: 30 s.
        ///
        /// ```
        /// use std::time::Duration;
        /// let server = shockwave::Server::builder().body_timeout(Duration::from_secs(120)).bind("127.0.0.1:0")?;
        /// // (uploads from slow links: each read of a large body may wait up to two minutes)
        /// # Ok::<(), std::io::Error>(())
        /// ```
        body_timeout: Duration => |c, v| c.body_timeout = v;
        /// How long an idle keep-alive connection is kept. Default: 60 s.
        ///
        /// ```
        /// use std::time::Duration;
        /// // behind a proxy that keeps connections for 90 s, keep them longer than it does
        /// let server = shockwave::Server::builder().idle_timeout(Duration::from_secs(120)).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        idle_timeout: Duration => |c, v| c.idle_timeout = v;
        /// How long a response may wait for the client to take it; then the connection is
        /// closed. Default: 30 s.
        ///
        /// ```
        /// use std::time::Duration;
        /// // let go of clients that stop reading their answer for 5 s
        /// let server = shockwave::Server::builder().write_timeout(Duration::from_secs(5)).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        write_timeout: Duration => |c, v| c.write_timeout = v;
        /// Request-line plus header section; `431` beyond it. Default: 32 KiB.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .max_header_bytes(1024)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n", "a".repeat(2000)).as_bytes())?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_header_bytes: usize => |c, v| c.limits.max_head = v.max(64);
        /// Request-target; `414` beyond it. Default: 16 KiB.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .max_target_bytes(100)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(200)).as_bytes())?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_target_bytes: usize => |c, v| c.limits.max_target = v.max(1);
        /// Number of header fields; `431` beyond it. Default: 100.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .max_headers(2)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n")?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_headers: usize => |c, v| c.limits.max_fields = v;
        /// Request body; `413` beyond it. Default: 8 MiB.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .max_request_body(4)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.starts_with("HTTP/1.1 413 Content Too Large\r\n"), "{answer}");
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_request_body: u64 => |c, v| c.max_request_body = v;
        /// Open connections; beyond it new ones wait in the kernel's backlog. Default: 16384.
        ///
        /// ```
        /// // under a limit of 1024 file descriptors (`ulimit -n`), leave some for files and the server
        /// let server = shockwave::Server::builder().max_connections(900).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_connections: usize => |c, v| c.max_connections = v.max(1);
        /// How long the kernel may hold a new connection until its first bytes arrive before
        /// handing it over anyway (Linux `TCP_DEFER_ACCEPT`, whole seconds). No request waits
        /// for it: a connection is accepted the moment data arrives. It saves a wake-up per
        /// connection, and connections that never speak hold no descriptor meanwhile (the
        /// header timeout starts once they are handed over). Zero turns it off. Default: 1 s.
        ///
        /// ```
        /// // accept each connection as soon as it is made, before its first bytes arrive
        /// let server = shockwave::Server::builder().defer_accept(std::time::Duration::ZERO).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        defer_accept: Duration => |c, v| c.defer_accept = v;
        /// Open connections per client IP address; beyond it new ones are closed at once.
        /// Default: no limit.
        ///
        /// ```
        /// // no single client may hold more than 64 connections (clients behind one NAT share an IP)
        /// let server = shockwave::Server::builder().max_connections_per_ip(64).bind("127.0.0.1:0")?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_connections_per_ip: usize => |c, v| c.max_connections_per_ip = Some(v.max(1));
        /// Requests served on one connection before it is closed. Default: no limit.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .max_requests_per_conn(1)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}"); // and the server closed it
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        max_requests_per_conn: u64 => |c, v| c.max_requests_per_conn = Some(v.max(1));
        /// Pass methods outside the IANA registry (and a few widely deployed extensions) to the
        /// handler instead of answering `501 Not Implemented`. Default: false.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// let handle = shockwave::Server::builder()
        ///     .allow_unknown_methods(true)
        ///     .bind("127.0.0.1:0")?
        ///     .start(|req, resp| resp.write_body(req.method()))?;
        /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
        /// client.write_all(b"BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        /// let mut answer = String::new();
        /// client.read_to_string(&mut answer)?;
        /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("BREW"), "{answer}");
        /// handle.shutdown();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        allow_unknown_methods: bool => |c, v| c.limits.allow_unknown_methods = v;
    }

    /// The `Server` header value, or `None` to send none. Default: `shockwave`.
    ///
    /// # Panics
    /// If the value holds a control character.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let handle = shockwave::Server::builder()
    ///     .server_header(Some("my-app/1.0"))
    ///     .bind("127.0.0.1:0")?
    ///     .start(|_req, resp| resp.write_body("ok"))?;
    /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
    /// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// client.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\nServer: my-app/1.0\r\n"), "{answer}");
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn server_header(mut self, value: Option<&str>) -> Builder {
        self.cfg.server_line = value.map(|v| {
            assert!(v.bytes().all(|b| b >= 0x20 && b != 0x7f), "invalid Server header value {v:?}");
            Arc::from(format!("Server: {v}\r\n").into_bytes().into_boxed_slice())
        });
        self
    }

    /// Writes the body of every error response with `page`: those the server sends on its own
    /// (400, 408, 413, 414, 431, 500 after a panic, 501, 503, 505 …) and the
    /// [`Error`](crate::Error)s handlers return (unless made [`json`](crate::Error::json)).
    /// `page` gets the status and the message (`"Bad Request: invalid header field"`), writes
    /// the body into the vector and returns its `Content-Type`. Default: plain text.
    ///
    /// ```no_run
    /// let handle = shockwave::Server::builder()
    ///     .error_page(|status, message, body| {
    ///         body.extend_from_slice(format!("<h1>{status}</h1><p>{message}</p>").as_bytes());
    ///         "text/html; charset=utf-8"
    ///     })
    ///     .bind("127.0.0.1:8080")?
    ///     .start(|_req, resp| resp.write_body("ok"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn error_page(
        mut self,
        page: impl Fn(u16, &str, &mut Vec<u8>) -> &'static str + Send + Sync + 'static,
    ) -> Builder {
        self.cfg.error_page = Some(crate::error::ErrorPage::new(page));
        self
    }

    /// Error responses as JSON, `{"error": "Bad Request: invalid header field"}`, for an API
    /// (an [`error_page`](Self::error_page) the library provides).
    ///
    /// ```no_run
    /// let handle = shockwave::Server::builder().json_errors().bind("127.0.0.1:8080")?.start(|_req, resp| resp.write_body("{}"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn json_errors(mut self) -> Builder {
        self.cfg.error_page = Some(crate::error::ErrorPage::json());
        self
    }

    /// Share the port with other processes that opt in too (`SO_REUSEPORT`), so a new instance
    /// can start beside the old one for a restart without downtime; then stop the old one with
    /// [`ServerHandle::drain`] or [`shutdown`](ServerHandle::shutdown). Default: `false`, the
    /// port is this server's alone and [`bind`](Self::bind) fails with `AddrInUse` when
    /// anything else holds it.
    ///
    /// The trap of `SO_REUSEPORT`: closing a listener resets the connections still waiting in
    /// its accept queue, and the kernel keeps queueing new ones to it until it closes. So a
    /// server bound this way takes every new connection for itself: it listens on one socket
    /// (its pollers share it) and attaches a classic BPF program to the port's group that sends
    /// new connections to the second socket, its own. The old instance then gets nothing new
    /// and empties its queue before it stops: the test
    /// `the_newest_reuse_port_server_takes_every_new_connection` opens 500 connections across
    /// the old server's shutdown and has every one answered. One hand-over at a time: start the
    /// next instance once the old one has exited (with three in the group, the second would
    /// take the connections), and the old instance must hold one socket in the group, as a
    /// server of this version bound with `reuse_port(true)` does (a process with several, such
    /// as another program's per-thread listeners, would take the new connections on its
    /// second socket). Linux 5.14+ can instead move a closing listener's queue to the others
    /// itself: `sysctl net.ipv4.tcp_migrate_req=1`. For a group of instances that share the load, use one socket
    /// passed to all of them instead (see [`bind_or_inherit`](Self::bind_or_inherit)).
    ///
    /// ```
    /// let old = shockwave::Server::builder().reuse_port(true).bind("127.0.0.1:0")?;
    /// // the new instance (another process, in real life) binds the same port beside it
    /// let new = shockwave::Server::builder().reuse_port(true).bind(old.local_addr())?;
    /// assert_eq!(new.local_addr(), old.local_addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reuse_port(mut self, shared: bool) -> Builder {
        self.cfg.reuse_port = shared;
        self
    }

    /// Require a PROXY protocol header (v1 or v2) at the start of every connection, as sent by
    /// HAProxy's `send-proxy` / `send-proxy-v2`, nginx's `proxy_protocol on` (stream module)
    /// and AWS Network Load Balancers. [`Request::remote_addr`] is then the client's address
    /// from the header (for a v1 `UNKNOWN` or v2 `LOCAL` header, a health check, it stays the
    /// socket's peer), [`Request::peer_addr`] the load balancer's, and
    /// [`Request::proxy`] has the rest of the header (v2 TLVs: ALPN, SNI, unique id …).
    ///
    /// A connection that does not start with a valid header (plain HTTP, a malformed or
    /// oversized header: v1 over 107 bytes, v2 over 4 KiB, or one cut short by the peer
    /// closing) is closed without an HTTP answer, counted in
    /// [`Stats::rejected_invalid`], and logged at debug level. The header may arrive in
    /// pieces, within [`read_header_timeout`](Self::read_header_timeout) (else the
    /// connection is closed, without a `408`, and counted in [`Stats::timeouts`]). Turn
    /// it on only for a listener that nothing but the load balancer can reach: anyone who can
    /// connect can claim any address. [`proxy_protocol_from`](Self::proxy_protocol_from)
    /// enforces that. [`max_connections_per_ip`](Self::max_connections_per_ip) still counts
    /// socket peers (the load balancer). Default: off.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let handle = shockwave::Server::builder()
    ///     .proxy_protocol(true)
    ///     .bind("127.0.0.1:0")?
    ///     .start(|req, resp| resp.write_body(format!("{} via {}", req.remote_addr(), req.peer_addr().ip())))?;
    /// let mut lb = std::net::TcpStream::connect(handle.local_addr())?;
    /// lb.write_all(b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// lb.read_to_string(&mut answer)?;
    /// assert!(answer.ends_with("203.0.113.7:41000 via 127.0.0.1"), "{answer}");
    ///
    /// let mut plain = std::net::TcpStream::connect(handle.local_addr())?;
    /// plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?; // no header: closed, no answer
    /// let mut answer = Vec::new();
    /// let _ = plain.read_to_end(&mut answer); // (EOF, or a reset if the close races our write)
    /// assert!(answer.is_empty());
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn proxy_protocol(mut self, on: bool) -> Builder {
        self.cfg.proxy_protocol = on;
        if !on {
            self.cfg.proxy_from = None;
        }
        self
    }

    /// Require a PROXY protocol header (turns on [`proxy_protocol`](Self::proxy_protocol))
    /// and accept connections only from peers in `networks`: the load balancers. A connection
    /// from any other peer is closed without an answer and without anything it sent being
    /// interpreted, whether or not it sends a header: on a PROXY listener an unknown peer is a misconfiguration or an attack, and
    /// serving it as plain HTTP would let it pass for the load balancer's clients. Counted in
    /// [`Stats::rejected_invalid`] and logged at debug level. Over a Unix socket
    /// ([`bind_unix`](Self::bind_unix)) the peer is `0.0.0.0`.
    ///
    /// ```
    /// use shockwave::Network;
    /// let lbs: Vec<Network> = ["10.0.0.0/8", "fd00::/8"].iter().map(|n| n.parse()).collect::<Result<_, _>>()?;
    /// let server = shockwave::Server::builder().proxy_protocol_from(lbs).bind("127.0.0.1:0")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxy_protocol_from(mut self, networks: impl IntoIterator<Item = crate::Network>) -> Builder {
        self.cfg.proxy_protocol = true;
        self.cfg.proxy_from = Some(networks.into_iter().collect());
        self
    }

    /// Believe `Forwarded` (RFC 7239) and `X-Forwarded-For` / `-Proto` / `-Host` headers on
    /// requests whose [`remote_addr`](Request::remote_addr) (the socket's peer, or with
    /// [`proxy_protocol`](Self::proxy_protocol) the address the PROXY header gave) is in
    /// `networks`: your reverse proxies. [`Request::client_ip`],
    /// [`forwarded_proto`](Request::forwarded_proto) and
    /// [`forwarded_host`](Request::forwarded_host) then report what they say; from any other
    /// peer the headers are ignored. Default: nobody is trusted.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let handle = shockwave::Server::builder()
    ///     .trust_forwarded_from(["127.0.0.0/8".parse()?])
    ///     .bind("127.0.0.1:0")?
    ///     .start(|req, resp| resp.write_body(req.client_ip().to_string()))?;
    /// let mut proxy = std::net::TcpStream::connect(handle.local_addr())?;
    /// proxy.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// proxy.read_to_string(&mut answer)?;
    /// assert!(answer.ends_with("\r\n203.0.113.7"), "{answer}");
    /// handle.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trust_forwarded_from(mut self, networks: impl IntoIterator<Item = crate::Network>) -> Builder {
        self.cfg.trust_forwarded = Some(networks.into_iter().collect());
        self
    }

    /// Binds the listening sockets, one per poller. Fails with `AddrInUse` when anything else
    /// listens on the port (unless [`reuse_port`](Self::reuse_port) opts in to sharing it); the
    /// error names the address.
    ///
    /// ```
    /// let first = shockwave::Server::builder().bind("127.0.0.1:0")?;
    /// let taken = shockwave::Server::builder().bind(first.local_addr()).unwrap_err();
    /// assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);
    /// assert!(taken.to_string().contains(&first.local_addr().to_string()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listeners = listener::bind(addr, self.cfg.pollers, self.cfg.defer_accept, self.cfg.reuse_port)?;
        let local = listeners[0].local_addr()?;
        Ok(Server::new(self.cfg, listener::Bound::Tcp(listeners), local))
    }

    /// Binds a TLS listener (HTTPS) as [`bind`](Self::bind) binds a plain one: connections to
    /// it complete a TLS handshake with `tls`'s certificates before their requests are read.
    /// Add plain listeners to the same server with [`Server::bind`] (and more TLS ones with
    /// [`Server::bind_tls`]). See [`crate::tls`] for what is negotiated. With
    /// [`proxy_protocol`](Self::proxy_protocol), the PROXY header comes first, in the clear,
    /// as HAProxy and nginx send it.
    ///
    /// A TLS listener is not handed over: [`ServerHandle::hand_over`] and
    /// [`bind_or_inherit`](Self::bind_or_inherit) carry plain sockets only (a new process
    /// would serve an inherited socket as plain HTTP), so restart a TLS server with
    /// [`reuse_port`](Self::reuse_port) and a drain instead, or end TLS at the balancer.
    ///
    /// ```
    /// use shockwave::tls::TlsConfig;
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let tls = TlsConfig::from_pem(made.cert.pem(), made.signing_key.serialize_pem())?;
    /// let handle = shockwave::Server::builder()
    ///     .bind_tls("127.0.0.1:0", tls)?
    ///     .start(|req, resp| resp.write_body(if req.is_tls() { "over TLS" } else { "plain" }))?;
    /// # handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn bind_tls(self, addr: impl ToSocketAddrs, tls: crate::tls::TlsConfig) -> io::Result<Server> {
        let mut server = self.bind(addr)?;
        server.security.tls = Some(tls);
        Ok(server)
    }

    /// Binds a Unix domain stream socket at `path` instead of a TCP port: for a server behind a
    /// proxy on the same machine (nginx's `proxy_pass http://unix:/run/app.sock;`, HAProxy's
    /// `server app /run/app.sock`), reachable only through the file system. HTTP is served
    /// over it exactly as over TCP, except that:
    /// - there is one listening socket, which every poller waits on (Unix sockets have no
    ///   `SO_REUSEPORT`); a new connection wakes one poller, which serves it from then on;
    /// - [`defer_accept`](Self::defer_accept) and
    ///   [`max_connections_per_ip`](Self::max_connections_per_ip) do not apply (a Unix peer
    ///   has no IP address), nor does `TCP_NODELAY`;
    /// - [`Request::remote_addr`] and [`ServerHandle::local_addr`] are the unspecified address
    ///   `0.0.0.0:0`; [`ServerHandle::unix_path`] has the path.
    ///
    /// The socket file is the server's: a file left by a server that is gone (connecting to it
    /// is refused) is replaced; if a server listens on it, the bind fails with `AddrInUse`
    /// ("another server is listening"), and if a file that is not a socket is there, with
    /// `AlreadyExists` (it is left alone). The file is removed when the server stops accepting
    /// (at shutdown) or when a [`Server`] that never started is dropped, unless another
    /// server has since bound the path. Its permissions follow the process's umask. Errors name
    /// the path. (Two servers started at the same instant on one stale path race: both may
    /// replace it, and one is then unreachable.)
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let path = std::env::temp_dir().join(format!("shockwave-doc-{}.sock", std::process::id()));
    /// let handle = shockwave::Server::builder()
    ///     .bind_unix(&path)?
    ///     .start(|_req, resp| resp.write_body(b"over a Unix socket"))?;
    /// assert_eq!(handle.unix_path(), Some(path.as_path()));
    ///
    /// let mut client = std::os::unix::net::UnixStream::connect(&path)?;
    /// client.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// client.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("over a Unix socket"));
    ///
    /// handle.shutdown();
    /// assert!(!path.exists(), "the socket file goes with the server");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_unix(self, path: impl AsRef<Path>) -> io::Result<Server> {
        let (l, file) = listener::bind_unix(path.as_ref())?;
        Ok(Server::new(self.cfg, listener::Bound::Unix(l, Some(file)), listener::UNIX_PEER))
    }
}

impl Builder {
    /// Serves on the listening sockets passed to this process by systemd socket activation
    /// (`LISTEN_FDS` and `LISTEN_PID` set for it, the sockets at descriptors 3, 4, …), or by
    /// [`ServerHandle::hand_over`] of the process it replaces; without them, binds `addr` as
    /// [`bind`](Self::bind) does. This is how a restart loses no connection: the listening
    /// socket outlives the process, and connections that arrive while no process accepts wait
    /// in its queue.
    ///
    /// Passed sockets may be TCP (several are served together, the pollers sharing them when
    /// there are fewer sockets than pollers, and at least one poller waiting on each) or one
    /// Unix socket (its file is left to whoever created it). They are taken once per process:
    /// a second server finds none and binds `addr`. Fails with `InvalidInput` when the variables
    /// are set for this process but wrong (a descriptor that is not a listening stream socket,
    /// a mix of TCP and Unix sockets), naming the problem. `LISTEN_FDNAMES` is not consulted.
    ///
    /// ```
    /// // not started by systemd: LISTEN_FDS is not set, so this binds the address
    /// let server = shockwave::Server::builder().bind_or_inherit("127.0.0.1:0")?;
    /// assert_eq!(server.local_addr().ip().to_string(), "127.0.0.1");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// A systemd socket unit for it (see `examples/deploy/` for the complete files):
    ///
    /// ```text
    /// [Socket]
    /// ListenStream=127.0.0.1:8080
    /// ```
    pub fn bind_or_inherit(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        match activation::take()? {
            Some(bound) => self.serve_bound(bound),
            None => self.bind(addr),
        }
    }

    /// Serves on a listening socket bound elsewhere (say, by a supervisor, or with options this
    /// builder has no setting for). It is made non-blocking; [`defer_accept`](Self::defer_accept)
    /// and [`reuse_port`](Self::reuse_port) do not apply (they are options of the socket, set by
    /// whoever bound it). Fails if it has no local address.
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let handle = shockwave::Server::builder().from_listener(listener)?.start(|_req, resp| resp.write_body("ok"))?;
    /// assert_eq!(handle.local_addr(), addr);
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_listener(self, listener: std::net::TcpListener) -> io::Result<Server> {
        listener.set_nonblocking(true)?;
        self.serve_bound(listener::Bound::Tcp(vec![listener]))
    }

    fn serve_bound(self, bound: listener::Bound) -> io::Result<Server> {
        let local = match &bound {
            listener::Bound::Tcp(v) => v[0].local_addr()?,
            listener::Bound::Unix(..) => listener::UNIX_PEER,
        };
        Ok(Server::new(self.cfg, bound, local))
    }
}

/// A bound server, ready to start.
///
/// Binding first tells the address (with the port the system chose for port 0) before anything
/// is served, and reports a port in use before any thread starts:
///
/// ```
/// let server = shockwave::Server::builder().bind("127.0.0.1:0")?;
/// let addr = server.local_addr();
/// let handle = server.start(|_req, resp| resp.write_body("ok"))?;
/// assert_eq!(handle.local_addr(), addr);
/// handle.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Server {
    cfg: Config,
    /// The first address bound: the one [`ServerHandle::hand_over`] passes on.
    listeners: listener::Bound,
    security: listener::Security,
    /// Addresses bound after it ([`Server::bind`], [`Server::bind_tls`]).
    more: Vec<(listener::Bound, listener::Security)>,
    /// Every address, in the order bound.
    addrs: Vec<SocketAddr>,
}

impl Server {
    fn new(cfg: Config, listeners: listener::Bound, local: SocketAddr) -> Server {
        Server { cfg, listeners, security: Default::default(), more: Vec::new(), addrs: vec![local] }
    }

    /// Binds one more address, served by the same pollers, workers and handler: plain HTTP
    /// beside a TLS listener, say, or IPv4 and IPv6. Bound with the builder's options
    /// ([`reuse_port`](Builder::reuse_port), [`defer_accept`](Builder::defer_accept)).
    /// [`ServerHandle::hand_over`] passes on the first address's sockets only.
    ///
    /// ```
    /// let server = shockwave::Server::builder().bind("127.0.0.1:0")?.bind("[::1]:0");
    /// # let _ = server; // (::1 may be missing where this runs)
    /// let two = shockwave::Server::builder().bind("127.0.0.1:0")?.bind("127.0.0.1:0")?;
    /// assert_eq!(two.local_addrs().len(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        self.bind_more(addr, listener::Security::default())
    }

    /// Binds one more address as a TLS listener (see [`Builder::bind_tls`]): HTTPS beside
    /// plain HTTP in one server.
    ///
    /// ```
    /// use shockwave::tls::TlsConfig;
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let tls = TlsConfig::from_pem(made.cert.pem(), made.signing_key.serialize_pem())?;
    /// let server = shockwave::Server::builder().bind("127.0.0.1:0")?.bind_tls("127.0.0.1:0", tls)?;
    /// let [plain, https] = server.local_addrs()[..] else { unreachable!() };
    /// # let _ = (plain, https);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn bind_tls(self, addr: impl ToSocketAddrs, tls: crate::tls::TlsConfig) -> io::Result<Server> {
        self.bind_more(addr, listener::Security { tls: Some(tls) })
    }

    fn bind_more(mut self, addr: impl ToSocketAddrs, security: listener::Security) -> io::Result<Server> {
        let listeners = listener::bind(addr, self.cfg.pollers, self.cfg.defer_accept, self.cfg.reuse_port)?;
        self.addrs.push(listeners[0].local_addr()?);
        self.more.push((listener::Bound::Tcp(listeners), security));
        Ok(self)
    }

    /// Every bound address, in the order bound (the first is [`local_addr`](Self::local_addr)).
    ///
    /// ```
    /// let server = shockwave::Server::builder().bind("127.0.0.1:0")?;
    /// assert_eq!(server.local_addrs(), [server.local_addr()]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// A builder with the default configuration.
    ///
    /// ```
    /// let server = shockwave::Server::builder().max_request_body(1 << 20).bind("127.0.0.1:0")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The bound address (with the real port when bound to port 0); `0.0.0.0:0` for a server
    /// bound to a Unix socket (see [`unix_path`](Self::unix_path)).
    ///
    /// ```
    /// let server = shockwave::Server::builder().bind("127.0.0.1:0")?;
    /// assert_eq!(server.local_addr().ip().to_string(), "127.0.0.1");
    /// assert_ne!(server.local_addr().port(), 0); // the port the system chose
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The socket file of a server bound with [`Builder::bind_unix`]; `None` for TCP.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("shockwave-doc-server-{}.sock", std::process::id()));
    /// let unix = shockwave::Server::builder().bind_unix(&path)?;
    /// assert_eq!(unix.unix_path(), Some(path.as_path()));
    /// assert_eq!(unix.local_addr().to_string(), "0.0.0.0:0");
    /// drop(unix); // a server that never started removes its socket file
    /// assert!(!path.exists());
    /// assert_eq!(shockwave::Server::builder().bind("127.0.0.1:0")?.unix_path(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unix_path(&self) -> Option<&Path> {
        self.listeners.unix_path()
    }

    /// Starts serving `handler` and returns at once; the closure's argument types are inferred.
    ///
    /// ```no_run
    /// let handle = shockwave::Server::builder()
    ///     .bind("127.0.0.1:8080")?
    ///     .start(|req, resp| resp.write_body(req.path().as_bytes()))?;
    /// handle.join();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start<F, R>(self, handler: F) -> io::Result<ServerHandle>
    where
        F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
        R: HandlerResult,
    {
        self.start_handler(handler)
    }

    /// [`start`](Self::start) for a type that implements [`Handler`].
    ///
    /// ```
    /// struct Hello;
    ///
    /// impl shockwave::Handler for Hello {
    ///     fn handle(&self, _req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///         resp.write_body("hello");
    ///     }
    /// }
    ///
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start_handler(Hello)?;
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_handler(self, handler: impl Handler) -> io::Result<ServerHandle> {
        let mut cfg = self.cfg;
        // every listening socket (several may be passed in) needs a poller waiting on it
        cfg.pollers = self.more.iter().map(|(b, _)| b.len()).fold(cfg.pollers.max(self.listeners.len()), usize::max);
        let unix = self.listeners.unix_path().map(Path::to_path_buf);
        let over_unix = matches!(self.listeners, listener::Bound::Unix(..));
        let listening = self.listeners.duplicates()?;
        let socket_file = self.listeners.socket_file().as_ref().map(Arc::downgrade);
        let mut each: Vec<Vec<_>> = (0..cfg.pollers).map(|_| Vec::new()).collect();
        for (bound, security) in std::iter::once((self.listeners, self.security)).chain(self.more) {
            for (i, l) in bound.split(cfg.pollers)?.into_iter().enumerate() {
                each[i].push((l, security.clone()));
            }
        }
        let mut pollers = Vec::new();
        for (i, l) in each.into_iter().enumerate() {
            let poll = mio::Poll::new()?;
            let waker = mio::Waker::new(poll.registry(), poller::WAKER)?;
            let registry = poll.registry().try_clone()?;
            let pool = crate::buf::BufPool::new();
            pool.warm_up(cfg.buffer_warm_up);
            pollers.push(PollerShared {
                core: parking_lot::Mutex::new(poller::Poller::new(i, poll, l)?),
                turns: AtomicU64::new(0),
                done: AtomicBool::new(false),
                pool,
                closed: Default::default(),
                again: Default::default(),
                waker,
                registry,
            });
        }
        let dispatch = dispatch::Dispatch::new(cfg.queue_capacity, pollers.len(), cfg.min_workers, cfg.max_workers);
        let shared = Arc::new(Shared {
            // (a Unix peer has no IP address: no per-IP cap)
            per_ip: cfg.max_connections_per_ip.filter(|_| !over_unix).map(|_| Default::default()),
            requests: (0..dispatch.max_threads()).map(|_| CachePadded::new(AtomicU64::new(0))).collect(),
            cfg,
            handler: Box::new(handler),
            dispatch,
            pollers,
            shutdown: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            listening: parking_lot::Mutex::new(listening),
            socket_file,
            stop_counted: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            counters: Default::default(),
            clock: clock::CoarseClock::new(),
            threads: Default::default(),
            joiner: Default::default(),
        });
        // `pollers + min_workers` threads to start; the monitor adds more when requests wait
        for _ in 0..shared.pollers.len() + shared.cfg.min_workers {
            if let Err(e) = pool::spawn(&shared) {
                pool::stop(&shared);
                return Err(e);
            }
        }
        pool::spawn_monitor(&shared)?;
        notify::started();
        Ok(ServerHandle { inner: Arc::new(Running { shared, addrs: self.addrs, unix }) })
    }
}

/// A running server: cheap to clone (every clone controls the same server), `Send` and
/// `Sync`, so any thread may stop it or wait for it.
///
/// - [`shutdown`](Self::shutdown) stops it gracefully and waits until it has stopped; it may
///   be called any number of times, from any thread. Called from one of this server's own
///   handlers, it only begins the shutdown and returns (a handler cannot wait for its own
///   server to finish: the request it is answering is part of what shutdown waits for).
/// - [`join`](Self::join) waits until the server has stopped, whoever stops it.
/// - Dropping the last handle begins a graceful shutdown and does not wait: a server nobody
///   holds a handle to could never be stopped or joined. Keep a handle for as long as the server
///   should run ([`serve`] holds one in `join`, and so may `main`). A handle moved into the
///   server's own handler keeps it running until something calls `shutdown`;
///   `shutdown_on_signals` (feature `signals`) holds none.
///
/// ```
/// let handle = shockwave::Server::builder()
///     .bind("127.0.0.1:0")?
///     .start(|_req, resp| resp.write_body(b"ok"))?;
/// let stopper = handle.clone();
/// let admin = std::thread::spawn(move || stopper.shutdown()); // e.g. on an admin command
/// handle.join(); // returns once the other thread's shutdown has finished
/// admin.join().unwrap();
/// handle.shutdown(); // already stopped: returns at once
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "dropping the last ServerHandle shuts the server down"]
pub struct ServerHandle {
    inner: Arc<Running>,
}

/// What every clone of a [`ServerHandle`] shares; its drop (with the last handle) stops the
/// server.
struct Running {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    unix: Option<PathBuf>,
}

impl Drop for Running {
    fn drop(&mut self) {
        pool::stop(&self.shared);
    }
}

impl ServerHandle {
    /// The address the server listens on; `0.0.0.0:0` for a server bound to a Unix socket
    /// (see [`unix_path`](Self::unix_path)).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("hi"))?;
    /// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
    /// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// client.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nhi"), "{answer}");
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addrs[0]
    }

    /// Every bound address, in the order bound (see [`Server::bind`]).
    ///
    /// ```
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, _resp| {})?;
    /// assert_eq!(handle.local_addrs(), [handle.local_addr()]);
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.inner.addrs
    }

    /// The socket file of a server bound with [`Builder::bind_unix`]; `None` for TCP.
    ///
    /// ```
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, _resp| {})?;
    /// assert_eq!(handle.unix_path(), None);
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unix_path(&self) -> Option<&Path> {
        self.inner.unix.as_deref()
    }

    /// Counters and buffer-pool statistics.
    ///
    /// ```
    /// let handle = shockwave::Server::builder().workers(4).bind("127.0.0.1:0")?.start(|_req, _resp| {})?;
    /// let stats = handle.stats();
    /// assert_eq!((stats.requests, stats.connections_open, stats.workers), (0, 0, 4));
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        Stats::collect(&self.inner.shared)
    }

    /// Shuts the server down gracefully on the first SIGINT (Ctrl-C) or SIGTERM (what `kill`,
    /// systemd, Docker and Kubernetes send to stop a process): the counterpart of axum's
    /// `with_graceful_shutdown(shutdown_signal())`. Requires the cargo feature `signals`.
    ///
    /// On the signal, a [`drain`](Self::drain) begins (on a thread of its own: with the
    /// [`drain_delay`](Builder::drain_delay), if one is set, then
    /// [`shutdown`](Self::shutdown)'s graceful stop), so a `main` waiting in [`join`](Self::join) returns once requests in flight are
    /// answered, and the process can exit normally, with status 0. A second signal while the
    /// server drains, or any signal once no server watched this way is running, terminates the
    /// process at once by the signal's default action (a shell reports status 130 for SIGINT,
    /// 143 for SIGTERM). The handlers stay installed for the life of the process; several
    /// servers may be watched, and one signal stops them all. Watching holds no handle: dropping
    /// the last one still shuts the server down. Stops are logged through the `log` facade.
    ///
    /// Fails if the signal handlers cannot be installed or their thread cannot be started.
    ///
    /// ```no_run
    /// let handle = shockwave::Server::builder()
    ///     .bind("127.0.0.1:8080")?
    ///     .start(|_req, resp| resp.write_body(b"Hello, World!"))?;
    /// handle.shutdown_on_signals()?;
    /// handle.join(); // returns after Ctrl-C, once requests in flight are answered
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "signals")]
    pub fn shutdown_on_signals(&self) -> io::Result<()> {
        signals::watch(&self.inner.shared)
    }

    /// Hands the listening sockets over to a new process on SIGUSR2, as nginx's binary upgrade
    /// does: [`hand_over`](Self::hand_over) with a 30 s wait for the new process, then this
    /// server drains (and a `main` waiting in [`join`](Self::join) returns). A failed hand-over
    /// is logged and this server goes on serving. Requires the cargo feature `signals`. One
    /// server per process is handed over: the last one watched.
    ///
    /// ```no_run
    /// let handle = shockwave::Server::builder()
    ///     .bind_or_inherit("127.0.0.1:8080")? // the new process finds the sockets here
    ///     .start(|_req, resp| resp.write_body(b"Hello, World!"))?;
    /// handle.shutdown_on_signals()?; // SIGTERM: drain and exit
    /// handle.hand_over_on_sigusr2()?; // `kill -USR2 <pid>` after installing a new binary
    /// handle.join();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "signals")]
    pub fn hand_over_on_sigusr2(&self) -> io::Result<()> {
        signals::watch_hand_over(&self.inner.shared)
    }

    /// Graceful shutdown: stops accepting, closes idle connections, lets requests in flight be
    /// answered (and pipelined ones already read; the last answer on each connection closes
    /// it), waits for everything to be written, then stops the threads and returns.
    /// Connections still busy after the [`drain_timeout`](Builder::drain_timeout) (30 s) are
    /// closed. A [`drain`](Self::drain) without its delay; called during a drain's delay, it
    /// ends the delay.
    ///
    /// Idempotent and callable from any thread; a later call, or one made while another is
    /// waiting, waits for the same end. Called from a handler of this server, it begins the
    /// shutdown and returns at once: the handler's own answer is sent (with
    /// `Connection: close`), and [`join`](Self::join) elsewhere sees the end.
    ///
    /// ```
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("ok"))?;
    /// let addr = handle.local_addr();
    /// handle.shutdown(); // returns once the server has stopped
    /// let again = shockwave::Server::builder().bind(addr)?; // the port is free again
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self) {
        pool::stop(&self.inner.shared);
        if !pool::on_own_thread(&self.inner.shared) {
            pool::join(&self.inner.shared);
        }
    }

    /// Blocks until the server has stopped: until some clone's [`shutdown`](Self::shutdown)
    /// (or a signal, with `shutdown_on_signals`) has stopped it and its threads have ended.
    /// Without one, it waits for the life of the process, which is what [`serve`] does.
    ///
    /// The first `join` in a process also says the process is ready, as
    /// [`notify_ready`](Self::notify_ready) does: call it once set-up is done (signal handlers
    /// installed, caches warm).
    ///
    /// # Panics
    /// When called from one of this server's own handlers, which would wait for itself forever.
    ///
    /// ```
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("ok"))?;
    /// let stopper = handle.clone();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(50)); // say, until an admin command
    ///     stopper.shutdown();
    /// });
    /// handle.join(); // returns once the other thread's shutdown has stopped the server
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join(&self) {
        assert!(
            !pool::on_own_thread(&self.inner.shared),
            "ServerHandle::join called from one of the server's own handlers: it would wait for itself"
        );
        // set-up is done once a process waits for its server: the moment to say it is ready
        notify::ready();
        pool::join(&self.inner.shared);
    }
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ServerHandle");
        match &self.inner.unix {
            Some(path) => d.field("unix_path", path),
            None => d.field("local_addr", &self.inner.addrs[0]),
        };
        d.finish()
    }
}
