//! Keep-alive connections per host (scheme, host, port): a LIFO stack of idle ones, a cap on
//! how many are open, and a wait for a free one when the cap is reached.
//!
//! # Design
//! - Last in, first out: the connection used most recently is the one least likely to have
//!   been closed by the server's idle timeout, and its buffer is still in cache. Idle ones
//!   older than the idle timeout are closed when a checkout meets them.
//! - `open` counts every connection of the host, idle, in use or being connected, so the cap
//!   holds while a connect is in flight. A [`Conn`] takes itself off the count when dropped,
//!   so no error path can leak a slot. A request that finds the cap reached waits on a
//!   condition variable until a connection is given back or closed, up to the pool timeout
//!   (fasthttp fails at once with `ErrNoFreeConns`, the complaint this answers).
//! - One lock per host, held only to push or pop; connecting, sending and closing happen
//!   outside it.
//! - The map of hosts only grows when a new host is met; past [`SWEEP_AT`] hosts, those with
//!   no connection at all are dropped, so a client that visits many hosts stays bounded.

use super::conn::Conn;
use crate::buf::BufPool;
use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hosts in the map before the ones without connections are swept out.
const SWEEP_AT: usize = 1024;

pub(crate) struct Pools {
    hosts: RwLock<HashMap<String, Arc<Host>>>,
    bufs: Arc<BufPool>,
    max_conns: usize,
    max_idle: usize,
    idle_timeout: Duration,
}

pub(crate) struct Host {
    state: Mutex<HostState>,
    freed: Condvar,
    max_conns: usize,
    max_idle: usize,
    idle_timeout: Duration,
    pub bufs: Arc<BufPool>,
    /// Connections opened to this host, ever (for tests and statistics).
    pub opened: AtomicU64,
    /// Its client is gone: a connection given back is closed, not pooled (a pooled one would
    /// keep the host, which it points to, alive: a cycle nobody could break).
    retired: AtomicBool,
}

struct HostState {
    idle: Vec<Conn>,
    open: usize,
}

/// What a checkout gives: a pooled connection, or a counted slot to open a new one in.
pub(crate) enum Checkout {
    Reused(Conn),
    Open(Slot),
}

/// A place counted in its host's `open` for a connection being made: becomes the
/// connection's ([`Slot::connected`]), or is given back when dropped (a failed connect, a
/// panic in between).
pub(crate) struct Slot(Option<Arc<Host>>);

impl Slot {
    pub(crate) fn connected(mut self, s: std::net::TcpStream) -> Conn {
        let host = self.0.take().expect("a slot is used once");
        Conn::new(s, host) // the connection now holds the count, released by its drop
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.closed();
        }
    }
}

impl Pools {
    pub(crate) fn new(max_conns: usize, max_idle: usize, idle_timeout: Duration) -> Pools {
        Pools { hosts: RwLock::new(HashMap::new()), bufs: Arc::new(BufPool::new()), max_conns, max_idle, idle_timeout }
    }

    /// The pool of host `key` (`scheme://host:port`), made on first use.
    pub(crate) fn host(&self, key: &str) -> Arc<Host> {
        if let Some(h) = self.hosts.read().get(key) {
            return h.clone();
        }
        let mut hosts = self.hosts.write();
        if hosts.len() >= SWEEP_AT && !hosts.contains_key(key) {
            hosts.retain(|_, h| Arc::strong_count(h) > 1 || h.state.lock().open > 0);
        }
        hosts
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(Host {
                    state: Mutex::new(HostState { idle: Vec::new(), open: 0 }),
                    freed: Condvar::new(),
                    max_conns: self.max_conns,
                    max_idle: self.max_idle,
                    idle_timeout: self.idle_timeout,
                    bufs: self.bufs.clone(),
                    opened: AtomicU64::new(0),
                    retired: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// Connections ever opened to `key` (0 for a host never used).
    pub(crate) fn opened(&self, key: &str) -> u64 {
        self.hosts.read().get(key).map_or(0, |h| h.opened.load(Relaxed))
    }

    /// Idle connections to `key`.
    pub(crate) fn idle(&self, key: &str) -> usize {
        self.hosts.read().get(key).map_or(0, |h| h.state.lock().idle.len())
    }
}

impl Drop for Pools {
    /// Closes the idle connections: each holds its host, so pooled ones would never be freed.
    fn drop(&mut self) {
        for h in self.hosts.get_mut().values() {
            let idle = {
                let mut st = h.state.lock();
                h.retired.store(true, Relaxed);
                std::mem::take(&mut st.idle)
            };
            drop(idle); // outside the lock: each drop takes it
        }
    }
}

impl Host {
    /// A pooled connection, or a counted slot to open one, waiting until `until` when the
    /// host is at its cap. `None`: the wait timed out.
    /// `fresh`: only a new connection will do (a retry); an idle one is closed to make room
    /// if the host is at its cap.
    /// `until`: `None` waits as long as it takes.
    pub(crate) fn checkout(self: &Arc<Self>, until: Option<Instant>, fresh: bool) -> Option<Checkout> {
        let mut st = self.state.lock();
        loop {
            if fresh && st.open >= self.max_conns && !st.idle.is_empty() {
                let oldest = st.idle.remove(0);
                MutexGuard::unlocked(&mut st, || drop(oldest));
            }
            while let Some(c) = if fresh { None } else { st.idle.pop() } {
                if c.idle_since.elapsed() < self.idle_timeout {
                    return Some(Checkout::Reused(c));
                }
                // expired: close it outside the lock (its drop takes the lock)
                MutexGuard::unlocked(&mut st, || drop(c));
            }
            if st.open < self.max_conns {
                st.open += 1;
                self.opened.fetch_add(1, Relaxed);
                return Some(Checkout::Open(Slot(Some(self.clone()))));
            }
            let timed_out = match until {
                Some(until) => self.freed.wait_until(&mut st, until).timed_out(),
                None => {
                    self.freed.wait(&mut st);
                    false
                }
            };
            if timed_out && st.idle.is_empty() && st.open >= self.max_conns {
                return None;
            }
        }
    }

    /// Gives a connection whose exchange is complete back for reuse.
    pub(crate) fn checkin(&self, mut c: Conn) {
        if c.has_unread() {
            return; // dropped: closed and uncounted
        }
        c.start = 0;
        c.end = 0;
        let mut st = self.state.lock();
        // `retired` is read and set under the lock, so no connection slips in after the drain
        if st.idle.len() < self.max_idle && !self.retired.load(Relaxed) {
            c.idle_since = Instant::now();
            st.idle.push(c);
            drop(st);
            self.freed.notify_one();
        } else {
            drop(st);
            drop(c); // closed and uncounted (its drop takes the lock)
        }
    }

    /// A connection of this host was closed, or a [`Slot`] given back.
    pub(crate) fn closed(&self) {
        self.state.lock().open -= 1;
        self.freed.notify_one();
    }
}
