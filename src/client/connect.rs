//! Turning a host and port into a connected `TcpStream`: name resolution with a small TTL
//! cache, then happy-eyeballs connection attempts (RFC 8305) under one deadline.
//!
//! # Invariants
//! - A cache hit allocates nothing: the map is keyed by host and looked up with the `&str`
//!   given; each host's entries hold the port, and the addresses are shared as `Arc<[_]>`.
//! - The cache never holds more than [`MAX_HOSTS`] hosts (and [`MAX_PORTS`] ports per host),
//!   nor an entry past its TTL; an entry whose every address failed is evicted, so the next
//!   call resolves again.
//! - The lock is never held across resolution or connection: `getaddrinfo` blocks, and one
//!   slow name must not stall connections to other hosts.
//! - Every socket made here is closed before `connect` returns, except the one returned,
//!   which is blocking and has `TCP_NODELAY` set.
//!
//! # Implementation notes
//! Attempts run on non-blocking sockets, all waited on by one `poll(2)`; a new attempt
//! starts when the previous one fails or after [`ATTEMPT_DELAY`] without an answer, and the
//! earlier ones keep running. Resolution goes through `std::net::ToSocketAddrs`, which
//! cannot be interrupted: its time counts against the deadline, but a resolver that hangs
//! longer than the timeout is only noticed once it returns.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use socket2::{Domain, Protocol, Socket, Type};

/// How long an attempt runs alone before the next address is tried alongside it: RFC 8305
/// §5's recommended "Connection Attempt Delay".
pub(crate) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Hosts the cache holds at most; a client talking to more hosts than this resolves again.
pub(crate) const MAX_HOSTS: usize = 1024;

/// Ports cached per host (a host is usually reached on one or two).
pub(crate) const MAX_PORTS: usize = 8;

/// Resolves a host and port to addresses (`ToSocketAddrs`, or a stand-in in tests).
type ResolveFn = dyn Fn(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync;

/// Name resolution with a TTL cache, and connecting to what it finds.
pub(crate) struct Resolver {
    ttl: Duration,
    /// Keyed by host, so a hit is looked up with the caller's `&str`.
    cache: Mutex<HashMap<String, Vec<Entry>>>,
    resolve: Box<ResolveFn>,
}

/// One cached resolution of a host on one port.
struct Entry {
    port: u16,
    /// Already in attempt order (families interleaved).
    addrs: Arc<[SocketAddr]>,
    expires: Instant,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").field("ttl", &self.ttl).field("hosts", &self.cache.lock().len()).finish()
    }
}

impl Resolver {
    /// A resolver that keeps successful resolutions for `ttl` (zero: no caching).
    pub(crate) fn new(ttl: Duration) -> Resolver {
        Resolver::with_resolve(ttl, Box::new(|host, port| (host, port).to_socket_addrs().map(Iterator::collect)))
    }

    fn with_resolve(ttl: Duration, resolve: Box<ResolveFn>) -> Resolver {
        Resolver { ttl, cache: Mutex::new(HashMap::new()), resolve }
    }

    /// Resolves `host` (IP literals without DNS) and connects, trying addresses happy-eyeballs
    /// style (RFC 8305): order the addresses alternating families starting with the first one
    /// returned; start the first attempt, start the next when the previous fails or after
    /// 250 ms without an answer, keeping earlier attempts running (non-blocking sockets,
    /// poll(2) over all pending ones); the first to connect wins and the others are closed.
    /// The whole call is bounded by `timeout`. Returns a *blocking* std TcpStream with
    /// TCP_NODELAY set.
    ///
    /// `host` is as [`Url::host`](super::url::Url::host) gives it: IPv6 without brackets
    /// (brackets are tolerated).
    pub(crate) fn connect(&self, host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
        let started = Instant::now();
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return connect_addrs(bare, port, &[SocketAddr::new(ip, port)], started, timeout);
        }
        let addrs = match self.cached(host, port) {
            Some(addrs) => addrs,
            None => self.resolve(host, port)?,
        };
        let res = connect_addrs(host, port, &addrs, started, timeout);
        if res.is_err() {
            self.evict(host, port);
        }
        res
    }

    /// The cached addresses for `host:port`, if fresh. Allocates nothing.
    fn cached(&self, host: &str, port: u16) -> Option<Arc<[SocketAddr]>> {
        if self.ttl.is_zero() {
            return None;
        }
        let now = Instant::now();
        let cache = self.cache.lock();
        cache.get(host)?.iter().find(|e| e.port == port && e.expires > now).map(|e| Arc::clone(&e.addrs))
    }

    /// Resolves without the lock held, then caches the answer in attempt order.
    fn resolve(&self, host: &str, port: u16) -> io::Result<Arc<[SocketAddr]>> {
        let found = (self.resolve)(host, port)
            .map_err(|e| io::Error::new(io::ErrorKind::NotFound, format!("cannot resolve {host:?}: {e}")))?;
        if found.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("cannot resolve {host:?}: no addresses")));
        }
        let addrs: Arc<[SocketAddr]> = interleave_families(&found).into();
        if self.ttl.is_zero() {
            return Ok(addrs);
        }
        let now = Instant::now();
        let entry = Entry {
            port,
            addrs: Arc::clone(&addrs),
            expires: now.checked_add(self.ttl).unwrap_or(now + Duration::from_secs(365 * 24 * 3600)),
        };
        let mut cache = self.cache.lock();
        if let Some(entries) = cache.get_mut(host) {
            entries.retain(|e| e.port != port && e.expires > now);
            if entries.len() >= MAX_PORTS {
                // The one that expires first goes.
                if let Some(i) = (0..entries.len()).min_by_key(|&i| entries[i].expires) {
                    entries.swap_remove(i);
                }
            }
            entries.push(entry);
            return Ok(addrs);
        }
        if cache.len() >= MAX_HOSTS {
            cache.retain(|_, entries| {
                entries.retain(|e| e.expires > now);
                !entries.is_empty()
            });
        }
        if cache.len() >= MAX_HOSTS {
            // Still full of live entries: drop any one host.
            if let Some(victim) = cache.keys().next().cloned() {
                cache.remove(&victim);
            }
        }
        cache.insert(host.to_owned(), vec![entry]);
        Ok(addrs)
    }

    /// Forgets `host:port`, after every address it resolved to failed.
    fn evict(&self, host: &str, port: u16) {
        let mut cache = self.cache.lock();
        if let Some(entries) = cache.get_mut(host) {
            entries.retain(|e| e.port != port);
            if entries.is_empty() {
                cache.remove(host);
            }
        }
    }
}

/// RFC 8305 §4: alternate address families, starting with the family of the first address
/// the resolver returned (it already applied the system's RFC 6724 preferences), keeping
/// the resolver's order within each family.
pub(crate) fn interleave_families(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else { return Vec::new() };
    let first_v6 = first.is_ipv6();
    let mut same = addrs.iter().filter(|a| a.is_ipv6() == first_v6);
    let mut other = addrs.iter().filter(|a| a.is_ipv6() != first_v6);
    let mut out = Vec::with_capacity(addrs.len());
    loop {
        match (same.next(), other.next()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b).copied()),
        }
    }
}

/// Connects to the first of `addrs` (in that order of preference) that answers, happy-eyeballs
/// style (see [`Resolver::connect`]), by `started + timeout`. `host` and `port` name the
/// target in error messages.
pub(crate) fn connect_addrs(
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    started: Instant,
    timeout: Duration,
) -> io::Result<TcpStream> {
    if addrs.is_empty() {
        let msg = format!("connect to {} failed: no addresses", Target(host, port));
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    }
    let deadline = started.checked_add(timeout); // None: too far away to matter
    let mut pending: Vec<(usize, Socket)> = Vec::with_capacity(addrs.len());
    let mut failed: Vec<(usize, io::Error)> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::with_capacity(addrs.len());
    let mut next = 0;
    let mut next_start = started;
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            let msg = format!("connect to {} timed out after {timeout:?}", Target(host, port));
            return Err(io::Error::new(io::ErrorKind::TimedOut, msg));
        }
        // The next attempt starts when none is running (the last one failed) or when the
        // newest one has gone unanswered for ATTEMPT_DELAY.
        while next < addrs.len() && (pending.is_empty() || now >= next_start) {
            match start(addrs[next]) {
                Ok(Started::Connected(sock)) => return finish(sock),
                Ok(Started::Pending(sock)) => {
                    pending.push((next, sock));
                    next_start = now + ATTEMPT_DELAY;
                }
                Err(e) => failed.push((next, e)), // e.g. ENETUNREACH at once: on to the next
            }
            next += 1;
        }
        if pending.is_empty() {
            return Err(all_failed(host, port, addrs, failed));
        }

        let wake = match (deadline, next < addrs.len()) {
            (Some(d), true) => Some(d.min(next_start)),
            (Some(d), false) => Some(d),
            (None, true) => Some(next_start),
            (None, false) => None,
        };
        let ms = wake.map_or(-1, |w| {
            w.saturating_duration_since(now).as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
        });
        fds.clear();
        fds.extend(pending.iter().map(|(_, s)| libc::pollfd { fd: s.as_raw_fd(), events: libc::POLLOUT, revents: 0 }));
        // (`syscall!` is not in scope here: `sys` is declared after `client` in lib.rs.)
        // SAFETY: `fds` is a live, initialised array of `fds.len()` pollfds, each naming a socket
        // `pending` keeps open for the whole call.
        if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) } == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // Backwards, so swap_remove only moves entries already looked at.
        for i in (0..fds.len()).rev() {
            if fds[i].revents == 0 {
                continue;
            }
            let (index, sock) = pending.swap_remove(i);
            match outcome(&sock) {
                Ok(()) => return finish(sock), // dropping `pending` closes the other attempts
                Err(e) => {
                    failed.push((index, e));
                    next_start = now; // a failure starts the next attempt at once
                }
            }
        }
    }
}

enum Started {
    Connected(Socket),
    Pending(Socket),
}

/// Opens a non-blocking socket and starts connecting it to `addr`.
fn start(addr: SocketAddr) -> io::Result<Started> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
    match sock.connect(&addr.into()) {
        Ok(()) => Ok(Started::Connected(sock)),
        // EINTR: the connection goes on asynchronously, like EINPROGRESS (connect(2)).
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::Interrupted => {
            Ok(Started::Pending(sock))
        }
        Err(e) => Err(e),
    }
}

/// Whether a pending connect that `poll` reported on succeeded: `SO_ERROR` holds why not,
/// and a socket with neither an error nor a peer is not connected either.
fn outcome(sock: &Socket) -> io::Result<()> {
    match sock.take_error() {
        Ok(Some(e)) | Err(e) => Err(e),
        Ok(None) => sock.peer_addr().map(drop),
    }
}

/// The winner, as the blocking, `TCP_NODELAY` stream the client writes requests to.
fn finish(sock: Socket) -> io::Result<TcpStream> {
    sock.set_nonblocking(false)?;
    sock.set_tcp_nodelay(true)?;
    Ok(sock.into())
}

/// `connect to localhost:1 failed: 127.0.0.1:1: Connection refused (os error 111); [::1]:1: ...`,
/// in attempt order, with the first failure's kind (the preferred address's). When the
/// host is the one address, it is not repeated.
fn all_failed(host: &str, port: u16, addrs: &[SocketAddr], mut failed: Vec<(usize, io::Error)>) -> io::Error {
    use std::fmt::Write as _;
    failed.sort_by_key(|&(i, _)| i);
    let kind = failed.first().map_or(io::ErrorKind::Other, |(_, e)| e.kind());
    let mut msg = format!("connect to {} failed: ", Target(host, port));
    let literal = addrs.len() == 1 && host.parse::<IpAddr>().is_ok_and(|ip| ip == addrs[0].ip());
    for (n, (i, e)) in failed.iter().enumerate() {
        let sep = if n == 0 { "" } else { "; " };
        // Writing to a String cannot fail.
        let _ = if literal { write!(msg, "{e}") } else { write!(msg, "{sep}{}: {e}", addrs[*i]) };
    }
    io::Error::new(kind, msg)
}

/// `host:port` for messages, IPv6 in brackets.
struct Target<'a>(&'a str, u16);

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]:{}", self.0, self.1)
        } else {
            write!(f, "{}:{}", self.0, self.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, TcpListener};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const T: Duration = Duration::from_secs(10);

    /// A port on 127.0.0.1 nothing listens on (bound, then closed).
    fn closed_port() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
    }

    /// Accepts one connection on `l` and checks bytes flow both ways over `s`.
    fn assert_talks(l: &TcpListener, mut s: TcpStream) {
        assert!(s.nodelay().unwrap());
        s.write_all(b"ping").unwrap();
        let (mut peer, _) = l.accept().unwrap();
        let mut buf = [0; 4];
        peer.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        peer.write_all(b"pong").unwrap();
        s.read_exact(&mut buf).unwrap(); // blocking: would fail with WouldBlock otherwise
        assert_eq!(&buf, b"pong");
    }

    #[test]
    fn connects_to_ipv4_literal() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let s = Resolver::new(T).connect("127.0.0.1", l.local_addr().unwrap().port(), T).unwrap();
        assert_talks(&l, s);
    }

    #[test]
    fn connects_to_ipv6_literal() {
        let l = match TcpListener::bind("[::1]:0") {
            Ok(l) => l,
            Err(e) => return eprintln!("skipping connects_to_ipv6_literal: cannot bind [::1]: {e}"),
        };
        let port = l.local_addr().unwrap().port();
        let s = Resolver::new(T).connect("::1", port, T).unwrap();
        assert_eq!(s.peer_addr().unwrap(), SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port));
        assert_talks(&l, s);
        let s = Resolver::new(T).connect("[::1]", port, T).unwrap();
        assert_talks(&l, s);
    }

    #[test]
    fn localhost_resolves_and_connects() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        // If localhost also resolves to ::1 (nothing listens there), that attempt is refused
        // and 127.0.0.1 wins.
        let s = Resolver::new(T).connect("localhost", l.local_addr().unwrap().port(), T).unwrap();
        assert_talks(&l, s);
    }

    #[test]
    fn refused_first_address_falls_back_to_the_second() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = l.local_addr().unwrap();
        let s = connect_addrs("h", open.port(), &[closed_port(), open], Instant::now(), T).unwrap();
        assert_eq!(s.peer_addr().unwrap(), open);
        assert_talks(&l, s);
    }

    #[test]
    fn all_refused_lists_every_address() {
        let (a, b) = (closed_port(), closed_port());
        let e = connect_addrs("h", 1, &[a, b], Instant::now(), T).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(e.to_string(), format!("connect to h:1 failed: {a}: {refused}; {b}: {refused}"));
    }

    #[test]
    fn refused_literal_does_not_repeat_the_address() {
        let a = closed_port();
        let e = Resolver::new(T).connect("127.0.0.1", a.port(), T).unwrap_err();
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(e.to_string(), format!("connect to {a} failed: {refused}"));
        let e = connect_addrs("::1", 1, &[], Instant::now(), T).unwrap_err();
        assert_eq!(e.to_string(), "connect to [::1]:1 failed: no addresses");
    }

    #[test]
    fn unknown_host_is_not_found() {
        let r = Resolver::with_resolve(T, Box::new(|_, _| Err(io::Error::other("Name or service not known"))));
        let e = r.connect("nowhere.invalid", 80, T).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(e.to_string(), "cannot resolve \"nowhere.invalid\": Name or service not known");
        let r = Resolver::with_resolve(T, Box::new(|_, _| Ok(Vec::new())));
        let e = r.connect("empty.invalid", 80, T).unwrap_err();
        assert_eq!(e.to_string(), "cannot resolve \"empty.invalid\": no addresses");
    }

    /// A resolver answering the IPs of `addrs` on the port asked for, for every name, and how
    /// many times it was asked.
    fn counting(ttl: Duration, addrs: Vec<SocketAddr>) -> (Resolver, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let r = Resolver::with_resolve(
            ttl,
            Box::new(move |_, port| {
                c.fetch_add(1, Ordering::Relaxed);
                Ok(addrs.iter().map(|a| SocketAddr::new(a.ip(), port)).collect())
            }),
        );
        (r, calls)
    }

    #[test]
    fn cache_serves_the_second_call() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (r, calls) = counting(T, vec![addr]);
        assert_talks(&l, r.connect("svc.test", addr.port(), T).unwrap());
        assert_talks(&l, r.connect("svc.test", addr.port(), T).unwrap());
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        // Another port of the same host is its own entry (nothing listens there).
        assert!(r.connect("svc.test", closed_port().port(), T).is_err());
        assert_talks(&l, r.connect("svc.test", addr.port(), T).unwrap());
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn zero_ttl_resolves_every_time() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (r, calls) = counting(Duration::ZERO, vec![addr]);
        assert_talks(&l, r.connect("svc.test", addr.port(), T).unwrap());
        assert_talks(&l, r.connect("svc.test", addr.port(), T).unwrap());
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        assert!(r.cache.lock().is_empty());
    }

    #[test]
    fn failed_entry_is_evicted() {
        let closed = closed_port();
        let (r, calls) = counting(T, vec![closed]);
        assert!(r.connect("gone.test", closed.port(), T).is_err());
        assert!(r.cache.lock().is_empty());
        assert!(r.connect("gone.test", closed.port(), T).is_err());
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn cache_is_capped() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let (r, _) = counting(T, vec![addr]);
        for i in 0..MAX_HOSTS + 10 {
            r.resolve(&format!("h{i}.test"), 80).unwrap();
        }
        assert_eq!(r.cache.lock().len(), MAX_HOSTS);
        for port in 1..=(MAX_PORTS as u16 + 5) {
            r.resolve("many-ports.test", port).unwrap();
        }
        assert_eq!(r.cache.lock()["many-ports.test"].len(), MAX_PORTS);
        assert!(r.cached("many-ports.test", MAX_PORTS as u16 + 5).is_some());
    }

    #[test]
    fn families_alternate_starting_with_the_first() {
        let v4 = |n| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, n), 80));
        let v6 = |n| SocketAddr::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n).into(), 80);
        assert_eq!(interleave_families(&[v6(1), v6(2), v6(3), v4(1)]), [v6(1), v4(1), v6(2), v6(3)]);
        assert_eq!(interleave_families(&[v4(1), v4(2), v6(1), v6(2)]), [v4(1), v6(1), v4(2), v6(2)]);
        assert_eq!(interleave_families(&[v4(1), v4(2)]), [v4(1), v4(2)]);
        assert_eq!(interleave_families(&[]), []);
    }

    /// A listener whose accept queue is full: Linux drops further SYNs (the listen overflow
    /// check in `tcp_conn_request`, whatever `tcp_syncookies` says), so connects to it get no
    /// answer until the client retransmits. The queue is filled with real connections until
    /// one attempt times out, which is the assertion itself, so nothing relies on how the
    /// kernel sizes the queue. (A non-routable address such as 10.255.255.1 is no good here:
    /// some sandboxes answer every outbound SYN, others fail at once with ENETUNREACH.)
    #[test]
    fn unanswered_connect_times_out_and_the_next_address_wins() {
        let full = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        full.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
        full.listen(0).unwrap();
        let full_addr = full.local_addr().unwrap().as_socket().unwrap();
        let short = Duration::from_millis(200);
        let mut queued = Vec::new();
        let err = loop {
            assert!(queued.len() < 64, "the accept queue never filled");
            match connect_addrs("blackhole", 7, &[full_addr], Instant::now(), short) {
                Ok(s) => queued.push(s),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert_eq!(err.to_string(), "connect to blackhole:7 timed out after 200ms");

        // The first address stays silent; after ATTEMPT_DELAY the second is tried alongside
        // and wins.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = l.local_addr().unwrap();
        let s = connect_addrs("h", open.port(), &[full_addr, open], Instant::now(), T).unwrap();
        assert_eq!(s.peer_addr().unwrap(), open);
        assert_talks(&l, s);
    }
}
