//! [`CoarseClock`]: the time of the latest poller turn, shared by every pool thread.
//!
//! Reading the clock costs ~45 ns in this project's VM (`clock_gettime` through the vDSO), as
//! much as a tenth of the user time a keep-alive request takes. Deadlines set on the
//! per-request path (a connection's idle or header timeout, checked by a sweep every 100 ms)
//! need no better precision than the sweep's, so a worker takes the time from here: each
//! poller turn stores the time its `epoll_wait` returned, and a poller is turned at least once
//! per sweep even when every handler is blocked (the pool always keeps a thread free to lead).
//!
//! Deadlines are [`Tick`]s, plain nanosecond counts from the clock's start: setting one is an
//! integer add, where `Instant + Duration` normalises a `timespec` (~50 instructions per
//! keep-alive request, measured with callgrind).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A point in time: nanoseconds since the [`CoarseClock`] started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Tick(u64);

impl std::ops::Add<Duration> for Tick {
    type Output = Tick;
    /// Saturates: a timeout too long to represent (584 years) never expires.
    fn add(self, d: Duration) -> Tick {
        let nanos = d.as_secs().saturating_mul(1_000_000_000).saturating_add(u64::from(d.subsec_nanos()));
        Tick(self.0.saturating_add(nanos))
    }
}

pub(crate) struct CoarseClock {
    epoch: Instant,
    /// Nanoseconds from `epoch` to the latest time stored; never goes back.
    nanos: AtomicU64,
}

impl CoarseClock {
    pub(crate) fn new() -> CoarseClock {
        CoarseClock { epoch: Instant::now(), nanos: AtomicU64::new(0) }
    }

    /// `t` as a tick of this clock.
    pub(crate) fn tick(&self, t: Instant) -> Tick {
        Tick(t.saturating_duration_since(self.epoch).as_nanos() as u64)
    }

    /// Records `now` (an older time than the one held is ignored) and returns it as a tick.
    pub(crate) fn set(&self, now: Instant) -> Tick {
        let t = self.tick(now);
        if t.0 > self.nanos.load(Relaxed) {
            self.nanos.fetch_max(t.0, Relaxed);
        }
        t
    }

    /// The latest time recorded.
    pub(crate) fn now(&self) -> Tick {
        Tick(self.nanos.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_latest_time_and_never_goes_back() {
        let c = CoarseClock::new();
        let t0 = Instant::now();
        assert_eq!(c.set(t0), c.tick(t0));
        assert_eq!(c.now(), c.tick(t0));
        c.set(t0 + Duration::from_secs(2));
        assert_eq!(c.set(t0 + Duration::from_secs(1)), c.tick(t0) + Duration::from_secs(1));
        assert_eq!(c.now(), c.tick(t0) + Duration::from_secs(2));
    }

    #[test]
    fn ticks_add_durations_and_saturate() {
        let t = Tick(5);
        assert_eq!(t + Duration::new(3, 7), Tick(3_000_000_012));
        assert_eq!(t + Duration::MAX, Tick(u64::MAX));
        assert!(t + Duration::from_nanos(1) > t);
    }
}
