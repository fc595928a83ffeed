//! The `Date` header value, formatted once per second and shared by every thread.
//!
//! A process-wide seqlock over five `AtomicU64` words holds the whole 37-byte field line
//! `Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n` (an IMF-fixdate, RFC 9110 §5.6.7), so encoding a
//! response copies it in one piece. Each poller's [`Ticker`] calls [`refresh`] when its turn's
//! monotonic time passes the next second boundary (no wall-clock read on other turns); the
//! first poller to see the new second reformats and publishes. Readers copy the words; if a
//! write overlapped they format the line themselves rather than wait for a writer that may be
//! preempted: no lock, no spinning, no allocation, no shared cache line written on the
//! per-request path.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering::*};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate.
pub(crate) const LEN: usize = 29;
/// Length of the field line `Date: <IMF-fixdate>\r\n`.
pub(crate) const LINE: usize = LEN + 8;
const WORDS: usize = LINE.div_ceil(8);

struct Shared {
    /// Even: stable. Odd: a writer is publishing.
    seq: AtomicU32,
    secs: AtomicU64,
    words: [AtomicU64; WORDS],
}

static DATE: Shared =
    Shared { seq: AtomicU32::new(0), secs: AtomicU64::new(0), words: [const { AtomicU64::new(0) }; WORDS] };

/// Publishes the date of `now` if its second differs from the published one.
pub(crate) fn refresh(now: SystemTime) {
    let secs = unix_secs(now);
    if DATE.secs.load(Relaxed) == secs {
        return;
    }
    let s = DATE.seq.load(Relaxed);
    if s & 1 == 1 || DATE.seq.compare_exchange(s, s + 1, Acquire, Relaxed).is_err() {
        return; // another thread is publishing this second
    }
    // the odd sequence must be visible before any word changes (a reader that sees a new word
    // then sees the sequence moved); the compare-exchange alone does not order later stores
    fence(Release);
    let b = words_of(secs);
    for (i, w) in DATE.words.iter().enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[i * 8..i * 8 + 8]);
        w.store(u64::from_le_bytes(x), Relaxed);
    }
    DATE.secs.store(secs, Relaxed);
    DATE.seq.store(s + 2, Release);
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The field line of `secs`, padded to whole words.
fn words_of(secs: u64) -> [u8; WORDS * 8] {
    let mut b = [0u8; WORDS * 8];
    b[..6].copy_from_slice(b"Date: ");
    b[6..6 + LEN].copy_from_slice(&format(secs));
    b[6 + LEN..LINE].copy_from_slice(b"\r\n");
    b
}

/// A poller's schedule for [`refresh`]: it reads the wall clock only once the monotonic time it
/// is given says the second may have changed, instead of on every turn.
#[derive(Default)]
pub(crate) struct Ticker {
    next: Option<Instant>,
}

impl Ticker {
    /// Refreshes the published date if `now` has reached the next second boundary.
    pub(crate) fn tick(&mut self, now: Instant) {
        if self.next.is_some_and(|t| now < t) {
            return;
        }
        let wall = SystemTime::now();
        refresh(wall);
        // `now` was read before `wall`, so this lands at or just before the boundary
        let into = wall.duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        self.next = Some(now + Duration::from_nanos(u64::from(1_000_000_000 - into)));
    }
}

/// The current `Date` field line, `Date: <IMF-fixdate>\r\n`.
///
/// Never waits for a writer: if nothing is published yet (no poller has run: the line is then
/// published too), or a publish is under way (its thread may be preempted halfway), the line
/// is formatted from the wall clock instead.
pub(crate) fn line() -> [u8; LINE] {
    let s1 = DATE.seq.load(Acquire);
    let b = if s1 & 1 == 0 && s1 != 0 {
        let w: [u64; WORDS] = std::array::from_fn(|i| DATE.words[i].load(Relaxed));
        fence(Acquire);
        if DATE.seq.load(Relaxed) == s1 {
            let mut b = [0u8; WORDS * 8];
            for (i, w) in w.iter().enumerate() {
                b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
            }
            b
        } else {
            own_words(false)
        }
    } else {
        own_words(s1 == 0)
    };
    let mut out = [0u8; LINE];
    out.copy_from_slice(&b[..LINE]);
    out
}

/// Formats the line from the wall clock; publishes it only if nothing was published yet (a
/// reader preempted after reading the clock could otherwise publish a second older than one a
/// poller published meanwhile).
#[cold]
fn own_words(publish: bool) -> [u8; WORDS * 8] {
    let now = SystemTime::now();
    if publish {
        refresh(now);
    }
    words_of(unix_secs(now))
}

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub(crate) fn format(secs: u64) -> [u8; LEN] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let days = secs / 86400;
    let sod = secs % 86400;
    // civil-from-days (proleptic Gregorian), with March as the first month of the year
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as usize;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
    let mut o = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    o[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    o[5] = b'0' + day / 10;
    o[6] = b'0' + day % 10;
    o[8..11].copy_from_slice(MONTHS[month - 1]);
    o[12] = b'0' + (year / 1000 % 10) as u8;
    o[13] = b'0' + (year / 100 % 10) as u8;
    o[14] = b'0' + (year / 10 % 10) as u8;
    o[15] = b'0' + (year % 10) as u8;
    let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    for (i, v) in [(17, h), (20, m), (23, s)] {
        o[i] = b'0' + (v / 10) as u8;
        o[i + 1] = b'0' + (v % 10) as u8;
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(&format(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&format(784111777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&format(951782400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&format(4107542399), b"Sun, 28 Feb 2100 23:59:59 GMT");
    }

    #[test]
    fn shared_value_follows_refresh() {
        refresh(UNIX_EPOCH + std::time::Duration::from_secs(784111777));
        refresh(SystemTime::now());
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let got = now_date();
        assert!(got == format(now) || got == format(now - 1) || got == format(now + 1));
    }

    #[test]
    fn ticker_reads_the_wall_clock_once_per_second() {
        let mut t = Ticker::default();
        let start = Instant::now();
        t.tick(start);
        let next = t.next.unwrap();
        assert!(next > start && next <= start + Duration::from_secs(1));
        t.tick(start); // before the boundary: no change
        assert_eq!(t.next, Some(next));
        t.tick(next);
        assert!(t.next.unwrap() > next);
    }

    #[test]
    fn a_reader_never_waits_for_a_writer() {
        refresh(SystemTime::now());
        // play a writer preempted halfway through publishing: the sequence stays odd. Other
        // tests in this process publish too, so take the writer's place once no one holds it.
        let mut held = None;
        for _ in 0..100_000 {
            let s = DATE.seq.load(Relaxed);
            if s & 1 == 0 && DATE.seq.compare_exchange(s, s + 1, Acquire, Relaxed).is_ok() {
                held = Some(s);
                break;
            }
            std::thread::yield_now();
        }
        let s = held.expect("took the writer's place");
        let now = unix_secs(SystemTime::now());
        let got = now_date(); // used to spin here until the writer finished
        DATE.seq.store(s + 2, Release);
        assert!(got == format(now) || got == format(now + 1));
    }

    fn now_date() -> [u8; LEN] {
        let l = line();
        assert!(l.starts_with(b"Date: ") && l.ends_with(b"\r\n"));
        l[6..6 + LEN].try_into().unwrap()
    }
}
