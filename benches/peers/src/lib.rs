//! Tiny helpers shared by the peer binaries (address and thread count).

use std::net::SocketAddr;

/// Listen address: first CLI argument, else `ADDR`, else 127.0.0.1:8080.
pub fn addr() -> SocketAddr {
    let s = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    s.parse()
        .unwrap_or_else(|e| panic!("bad listen address {s:?}: {e}"))
}

/// Thread count from env `THREADS` (default 1, minimum 1).
pub fn threads() -> usize {
    std::env::var("THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

pub const BODY: &str = "Hello, World!";

// ---------------------------------------------------------------- client load tools
// Shared by the client benchmark's Rust load tools (src/bin/ureq-client.rs,
// src/bin/shockwave-client.rs; scripts/bench-client.sh). The servers above do not use any of it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting allocations and allocated bytes (relaxed atomics).
/// A load tool opts in with `#[global_allocator] static A: CountingAlloc = CountingAlloc;`.
/// A `realloc` counts as one allocation of its new size, as Go's `runtime.MemStats`
/// counts a grown slice (a new object) in `Mallocs` and `TotalAlloc`.
pub struct CountingAlloc;

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// (allocations, bytes) so far, counted by [`CountingAlloc`] (zero if the binary does not use it).
pub fn alloc_counts() -> (u64, u64) {
    (ALLOCS.load(Relaxed), ALLOC_BYTES.load(Relaxed))
}

/// utime + stime of this process (all threads), in µs.
pub fn cpu_us() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

/// The body every load tool expects from the hello peers (see [`BODY`]); a response with
/// another length counts as an error, which also proves the whole body was read.
pub const EXPECT_BODY_LEN: usize = BODY.len();

/// `<tool> URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]`
pub struct LoadArgs {
    pub url: String,
    pub threads: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// 0: GET; otherwise POST with a body of this many bytes.
    pub post_bytes: usize,
}

impl LoadArgs {
    /// Parses the command line; prints the usage and exits with status 2 when it is wrong.
    pub fn parse(tool: &str) -> LoadArgs {
        let usage = || -> ! {
            eprintln!("usage: {tool} URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]");
            std::process::exit(2)
        };
        let a: Vec<String> = std::env::args().skip(1).collect();
        if a.len() < 4 || a.len() > 5 {
            usage()
        }
        let secs = |s: &str| match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Duration::from_secs_f64(v),
            _ => usage(),
        };
        let threads = a[1].parse::<usize>().ok().filter(|&n| n > 0).unwrap_or_else(|| usage());
        let post_bytes = a.get(4).map_or(0, |s| s.parse::<usize>().unwrap_or_else(|_| usage()));
        let duration = secs(&a[2]);
        if duration.is_zero() {
            usage()
        }
        LoadArgs { url: a[0].clone(), threads, duration, warmup: secs(&a[3]), post_bytes }
    }

    /// The POST body, built once: `post_bytes` bytes of `x` (None for GET).
    pub fn post_body(&self) -> Option<Vec<u8>> {
        (self.post_bytes > 0).then(|| vec![b'x'; self.post_bytes])
    }
}

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPED: u8 = 2;

/// Runs the load: `args.threads` threads, each building its worker with `make_worker(index)`
/// (in that thread) and calling it in a loop: one call = one request, its body read whole,
/// returning whether it succeeded (status 200 and the expected body). Warm-up first, then
/// counts requests, errors, CPU and allocations over `args.duration`, and prints the one JSON
/// line of the benchmark. `requests` (and so req/s and the per-request figures) counts the
/// successful requests only; the failed ones are `errors`.
pub fn run_load<M, W>(client: &str, args: &LoadArgs, make_worker: M)
where
    M: Fn(usize) -> W + Sync,
    W: FnMut() -> bool,
{
    let phase = AtomicU8::new(WARMING);
    let requests = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    let (secs, cpu, allocs, bytes) = std::thread::scope(|s| {
        for i in 0..args.threads {
            let (phase, requests, errors, make_worker) = (&phase, &requests, &errors, &make_worker);
            std::thread::Builder::new()
                .name(format!("load-{i}"))
                .spawn_scoped(s, move || {
                    let mut work = make_worker(i);
                    let (mut ok, mut bad) = (0u64, 0u64);
                    loop {
                        let good = work();
                        match phase.load(Relaxed) {
                            WARMING => {}
                            MEASURING if good => ok += 1,
                            MEASURING => bad += 1,
                            _ => break,
                        }
                    }
                    requests.fetch_add(ok, Relaxed);
                    errors.fetch_add(bad, Relaxed);
                })
                .expect("spawn load thread");
        }
        std::thread::sleep(args.warmup);
        let (a0, b0) = alloc_counts();
        let c0 = cpu_us();
        let t0 = Instant::now();
        phase.store(MEASURING, Relaxed);
        std::thread::sleep(args.duration);
        phase.store(STOPPED, Relaxed);
        let secs = t0.elapsed().as_secs_f64();
        let c1 = cpu_us();
        let (a1, b1) = alloc_counts();
        (secs, c1 - c0, a1 - a0, b1 - b0)
    });
    let n = requests.load(Relaxed);
    let per = |v: u64| if n == 0 { 0.0 } else { v as f64 / n as f64 };
    println!(
        "{{\"client\":\"{client}\",\"threads\":{},\"requests\":{n},\"errors\":{},\"secs\":{secs:.3},\
         \"rps\":{:.1},\"cpu_us_per_req\":{:.3},\"allocs_per_req\":{:.2},\"bytes_per_req\":{:.1}}}",
        args.threads,
        errors.load(Relaxed),
        n as f64 / secs,
        per(cpu),
        per(allocs),
        per(bytes),
    );
}
