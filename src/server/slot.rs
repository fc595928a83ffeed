//! [`Slot`]: a connection shared between its poller and the workers, owned by one at a time.
//!
//! # State encoding
//! `state` is one byte: the owner in the low two bits, plus a `PENDING` bit.
//! - `POLLER`: the poller reads, writes leftovers, times out, closes.
//! - `WORKER`: queued for or held by a worker. The poller must not touch it; an I/O event that
//!   arrives meanwhile sets `PENDING` instead, and the worker looks at the socket again before
//!   giving the connection back. Giving back is one compare-and-swap `WORKER → POLLER` that fails
//!   if `PENDING` was set, so an event is never lost between the worker's last look and the
//!   hand-back — without a `Waker` syscall on the hot path.
//! - `CLOSED`: the socket is closed; the poller frees the slot when it drains its closed queue.
//!
//! The data lives behind a `parking_lot::Mutex` that the protocol keeps uncontended (an owner
//! locks it; nobody else does), which costs two uncontended atomic operations and keeps every
//! line of the connection code safe Rust.

use super::conn::Conn;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::*};

const POLLER: u8 = 0;
const WORKER: u8 = 1;
const CLOSED: u8 = 2;
const OWNER: u8 = 3;
const PENDING: u8 = 4;

pub(crate) struct Slot {
    state: AtomicU8,
    /// Queued in its poller's `again` list (so it is queued once).
    pub(crate) again: AtomicBool,
    /// Index of the poller that owns the socket registration (and the buffer pool).
    pub(crate) poller: usize,
    pub(crate) conn: Mutex<Conn>,
}

/// What the poller should do with an event for a slot.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// The poller owns the connection: handle the event.
    Handle,
    /// A worker owns it and has been told to look again.
    Deferred,
    /// Closed: ignore.
    Closed,
}

impl Slot {
    pub(crate) fn new(poller: usize, conn: Conn) -> Slot {
        Slot { state: AtomicU8::new(POLLER), again: AtomicBool::new(false), poller, conn: Mutex::new(conn) }
    }

    /// Poller side: an I/O event arrived.
    pub(crate) fn on_event(&self) -> Event {
        let mut s = self.state.load(Acquire);
        loop {
            match s & OWNER {
                POLLER => return Event::Handle,
                CLOSED => return Event::Closed,
                _ if s & PENDING != 0 => return Event::Deferred,
                _ => match self.state.compare_exchange_weak(s, s | PENDING, AcqRel, Acquire) {
                    Ok(_) => return Event::Deferred,
                    Err(now) => s = now,
                },
            }
        }
    }

    /// Poller side: hand the connection to a worker (the poller owns it now).
    pub(crate) fn to_worker(&self) {
        self.state.store(WORKER, Release);
    }

    /// Worker side: give the connection back to the poller. Returns `false` (and keeps it) if an
    /// event arrived while the worker held it.
    pub(crate) fn release(&self) -> bool {
        match self.state.compare_exchange(WORKER, POLLER, AcqRel, Acquire) {
            Ok(_) => true,
            Err(_) => {
                self.state.store(WORKER, Release);
                false
            }
        }
    }

    /// Either side, as owner: the connection is closed.
    pub(crate) fn mark_closed(&self) {
        self.state.store(CLOSED, Release);
    }

    /// Poller side: reuse a closed slot for a new connection.
    pub(crate) fn reopen(&self) {
        self.state.store(POLLER, Release);
    }

    pub(crate) fn is_poller_owned(&self) -> bool {
        self.state.load(Acquire) & OWNER == POLLER
    }
}
