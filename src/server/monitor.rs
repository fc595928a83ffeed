//! The monitor thread: notices a poller left without a leader, or queued jobs nobody takes,
//! and wakes a sleeping pool thread. It is what lets a leader run handlers itself (no hand-off
//! on the fast path) without a blocking handler ever stalling other connections.

use super::dispatch::{StallCheck, STALL};
use super::shared::Shared;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the monitor sleeps while the server has no connection.
const IDLE_NAP: Duration = Duration::from_millis(50);

pub(crate) fn run(sh: Arc<Shared>) {
    let mut stall = StallCheck::new();
    let mut seen: Vec<u64> = sh.pollers.iter().map(|p| p.turns.load(Relaxed)).collect();
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
        sh.dispatch.stall_check(&mut stall, Instant::now());
    }
}
