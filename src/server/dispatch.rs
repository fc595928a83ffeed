//! The bounded queue between pollers and workers, and how idle workers sleep and wake.
//!
//! # Algorithm
//! Jobs are connections with a framed batch of requests, in a bounded lock-free
//! `crossbeam::queue::ArrayQueue`; a full queue hands the job back (`Err(job)`) so the poller
//! can answer 503 at once. Each worker has a `crossbeam::sync::Parker` and a `sleeping` flag.
//!
//! On this kind of machine the cost of a request is a few syscalls, so a futex wake and two
//! context switches per request would double it. Hence:
//! - A worker that finishes a job takes the next one without sleeping, and spins briefly
//!   before parking when there is more than one CPU.
//! - A poller wakes a sleeper only while fewer workers are awake than there are CPUs: on one
//!   CPU a single awake worker drains a whole round of jobs, one wake per round.
//! - A worker blocked in a slow handler must not stall the queue: pollers call [`stall_check`]
//!   each turn (every millisecond while jobs wait) and wake one more worker whenever the queue
//!   made no progress since the last check, whatever the CPU count says.
//!
//! # State
//! `sleeping[i]` is set by worker `i` just before it parks and cleared by whoever wakes it
//! (itself on a timeout); `sleepers` counts the set flags, so `workers - sleepers` is the number
//! of awake workers. A worker re-checks the queue after setting its flag, so a job pushed while
//! it was going to sleep is never stranded.
//!
//! [`stall_check`]: Dispatch::stall_check

use super::slot::Slot;
use crossbeam::queue::ArrayQueue;
use crossbeam::sync::{Parker, Unparker};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) type Job = Arc<Slot>;

/// Spin iterations (each a `pop` attempt and a pause) before a worker parks, with 2+ CPUs.
const SPINS: u32 = 200;
/// Jobs waiting this long without any being taken make a poller wake another worker.
pub(crate) const STALL: Duration = Duration::from_millis(1);
/// A parked worker wakes up this often to look for shutdown.
const PARK_TIMEOUT: Duration = Duration::from_millis(200);

/// A poller's memory of its last stall check.
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
    queue: ArrayQueue<Job>,
    unparkers: Vec<Unparker>,
    sleeping: Vec<AtomicBool>,
    sleepers: AtomicUsize,
    /// Jobs taken so far (progress, for stall detection).
    pops: AtomicU64,
    cpus: usize,
    spins: u32,
    stop: AtomicBool,
}

impl Dispatch {
    /// A dispatcher for `workers` workers; returns the parkers to move into their threads.
    pub(crate) fn new(capacity: usize, workers: usize) -> (Dispatch, Vec<Parker>) {
        let parkers: Vec<Parker> = (0..workers).map(|_| Parker::new()).collect();
        let cpus = num_cpus::get().max(1);
        let d = Dispatch {
            queue: ArrayQueue::new(capacity.max(1)),
            unparkers: parkers.iter().map(|p| p.unparker().clone()).collect(),
            sleeping: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            sleepers: AtomicUsize::new(0),
            pops: AtomicU64::new(0),
            cpus,
            spins: if cpus > 1 { SPINS } else { 0 },
            stop: AtomicBool::new(false),
        };
        (d, parkers)
    }

    /// Queues a job; a full queue gives it back.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        self.queue.push(job)
    }

    pub(crate) fn has_jobs(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Wakes a sleeping worker if jobs wait and fewer workers than CPUs are awake.
    pub(crate) fn wake(&self) {
        let awake = self.sleeping.len() - self.sleepers.load(Acquire);
        if self.has_jobs() && awake < self.cpus {
            self.wake_one();
        }
    }

    fn wake_one(&self) -> bool {
        for (i, s) in self.sleeping.iter().enumerate() {
            if s.load(Relaxed) && s.compare_exchange(true, false, AcqRel, Relaxed).is_ok() {
                self.sleepers.fetch_sub(1, AcqRel);
                self.unparkers[i].unpark();
                return true;
            }
        }
        false
    }

    /// Called by pollers each turn: if jobs have been waiting since the last check, at least
    /// [`STALL`] ago, and none was taken meanwhile, the awake workers are busy (or blocked):
    /// wake another.
    pub(crate) fn stall_check(&self, st: &mut StallCheck, now: Instant) {
        if now.duration_since(st.at) < STALL {
            return;
        }
        let pops = self.pops.load(Relaxed);
        let waiting = self.has_jobs();
        if waiting && st.waiting && pops == st.pops {
            self.wake_one();
        }
        *st = StallCheck { at: now, pops, waiting };
    }

    /// Worker `me`'s next job, or `None` once the server stops.
    pub(crate) fn next(&self, me: usize, parker: &Parker) -> Option<Job> {
        loop {
            if let Some(j) = self.pop() {
                return Some(j);
            }
            for _ in 0..self.spins {
                std::hint::spin_loop();
                if let Some(j) = self.pop() {
                    return Some(j);
                }
            }
            if self.stop.load(Acquire) {
                return None;
            }
            self.sleeping[me].store(true, Release);
            self.sleepers.fetch_add(1, AcqRel);
            if self.has_jobs() || self.stop.load(Acquire) {
                self.wake_self(me);
                continue;
            }
            parker.park_timeout(PARK_TIMEOUT);
            self.wake_self(me);
        }
    }

    fn wake_self(&self, me: usize) {
        if self.sleeping[me].compare_exchange(true, false, AcqRel, Relaxed).is_ok() {
            self.sleepers.fetch_sub(1, AcqRel);
        }
    }

    fn pop(&self) -> Option<Job> {
        let j = self.queue.pop()?;
        self.pops.fetch_add(1, Relaxed);
        Some(j)
    }

    /// Makes every worker return `None` once the queue is empty.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Release);
        for u in &self.unparkers {
            u.unpark();
        }
    }
}
