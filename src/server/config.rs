//! Server configuration: every option, its default, and why that default.

use crate::http::parse::Limits;
use crate::network::Network;
use std::sync::Arc;
use std::time::Duration;

/// Time allowed for a request head to arrive once its first byte has (nginx uses 60 s; slowloris
/// defence wants it short).
pub(crate) const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a buffered body to arrive after its head, and the longest wait for any single
/// read of a streamed body.
pub(crate) const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle keep-alive connection stays open (nginx: 75 s).
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a response may wait for the client to make room for it.
pub(crate) const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Request-line plus header section (nginx allows 4 × 8 KiB; big SSO cookies need more than
/// fasthttp's 4 KiB read buffer).
pub(crate) const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
/// Request-target; RFC 9112 §3 recommends supporting at least 8000 octets.
pub(crate) const DEFAULT_MAX_TARGET_BYTES: usize = 16 * 1024;
/// Number of header fields (Apache's LimitRequestFields).
pub(crate) const DEFAULT_MAX_HEADERS: usize = 100;
/// Request body (fasthttp: 4 MiB, nginx: 1 MiB).
pub(crate) const DEFAULT_MAX_REQUEST_BODY: u64 = 8 * 1024 * 1024;
/// Open connections per server; beyond it new connections wait in the kernel backlog.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 16 * 1024;
/// Most worker threads the pool grows to (Tomcat's and Jetty's default maximum is 200): enough
/// for a few hundred requests blocked at once in handlers waiting on other services.
pub(crate) const DEFAULT_MAX_WORKERS: usize = 256;
/// How long a worker thread beyond the minimum may stay idle before it retires (Tomcat and
/// Jetty: 60 s).
pub(crate) const DEFAULT_WORKER_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections waiting for a worker; beyond it the server answers 503 at once.
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// How long the kernel may hold a new connection waiting for its first bytes (`TCP_DEFER_ACCEPT`):
/// every HTTP client speaks first, so the server wakes once per connection (accept and read
/// together) instead of twice, and a connection that sends nothing holds no descriptor meanwhile.
pub(crate) const DEFAULT_DEFER_ACCEPT: Duration = Duration::from_secs(1);

/// Longest a drain or shutdown waits for connections to finish before it closes them (Go's
/// `http.Server.Shutdown` leaves it to a context; Kubernetes gives a pod 30 s after SIGTERM).
pub(crate) const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// CPUs this process may run on (its affinity mask and cgroup quota respected, so a server
/// started under `taskset -c 0` sizes itself for one CPU).
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Everything a running server needs to know; built by [`crate::Builder`].
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub pollers: usize,
    /// Worker threads always kept.
    pub min_workers: usize,
    /// Worker threads the pool may grow to when requests wait with every worker busy.
    pub max_workers: usize,
    pub worker_idle_timeout: Duration,
    pub queue_capacity: usize,
    pub read_header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    /// How the server's own error responses (and handlers' `Error`s) are written.
    pub error_page: Option<crate::error::ErrorPage>,
    pub limits: Limits,
    pub max_request_body: u64,
    pub max_connections: usize,
    pub defer_accept: Duration,
    pub max_connections_per_ip: Option<usize>,
    pub max_requests_per_conn: Option<u64>,
    /// Other processes may bind the port too (`SO_REUSEPORT` without the exclusive probe).
    pub reuse_port: bool,
    /// The encoded `Server: ...\r\n` line, or none.
    pub server_line: Option<Arc<[u8]>>,
    pub buffer_warm_up: usize,
    /// How long a drain goes on accepting (answering the health path 503, and closing each
    /// connection after its next response) before it stops accepting.
    pub drain_delay: Duration,
    /// How long a stopping server waits for its connections before it closes them.
    pub drain_timeout: Duration,
    /// The path the server answers itself: 200 while serving, 503 while draining.
    pub health_path: Option<Box<str>>,
    /// Every connection must begin with a PROXY protocol header (v1 or v2).
    pub proxy_protocol: bool,
    /// Peers allowed to send a PROXY header; others are closed (`None`: any peer).
    pub proxy_from: Option<Arc<[Network]>>,
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed (`None`: nobody's).
    pub trust_forwarded: Option<Arc<[Network]>>,
}

impl Default for Config {
    fn default() -> Config {
        let cpus = cpus();
        Config {
            pollers: cpus,
            min_workers: (8 * cpus).max(8),
            max_workers: DEFAULT_MAX_WORKERS.max((8 * cpus).max(8)),
            worker_idle_timeout: DEFAULT_WORKER_IDLE_TIMEOUT,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            error_page: None,
            limits: Limits {
                max_head: DEFAULT_MAX_HEADER_BYTES,
                max_target: DEFAULT_MAX_TARGET_BYTES,
                max_fields: DEFAULT_MAX_HEADERS,
                allow_unknown_methods: false,
            },
            max_request_body: DEFAULT_MAX_REQUEST_BODY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            defer_accept: DEFAULT_DEFER_ACCEPT,
            max_connections_per_ip: None,
            max_requests_per_conn: None,
            reuse_port: false,
            server_line: Some(Arc::from(&b"Server: shockwave\r\n"[..])),
            buffer_warm_up: 16,
            drain_delay: Duration::ZERO,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            health_path: None,
            proxy_protocol: false,
            proxy_from: None,
            trust_forwarded: None,
        }
    }
}
