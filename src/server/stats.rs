//! [`Stats`]: a snapshot of a running server's counters.

use super::shared::Shared;
use crate::buf::ClassStats;
use std::sync::atomic::Ordering::Relaxed;

/// A snapshot of a server's counters, from [`ServerHandle::stats`](crate::ServerHandle::stats).
///
/// ```
/// use std::io::{Read, Write};
/// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("ok"))?;
/// let mut client = std::net::TcpStream::connect(handle.local_addr())?;
/// client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// client.read_to_end(&mut Vec::new())?;
/// let stats = handle.stats();
/// assert_eq!((stats.connections_accepted, stats.requests, stats.handler_panics), (1, 1, 0));
/// handle.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Connections accepted since start.
    pub connections_accepted: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Requests answered by the handler.
    pub requests: u64,
    /// Connections with requests waiting for a worker now.
    pub queued: u64,
    /// Worker threads alive now (between `min_workers` and `max_workers`; the pool also keeps
    /// one thread per poller to lead it, not counted here).
    pub workers: u64,
    /// Requests answered `503` because every worker was busy and the queue was full.
    pub rejected_overload: u64,
    /// Malformed or over-limit requests the server answered itself (4xx/5xx).
    pub rejected_invalid: u64,
    /// Requests that timed out (`408`).
    pub timeouts: u64,
    /// Handler panics (each answered `500`).
    pub handler_panics: u64,
    /// `accept` failures (such as running out of file descriptors).
    pub accept_errors: u64,
    /// Buffer free-list counters per size class, summed over pollers; the last row (size 0)
    /// counts buffers larger than the largest class.
    pub buffers: Vec<ClassStats>,
}

impl Stats {
    pub(crate) fn collect(sh: &Shared) -> Stats {
        let mut buffers: Vec<ClassStats> = Vec::new();
        for p in &sh.pollers {
            for (i, c) in p.pool.stats().iter().enumerate() {
                match buffers.get_mut(i) {
                    Some(b) => b.add(c),
                    None => buffers.push(*c),
                }
            }
        }
        let c = &sh.counters;
        Stats {
            connections_accepted: c.accepted.load(Relaxed),
            connections_open: sh.open.load(Relaxed) as u64,
            requests: sh.requests.iter().map(|r| r.load(Relaxed)).sum(),
            queued: sh.dispatch.queued() as u64,
            workers: sh.dispatch.live().saturating_sub(sh.pollers.len()) as u64,
            rejected_overload: c.overload.load(Relaxed),
            rejected_invalid: c.rejected.load(Relaxed),
            timeouts: c.timeouts.load(Relaxed),
            handler_panics: c.panics.load(Relaxed),
            accept_errors: c.accept_errors.load(Relaxed),
            buffers,
        }
    }

    /// Fraction of buffer acquires served from the free lists, over all classes.
    ///
    /// ```
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, _resp| {})?;
    /// let rate = handle.stats().buffer_hit_rate(); // 1.0 before any connection
    /// assert!((0.0..=1.0).contains(&rate));
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffer_hit_rate(&self) -> f64 {
        let (a, h) = self.buffers.iter().fold((0, 0), |(a, h), s| (a + s.acquires, h + s.hits));
        if a == 0 {
            1.0
        } else {
            h as f64 / a as f64
        }
    }
}
