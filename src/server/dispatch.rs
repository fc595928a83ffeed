//! The bounded job queue and the pool's sleep/wake rules (leader/followers).
//!
//! # Algorithm
//! There are no dedicated poller threads. The pool has `workers + pollers` threads; each loops:
//! run a queued job if one may run; else lead a poller nobody leads (wait on its `mio::Poll`,
//! frame requests, queue the connections that have work); else sleep. A leader that queued
//! jobs releases the poller and runs them itself, so on one CPU a request costs no thread
//! hand-off at all: the same thread reads it, answers it, and goes back to waiting.
//!
//! Three rules keep that safe when handlers block:
//! - At most `workers` threads run jobs at once, so `pollers` threads can always lead: overload
//!   is answered with 503 at once even when every handler is stuck.
//! - A leader that queued jobs wakes a sleeper only while fewer threads run than there are
//!   CPUs (on one CPU, never: the one thread does everything).
//! - The monitor thread (`monitor.rs`) wakes a sleeper when a poller has been left without a
//!   leader for [`STALL`] (its last leader is stuck in a handler), or when jobs have waited
//!   that long with none taken.
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
}

impl StallCheck {
    pub(crate) fn new() -> StallCheck {
        StallCheck { at: Instant::now(), pops: 0, waiting: false }
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
    /// Threads running a job now; never above `max_in_jobs`.
    in_jobs: AtomicUsize,
    /// Jobs taken so far (progress, for stall detection).
    pops: AtomicU64,
    unparkers: Vec<Unparker>,
    sleeping: Vec<AtomicBool>,
    sleepers: AtomicUsize,
    leaders: AtomicUsize,
    max_in_jobs: usize,
    cpus: usize,
    stop: AtomicBool,
}

impl Dispatch {
    /// A dispatcher for `threads` pool threads of which at most `workers` run jobs at once;
    /// returns the parkers to move into the threads.
    pub(crate) fn new(capacity: usize, threads: usize, workers: usize) -> (Dispatch, Vec<Parker>) {
        let parkers: Vec<Parker> = (0..threads).map(|_| Parker::new()).collect();
        let capacity = capacity.max(1);
        let d = Dispatch {
            queue: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            queued: AtomicUsize::new(0),
            in_jobs: AtomicUsize::new(0),
            pops: AtomicU64::new(0),
            unparkers: parkers.iter().map(|p| p.unparker().clone()).collect(),
            sleeping: (0..threads).map(|_| AtomicBool::new(false)).collect(),
            sleepers: AtomicUsize::new(0),
            leaders: AtomicUsize::new(0),
            max_in_jobs: workers.max(1),
            cpus: super::config::cpus(),
            stop: AtomicBool::new(false),
        };
        (d, parkers)
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
        if running >= self.max_in_jobs {
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
        self.sleeping.len().saturating_sub(idle)
    }

    /// After a turn that queued jobs: wake a sleeper if a CPU would otherwise stay idle.
    pub(crate) fn wake_for_parallelism(&self) {
        // pairs with the fence in `park`: either the sleeper sees the jobs or we see its flag
        fence(SeqCst);
        if self.has_jobs() && self.running() < self.cpus && self.in_jobs.load(Acquire) < self.max_in_jobs {
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
    /// and a job slot free, the running threads are stuck: wake another.
    pub(crate) fn stall_check(&self, st: &mut StallCheck, now: Instant) {
        if now.duration_since(st.at) < STALL {
            return;
        }
        let pops = self.pops.load(Relaxed);
        let waiting = self.has_jobs();
        if waiting && st.waiting && pops == st.pops && self.in_jobs.load(Acquire) < self.max_in_jobs {
            self.wake_one();
        }
        *st = StallCheck { at: now, pops, waiting };
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

    #[test]
    fn jobs_leave_in_order_and_a_full_queue_gives_the_job_back() {
        let (d, _parkers) = Dispatch::new(2, 1, 4);
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
        let (d, _parkers) = Dispatch::new(8, 3, 2);
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
}
