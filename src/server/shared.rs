//! State shared by a server's pollers and workers.

use super::clock::CoarseClock;
use super::config::Config;
use super::dispatch::Dispatch;
use super::poller::Poller;
use super::slot::Slot;
use crate::buf::BufPool;
use crate::Handler;
use crossbeam::queue::SegQueue;
use crossbeam::utils::CachePadded;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// One poller and what it shares with the pool threads.
pub(crate) struct PollerShared {
    /// The poller itself; whoever holds the lock is its leader.
    pub core: Mutex<Poller>,
    /// Turns completed so far (the monitor's evidence that the poller is being led).
    pub turns: AtomicU64,
    /// Shut down with no connection left.
    pub done: AtomicBool,
    /// This poller's tiered buffer free lists.
    pub pool: BufPool,
    /// Slots closed by workers, for the poller to free and reuse: the per-CPU connection pool.
    pub closed: SegQueue<Arc<Slot>>,
    /// Connections with more to do and no event to announce it (a lingering close that read
    /// its budget): the poller drives them again on its next turn.
    pub again: SegQueue<Arc<Slot>>,
    pub waker: mio::Waker,
    /// The poller's registry, for a worker to deregister a connection it hands over
    /// (`upgrade.rs`).
    pub registry: mio::Registry,
}

/// Event counters. Per-thread where they are bumped per request, so no cache line bounces.
#[derive(Default)]
pub(crate) struct Counters {
    pub accepted: AtomicU64,
    pub overload: AtomicU64,
    pub rejected: AtomicU64,
    pub timeouts: AtomicU64,
    pub panics: AtomicU64,
    pub accept_errors: AtomicU64,
    /// Connections closed because a drain or shutdown ran out of time.
    pub cut: AtomicU64,
}

pub(crate) struct Shared {
    pub cfg: Config,
    pub handler: Box<dyn Handler>,
    pub dispatch: Dispatch,
    pub pollers: Vec<PollerShared>,
    pub shutdown: AtomicBool,
    /// A drain has begun (the health path answers 503, connections close after their next
    /// response); `shutdown` follows after the drain delay.
    pub draining: AtomicBool,
    /// The listening sockets (duplicates of the pollers' descriptors), for a hand-over to a new
    /// process; emptied when the server stops accepting, so the port is free once it has.
    pub listening: Mutex<Vec<std::os::fd::OwnedFd>>,
    /// The socket file of a Unix server that bound it (kept, not removed, once handed over);
    /// weak: the last listener to close removes it, as the pollers stop accepting.
    pub socket_file: Option<std::sync::Weak<super::listener::SocketFile>>,
    /// This server has been counted as stopping (`notify::stopping`).
    pub stop_counted: AtomicBool,
    /// Open connections across all pollers.
    pub open: AtomicUsize,
    pub counters: Counters,
    /// Requests answered, one counter per worker.
    pub requests: Vec<CachePadded<AtomicU64>>,
    /// Open connections per client address, when a per-IP cap is set.
    pub per_ip: Option<Mutex<HashMap<IpAddr, usize>>>,
    /// The time of the latest poller turn, for deadlines set by workers.
    pub clock: CoarseClock,
    /// Every pool thread and the monitor, for joining (`pool.rs`).
    pub threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Held by whoever joins `threads` (`pool::join`), so concurrent joiners take turns.
    pub joiner: Mutex<()>,
}

impl Shared {
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Relaxed)
    }

    /// A drain (or a shutdown, which is one without delay) has begun.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Relaxed)
    }

    /// Every poller has shut down with no connection left.
    pub(crate) fn all_done(&self) -> bool {
        self.pollers.iter().all(|p| p.done.load(Relaxed))
    }

    /// Some live poller has no leader.
    pub(crate) fn has_unled_poller(&self) -> bool {
        self.pollers.iter().any(|p| !p.done.load(Relaxed) && !p.core.is_locked())
    }

    /// Accounts for a closed connection (the slot is already marked closed).
    pub(crate) fn connection_closed(&self, slot: Arc<Slot>, peer: IpAddr) {
        self.open.fetch_sub(1, Relaxed);
        self.release_ip(peer);
        self.pollers[slot.poller].closed.push(slot);
    }

    /// Gives back a connection counted against `peer`'s per-IP cap (no-op without a cap).
    pub(crate) fn release_ip(&self, peer: IpAddr) {
        if let Some(m) = &self.per_ip {
            let mut m = m.lock();
            if let Some(n) = m.get_mut(&peer) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&peer);
                }
            }
        }
    }
}

impl Shared {
    /// Closes the connection now (the caller owns it) and queues its slot for reuse: for one
    /// that has ended (`Next::Close`) or failed.
    pub(crate) fn close(&self, slot: &Arc<Slot>, c: &mut super::conn::Conn) {
        if !c.is_open() {
            return;
        }
        let peer = c.peer.ip();
        c.close(&self.pollers[slot.poller].pool);
        slot.mark_closed();
        self.connection_closed(slot.clone(), peer);
    }

    /// Has the poller drive `slot` again on its next turn, without waiting for an event (once,
    /// however often it is asked before then). The poller must own the slot, or get it back
    /// before its next turn: it skips slots a worker holds.
    pub(crate) fn again(&self, slot: &Arc<Slot>) {
        if slot.again.swap(true, Relaxed) {
            return;
        }
        let p = &self.pollers[slot.poller];
        p.again.push(slot.clone());
        let _ = p.waker.wake();
    }
}
