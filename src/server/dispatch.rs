//! The bounded job queue and the pool's sleep/wake rules (leader/followers).
//!
//! # Algorithm
//! There are no dedicated poller threads. The pool has `pollers` plus `min_workers` to
//! `max_workers` threads; each loops: run a queued job if one may run; else lead a poller
//! nobody leads (wait on its `mio::Poll`, frame requests, queue the connections that have
//! work); else sleep. A leader that queued
//! jobs releases the poller and runs them itself, so on one CPU a request costs no thread
//! hand-off at all: the same thread reads it, answers it, and goes back to waiting.
//!
//! Three rules keep that safe when handlers block:
//! - At most `live - pollers` threads run jobs at once, so `pollers` threads can always lead:
//!   overload is answered with 503 at once even when every handler is stuck.
//! - A leader that queued jobs wakes a sleeper only while fewer threads run than there are
//!   CPUs (on one CPU, never: the one thread does everything).
//! - The monitor thread (`monitor.rs`) wakes a sleeper when a poller has been left without a
//!   leader for [`STALL`] (its last leader is stuck in a handler), or when jobs have waited
//!   that long with none taken.
//!
//! The pool is elastic, as the servers people run blocking code on are (Tomcat, Jetty): it
//! starts with `pollers + min_workers` threads, and when jobs have waited for two of the
//! monitor's looks in a row with every job slot taken, the monitor adds threads (as many as
//! are waiting, at most doubling the workers per look, never past `pollers + max_workers`);
//! a thread idle for the idle timeout retires while more than the minimum live. Thread ids
//! (and their parkers) come from a fixed table of `pollers + max_workers` entries.
//!
//! Jobs are connections with a framed batch, in a bounded FIFO behind a `parking_lot::Mutex`,
//! under which the threads running jobs are also counted; a full queue gives the job back
//! (`Err(job)`) so the leader can answer 503. Sleeping uses one `crossbeam::sync::Parker` per
//! thread.
//!
//! Why a lock, not `crossbeam::queue::ArrayQueue`: a pop that finds a slot claimed by a push
//! not yet finished spins on `pause` until the pusher runs again, and on a server pinned to one
//! CPU the pusher is the preempted thread on the same core, so the popper burned its whole time
//! slice (perf: `pause` in `ArrayQueue::pop` took 1% of CPU 0 at keep-alive 64). A preempted
//! lock holder makes waiters park instead. The buffer pool (`buf`) dropped `ArrayQueue` for the
//! same reason.
//!
//! # State
//! `sleeping[i]` is set by thread `i` just before it parks and cleared by whoever wakes it
//! (itself on a timeout); `sleepers` counts the set flags. `leaders` counts threads inside a
//! poller turn (mostly blocked in `epoll_wait`), `in_jobs` threads running jobs. A thread
//! re-checks for work after setting its flag, so work that appeared meanwhile is not missed.

use super::slot::Slot;
use crossbeam::sync::{Parker, Unparker};
use parking_lot::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) type Job = Arc<Slot>;

/// A poller left without a leader, or jobs left untouched, for this long make the monitor wake
/// another thread.
pub(crate) const STALL: Duration = Duration::from_millis(2);
/// A parked thread wakes up this often to look for work and shutdown.
const PARK_TIMEOUT: Duration = Duration::from_millis(200);
/// How often a parked thread looks again while the server shuts down.
const STOP_NAP: Duration = Duration::from_millis(5);

/// The monitor's memory of its last look at the queue.
pub(crate) struct StallCheck {
    at: Instant,
    pops: u64,
    waiting: bool,
    /// Jobs waited with every job slot taken.
    full: bool,
}

impl StallCheck {
    pub(crate) fn new() -> StallCheck {
        StallCheck { at: Instant::now(), pops: 0, waiting: false, full: false }
    }
}

pub(crate) struct Dispatch {
    queue: Mutex<VecDeque<Job>>,
    capacity: usize,
    // The three counters below are written only with `queue` locked (a plain load and store,
    // no locked instruction: taking a job is one lock round trip) and read without it, by the
    // monitor and the wake-up checks; the monitor never takes the lock.
    /// `queue.len()`.
    queued: AtomicUsize,
    /// Threads running a job now; never above `live - pollers`.
    in_jobs: AtomicUsize,
    /// Pool threads alive (or being started); written under `queue`'s lock.
    live: AtomicUsize,
    /// Jobs taken so far (progress, for stall detection).
    pops: AtomicU64,
    unparkers: Vec<Unparker>,
    sleeping: Vec<AtomicBool>,
    /// Thread ids not in use, with their parkers (the ids of retired threads come back here).
    spare: Mutex<Vec<(usize, Parker)>>,
    sleepers: AtomicUsize,
    leaders: AtomicUsize,
    pollers: usize,
    min_threads: usize,
    cpus: usize,
    stop: AtomicBool,
}

impl Dispatch {
    /// A dispatcher for a pool of `pollers` leaders and `min_workers..=max_workers` threads
    /// running jobs. The pool's first `pollers + min_workers` threads are to be started with
    /// [`claim`](Self::claim).
    pub(crate) fn new(capacity: usize, pollers: usize, min_workers: usize, max_workers: usize) -> Dispatch {
        let max_threads = pollers + max_workers.max(min_workers).max(1);
        let parkers: Vec<Parker> = (0..max_threads).map(|_| Parker::new()).collect();
        let capacity = capacity.max(1);
        Dispatch {
            queue: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            queued: AtomicUsize::new(0),
            in_jobs: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            pops: AtomicU64::new(0),
            unparkers: parkers.iter().map(|p| p.unparker().clone()).collect(),
            sleeping: (0..max_threads).map(|_| AtomicBool::new(false)).collect(),
            spare: Mutex::new(parkers.into_iter().enumerate().rev().collect()),
            sleepers: AtomicUsize::new(0),
            leaders: AtomicUsize::new(0),
            pollers,
            min_threads: pollers + min_workers.max(1),
            cpus: super::config::cpus(),
            stop: AtomicBool::new(false),
        }
    }

    /// The most threads the pool may have.
    pub(crate) fn max_threads(&self) -> usize {
        self.sleeping.len()
    }

    /// Threads alive now.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Acquire)
    }

    /// Takes an id and parker for a new pool thread, counting it live; `None` at the maximum.
    pub(crate) fn claim(&self) -> Option<(usize, Parker)> {
        let _q = self.queue.lock();
        let slot = self.spare.lock().pop()?;
        self.live.store(self.live.load(Relaxed) + 1, Release);
        Some(slot)
    }

    /// A thread that has been idle asks to retire: allowed while more than the minimum live and
    /// enough threads stay outside jobs to lead every poller. Gives the id and parker back.
    pub(crate) fn retire(&self, id: usize, parker: Parker) -> Result<(), Parker> {
        let _q = self.queue.lock();
        let live = self.live.load(Relaxed);
        if live <= self.min_threads || live - 1 < self.pollers + self.in_jobs.load(Relaxed) {
            return Err(parker);
        }
        self.live.store(live - 1, Release);
        self.spare.lock().push((id, parker));
        Ok(())
    }

    /// A pool thread could not be started: it no longer counts as live.
    pub(crate) fn unclaim(&self) {
        let _q = self.queue.lock();
        self.live.store(self.live.load(Relaxed) - 1, Release);
    }

    /// Threads that may run jobs at once now: all but the `pollers` kept free to lead.
    fn job_slots(&self) -> usize {
        self.live.load(Acquire).saturating_sub(self.pollers)
    }

    /// Queues a job; a full queue gives it back.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        let mut q = self.queue.lock();
        if q.len() >= self.capacity {
            return Err(job);
        }
        q.push_back(job);
        self.queued.store(q.len(), Release);
        Ok(())
    }

    /// Jobs waiting now.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Acquire)
    }

    pub(crate) fn has_jobs(&self) -> bool {
        self.queued.load(Acquire) > 0
    }

    /// Takes a job if one is queued and fewer than `workers` threads are running jobs. The
    /// caller must end it with [`done_take`](Self::done_take).
    pub(crate) fn take(&self) -> Option<Job> {
        if !self.has_jobs() {
            return None;
        }
        let mut q = self.queue.lock();
        let running = self.in_jobs.load(Relaxed);
        if running >= self.job_slots() {
            return None;
        }
        let job = self.pop(&mut q)?;
        self.in_jobs.store(running + 1, Release);
        Some(job)
    }

    /// Ends the caller's job and takes the next one, under one lock: the caller's place among
    /// the threads running jobs passes straight to the next job.
    pub(crate) fn done_take(&self) -> Option<Job> {
        let mut q = self.queue.lock();
        let job = self.pop(&mut q);
        if job.is_none() {
            self.in_jobs.store(self.in_jobs.load(Relaxed) - 1, Release);
        }
        job
    }

    /// Pops the next job; `q` is the locked queue, which makes the counter updates safe.
    fn pop(&self, q: &mut MutexGuard<'_, VecDeque<Job>>) -> Option<Job> {
        let job = q.pop_front()?;
        self.queued.store(q.len(), Release);
        self.pops.store(self.pops.load(Relaxed) + 1, Relaxed);
        Some(job)
    }

    /// Brackets a poller turn (a leader mostly blocked in `epoll_wait` does not use a CPU).
    pub(crate) fn lead_begin(&self) {
        self.leaders.fetch_add(1, AcqRel);
    }

    pub(crate) fn lead_end(&self) {
        self.leaders.fetch_sub(1, AcqRel);
    }

    fn running(&self) -> usize {
        let idle = self.sleepers.load(Acquire) + self.leaders.load(Acquire);
        self.live().saturating_sub(idle)
    }

    /// After a turn that queued jobs: wake a sleeper if a CPU would otherwise stay idle.
    pub(crate) fn wake_for_parallelism(&self) {
        // pairs with the fence in `park`: either the sleeper sees the jobs or we see its flag
        fence(SeqCst);
        if self.has_jobs() && self.running() < self.cpus && self.in_jobs.load(Acquire) < self.job_slots() {
            self.wake_one();
        }
    }

    /// Wakes one sleeping thread, if any.
    pub(crate) fn wake_one(&self) -> bool {
        for (i, s) in self.sleeping.iter().enumerate() {
            if s.load(Relaxed) && s.compare_exchange(true, false, AcqRel, Relaxed).is_ok() {
                self.sleepers.fetch_sub(1, AcqRel);
                self.unparkers[i].unpark();
                return true;
            }
        }
        false
    }

    /// Monitor: if jobs have waited since the last check, at least [`STALL`] ago, with none taken
    /// and a job slot free, the running threads are stuck: wake another. Returns how many
    /// threads to add: when jobs waited at this look and the last with every job slot taken,
    /// as many as wait, at most as many as run jobs now (so the workers at most double per
    /// look), within the maximum.
    pub(crate) fn stall_check(&self, st: &mut StallCheck, now: Instant) -> usize {
        if now.duration_since(st.at) < STALL {
            return 0;
        }
        let pops = self.pops.load(Relaxed);
        let queued = self.queued.load(Acquire);
        let running = self.in_jobs.load(Acquire);
        let full = queued > 0 && running >= self.job_slots();
        if queued > 0 && st.waiting && pops == st.pops && !full {
            self.wake_one();
        }
        let grow = if full && st.full { queued.min(running.max(1)).min(self.max_threads() - self.live()) } else { 0 };
        *st = StallCheck { at: now, pops, waiting: queued > 0, full };
        grow
    }

    /// Parks thread `me` until woken (or a timeout), unless `work()` says there is something to
    /// do after it registered as a sleeper.
    pub(crate) fn park(&self, me: usize, parker: &Parker, work: impl Fn() -> bool) {
        self.sleeping[me].store(true, Release);
        self.sleepers.fetch_add(1, AcqRel);
        fence(SeqCst); // see `wake_for_parallelism`
        if !work() {
            // once stopping, nap briefly so threads notice the pollers finishing without spinning
            parker.park_timeout(if self.is_stopped() { STOP_NAP } else { PARK_TIMEOUT });
        }
        if self.sleeping[me].compare_exchange(true, false, AcqRel, Relaxed).is_ok() {
            self.sleepers.fetch_sub(1, AcqRel);
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop.load(Acquire)
    }

    /// Makes every thread leave its loop once there is nothing left to do.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Release);
        for u in &self.unparkers {
            u.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::conn::Conn;

    fn job() -> Job {
        Arc::new(Slot::new(0, Conn::new()))
    }

    /// A dispatcher with its first `live` threads claimed, as a started pool has.
    fn dispatch(capacity: usize, pollers: usize, min: usize, max: usize) -> Dispatch {
        let d = Dispatch::new(capacity, pollers, min, max);
        for _ in 0..pollers + min {
            d.claim().unwrap();
        }
        d
    }

    #[test]
    fn jobs_leave_in_order_and_a_full_queue_gives_the_job_back() {
        let d = dispatch(2, 1, 4, 4);
        let (a, b, c) = (job(), job(), job());
        assert!(d.submit(a.clone()).is_ok() && d.submit(b.clone()).is_ok());
        assert!(Arc::ptr_eq(&d.submit(c.clone()).unwrap_err(), &c));
        assert!(d.has_jobs());
        assert!(Arc::ptr_eq(&d.take().unwrap(), &a));
        assert!(Arc::ptr_eq(&d.done_take().unwrap(), &b)); // a's place passes to b
        assert_eq!(d.in_jobs.load(Relaxed), 1);
        assert!(d.done_take().is_none());
        assert!(!d.has_jobs());
        assert_eq!((d.in_jobs.load(Relaxed), d.pops.load(Relaxed)), (0, 2));
    }

    #[test]
    fn at_most_workers_jobs_run_at_once() {
        let d = dispatch(8, 1, 2, 2);
        for _ in 0..3 {
            assert!(d.submit(job()).is_ok());
        }
        assert!(d.take().is_some() && d.take().is_some());
        assert!(d.take().is_none(), "a third job may not start while two run");
        assert!(d.has_jobs());
        assert!(d.done_take().is_some()); // the first ends; the third takes its place
        assert_eq!(d.in_jobs.load(Relaxed), 2);
        assert!(d.done_take().is_none() && d.done_take().is_none());
        assert_eq!((d.in_jobs.load(Relaxed), d.pops.load(Relaxed)), (0, 3));
    }

    #[test]
    fn the_pool_grows_when_jobs_wait_with_every_slot_taken_and_doubles_at_most() {
        let d = dispatch(64, 1, 2, 5);
        for _ in 0..10 {
            assert!(d.submit(job()).is_ok());
        }
        assert!(d.take().is_some() && d.take().is_some()); // both workers busy, 8 wait
        let mut st = StallCheck::new();
        let t0 = st.at;
        assert_eq!(d.stall_check(&mut st, t0 + STALL), 0, "one look is not enough");
        assert_eq!(d.stall_check(&mut st, t0 + 2 * STALL), 2, "at most doubles the 2 running");
        for _ in 0..2 {
            d.claim().unwrap();
        }
        assert!(d.take().is_some() && d.take().is_some());
        assert_eq!(d.stall_check(&mut st, t0 + 3 * STALL), 1, "never past 5 workers");
        d.claim().unwrap();
        assert!(d.claim().is_none(), "the maximum");
        assert!(d.take().is_some());
        assert_eq!(d.stall_check(&mut st, t0 + 4 * STALL), 0);
    }

    #[test]
    fn a_slot_free_means_waking_not_growing() {
        let d = dispatch(64, 1, 2, 8);
        assert!(d.submit(job()).is_ok());
        let mut st = StallCheck::new();
        let t0 = st.at;
        assert_eq!(d.stall_check(&mut st, t0 + STALL), 0);
        assert_eq!(d.stall_check(&mut st, t0 + 2 * STALL), 0, "a worker is free: it is woken instead");
    }

    #[test]
    fn threads_retire_down_to_the_minimum_and_never_below_the_leaders() {
        let d = Dispatch::new(8, 1, 1, 4);
        let mut threads: Vec<_> = (0..5).map(|_| d.claim().unwrap()).collect(); // 1 leader + 4
        for _ in 0..3 {
            assert!(d.submit(job()).is_ok());
            assert!(d.take().is_some());
        }
        // 3 run jobs: of 5 threads, 4 are needed (3 + the leader); one may go
        let (id, p) = threads.pop().unwrap();
        assert!(d.retire(id, p).is_ok());
        let (id, p) = threads.pop().unwrap();
        let p = d.retire(id, p).unwrap_err();
        for _ in 0..3 {
            d.done_take();
        }
        assert!(d.retire(id, p).is_ok());
        let (id, p) = threads.pop().unwrap();
        assert!(d.retire(id, p).is_ok());
        let (id, p) = threads.pop().unwrap();
        assert!(d.retire(id, p).is_err(), "2 live = 1 leader + the minimum of 1 worker");
        assert_eq!(d.live(), 2);
        assert!(d.claim().is_some() && d.claim().is_some() && d.claim().is_some() && d.claim().is_none());
    }
}
