//! Tiered free lists of fixed-size byte buffers.
//!
//! Connections read into buffers taken from here and give them back as soon as they fall idle,
//! so 10,000 idle keep-alive connections hold no buffer memory at all. Each size class is a
//! bounded stack behind a `parking_lot::Mutex`: acquire is one `pop`, release one `push`, no
//! allocation once the pool is warm.
//!
//! Why a stack behind a lock, not a lock-free queue: last in, first out hands back the buffer
//! that was just released, still in cache; and a lock whose holder was preempted makes the
//! next thread yield and park. With `crossbeam::queue::ArrayQueue` a thread that found a slot
//! claimed but not yet filled spun until its time slice ended, which on a server pinned to one
//! CPU (holder and waiter on the same core) cost whole milliseconds now and then.
//!
//! # Design
//! - Five classes, 512 B to 64 KiB. A request for `n` bytes is served from the smallest class
//!   that holds `n`; a request above the largest class gets an exact-size buffer that is freed,
//!   not pooled, on release (counted as a miss).
//! - Each class keeps at most [`CLASS_BYTES`] of free buffers, so a burst cannot grow the pool
//!   without bound (fasthttp's "memory leak" reports are unbounded pool growth).
//! - Counters: `acquires` and `misses` (allocated), kept under the class's lock; `hits` (served
//!   from the free list) is their difference. They exist for [`crate::Stats`].
//!
//! One pool exists per poller (per CPU), so the hot path touches memory that stays in one core's
//! cache; workers give buffers back to the pool of the poller that owns the connection.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Buffer sizes of the classes, smallest first.
pub(crate) const CLASS_SIZES: [usize; 5] = [512, 1024, 4 * 1024, 16 * 1024, 64 * 1024];

/// The largest pooled buffer; bigger requests are allocated exactly and freed on release.
pub(crate) const MAX_POOLED: usize = CLASS_SIZES[CLASS_SIZES.len() - 1];

/// Free bytes each class may hold (so at most 40 MiB of idle buffers per poller).
const CLASS_BYTES: usize = 8 * 1024 * 1024;

/// A fixed-size byte buffer. Its length is its capacity; users track how much of it is filled.
#[derive(Default)]
pub(crate) struct Buf {
    data: Box<[u8]>,
}

impl Buf {
    /// A buffer of exactly `n` zeroed bytes (fresh pages from the allocator are zero already).
    pub(crate) fn alloc(n: usize) -> Buf {
        Buf { data: vec![0u8; n].into_boxed_slice() }
    }
    /// The buffer's size; zero for the empty placeholder (`Buf::default()`).
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.data.len()
    }
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl std::ops::Deref for Buf {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.data
    }
}

impl std::ops::DerefMut for Buf {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }
}

struct Class {
    size: usize,
    free: Mutex<FreeList>,
}

/// A class's free buffers and its counters, which are kept under the same lock (no extra
/// atomic operations per acquire).
struct FreeList {
    /// Most recently released last; never longer than its capacity.
    bufs: Vec<Buf>,
    acquires: u64,
    misses: u64,
}

/// One poller's tiered free lists.
pub(crate) struct BufPool {
    classes: [Class; CLASS_SIZES.len()],
    /// Acquires above the largest class (always allocated).
    oversize: AtomicU64,
}

/// Counters of one size class, as reported by [`crate::Stats`].
///
/// ```
/// let handle = shockwave::Server::builder().bind("127.0.0.1:0")?.start(|_req, _resp| {})?;
/// for class in &handle.stats().buffers {
///     let (size, free, rate) = (class.size, class.free, class.hit_rate());
///     println!("{size:>6} B: {} acquired, {free} free, hit rate {rate:.2}", class.acquires);
/// }
/// assert_eq!(handle.stats().buffers.last().map(|c| c.size), Some(0)); // the oversize row
/// handle.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassStats {
    /// Buffer size of the class in bytes (0 for the oversize row).
    pub size: usize,
    /// Buffers handed out.
    pub acquires: u64,
    /// Acquires served from the free list.
    pub hits: u64,
    /// Acquires that had to allocate.
    pub misses: u64,
    /// Buffers currently waiting in the free list.
    pub free: usize,
}

impl ClassStats {
    /// Fraction of acquires served without allocating (1.0 when nothing was acquired).
    ///
    /// ```
    /// let mut class = shockwave::ClassStats::default();
    /// assert_eq!(class.hit_rate(), 1.0); // nothing acquired yet
    /// (class.acquires, class.hits, class.misses) = (4, 3, 1);
    /// assert_eq!(class.hit_rate(), 0.75);
    /// ```
    pub fn hit_rate(&self) -> f64 {
        if self.acquires == 0 {
            1.0
        } else {
            self.hits as f64 / self.acquires as f64
        }
    }
    pub(crate) fn add(&mut self, o: &ClassStats) {
        self.acquires += o.acquires;
        self.hits += o.hits;
        self.misses += o.misses;
        self.free += o.free;
    }
}

impl BufPool {
    pub(crate) fn new() -> BufPool {
        BufPool {
            classes: CLASS_SIZES.map(|size| Class {
                size,
                free: Mutex::new(FreeList {
                    bufs: Vec::with_capacity((CLASS_BYTES / size).max(1)),
                    acquires: 0,
                    misses: 0,
                }),
            }),
            oversize: AtomicU64::new(0),
        }
    }

    /// Fills each class with `n` buffers (or up to its bound) so the first requests do not allocate.
    pub(crate) fn warm_up(&self, n: usize) {
        for c in &self.classes {
            let bufs = &mut c.free.lock().bufs;
            while bufs.len() < n.min(bufs.capacity()) {
                bufs.push(Buf::alloc(c.size));
            }
        }
    }

    fn class_for(n: usize) -> Option<usize> {
        CLASS_SIZES.iter().position(|&s| s >= n)
    }

    /// A buffer of at least `n` bytes.
    pub(crate) fn acquire(&self, n: usize) -> Buf {
        let Some(i) = Self::class_for(n) else {
            self.oversize.fetch_add(1, Relaxed);
            return Buf::alloc(n);
        };
        let c = &self.classes[i];
        let mut free = c.free.lock();
        free.acquires += 1;
        if let Some(b) = free.bufs.pop() {
            return b;
        }
        free.misses += 1;
        drop(free);
        Buf::alloc(c.size)
    }

    /// Gives a buffer back. Buffers that match no class, or whose class is full, are freed.
    pub(crate) fn release(&self, b: Buf) {
        let Some(c) = self.classes.iter().find(|c| c.size == b.capacity()) else {
            return; // oversize: freed
        };
        let mut free = c.free.lock();
        if free.bufs.len() < free.bufs.capacity() {
            free.bufs.push(b);
        } else {
            drop(free);
            drop(b); // the class is full: freed outside the lock
        }
    }

    /// Per-class counters, plus a final row (size 0) for oversize allocations.
    pub(crate) fn stats(&self) -> Vec<ClassStats> {
        let mut v: Vec<ClassStats> = self
            .classes
            .iter()
            .map(|c| {
                let free = c.free.lock();
                ClassStats {
                    size: c.size,
                    acquires: free.acquires,
                    hits: free.acquires - free.misses,
                    misses: free.misses,
                    free: free.bufs.len(),
                }
            })
            .collect();
        let o = self.oversize.load(Relaxed);
        v.push(ClassStats { size: 0, acquires: o, hits: 0, misses: o, free: 0 });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_picks_the_smallest_class_that_fits() {
        let p = BufPool::new();
        assert_eq!(p.acquire(1).capacity(), 512);
        assert_eq!(p.acquire(513).capacity(), 1024);
        assert_eq!(p.acquire(4096).capacity(), 4096);
        assert_eq!(p.acquire(64 * 1024).capacity(), 64 * 1024);
        assert_eq!(p.acquire(64 * 1024 + 1).capacity(), 64 * 1024 + 1);
    }

    #[test]
    fn released_buffers_are_reused_and_counted_as_hits() {
        let p = BufPool::new();
        let b = p.acquire(4000);
        p.release(b);
        let _b = p.acquire(4000);
        let s = p.stats()[2];
        assert_eq!((s.acquires, s.hits, s.misses), (2, 1, 1));
        assert_eq!(s.hit_rate(), 0.5);
    }

    #[test]
    fn oversize_buffers_are_not_pooled() {
        let p = BufPool::new();
        p.release(p.acquire(MAX_POOLED * 2));
        assert!(p.stats().iter().all(|s| s.free == 0));
        assert_eq!(p.stats()[5].misses, 1);
    }

    #[test]
    fn each_class_is_bounded() {
        let p = BufPool::new();
        for _ in 0..1000 {
            p.release(Buf::alloc(64 * 1024));
        }
        assert_eq!(p.stats()[4].free, CLASS_BYTES / (64 * 1024));
    }

    #[test]
    fn warm_up_prefills_every_class() {
        let p = BufPool::new();
        p.warm_up(4);
        assert!(p.stats()[..5].iter().all(|s| s.free == 4));
        let _ = p.acquire(100);
        assert_eq!(p.stats()[0].hits, 1);
    }
}
