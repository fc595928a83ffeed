//! The monitor thread: notices a poller left without a leader, or queued jobs nobody takes,
//! and wakes a sleeping pool thread; adds threads when jobs wait with every worker busy, and
//! joins the ones that retired. It is what lets a leader run handlers itself (no hand-off on
//! the fast path) without a blocking handler ever stalling other connections.

use super::dispatch::{StallCheck, STALL};
use super::pool;
use super::shared::Shared;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the monitor sleeps while the server has no connection.
const IDLE_NAP: Duration = Duration::from_millis(50);
/// Every this many looks, threads that retired are joined.
const REAP_EVERY: u64 = 64;

pub(crate) fn run(sh: Arc<Shared>) {
    let mut stall = StallCheck::new();
    let mut seen: Vec<u64> = sh.pollers.iter().map(|p| p.turns.load(Relaxed)).collect();
    let mut looks = 0u64;
    while !sh.all_done() {
        let nap = if sh.open.load(Relaxed) > 0 || sh.dispatch.has_jobs() { STALL } else { IDLE_NAP };
        std::thread::sleep(nap);
        for (p, seen) in sh.pollers.iter().zip(&mut seen) {
            let turns = p.turns.load(Relaxed);
            // No turn ended during the whole nap and nobody leads it now: its last leader is
            // busy (or blocked) in a handler. Promote a sleeper.
            if turns == *seen && !p.done.load(Relaxed) && !p.core.is_locked() {
                sh.dispatch.wake_one();
            }
            *seen = turns;
        }
        let grow = sh.dispatch.stall_check(&mut stall, Instant::now());
        if grow > 0 && !sh.is_shutting_down() {
            pool::grow(&sh, grow);
        }
        looks += 1;
        if looks.is_multiple_of(REAP_EVERY) {
            pool::reap(&sh);
        }
    }
}
