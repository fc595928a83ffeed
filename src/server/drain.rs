//! Draining: taking an instance out of a load balancer's rotation without failing a request.
//!
//! A drain ([`ServerHandle::drain`], SIGTERM with `shutdown_on_signals`, or the old process of
//! a hand-over) runs in two steps:
//! 1. for the drain delay, the server goes on accepting and answering, but the health path
//!    answers `503` (a balancer's health check takes the instance out) and every connection
//!    closes after the response to the last request it has sent (`Connection: close`; pipelined
//!    requests already read are answered first);
//! 2. then it stops as [`ServerHandle::shutdown`] does: no more accepts, idle connections
//!    closed gracefully (a FIN after the last response, never a reset), requests in flight
//!    answered, and once the drain timeout is up whatever is left is closed and counted.
//!
//! A shutdown is a drain without the delay: both end in `pool::stop`.
//!
//! Why closing idle connections cannot fail a request, given the balancer's upstream idle
//! timeout is shorter than the drain delay: a connection idle when the delay ends was either
//! used during it (and so closed after that response), or has been idle longer than the
//! balancer keeps an idle connection, and the balancer has closed it already.

use super::{handover, notify, pool, Builder, ServerHandle};
use std::io;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// What a drain or shutdown left undone, from [`ServerHandle::drain`].
///
/// ```
/// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("ok"))?;
/// let report = handle.drain();
/// assert_eq!(report.connections_cut, 0); // nothing was open
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrainReport {
    /// Connections closed because the drain timeout ran out (a response still being written
    /// to a client that does not read, a request still arriving).
    pub connections_cut: u64,
}

impl Builder {
    /// How long a drain goes on accepting and answering before it stops accepting, while the
    /// [`health_path`](Self::health_path) answers `503` and every connection closes after its
    /// next response. Set it longer than the load balancer needs to notice (its health check
    /// interval times its fall count) and than its upstream idle timeout (nginx's
    /// `keepalive_timeout` in the `upstream` block, HAProxy's `timeout server`/`pool-purge-delay`),
    /// so no balancer reuses a connection as it is being closed. Default: zero, a drain stops
    /// accepting at once (as [`ServerHandle::shutdown`] does).
    ///
    /// ```
    /// let server = shockwave::Server::builder()
    ///     .health_path("/healthz")
    ///     .drain_delay(std::time::Duration::from_secs(5))
    ///     .bind("127.0.0.1:0")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn drain_delay(mut self, delay: Duration) -> Builder {
        self.cfg.drain_delay = delay;
        self
    }

    /// How long a stopping server (drain or shutdown) waits, once it has stopped accepting, for
    /// its connections to finish: responses still being written, requests still arriving. After
    /// it they are closed, logged and counted ([`DrainReport::connections_cut`]). Handlers still
    /// running are waited for. Default: 30 s.
    ///
    /// ```
    /// let server = shockwave::Server::builder().drain_timeout(std::time::Duration::from_secs(10)).bind("127.0.0.1:0")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn drain_timeout(mut self, timeout: Duration) -> Builder {
        self.cfg.drain_timeout = timeout;
        self
    }

    /// A path the server answers itself, for a load balancer's health check: `GET` or `HEAD`
    /// gets `200 ok` while the server serves, and `503 draining` (with `Connection: close`) once
    /// a drain has begun. The handler never sees these requests; other methods on the path go to
    /// it as usual. Default: none.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let handle = shockwave::Server::builder()
    ///     .health_path("/healthz")
    ///     .bind("127.0.0.1:0")?
    ///     .start(|_req, resp| resp.write_body("app"))?;
    /// let mut c = std::net::TcpStream::connect(handle.local_addr())?;
    /// c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut answer = String::new();
    /// c.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nok\n"));
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn health_path(mut self, path: impl Into<String>) -> Builder {
        self.cfg.health_path = Some(path.into().into_boxed_str());
        self
    }
}

impl ServerHandle {
    /// Drains the server and waits until it has stopped (see the module's steps: the
    /// [`drain_delay`](Builder::drain_delay) with the health path answering `503` and each
    /// connection closing after its next response, then a [`shutdown`](Self::shutdown) bounded
    /// by the [`drain_timeout`](Builder::drain_timeout)). Under systemd it first tells the
    /// manager `STOPPING=1` (when this is the process's last running server). Returns what
    /// had to be cut. Called again, or after a shutdown or a signal began the stop, it waits
    /// for the same end and reports the same; called from one of the server's own handlers,
    /// it only begins the drain and returns an empty report.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("ok"))?;
    /// let mut c = std::net::TcpStream::connect(handle.local_addr())?;
    /// c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?; // keep-alive
    /// let drain = std::thread::spawn({
    ///     let handle = handle.clone();
    ///     move || handle.drain()
    /// });
    /// let mut answer = String::new();
    /// c.read_to_string(&mut answer)?; // the answer comes, then the server closes
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("ok"));
    /// assert_eq!(drain.join().unwrap().connections_cut, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn drain(&self) -> DrainReport {
        let sh = &self.inner.shared;
        begin(sh);
        if pool::on_own_thread(sh) {
            return DrainReport::default();
        }
        pool::join(sh);
        let cut = sh.counters.cut.load(Relaxed);
        if cut > 0 {
            log::warn!("drain: the drain timeout ran out; {cut} connections were closed unfinished");
        }
        DrainReport { connections_cut: cut }
    }

    /// Tells the service manager, and the process a [`hand_over`](Self::hand_over) replaces,
    /// that this process serves: `READY=1` to `NOTIFY_SOCKET` for a systemd unit of
    /// `Type=notify` (with `MAINPID=` after a hand-over), and on the hand-over's own socket, so
    /// the old process drains. Once per process; the first [`join`](Self::join) does it too,
    /// so only a program that never joins (its own main loop) needs to call it. Without a
    /// manager it does nothing.
    ///
    /// ```
    /// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, resp| resp.write_body("ok"))?;
    /// // … the rest of the program's set-up …
    /// handle.notify_ready();
    /// handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn notify_ready(&self) {
        notify::ready();
    }

    /// Hands the listening sockets over to a new process running this program again (from the
    /// same path, so a binary replaced on disk is the one started), then begins this server's
    /// drain: nginx's binary upgrade. The new process gets the sockets by the socket-activation
    /// protocol, which [`Builder::bind_or_inherit`] reads, so no connection is refused or reset
    /// in between: until this one stops accepting, both take connections from the same
    /// queue. Returns the new process's pid once it is ready (its first server has started),
    /// waiting up to `timeout`; on failure (it cannot be started, exits, or is not ready in
    /// time — it is then sent SIGTERM), this server goes on serving and the error says why.
    /// Under systemd the service's main process becomes the new one (`MAINPID=`; the unit
    /// needs `NotifyAccess=all` so the new process may say it is ready), and the old one says
    /// nothing more to the manager. The program is started from the path in `argv[0]` when it
    /// names a file (so a `current -> releases/v2` symlink switched by a deploy is followed),
    /// else from this process's own file. It needs a parent that adopts the new process when
    /// this one exits (systemd, or any child subreaper); as PID 1 of a container it is refused. With
    /// `shutdown_on_signals` (feature `signals`), SIGUSR2 does this.
    ///
    /// ```no_run
    /// let handle = shockwave::Server::builder()
    ///     .bind_or_inherit("127.0.0.1:8080")?
    ///     .start(|_req, resp| resp.write_body("v2"))?;
    /// // on a deploy command: the new binary takes over, this process drains and returns from join
    /// let pid = handle.hand_over(std::time::Duration::from_secs(30))?;
    /// println!("pid {pid} serves now");
    /// handle.join();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn hand_over(&self, timeout: Duration) -> io::Result<u32> {
        let sh = &self.inner.shared;
        let pid = handover::hand_over(sh, timeout)?;
        begin(sh);
        Ok(pid)
    }
}

/// Begins a drain; `false` if one had begun. The delay runs on a thread of its own, so this
/// never waits.
pub(crate) fn begin(sh: &Arc<super::shared::Shared>) -> bool {
    if sh.draining.swap(true, SeqCst) {
        return false;
    }
    notify::stopping(&sh.stop_counted);
    let delay = sh.cfg.drain_delay;
    if delay.is_zero() {
        pool::stop(sh);
        return true;
    }
    log::info!("draining: the health path answers 503; accepting stops in {delay:?}");
    // (a weak reference: a server stopped meanwhile is not kept alive for the rest of the delay)
    let later = Arc::downgrade(sh);
    let spawned = std::thread::Builder::new().name("shockwave-drain".into()).spawn(move || {
        std::thread::sleep(delay);
        if let Some(sh) = later.upgrade() {
            pool::stop(&sh);
        }
    });
    if spawned.is_err() {
        pool::stop(sh); // no thread to wait: stop at once rather than never
    }
    true
}
