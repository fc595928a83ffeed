//! A pool thread: runs queued jobs, leads pollers, sleeps, and retires when idle beyond the
//! pool's minimum (see `dispatch.rs` for the rules).
//!
//! A job is a connection with a framed batch: the thread runs the handler for each request in
//! order, encodes every response into one buffer and writes it with one `write`, then looks for
//! more requests on the connection before giving it back.

use super::clock::Tick;
use super::conn::{Conn, Next};
use super::input::{self, Unread};
use super::shared::Shared;
use super::slot::Slot;
use crate::buf::BufPool;
use crate::http::body::BodyStream;
use crate::http::head::Head;
use crate::http::method::MethodKind;
use crate::http::response::{encode_error, Ctx};
use crate::{Request, Response};
use crossbeam::sync::Parker;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Output beyond this is written before the next request of a batch is answered.
const OUT_HIGH_WATER: usize = 256 * 1024;

pub(crate) struct Worker {
    shared: Arc<Shared>,
    id: usize,
    req: Request,
    resp: Response,
}

impl Worker {
    pub(crate) fn new(shared: Arc<Shared>, id: usize) -> Worker {
        let mut resp = Response::with_capacity();
        resp.set_ctx(Ctx {
            server: shared.cfg.server_line.clone(),
            write_timeout: shared.cfg.write_timeout,
            error_page: shared.cfg.error_page.clone(),
            ..Ctx::default()
        });
        let mut req = Request::empty();
        req.trust.clone_from(&shared.cfg.trust_forwarded);
        Worker { shared, id, req, resp }
    }

    pub(crate) fn run(mut self, mut parker: Parker) {
        warm_parking();
        let sh = self.shared.clone();
        // when this thread last went to sleep with nothing done since (the coarse clock: no
        // clock read on the job path)
        let mut idle_since: Option<Tick> = None;
        loop {
            let mut job = sh.dispatch.take();
            if job.is_some() {
                while let Some(slot) = job {
                    self.serve(&sh, &slot);
                    job = sh.dispatch.done_take();
                }
                idle_since = None;
                continue;
            }
            if self.lead(&sh) {
                idle_since = None;
                continue;
            }
            if sh.all_done() && !sh.dispatch.has_jobs() {
                return;
            }
            let now = sh.clock.now();
            match idle_since {
                None => idle_since = Some(now),
                Some(t) if now >= t + sh.cfg.worker_idle_timeout => match sh.dispatch.retire(self.id, parker) {
                    Ok(()) => return,
                    Err(p) => {
                        parker = p;
                        idle_since = Some(now);
                    }
                },
                Some(_) => {}
            }
            sh.dispatch.park(self.id, &parker, || sh.has_unled_poller() || sh.dispatch.has_jobs());
        }
    }

    /// Leads one turn of a poller nobody leads; `false` if every poller has a leader.
    fn lead(&mut self, sh: &Shared) -> bool {
        let n = sh.pollers.len();
        for k in 0..n {
            let p = &sh.pollers[(self.id + k) % n];
            if p.done.load(Relaxed) {
                continue;
            }
            let Some(mut core) = p.core.try_lock() else { continue };
            sh.dispatch.lead_begin();
            let turn = core.turn(sh);
            sh.dispatch.lead_end();
            if turn.finished {
                p.done.store(true, Relaxed);
            }
            p.turns.fetch_add(1, Relaxed);
            drop(core);
            if turn.dispatched {
                sh.dispatch.wake_for_parallelism();
            }
            return true;
        }
        false
    }

    /// Serves a connection until it has nothing more to answer, then hands it back.
    fn serve(&mut self, shared: &Shared, slot: &Arc<Slot>) {
        self.serve_conn(shared, slot);
        // Output belongs to one connection: whatever could not be written is dropped with it,
        // never carried to the next connection this thread serves.
        debug_assert!(self.resp.out.is_empty(), "unwritten output left behind");
        self.resp.out.clear();
        self.resp.trim_capacity();
    }

    fn serve_conn(&mut self, shared: &Shared, slot: &Arc<Slot>) {
        let pool = &shared.pollers[slot.poller].pool;
        loop {
            let mut again = false;
            let mut c = slot.conn.lock();
            loop {
                if !c.is_open() {
                    return;
                }
                // a job arrives with its batch framed; later batches come from `progress`
                if !c.input.batch.is_empty() {
                    self.answer(&mut c, pool);
                    if let Some(up) = self.resp.upgrade.take() {
                        return super::upgrade::hand_over(shared, slot, &mut c, *up, &mut self.resp.out);
                    }
                    let file = self.resp.take_file(); // what the last response sends after its head
                    if !self.resp.out.is_empty() && !self.write_out(&mut c, pool, file.is_some()) {
                        return shared.close(slot, &mut c);
                    }
                    if let Some(f) = file {
                        c.output.attach(f); // after its head; `progress` starts sending it
                    }
                    // requests after a file response wait in the batch, at their positions
                    if c.input.batch.is_empty() {
                        c.input.compact(pool);
                    }
                }
                match c.progress(shared, pool, shared.clock.now(), &mut self.resp.out) {
                    Next::Answer => {}
                    Next::Wait => break,
                    Next::Again => {
                        again = true;
                        break;
                    }
                    Next::Close => return shared.close(slot, &mut c),
                }
            }
            drop(c);
            if slot.release() {
                if again {
                    shared.again(slot); // the poller owns it now, so it will not skip it
                }
                return;
            }
            // An event arrived while we held the connection: look at the socket again.
            slot.conn.lock().input.drained = false;
        }
    }

    /// Writes the encoded responses; keeps what the socket refuses in the connection. `false`
    /// if the connection failed. Either way `resp.out` is empty afterwards: nothing meant for
    /// this connection may ever reach the next one this thread serves.
    ///
    /// The last response of a connection, and a head a file body follows (`file_next`), are
    /// sent with [`write_more`](crate::wire::Wire::write_more): the caller closes or shuts down the
    /// socket, or sends the file, right after, or leaves what did not fit to the poller, whose
    /// plain writes push it out.
    fn write_out(&mut self, c: &mut Conn, pool: &BufPool, file_next: bool) -> bool {
        let out = &self.resp.out;
        let mut n = 0;
        let wire = c.wire();
        let ok = match &wire {
            None => false,
            Some(wire) => loop {
                if n == out.len() {
                    break true;
                }
                let sent = if c.close_after || file_next { wire.write_more(&out[n..]) } else { wire.write(&out[n..]) };
                match sent {
                    Ok(0) => break false,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break false,
                }
            },
        };
        if let (true, Some(wire)) = (ok, &wire) {
            c.output.wrote(wire);
            c.output.keep(&out[n..], pool);
        }
        self.resp.out.clear();
        ok
    }

    /// Runs the handler for every framed request, in order, encoding into `resp.out`.
    fn answer(&mut self, c: &mut Conn, pool: &BufPool) {
        let shared = &*self.shared;
        let cfg = &shared.cfg;
        let wire = c.wire();
        self.req.buf = std::mem::take(&mut c.input.buf);
        self.req.fields = std::mem::take(&mut c.input.fields);
        self.req.peer = c.peer;
        self.req.remote = c.input.proxy.as_ref().and_then(|p| p.source()).unwrap_or(c.peer);
        self.req.proxy.clone_from(&c.input.proxy);
        self.req.wire.clone_from(&wire);
        // a streamed body the handler left, and what becomes of its rest
        let mut left: Option<(BodyStream, Unread)> = None;
        let mut answered = 0;
        for i in 0..c.input.batch.len() {
            answered += 1;
            c.served += 1;
            // Copied field by field from the batch: moving each `Ready` out through the stack
            // made the compiler's copy overlap itself and stall store forwarding (perf put 10%
            // of this loop's time on one store).
            self.req.head = c.input.batch[i].head;
            self.req.body = c.input.batch[i].body;
            let head = &self.req.head;
            #[cfg(feature = "router")]
            drop(self.req.params.take());
            let rest = c.input.batch[i].rest.take();
            let streamed = rest.is_some();
            if let Some(rest) = rest {
                // The handler may block on the socket: send what earlier requests produced first.
                if let Some(wire) = &wire {
                    if !flush_blocking(&mut self.resp.out, wire, cfg.write_timeout) {
                        c.close_after = true;
                        break;
                    }
                    self.resp.ctx.head_sent.store(false, Relaxed);
                    *self.req.stream.lock() = Some(BodyStream {
                        wire: wire.clone(),
                        timeout: cfg.body_timeout,
                        rest: *rest,
                        send_continue: head.has(Head::EXPECT_CONTINUE) && self.req.body.len() == 0,
                        head_sent: self.resp.ctx.head_sent.clone(),
                        failed: false,
                        taken: false,
                    });
                }
            }
            // draining: what was read is answered, and the last of it closes the connection
            let last = i + 1 == c.input.batch.len();
            let keep_alive = head.keep_alive()
                && !c.close_after
                && !(last && shared.is_draining())
                && cfg.max_requests_per_conn.is_none_or(|m| c.served < m);
            let resp = &mut self.resp;
            resp.reset();
            resp.ctx.wire.clone_from(&wire);
            resp.ctx.head = head.kind == MethodKind::Head;
            resp.ctx.minor = head.minor;
            resp.ctx.keep_alive = keep_alive;
            resp.ctx.keep_alive_10 = head.has(Head::KEEP_ALIVE_10);
            let handler = &shared.handler;
            let req = &self.req;
            let outcome = match &cfg.health_path {
                Some(p) if matches!(head.kind, MethodKind::Get | MethodKind::Head) && req.path() == &**p => {
                    answer_health(resp, shared.is_draining());
                    Ok(())
                }
                _ => catch_unwind(AssertUnwindSafe(|| handler.handle(req, resp))),
            };
            if streamed {
                drop(self.req.full.take()); // a body read whole by Request::body
                if let Some(s) = self.req.stream.lock().take() {
                    let unread = input::plan(&s, keep_alive);
                    if unread == Unread::Close {
                        self.resp.ctx.keep_alive = false;
                    }
                    left = Some((s, unread));
                }
            }
            match outcome {
                Ok(()) if self.resp.upgrade.is_some() && self.resp.status() == 101 => {
                    // nothing after this request is HTTP: `serve_conn` hands the connection over
                    self.resp.finish();
                    c.close_after = true;
                    break;
                }
                Ok(()) => {
                    self.resp.upgrade = None; // (a status set after the upgrade overrides it)
                    if self.resp.stream_failed() || (last && shared.is_draining()) {
                        self.resp.ctx.keep_alive = false;
                    }
                    self.resp.finish();
                    if !self.resp.ctx.keep_alive || self.resp.wants_close() {
                        c.close_after = true;
                    }
                }
                Err(panic) => {
                    drop(self.resp.take_file()); // its head was never encoded
                    self.resp.upgrade = None;
                    shared.counters.panics.fetch_add(1, Relaxed);
                    let msg = panic
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                        .unwrap_or("(non-string panic payload)");
                    log::error!("handler panicked on {} {}: {msg}", self.req.method(), self.req.target());
                    if !self.resp.is_streaming() {
                        let head = self.resp.ctx.head;
                        encode_error(
                            &mut self.resp.out,
                            500,
                            "",
                            cfg.server_line.as_deref(),
                            cfg.error_page.as_ref(),
                            head,
                        );
                    }
                    c.close_after = true;
                }
            }
            if c.close_after {
                break;
            }
            if self.resp.has_file() {
                // A large file body leaves from the connection's output after this head; the
                // rest of the batch is answered once it is out (responses leave in order).
                break;
            }
            if self.resp.out.len() > OUT_HIGH_WATER {
                if let Some(wire) = &wire {
                    if !flush_blocking(&mut self.resp.out, wire, cfg.write_timeout) {
                        c.close_after = true;
                        break;
                    }
                }
            }
        }
        if self.resp.has_file() && !c.close_after {
            c.input.batch.drain(..answered as usize);
        } else {
            c.input.batch.clear();
        }
        // the socket is the connection's: nothing keeps it past the batch (see `sys::Fd`)
        self.req.wire = None;
        self.resp.ctx.wire = None;
        // only this thread writes its counter: a plain add, no locked instruction
        let served = &shared.requests[self.id];
        served.store(served.load(Relaxed) + answered, Relaxed);
        c.input.buf = std::mem::take(&mut self.req.buf);
        c.input.fields = std::mem::take(&mut self.req.fields);
        if let Some((s, unread)) = left {
            c.input.after_body(s, unread, pool);
        }
        // a bad request after the batch is answered after a file body too, when it is out
        // (`Input::advance` reports it once the batch is empty)
        if self.resp.has_file() && !c.close_after {
            return;
        }
        if let Some(e) = c.input.error.take() {
            if !c.close_after {
                shared.counters.rejected.fetch_add(1, Relaxed);
                let head = c.input.answering_head();
                encode_error(
                    &mut self.resp.out,
                    e.status,
                    e.reason,
                    cfg.server_line.as_deref(),
                    cfg.error_page.as_ref(),
                    head,
                );
            }
            c.close_after = true;
        }
    }
}

/// The server's own answer on the health path ([`crate::Builder::health_path`]): `200 ok`
/// while it serves, `503 draining` (closing the connection) once a drain has begun, so a load
/// balancer's health check takes the instance out before it stops accepting.
fn answer_health(resp: &mut Response, draining: bool) {
    resp.set_content_type("text/plain; charset=utf-8");
    resp.set_header("Cache-Control", "no-store");
    if draining {
        resp.set_status(503);
        resp.close();
        resp.write_body("draining\n");
    } else {
        resp.write_body("ok\n");
    }
}

/// Has `parking_lot` set up this thread's parking data now. It is built the first time a thread
/// waits for a contended lock, and may grow a process-wide table (a 1 KiB allocation seen by the
/// allocation test): that first wait would otherwise come at a random moment on the request
/// path. A condition-variable wait that times out at once takes the same path.
fn warm_parking() {
    let m = parking_lot::Mutex::new(());
    let _ = parking_lot::Condvar::new().wait_for(&mut m.lock(), std::time::Duration::ZERO);
}

/// Writes pending output before the handler gets the socket (a streamed body) or to cap memory
/// in a long batch, waiting up to the write timeout. `false` if the connection failed; the
/// output is gone either way.
fn flush_blocking(out: &mut Vec<u8>, wire: &crate::wire::Wire, timeout: std::time::Duration) -> bool {
    let ok = wire.write_all_blocking(out, timeout).is_ok();
    out.clear();
    ok
}
