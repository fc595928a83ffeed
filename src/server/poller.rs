//! A poller: one `mio::Poll`, its listeners (TCP, or its share of a Unix socket; one per
//! address the server binds, plain or TLS), and the connections accepted on them.
//!
//! A poller is not a thread: whichever pool thread holds its lock runs [`Poller::turn`] (the
//! leader/followers pattern, see `worker.rs`). Each turn waits for readiness (or takes up the
//! events a previous turn left), reads ready connections into pooled buffers, frames complete
//! requests and queues connections with work for the pool, at most [`TURN_JOBS`] of them. It
//! writes what workers could not, answers malformed requests and overload itself, and enforces
//! timeouts with a sweep every [`SWEEP`]. A turn never runs a handler.
//!
//! Connections live in a slab indexed by the low half of their mio `Token`; the high half is a
//! generation, so a stale event for a reused index is recognised and dropped.

use super::clock::Tick;
use super::conn::{Conn, Next, Phase};
use super::listener::{Listener, Security};
use super::shared::Shared;
use super::slot::{Event, Slot};
use crate::http::date;
use mio::{Events, Interest, Poll, Token};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const WAKER: Token = Token(usize::MAX);
/// Listener `i`'s token is `LISTENERS - i` (connection tokens stay far below: their low half
/// is a slab index).
const LISTENERS: usize = usize::MAX - 1;
/// Most listeners a poller takes.
const MAX_LISTENERS: usize = 64;

/// How often deadlines are checked (timeouts are this precise).
const SWEEP: Duration = Duration::from_millis(100);
/// How long a stopping server waits for the first request of a connection that has sent
/// nothing yet (a proxy sends it within microseconds of connecting; a browser's speculative
/// preconnect may never send one).
const FRESH_GRACE: Duration = Duration::from_secs(1);
/// Pause before accepting again after running out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// A turn queues at most this many jobs; the rest of its events wait for the next turn, after
/// the leader has answered these. Reading 64 ready connections before answering any made Linux
/// send an IPI now and then: a received buffer is freed on the CPU that allocated it (the
/// client's), and 32 such frees with no network activity there to flush them make the kernel
/// kick that CPU (`skb_defer_max / 2`). An IPI is a VM exit, about 1% of the server's CPU on
/// keep-alive 64 here; below 32 per turn it is gone. The first responses also leave sooner.
const TURN_JOBS: usize = 16;
/// Closed connection objects kept for reuse.
const KEEP_SLOTS: usize = 1024;

struct Entry {
    gen: u32,
    slot: Arc<Slot>,
}

/// What one turn did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Turn {
    /// Connections were queued for the pool.
    pub dispatched: bool,
    /// Shut down and no connection left: nothing more to do.
    pub finished: bool,
}

pub(crate) struct Poller {
    me: usize,
    poll: Poll,
    events: Events,
    /// How many events of the last poll have been handled; the rest are handled before the
    /// next poll.
    cursor: usize,
    /// Empty once the poller stops accepting.
    listeners: Vec<(Listener, Security)>,
    slab: Vec<Option<Entry>>,
    free_idx: Vec<usize>,
    gens: Vec<u32>,
    spare: Vec<Arc<Slot>>,
    live: usize,
    accept_paused_until: Option<Instant>,
    at_capacity: bool,
    scratch: Vec<u8>,
    now: Instant,
    /// `now` as a tick of the shared clock, for connection deadlines.
    tick: Tick,
    next_sweep: Instant,
    date: date::Ticker,
    shutdown_deadline: Option<Instant>,
    /// Until when a stopping poller leaves connections that have not sent their first request.
    fresh_grace: Option<Instant>,
}

impl Poller {
    pub(crate) fn new(me: usize, poll: Poll, mut listeners: Vec<(Listener, Security)>) -> io::Result<Poller> {
        if listeners.len() > MAX_LISTENERS {
            let why = format!("a server takes at most {MAX_LISTENERS} addresses");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
        }
        for (i, (l, _)) in listeners.iter_mut().enumerate() {
            l.register(&poll, Token(LISTENERS - i))?;
        }
        Ok(Poller {
            me,
            poll,
            events: Events::with_capacity(1024),
            cursor: 0,
            listeners,
            slab: Vec::new(),
            free_idx: Vec::new(),
            gens: Vec::new(),
            spare: Vec::new(),
            live: 0,
            accept_paused_until: None,
            at_capacity: false,
            scratch: Vec::with_capacity(512),
            now: Instant::now(),
            tick: Tick::default(),
            next_sweep: Instant::now() + SWEEP,
            date: date::Ticker::default(),
            shutdown_deadline: None,
            fresh_grace: None,
        })
    }

    /// One turn: waits for readiness (up to the next sweep) unless events of the last wait are
    /// left, handles events until [`TURN_JOBS`] connections are queued, runs due timers.
    pub(crate) fn turn(&mut self, sh: &Shared) -> Turn {
        let mut events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        let again = sh.pollers[self.me].again.len();
        if self.cursor == 0 {
            // (from the last turn's time: at worst the wait overshoots by the time since then)
            let timeout = if again > 0 { Duration::ZERO } else { self.next_sweep.saturating_duration_since(self.now) };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("poller {}: poll failed: {e}", self.me);
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            self.now = Instant::now();
            self.tick = sh.clock.set(self.now);
            self.date.tick(self.now);
            self.reclaim(sh);
        }
        let mut turn = Turn::default();
        let mut jobs = 0;
        let mut cut = false;
        for ev in events.iter().skip(self.cursor) {
            if jobs == TURN_JOBS {
                cut = true;
                break;
            }
            self.cursor += 1;
            match ev.token() {
                WAKER => {}
                Token(t) if t > LISTENERS - MAX_LISTENERS => self.accept_all(sh),
                t => jobs += usize::from(self.on_event(sh, t)),
            }
        }
        if !cut {
            self.cursor = 0;
        }
        // connections that asked to be driven again (only those queued before this turn)
        for _ in 0..again {
            let Some(slot) = sh.pollers[self.me].again.pop() else { break };
            slot.again.store(false, Relaxed);
            if slot.is_poller_owned() {
                jobs += usize::from(self.drive(sh, slot));
            }
        }
        turn.dispatched = jobs > 0;
        self.events = events;
        if self.at_capacity && sh.open.load(Relaxed) < sh.cfg.max_connections {
            self.accept_all(sh);
        }
        if self.accept_paused_until.is_some_and(|t| self.now >= t) {
            self.accept_paused_until = None;
            self.accept_all(sh);
        }
        if self.now >= self.next_sweep {
            self.next_sweep = self.now + SWEEP;
            self.sweep(sh, self.shutdown_deadline.is_some_and(|d| self.now >= d));
        }
        if sh.is_shutting_down() {
            if self.shutdown_deadline.is_none() {
                self.shutdown_deadline = Some(self.now + sh.cfg.drain_timeout);
                self.fresh_grace = Some(self.now + FRESH_GRACE.min(sh.cfg.drain_timeout));
                // connections the kernel has queued were made before the stop: closing the
                // listener would reset them, so they are taken and answered first
                self.accept_queued(sh);
                self.stop_accepting();
                self.sweep(sh, false);
            }
            self.reclaim(sh);
            turn.finished = self.live == 0;
        }
        turn
    }

    fn stop_accepting(&mut self) {
        for (mut l, _) in self.listeners.drain(..) {
            let _ = l.deregister(&self.poll);
        }
    }

    /// Frees the slab entries of connections workers closed, keeping their objects for reuse.
    fn reclaim(&mut self, sh: &Shared) {
        while let Some(slot) = sh.pollers[self.me].closed.pop() {
            let idx = slot.conn.lock().token.0 & 0xffff_ffff;
            if let Some(Some(e)) = self.slab.get(idx) {
                if Arc::ptr_eq(&e.slot, &slot) {
                    self.slab[idx] = None;
                    self.free_idx.push(idx);
                    self.live -= 1;
                }
            }
            if self.spare.len() < KEEP_SLOTS {
                self.spare.push(slot);
            }
        }
    }

    fn accept_all(&mut self, sh: &Shared) {
        if sh.is_shutting_down() || self.accept_paused_until.is_some() {
            return;
        }
        self.accept_queued(sh);
    }

    /// Accepts every connection the listeners have queued (up to the connection cap).
    fn accept_queued(&mut self, sh: &Shared) {
        for i in 0..self.listeners.len() {
            if !self.accept_from(sh, i) {
                return;
            }
        }
    }

    /// Accepts what listener `i` has queued; `false` when no more should be accepted now.
    fn accept_from(&mut self, sh: &Shared, i: usize) -> bool {
        loop {
            if sh.open.load(Relaxed) >= sh.cfg.max_connections {
                // Leave the rest in the kernel backlog until connections close.
                self.at_capacity = true;
                return false;
            }
            self.at_capacity = false;
            let Some((l, security)) = self.listeners.get(i) else { return true };
            let proxy = sh.cfg.proxy_protocol;
            match l.accept().map(|(sock, peer)| (sock, peer, security.session(proxy))) {
                Ok((sock, peer, Ok(tls))) => self.add(sh, sock, peer, tls),
                Ok((_, peer, Err(e))) => log::error!("cannot serve the connection from {peer}: {e}"),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => {}
                Err(e) => {
                    // EMFILE/ENFILE/ENOBUFS: back off instead of spinning on a listener that
                    // stays readable.
                    if sh.counters.accept_errors.fetch_add(1, Relaxed).is_multiple_of(1000) {
                        log::warn!("accept failed: {e}; pausing accepts for {ACCEPT_BACKOFF:?}");
                    }
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    return false;
                }
            }
        }
    }

    /// Takes a new connection on (`peer` is `listener::UNIX_PEER` over a Unix socket, whose
    /// server has no per-IP cap).
    fn add(&mut self, sh: &Shared, sock: OwnedFd, peer: SocketAddr, tls: super::listener::Session) {
        if let (Some(cap), Some(m)) = (sh.cfg.max_connections_per_ip, &sh.per_ip) {
            let mut m = m.lock();
            let n = m.entry(peer.ip()).or_insert(0);
            if *n >= cap {
                return; // dropping `sock` closes it
            }
            *n += 1;
        }
        let idx = self.free_idx.pop().unwrap_or_else(|| {
            self.slab.push(None);
            self.gens.push(0);
            self.slab.len() - 1
        });
        self.gens[idx] = self.gens[idx].wrapping_add(1);
        let gen = self.gens[idx];
        let token = Token(idx | (gen as usize) << 32);
        let fd = sock.as_raw_fd(); // (a named value: Rust 1.87 does not extend the temporary's life)
        let mut source = mio::unix::SourceFd(&fd);
        if let Err(e) = self.poll.registry().register(&mut source, token, Interest::READABLE | Interest::WRITABLE) {
            log::warn!("cannot register connection from {peer}: {e}");
            self.free_idx.push(idx);
            sh.release_ip(peer.ip());
            return;
        }
        let slot = self.spare.pop().unwrap_or_else(|| Arc::new(Slot::new(self.me, Conn::new())));
        slot.conn.lock().open(sock, peer, token, tls);
        slot.reopen();
        self.slab[idx] = Some(Entry { gen, slot: slot.clone() });
        self.live += 1;
        sh.open.fetch_add(1, Relaxed);
        sh.counters.accepted.fetch_add(1, Relaxed);
        // Read at once: the request usually arrives with (or right after) the handshake.
        self.drive(sh, slot);
    }

    fn on_event(&mut self, sh: &Shared, t: Token) -> bool {
        let idx = t.0 & 0xffff_ffff;
        let Some(Some(e)) = self.slab.get(idx) else { return false };
        if e.gen != (t.0 >> 32) as u32 {
            return false;
        }
        match e.slot.on_event() {
            Event::Handle => {
                let slot = e.slot.clone();
                self.drive(sh, slot)
            }
            Event::Deferred | Event::Closed => false,
        }
    }

    /// Does what a poller-owned connection needs; returns `true` if it went to a worker (the
    /// queue takes `slot`).
    fn drive(&mut self, sh: &Shared, slot: Arc<Slot>) -> bool {
        let pool = &sh.pollers[self.me].pool;
        let mut c = slot.conn.lock();
        if !c.is_open() {
            return false;
        }
        c.input.drained = false; // an event: the socket may have more
        match c.progress(sh, pool, self.tick, &mut self.scratch) {
            Next::Answer => {
                c.phase = Phase::Busy;
                c.deadline = None;
                drop(c);
                slot.to_worker();
                match sh.dispatch.submit(slot) {
                    Ok(()) => true,
                    Err(slot) => {
                        slot.reopen(); // nobody else saw it: it is ours again
                        sh.counters.overload.fetch_add(1, Relaxed);
                        let mut c = slot.conn.lock();
                        self.answer_self(sh, &slot, &mut c, 503, "all workers are busy");
                        false
                    }
                }
            }
            next => {
                self.after(sh, &slot, &mut c, next);
                false
            }
        }
    }

    /// Answers with the server's own error status, then ends the connection.
    fn answer_self(&mut self, sh: &Shared, slot: &Arc<Slot>, c: &mut Conn, status: u16, detail: &str) {
        c.reject(status, detail, sh, &sh.pollers[self.me].pool, &mut self.scratch);
        self.end(sh, slot, c);
    }

    /// Ends the connection through the close path (after whatever answer is queued).
    fn end(&mut self, sh: &Shared, slot: &Arc<Slot>, c: &mut Conn) {
        c.close_after = true;
        let next = c.progress(sh, &sh.pollers[self.me].pool, self.tick, &mut self.scratch);
        self.after(sh, slot, c, next);
    }

    /// Carries out what `progress` said, for a connection that stays with the poller.
    fn after(&mut self, sh: &Shared, slot: &Arc<Slot>, c: &mut Conn, next: Next) {
        match next {
            Next::Answer => debug_assert!(false, "a connection that is ending has no requests to answer"),
            Next::Wait => {}
            Next::Again => sh.again(slot),
            Next::Close => sh.close(slot, c),
        }
    }

    /// Enforces deadlines; during shutdown also ends idle connections (`force`: closes all).
    fn sweep(&mut self, sh: &Shared, force: bool) {
        let shutting_down = sh.is_shutting_down();
        let fresh_too = self.fresh_grace.is_some_and(|t| self.now >= t);
        for i in 0..self.slab.len() {
            let Some(e) = &self.slab[i] else { continue };
            let slot = e.slot.clone();
            if !slot.is_poller_owned() {
                continue;
            }
            let Some(mut c) = slot.conn.try_lock() else { continue };
            if !c.is_open() {
                continue;
            }
            let expired = c.deadline.is_some_and(|d| self.tick >= d);
            match c.phase {
                _ if force => {
                    // (an idle connection or one whose last response is out lost nothing)
                    if !matches!(c.phase, Phase::Idle | Phase::Linger) {
                        sh.counters.cut.fetch_add(1, Relaxed);
                    }
                    sh.close(&slot, &mut c);
                }
                // stopping: idle keep-alive connections end at once, but one that has not sent
                // its first request yet is most likely a proxy's new connection with the
                // request on its way (accepted before it arrived, without TCP_DEFER_ACCEPT
                // on a passed-in socket): it gets a moment, so the request is answered
                Phase::Idle if expired || (shutting_down && (c.served > 0 || fresh_too)) => {
                    // A request may have arrived since the last event: look once more, and
                    // answer it rather than close under it.
                    drop(c);
                    if self.drive(sh, slot.clone()) {
                        continue;
                    }
                    let mut c = slot.conn.lock();
                    if c.is_open() && c.phase == Phase::Idle {
                        self.end(sh, &slot, &mut c);
                    }
                }
                Phase::Head | Phase::Body if expired => {
                    sh.counters.timeouts.fetch_add(1, Relaxed);
                    self.answer_self(sh, &slot, &mut c, 408, "timed out waiting for the request");
                }
                // the answer is out; the client stalled in the body it sent with the request
                Phase::Skip if expired => self.end(sh, &slot, &mut c),
                Phase::Writing if expired => sh.close(&slot, &mut c),
                Phase::Linger if expired => {
                    let next = c.linger_expired(self.tick);
                    self.after(sh, &slot, &mut c, next);
                }
                _ => {}
            }
        }
        self.reclaim(sh);
    }
}
