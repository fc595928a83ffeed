//! [`CoarseClock`]: the time of the latest poller turn, shared by every pool thread.
//!
//! Reading the clock costs ~45 ns in this project's VM (`clock_gettime` through the vDSO), as
//! much as a tenth of the user time a keep-alive request takes. Deadlines set on the
//! per-request path (a connection's idle or header timeout, checked by a sweep every 100 ms)
//! need no better precision than the sweep's, so a worker takes the time from here: each
//! poller turn stores the time its `epoll_wait` returned, and a poller is turned at least once
//! per sweep even when every handler is blocked (the pool always keeps a thread free to lead).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub(crate) struct CoarseClock {
    epoch: Instant,
    /// Nanoseconds from `epoch` to the latest time stored; never goes back.
    nanos: AtomicU64,
}

impl CoarseClock {
    pub(crate) fn new() -> CoarseClock {
        CoarseClock { epoch: Instant::now(), nanos: AtomicU64::new(0) }
    }

    /// Records `now` (an older time than the one held is ignored).
    pub(crate) fn set(&self, now: Instant) {
        let n = now.saturating_duration_since(self.epoch).as_nanos() as u64;
        if n > self.nanos.load(Relaxed) {
            self.nanos.fetch_max(n, Relaxed);
        }
    }

    /// The latest time recorded.
    pub(crate) fn now(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.nanos.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_latest_time_and_never_goes_back() {
        let c = CoarseClock::new();
        let t0 = Instant::now();
        c.set(t0);
        let got = c.now();
        assert!(got <= t0 && t0 - got < Duration::from_micros(1), "{got:?} vs {t0:?}");
        c.set(t0 + Duration::from_secs(2));
        c.set(t0 + Duration::from_secs(1));
        assert!(c.now() >= t0 + Duration::from_millis(1999));
    }
}
